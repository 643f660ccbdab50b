"""The open-data catalogue in DCAT-AP (and the Swedish profile DCAT-AP-SE's required fields):
``/open/data/catalog.jsonld``, ``catalog.ttl`` and ``catalog.rdf``, one graph (rdflib) drawn
three ways.

Catalogue: title and description (in every UI language), publisher, homepage, language,
licence, issued and modified. Each dataset: title, description, publisher, contact point
(a vCard organisation with the organisation's shared e-mail), theme (the EU data theme
"Government and public sector"), keywords, access rights, landing page, issued and modified,
distributions. Each distribution: access and download URL, format (EU file-type authority),
media type (IANA), licence, title, issued and modified.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from pejling.publication import selectors
from pejling.publication.data import DATASETS
from pejling.publication.models import PublicationSettings
from pejling.publication.web import LANGUAGES, data_view, namespace_of

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU = "http://publications.europa.eu/resource/authority/"
THEME_GOVERNMENT = URIRef(EU + "data-theme/GOVE")
ACCESS_PUBLIC = URIRef(EU + "access-right/PUBLIC")
PUBLISHER_TYPE_LOCAL = URIRef("http://purl.org/adms/publishertype/LocalAuthority")
FILE_TYPES = {"JSON": URIRef(EU + "file-type/JSON"), "CSV": URIRef(EU + "file-type/CSV")}
MEDIA_TYPES = {
    "JSON": URIRef("https://www.iana.org/assignments/media-types/application/json"),
    "CSV": URIRef("https://www.iana.org/assignments/media-types/text/csv"),
}
LANGUAGE_URIS = {
    "sv": URIRef(EU + "language/SWE"),
    "da": URIRef(EU + "language/DAN"),
    "nb": URIRef(EU + "language/NOB"),
    "en": URIRef(EU + "language/ENG"),
}
FORMATS = {
    "catalog.jsonld": ("json-ld", "application/ld+json"),
    "catalog.ttl": ("turtle", "text/turtle"),
    "catalog.rdf": ("xml", "application/rdf+xml"),
}


def _texts(value: object) -> list[Literal]:
    """A translatable text in every UI language, language-tagged."""
    literals = []
    for code in LANGUAGES:
        with translation.override(code):
            literals.append(Literal(str(value), lang=code))
    return literals


def _issued(row: PublicationSettings, modified: datetime) -> datetime:
    first = (
        PublicationSettings.history.filter(enabled=True)
        .order_by("history_date")
        .values_list("history_date", flat=True)
        .first()
    )
    return first or modified


def catalog_graph(request: HttpRequest) -> Graph:
    """The catalogue of what is public now, with absolute URLs of this host."""
    namespace = namespace_of(request)
    row = selectors.publication_settings()
    name = selectors.organisation_name(row)

    def absolute(url: str) -> URIRef:
        return URIRef(request.build_absolute_uri(url))

    def page(name_: str) -> URIRef:
        return absolute(reverse(f"{namespace}:{name_}", kwargs={"lang": settings.LANGUAGE_CODE}))

    modified = Literal(selectors.last_modified(), datatype=XSD.dateTime)
    issued = Literal(_issued(row, selectors.last_modified()), datatype=XSD.dateTime)
    licence = URIRef(row.licence)
    base = reverse(f"{namespace}:data_file", kwargs={"filename": "catalog.jsonld"}).rsplit("/", 1)[
        0
    ]

    g = Graph()
    g.bind("dcat", DCAT)
    g.bind("dct", DCTERMS)
    g.bind("foaf", FOAF)
    g.bind("vcard", VCARD)

    catalog = absolute(base + "/catalog")
    publisher = absolute(base + "/publisher")
    contact = absolute(base + "/contact")
    g.add((publisher, RDF.type, FOAF.Agent))
    g.add((publisher, FOAF.name, Literal(name)))
    g.add((publisher, DCTERMS.type, PUBLISHER_TYPE_LOCAL))
    if row.contact_email:
        g.add((publisher, FOAF.mbox, URIRef(f"mailto:{row.contact_email}")))
    g.add((contact, RDF.type, VCARD.Organization))
    g.add((contact, VCARD.fn, Literal(name)))
    if row.contact_email:
        g.add((contact, VCARD.hasEmail, URIRef(f"mailto:{row.contact_email}")))

    g.add((catalog, RDF.type, DCAT.Catalog))
    for text in _texts(translation.gettext_lazy("Open data of %(organisation)s")):
        g.add(
            (
                catalog,
                DCTERMS.title,
                Literal(str(text) % {"organisation": name}, lang=text.language),
            )
        )
    for text in _texts(
        translation.gettext_lazy(
            "Strategies, goals, indicators and annual agreements that %(organisation)s "
            "publishes, from Pejling."
        )
    ):
        g.add(
            (
                catalog,
                DCTERMS.description,
                Literal(str(text) % {"organisation": name}, lang=text.language),
            )
        )
    g.add((catalog, DCTERMS.publisher, publisher))
    g.add((catalog, FOAF.homepage, absolute(reverse(f"{namespace}:root"))))
    g.add((catalog, DCTERMS.license, licence))
    g.add((catalog, DCTERMS.issued, issued))
    g.add((catalog, DCTERMS.modified, modified))
    for uri in LANGUAGE_URIS.values():
        g.add((catalog, DCTERMS.language, uri))

    for dataset in DATASETS:
        _add_dataset(
            g,
            dataset,
            absolute=absolute,
            page=page,
            catalog=catalog,
            base=base,
            publisher=publisher,
            contact=contact,
            licence=licence,
            issued=issued,
            modified=modified,
            namespace=namespace,
        )
    return g


def _add_dataset(
    g: Graph,
    dataset: Any,
    *,
    absolute: Callable[[str], URIRef],
    page: Callable[[str], URIRef],
    catalog: URIRef,
    base: str,
    publisher: URIRef,
    contact: URIRef,
    licence: URIRef,
    issued: Literal,
    modified: Literal,
    namespace: str,
) -> None:
    node = absolute(f"{base}/datasets/{dataset.key}")
    g.add((catalog, DCAT.dataset, node))
    g.add((node, RDF.type, DCAT.Dataset))
    g.add((node, DCTERMS.identifier, Literal(str(node))))
    for text in _texts(dataset.title):
        g.add((node, DCTERMS.title, text))
    for text in _texts(dataset.description):
        g.add((node, DCTERMS.description, text))
    for text in _texts(dataset.keywords):
        for word in str(text).split(","):
            g.add((node, DCAT.keyword, Literal(word.strip(), lang=text.language)))
    g.add((node, DCTERMS.publisher, publisher))
    g.add((node, DCAT.contactPoint, contact))
    g.add((node, DCAT.theme, THEME_GOVERNMENT))
    g.add((node, DCTERMS.accessRights, ACCESS_PUBLIC))
    g.add((node, DCAT.landingPage, page(dataset.landing)))
    g.add((node, DCTERMS.issued, issued))
    g.add((node, DCTERMS.modified, modified))
    for uri in LANGUAGE_URIS.values():
        g.add((node, DCTERMS.language, uri))
    for dist in dataset.distributions:
        url = absolute(reverse(f"{namespace}:data_file", kwargs={"filename": dist.filename}))
        item = URIRef(str(url) + "#distribution")
        g.add((node, DCAT.distribution, item))
        g.add((item, RDF.type, DCAT.Distribution))
        g.add((item, DCAT.accessURL, url))
        g.add((item, DCAT.downloadURL, url))
        g.add((item, DCTERMS.format, FILE_TYPES[dist.format]))
        g.add((item, DCAT.mediaType, MEDIA_TYPES[dist.format]))
        g.add((item, DCTERMS.license, licence))
        g.add((item, DCTERMS.issued, issued))
        g.add((item, DCTERMS.modified, modified))
        for text in _texts(dist.title):
            g.add((item, DCTERMS.title, text))


@data_view
def catalog(request: HttpRequest, filename: str) -> HttpResponse:
    serialisation, content_type = FORMATS[filename]
    graph = catalog_graph(request)
    if serialisation == "json-ld":
        context = {"dcat": str(DCAT), "dct": str(DCTERMS), "foaf": str(FOAF), "vcard": str(VCARD)}
        body = graph.serialize(format="json-ld", context=context, indent=1)
    else:
        body = graph.serialize(format=serialisation)
    return HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
