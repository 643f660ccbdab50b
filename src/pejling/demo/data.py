"""The demo organisation: Fjärdviks kommun, a fictional Swedish municipality.

Written in our own words; the structure and figures follow the kind of strategy documents
Nordic municipalities publish (a future narrative with bearings, a group strategy with themes
and common goals, a digitalisation strategy and a leadership charter beside it).
"""

from __future__ import annotations

from typing import Any

ORGANISATION_NAME = "Fjärdviks kommun"
YEAR = 2026

LEVELS = [
    (1, "Koncernledning", "Koncernledning"),
    (2, "Förvaltning", "Förvaltningar"),
    (3, "Avdelning", "Avdelningar"),
    (4, "Enhet", "Enheter"),
]

ROOT = (
    "FK",
    "Kommunledningen Fjärdvik",
    "Kommundirektören och förvaltningscheferna leder kommunens verksamhet tillsammans.",
)

# Förvaltning code, name, then its departments, each with its units.
CENTRES: list[tuple[str, str, list[tuple[str, str, list[tuple[str, str]]]]]] = [
    (
        "KSF",
        "Kommunstyrelseförvaltningen",
        [
            (
                "KSF-HR",
                "HR-avdelningen",
                [("KSF-HR-LON", "Lönecenter"), ("KSF-HR-KOMP", "Kompetensförsörjning")],
            ),
            ("KSF-EK", "Ekonomiavdelningen", [("KSF-EK-RED", "Redovisning")]),
            ("KSF-KOM", "Kommunikationsavdelningen", []),
        ],
    ),
    (
        "BUF",
        "Barn- och utbildningsförvaltningen",
        [
            (
                "BUF-FSK",
                "Förskoleavdelningen",
                [
                    ("BUF-FSK-SOL", "Solrosens förskola"),
                    ("BUF-FSK-EKB", "Ekbackens förskola"),
                    ("BUF-FSK-HAV", "Havsörnens förskola"),
                ],
            ),
            (
                "BUF-GRS",
                "Grundskoleavdelningen",
                [
                    ("BUF-GRS-NOR", "Norrviksskolan"),
                    ("BUF-GRS-STR", "Strandskolan"),
                    ("BUF-GRS-BJO", "Björkhagsskolan"),
                ],
            ),
            ("BUF-ELH", "Elevhälsan", [("BUF-ELH-CEN", "Centrala elevhälsoteamet")]),
        ],
    ),
    (
        "SOC",
        "Socialförvaltningen",
        [
            (
                "SOC-BOU",
                "Barn och unga",
                [("SOC-BOU-UTR", "Utredningsenheten barn"), ("SOC-BOU-FAM", "Familjebehandling")],
            ),
            (
                "SOC-VUX",
                "Vuxenenheten",
                [("SOC-VUX-MIS", "Missbruk och beroende"), ("SOC-VUX-BOS", "Boendestöd")],
            ),
            ("SOC-EKB", "Ekonomiskt bistånd", [("SOC-EKB-MOT", "Mottagningen")]),
        ],
    ),
    (
        "VOF",
        "Vård- och omsorgsförvaltningen",
        [
            (
                "VOF-SAB",
                "Särskilt boende",
                [
                    ("VOF-SAB-LIN", "Lindgårdens äldreboende"),
                    ("VOF-SAB-SJO", "Sjöglimtens äldreboende"),
                ],
            ),
            (
                "VOF-HEM",
                "Hemtjänst",
                [("VOF-HEM-NOR", "Hemtjänst norr"), ("VOF-HEM-SYD", "Hemtjänst syd")],
            ),
            (
                "VOF-HSR",
                "Hälso- och sjukvård",
                [("VOF-HSR-REH", "Rehabenheten"), ("VOF-HSR-SSK", "Sjuksköterskeenheten")],
            ),
        ],
    ),
    (
        "FUN",
        "Funktionsstödsförvaltningen",
        [
            (
                "FUN-LSS",
                "LSS-boenden",
                [("FUN-LSS-GRA", "Gruppbostaden Granen"), ("FUN-LSS-ASP", "Gruppbostaden Aspen")],
            ),
            ("FUN-DAG", "Daglig verksamhet", [("FUN-DAG-VER", "Verkstan")]),
        ],
    ),
    (
        "KOF",
        "Kultur- och fritidsförvaltningen",
        [
            ("KOF-BIB", "Biblioteken", [("KOF-BIB-HUV", "Huvudbiblioteket")]),
            (
                "KOF-FRI",
                "Fritid och idrott",
                [("KOF-FRI-SIM", "Simhallen Fjärden"), ("KOF-FRI-UNG", "Ungdomens hus")],
            ),
        ],
    ),
    (
        "SBF",
        "Samhällsbyggnadsförvaltningen",
        [
            ("SBF-PLA", "Planavdelningen", [("SBF-PLA-DET", "Detaljplan")]),
            ("SBF-BYG", "Bygglovsavdelningen", [("SBF-BYG-LOV", "Bygglov och tillsyn")]),
            ("SBF-MIL", "Miljö- och hälsoskydd", [("SBF-MIL-LIV", "Livsmedelskontroll")]),
        ],
    ),
    (
        "TSF",
        "Teknik- och serviceförvaltningen",
        [
            ("TSF-GAT", "Gata och park", [("TSF-GAT-DRI", "Driftenheten")]),
            ("TSF-KOS", "Kost och måltid", [("TSF-KOS-TIL", "Tillagningskök Centrum")]),
            ("TSF-FAS", "Fastighet", [("TSF-FAS-LOK", "Lokalförsörjning")]),
        ],
    ),
    (
        "AMF",
        "Arbetsmarknads- och integrationsförvaltningen",
        [
            ("AMF-JOB", "Jobbcentrum", [("AMF-JOB-VAG", "Vägledning till arbete")]),
            ("AMF-VUX", "Vuxenutbildningen", [("AMF-VUX-SFI", "SFI")]),
        ],
    ),
    (
        "DIG",
        "Digitaliserings- och IT-förvaltningen",
        [
            ("DIG-DRI", "IT-drift", [("DIG-DRI-SUP", "Servicedesk")]),
            ("DIG-UTV", "Digital utveckling", [("DIG-UTV-LAB", "Innovationslabbet")]),
        ],
    ),
]

FUTURE_NARRATIVE: dict[str, Any] = {
    "code": "framtidsbild-2031",
    "title": "Fjärdvik 2031 – vi tar ut riktningen tillsammans",
    "summary": "Framtidsbilden beskriver vilken organisation vi vill vara om sex år: nära invånarna, modig i förändring och en arbetsplats där människor växer.",
    "body": "Framtidsbilden är kompassen för all styrning i Fjärdviks kommun. Den pekar ut fem ledstjärnor som varje strategi, verksamhetsplan och insats ska kunna förklara sin koppling till.",
    "start_year": 2025,
    "end_year": 2031,
    "levels": [("Ledstjärna", "Ledstjärnor", False)],
    "elements": [
        (
            "L1",
            "Vi ser utåt",
            "Vi hämtar kunskap från invånare, näringsliv och andra kommuner och låter omvärlden forma hur vi utvecklas.",
        ),
        (
            "L2",
            "Vi är redo för förändring",
            "Vi prövar nytt i liten skala, lär av det som inte fungerar och tar till oss det som fungerar.",
        ),
        (
            "L3",
            "Vi organiserar oss flexibelt",
            "Uppdraget går före organisationsgränserna; vi sätter ihop team efter uppgiften.",
        ),
        (
            "L4",
            "Vi lyfter varandra",
            "Kollegialt stöd och delad kunskap gör oss starkare än summan av våra enheter.",
        ),
        (
            "L5",
            "Vi leder med tydlighet och tillit",
            "Chefer ger riktning och mandat, följer upp med dialog och litar på medarbetarnas omdöme.",
        ),
    ],
}

DIGITAL_STRATEGY: dict[str, Any] = {
    "code": "digitaliseringsstrategi",
    "title": "Digitaliseringsstrategi 2024–2027",
    "summary": "Hur Fjärdvik använder digitaliseringen för att ge invånarna bättre service och medarbetarna bättre förutsättningar.",
    "body": "",
    "start_year": 2024,
    "end_year": 2027,
    "levels": [("Fokusområde", "Fokusområden", False), ("Mål", "Mål", True)],
    "elements": [
        (
            "D1",
            "Tillgänglighet och transparens",
            "",
            [
                (
                    "D1.1",
                    "Invånarna kan följa sitt ärende digitalt",
                    "Alla ärendetyper med fler än 500 ärenden per år visar status digitalt.",
                ),
            ],
        ),
        (
            "D2",
            "Kompetens och samskapande",
            "",
            [
                (
                    "D2.1",
                    "Alla medarbetare har grundläggande digital kompetens",
                    "Varje arbetsplats har genomfört den digitala grundutbildningen.",
                ),
            ],
        ),
        (
            "D3",
            "Utveckling och innovation",
            "",
            [
                (
                    "D3.1",
                    "Nya digitala lösningar prövas i piloter innan de införs",
                    "Minst fem piloter per år utvärderas med invånare eller brukare.",
                ),
            ],
        ),
        (
            "D4",
            "Effektivitet och kvalitet",
            "",
            [
                (
                    "D4.1",
                    "Fler e-tjänster med helt digital handläggning",
                    "Andelen e-tjänster med helt digital handläggning ökar.",
                ),
                (
                    "D4.2",
                    "Välfärdsteknik i vård och omsorg",
                    "Digital tillsyn och läkemedelsrobotar erbjuds alla som kan ha nytta av dem.",
                ),
            ],
        ),
    ],
}

CHARTER: dict[str, Any] = {
    "code": "ledar-och-medarbetarskap",
    "title": "Ledar- och medarbetarskap i Fjärdvik",
    "summary": "Fem teman som beskriver vad vi förväntar oss av varandra som chefer och medarbetare.",
    "body": "",
    "start_year": 2026,
    "end_year": 2028,
    "levels": [("Tema", "Teman", False)],
    "elements": [
        (
            "M1",
            "Ansvar för helheten",
            "Vi tar ansvar för kommunens bästa, inte bara för den egna enheten.",
        ),
        (
            "M2",
            "Dialog och delaktighet",
            "Vi pratar med varandra, inte om varandra, och involverar dem som berörs.",
        ),
        ("M3", "Lärande i vardagen", "Vi delar erfarenheter och ger varandra återkoppling."),
        (
            "M4",
            "Hälsa och hållbarhet",
            "Vi planerar arbetet så att det går att göra ett bra jobb hela arbetslivet.",
        ),
        (
            "M5",
            "Mod och nyfikenhet",
            "Vi vågar pröva nya arbetssätt och säger till när något inte fungerar.",
        ),
    ],
}

# Themes with common goals. Goal tuple: code, title, kind, target text, extra measure fields,
# references (element codes in other strategies).
GROUP_STRATEGY: dict[str, Any] = {
    "code": "koncernstrategi-2025-2026",
    "title": "Koncernstrategi 2025–2026: Fokus på kärnuppdraget",
    "summary": "Fyra teman och gemensamma mål som alla förvaltningar och enheter bidrar till genom sina verksamhetsplaner.",
    "body": "Varje förvaltning har minst en insats som pekar på minst ett gemensamt mål under varje tema. Förvaltningarnas verksamhetsplaner ska vara överenskomna med koncernledningen senast den 15 januari och enheternas med sin förvaltning senast den 1 mars.",
    "start_year": 2025,
    "end_year": 2026,
    "levels": [("Tema", "Teman", False), ("Gemensamt mål", "Gemensamma mål", True)],
    "elements": [
        (
            "T1",
            "Tillsammans kring kärnuppdraget",
            "Vi samarbetar över gränserna där invånarens behov kräver det.",
            [
                (
                    "T1.1",
                    "Relationell koordination i minst 30 avdelningar",
                    "count",
                    "Minst 30 avdelningar har arbetat med relationell koordination under året.",
                    {
                        "target_value": "30",
                        "measure_unit": "avdelningar",
                        "target_date": "2026-12-31",
                    },
                    [],
                ),
                (
                    "T1.2",
                    "Minst tre former av medborgardialog prövade och utvärderade",
                    "count",
                    "Minst 3 former av invånarinvolvering prövas och utvärderas.",
                    {"target_value": "3", "measure_unit": "former", "target_date": "2026-12-31"},
                    ["M2"],
                ),
            ],
        ),
        (
            "T2",
            "En gemensam arbetskultur",
            "Vi delar värderingar och arbetssätt, oavsett förvaltning.",
            [
                (
                    "T2.1",
                    "Alla förvaltningar har fastställt sina kompetensbehov",
                    "coverage",
                    "Samtliga förvaltningar har en fastställd kompetensförsörjningsplan.",
                    {"target_value": "100", "measure_unit": "%", "target_date": "2026-06-30"},
                    ["M3"],
                ),
                (
                    "T2.2",
                    "Ledar- och medarbetarskapet är känt på varje arbetsplats",
                    "count",
                    "Alla avdelningar har haft en dialog om de fem temana.",
                    {
                        "target_value": "25",
                        "measure_unit": "avdelningar",
                        "target_date": "2026-12-31",
                    },
                    ["M1", "M5"],
                ),
            ],
        ),
        (
            "T3",
            "En attraktiv arbetsplats",
            "Vi är en arbetsgivare där människor vill börja, stanna och växa.",
            [
                (
                    "T3.1",
                    "Sjukfrånvaron minskar till 13,5 dagar per årsarbetare",
                    "kpi",
                    "Från 14,9 dagar per årsarbetare till 13,5 vid årets slut.",
                    {
                        "baseline_value": "14.9",
                        "baseline_date": "2025-06-01",
                        "target_value": "13.5",
                        "target_date": "2026-12-31",
                        "measure_unit": "dagar per årsarbetare",
                        "source": "Lönesystemet",
                    },
                    ["M4"],
                ),
                (
                    "T3.2",
                    "Enheter som rekryterar använder rekryteringsverktygslådan",
                    "coverage",
                    "Alla enheter som rekryterar använder den nya verktygslådan.",
                    {"target_value": "100", "measure_unit": "%", "target_date": "2026-12-31"},
                    [],
                ),
            ],
        ),
        (
            "T4",
            "Digitalisering som möjlighet",
            "Vi använder digitala lösningar där de gör skillnad för invånare och medarbetare.",
            [
                (
                    "T4.1",
                    "Alla förvaltningars verksamhetsplaner pekar på digitaliseringsstrategin",
                    "coverage",
                    "Varje förvaltning har minst en insats kopplad till ett mål i digitaliseringsstrategin.",
                    {"target_value": "100", "measure_unit": "%", "target_date": "2026-03-01"},
                    ["D1.1", "D2.1", "D3.1", "D4.1"],
                ),
                (
                    "T4.2",
                    "Fler e-tjänster med helt digital handläggning",
                    "kpi",
                    "Andelen e-tjänster med helt digital handläggning ökar från 35 % till 60 %.",
                    {
                        "baseline_value": "35",
                        "baseline_date": "2025-01-01",
                        "target_value": "60",
                        "target_date": "2026-12-31",
                        "measure_unit": "%",
                        "source": "E-tjänsteplattformen",
                    },
                    ["D4.1"],
                ),
            ],
        ),
    ],
}

# Initiative ideas per goal code: (title, description).
INITIATIVES: dict[str, list[tuple[str, str]]] = {
    "T1.1": [
        (
            "Relationell koordination i vårdkedjan",
            "Gemensamma tavlemöten mellan hemtjänst, sjuksköterskor och rehab varje vecka.",
        ),
        (
            "Samordnade insatser för barn i behov av stöd",
            "Skola, elevhälsa och socialtjänst träffas i gemensamma elevärenden.",
        ),
        (
            "Gemensamma arbetsplatsträffar över avdelningsgränserna",
            "Fyra träffar per år där avdelningarna löser en gemensam utmaning.",
        ),
    ],
    "T1.2": [
        (
            "Medborgarbudget för ungdomar",
            "Unga i Fjärdvik fördelar 500 000 kronor till egna idéer.",
        ),
        ("Brukarråd i äldreomsorgen", "Boende och anhöriga påverkar måltider och aktiviteter."),
        (
            "Digital dialog om den nya stadsparken",
            "Invånarna tycker till i en karttjänst innan planen tas fram.",
        ),
    ],
    "T2.1": [
        (
            "Kompetensförsörjningsplan 2026–2028",
            "Analys av pensionsavgångar och bristyrken, med åtgärder per avdelning.",
        ),
        (
            "Kartläggning av kompetensbehov",
            "Varje avdelning beskriver vilka kompetenser som behövs om tre år.",
        ),
    ],
    "T2.2": [
        (
            "Dialog om ledar- och medarbetarskapet",
            "Varje arbetsplats samtalar om de fem temana under våren.",
        ),
        ("Introduktion för nya medarbetare", "Ny gemensam introduktion med kommunens värderingar."),
    ],
    "T3.1": [
        (
            "Tidiga insatser vid korttidsfrånvaro",
            "Hälsosamtal efter tredje sjukfrånvarotillfället inom tolv månader.",
        ),
        ("Friskvård på arbetstid", "En timme i veckan för rörelse eller återhämtning."),
        (
            "Schemaläggning med inflytande",
            "Medarbetarna lägger önskescheman i det nya bemanningssystemet.",
        ),
    ],
    "T3.2": [
        (
            "Rekrytering med verktygslådan",
            "Alla rekryteringar görs med kompetensbaserade intervjuer och gemensam annonsmall.",
        ),
    ],
    "T4.1": [
        (
            "Digital grundutbildning för alla medarbetare",
            "Alla medarbetare genomför den digitala grundutbildningen.",
        ),
    ],
    "T4.2": [
        ("E-tjänst för ansökan om förskoleplats", "Ansökan, placering och svar helt digitalt."),
        (
            "Automatiserad handläggning av ekonomiskt bistånd",
            "Regelstyrd handläggning av återansökningar.",
        ),
    ],
    "D1.1": [
        (
            "Ärendestatus i Mina sidor",
            "Invånaren ser var ärendet befinner sig och vem som handlägger det.",
        ),
    ],
    "D2.1": [
        ("Digitala ambassadörer", "En ambassadör per enhet stöttar kollegorna i nya verktyg."),
    ],
    "D3.1": [
        (
            "Pilot med digital tillsyn nattetid",
            "Kameratillsyn för brukare som önskar det, utvärderas efter sex månader.",
        ),
        (
            "Pilot med AI-stöd i bygglovshandläggningen",
            "Automatisk kontroll av att ansökan är komplett.",
        ),
    ],
    "D4.1": [
        (
            "Digital felanmälan av hjälpmedel",
            "Personalen anmäler en trasig rullstol direkt till rehab i en e-tjänst.",
        ),
    ],
    "D4.2": [
        ("Läkemedelsrobotar i hemtjänsten", "Erbjuds alla brukare som har nytta av påminnelser."),
    ],
}

# Centres deliberately missing a theme (a gap the strategy office should see).
CENTRE_GAPS = {"TSF": "T4", "KOF": "T2"}

# Units without an agreement for the year yet.
WITHOUT_AGREEMENT = {
    "KSF-KOM",
    "BUF-FSK-HAV",
    "SOC-EKB-MOT",
    "VOF-HSR-SSK",
    "KOF-FRI-UNG",
    "SBF-MIL-LIV",
    "TSF-FAS-LOK",
    "DIG-UTV-LAB",
}

# Demo people: username, first name, last name, role, unit code, title.
PEOPLE = [
    ("strategi", "Sara", "Strand", "strategy_office", "FK", "Strateg, strategikontoret"),
    ("direktor", "Karin", "Dahl", "executive", "FK", "Kommundirektör"),
    ("forvaltningschef", "Anders", "Ek", "unit_head", "VOF", "Förvaltningschef vård och omsorg"),
    ("avdelningschef", "Lena", "Holm", "unit_head", "VOF-HEM", "Avdelningschef hemtjänst"),
    ("enhetschef", "Maria", "Lind", "unit_head", "VOF-HEM-NOR", "Enhetschef hemtjänst norr"),
    ("medarbetare", "Olle", "Berg", "member", "VOF-HEM-NOR", "Undersköterska"),
]
