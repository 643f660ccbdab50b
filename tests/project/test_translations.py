"""The Swedish, Danish and Norwegian Bokmål catalogues are complete, and in step with the source.

Two kinds of checks, neither needs the database:

* every message in ``src/pejling/locale/{sv,da,nb}/LC_MESSAGES/django.po`` is translated, not fuzzy,
  and keeps the placeholders and HTML tags of its msgid;
* running ``makemessages`` on the current source finds no msgid the committed catalogue lacks.

When the second check fails, update and translate the catalogues::

    cd src/pejling && ../../.venv/bin/pejling makemessages -l sv -l da -l nb --ignore="demo/*"

then translate the new entries (and remove their ``#, fuzzy`` flags).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po
from django.core.management import call_command

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "src" / "pejling"
LOCALE_DIR = PACKAGE_DIR / "locale"
LANGUAGES = ["sv", "da", "nb"]
MAKEMESSAGES = (
    'cd src/pejling && ../../.venv/bin/pejling makemessages -l sv -l da -l nb --ignore="demo/*"'
)

# A printf-style conversion as Python's % operator reads it: %(name)s, %s, %d, %%, ...
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]")
NAMED_PLACEHOLDER = re.compile(r"%\([^)]*\)")
TAG = re.compile(r"<[^>]+>")

Key = tuple[str | None, str | tuple[str, ...]]


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "django.po"


def load(path: Path, language: str) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=language, abort_invalid=True)


def key(message: Message) -> Key:
    msgid = message.id
    return (message.context, tuple(msgid) if isinstance(msgid, (list, tuple)) else msgid)


def messages(catalog: Catalog) -> list[Message]:
    return [m for m in catalog if m.id]


def describe(message: Message) -> str:
    where = ", ".join(f"{file}:{line}" for file, line in message.locations[:3])
    return f"{message.id!r} ({where})" if where else repr(message.id)


def placeholders(text: str, *, python_format: bool) -> list[str]:
    pattern = PLACEHOLDER if python_format else NAMED_PLACEHOLDER
    return sorted(pattern.findall(text))


def problems_of(message: Message) -> list[str]:
    """What is wrong with one catalogue entry, as readable sentences (empty when all is well)."""
    problems = []
    if message.fuzzy:
        problems.append("is fuzzy")
    ids = list(message.id) if message.pluralizable else [message.id]
    strings = list(message.string) if message.pluralizable else [message.string]
    if not all(strings):
        problems.append("is not translated")
        return problems
    python_format = "python-format" in message.flags
    for index, string in enumerate(strings):
        # msgstr[0] may follow the singular or the plural msgid; later forms follow the plural.
        sources = ids if index == 0 else ids[-1:]
        wanted = [placeholders(s, python_format=python_format) for s in sources]
        if placeholders(string, python_format=python_format) not in wanted:
            problems.append(f"placeholders differ from the msgid in {string!r}")
        if sorted(TAG.findall(string)) not in [sorted(TAG.findall(s)) for s in sources]:
            problems.append(f"HTML tags differ from the msgid in {string!r}")
        if "{{" in string or "{%" in string:
            problems.append(f"template syntax in {string!r}")
    return problems


@pytest.fixture(scope="module", params=LANGUAGES)
def catalogue(request: Any) -> Catalog:
    path = po_path(request.param)
    assert path.exists(), f"{path} is missing; run: {MAKEMESSAGES}"
    return load(path, request.param)


def test_catalogue_header(catalogue: Catalog) -> None:
    assert str(catalogue.locale) in LANGUAGES
    headers = dict(catalogue.mime_headers)
    assert headers.get("Language") == str(catalogue.locale)
    assert catalogue.num_plurals == 2
    assert catalogue.plural_expr.replace(" ", "") in {"(n!=1)", "n!=1"}
    assert not catalogue.fuzzy, "the header is marked fuzzy"


def test_every_message_is_translated(catalogue: Catalog) -> None:
    assert messages(catalogue), "the catalogue is empty"
    problems = [
        f"{describe(m)} {problem}" for m in messages(catalogue) for problem in problems_of(m)
    ]
    assert not problems, f"{catalogue.locale}: {len(problems)} problem(s):\n" + "\n".join(problems)


def test_languages_have_the_same_messages() -> None:
    ids = {lang: {key(m) for m in messages(load(po_path(lang), lang))} for lang in LANGUAGES}
    first, *others = LANGUAGES
    for other in others:
        only_first = sorted(map(repr, ids[first] - ids[other]))
        only_other = sorted(map(repr, ids[other] - ids[first]))
        assert not only_first and not only_other, (
            f"{first} and {other} differ; run: {MAKEMESSAGES}\n"
            f"only in {first}: {only_first}\nonly in {other}: {only_other}"
        )


def test_problems_of_catches_broken_entries() -> None:
    """The checker itself: it must flag what the catalogue tests rely on it to flag."""
    good = Message("Back to %(unit)s", "Tillbaka till %(unit)s", flags=["python-format"])
    assert problems_of(good) == []
    assert problems_of(Message("Save", "")) == ["is not translated"]
    assert "is fuzzy" in problems_of(Message("Save", "Spara", flags=["fuzzy"]))
    renamed = Message("Back to %(unit)s", "Tillbaka till %(enhet)s", flags=["python-format"])
    assert any("placeholders" in p for p in problems_of(renamed))
    lost_tag = Message('Edit <span class="ds-sr-only">%(title)s</span>', "Redigera %(title)s")
    assert any("HTML tags" in p for p in problems_of(lost_tag))
    plural = Message(
        ("%(counter)s unit", "%(counter)s units"),
        ("%(counter)s enhet", "enheter"),
        flags=["python-format"],
    )
    assert any("placeholders" in p for p in problems_of(plural))
    one = Message(("One unit", "%(counter)s units"), ("En enhet", "%(counter)s enheter"))
    assert problems_of(one) == []


def test_catalogue_has_every_msgid_in_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """Extract the messages of the current source (in a copy, so the real catalogues are left
    alone) and fail on any msgid the committed Swedish catalogue does not have yet."""
    if not (shutil.which("xgettext") and shutil.which("msgmerge")):
        pytest.skip("GNU gettext (xgettext, msgmerge) is not installed")
    source = tmp_path / "pejling"
    shutil.copytree(
        PACKAGE_DIR, source, ignore=shutil.ignore_patterns("locale", "__pycache__", "*.mo")
    )
    (source / "locale").mkdir()
    settings.LOCALE_PATHS = [source / "locale"]
    monkeypatch.chdir(source)

    call_command("makemessages", locale=["sv"], ignore_patterns=["demo/*"], verbosity=0)

    extracted = messages(load(source / "locale" / "sv" / "LC_MESSAGES" / "django.po", "sv"))
    assert extracted, "makemessages found no messages at all"
    committed = {key(m) for m in messages(load(po_path("sv"), "sv"))}
    missing = [describe(m) for m in extracted if key(m) not in committed]
    assert not missing, (
        f"{len(missing)} msgid(s) in the code are missing from the sv/da/nb catalogues; "
        f"run makemessages and translate the new entries:\n    {MAKEMESSAGES}\n"
        + "\n".join(missing)
    )
