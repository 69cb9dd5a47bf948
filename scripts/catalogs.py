"""Keep the gettext catalogs in step with the code: extract with Babel, update, compile.

Run from the repository root after changing any label: ``python scripts/catalogs.py``.

1. extracts every message of ``voki_tui`` (``tr``, ``ntr``, ``N_``, ``Binding`` descriptions
   and ``Column`` labels) into
   ``voki_tui/locale/voki_tui.pot`` (a label inside an f-string is not seen: keep ``tr`` calls
   outside them);
2. updates each ``voki_tui/locale/<ll_CC>/LC_MESSAGES/voki_tui.po`` from it (new messages
   come in untranslated, gone ones go), keeping the translations;
3. compiles each ``.po`` to the ``.mo`` beside it, which the wheel ships and the app reads
   with the standard library's ``gettext``.

``--check`` changes nothing and exits 1 when a catalog is out of step with the code or a
translation is missing (``tests/ui/test_catalogs.py`` runs the same check). Babel is a
development dependency only.
"""

from __future__ import annotations

import io
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "voki_tui"
LOCALE = PACKAGE / "locale"
DOMAIN = "voki_tui"
LANGUAGES = {"pt_BR": "pt-BR", "es": "es", "fr": "fr"}
KEYWORDS: dict[str, object] = {
    "tr": None,
    "ntr": (1, 2),
    "N_": None,
    "Binding": (3,),
    "Column": (1,),
}
SKIP = ("sim",)  # voki-sim speaks the API's English; nothing there reaches a screen
STABLE_DATE = datetime(2026, 1, 1, tzinfo=UTC)
"""The catalogs' dates: fixed, so regenerating them changes a file only when a message does."""


def extract() -> Catalog:
    template = Catalog(project="voki-tui", domain=DOMAIN, fuzzy=False, creation_date=STABLE_DATE)
    found = extract_from_dir(
        str(PACKAGE),
        method_map=[("**.py", "python")],
        keywords=KEYWORDS,  # type: ignore[arg-type]
        comment_tags=("translators:",),
        strip_comment_tags=True,
    )
    for filename, lineno, message, _comments, _context in found:
        if filename.split("/")[0] in SKIP or not message or message == ("",):
            continue
        if isinstance(message, tuple) and len(message) == 1:
            message = message[0]
        if isinstance(message, str) and not message.strip():
            continue
        template.add(message, locations=[(f"voki_tui/{filename}", lineno)])
    return template


def po_path(name: str) -> Path:
    return LOCALE / name / "LC_MESSAGES" / f"{DOMAIN}.po"


def updated(template: Catalog, name: str) -> Catalog:
    path = po_path(name)
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=name)
    catalog.update(template, no_fuzzy_matching=True)
    catalog.revision_date = STABLE_DATE
    catalog.obsolete.clear()
    return catalog


def po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=100, omit_header=False, no_location=True, sort_output=True)
    return out.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


# Babel stamps its own version in every header; a new Babel release must not put catalogs that
# say the same thing out of step, so the check compares them without it.
_STAMP = re.compile(r"^\"?Generated-By: [^\n\"]*\"?\n?", re.MULTILINE)


def unstamped(text: str) -> str:
    return _STAMP.sub("", text)


def mo_messages(catalog: Catalog) -> dict[object, object]:
    """What a compiled catalog holds, each id to its string, the header without Babel's stamp."""
    held: dict[object, object] = {}
    for message in catalog:
        if not message.string or message.fuzzy:
            continue
        key = tuple(message.id) if isinstance(message.id, (list, tuple)) else message.id
        value = message.string
        if isinstance(value, (list, tuple)):
            value = tuple(value)
        elif not key:
            value = unstamped(value)
        held[key] = value
    return held


def missing(catalog: Catalog) -> list[str]:
    """Message ids with no translation (or a plural without every form)."""
    gaps = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            gaps.append(message.id if isinstance(message.id, str) else message.id[0])
    return gaps


def main(check: bool) -> int:
    template = extract()
    problems: list[str] = []
    for name in LANGUAGES:
        catalog = updated(template, name)
        po, mo = po_bytes(catalog), mo_bytes(catalog)
        po_file, mo_file = po_path(name), po_path(name).with_suffix(".mo")
        gaps = missing(catalog)
        if gaps:
            problems.append(f"{name}: {len(gaps)} untranslated, e.g. {gaps[:3]}")
        if check:
            if unstamped(po_file.read_text("utf-8")) != unstamped(po.decode("utf-8")):
                problems.append(f"{po_file.relative_to(ROOT)} is out of step with the code")
            compiled = read_mo(io.BytesIO(mo_file.read_bytes())) if mo_file.exists() else None
            if compiled is None or mo_messages(compiled) != mo_messages(catalog):
                problems.append(f"{mo_file.relative_to(ROOT)} is not compiled from its .po")
        else:
            po_file.write_bytes(po)
            mo_file.write_bytes(mo)
    if not check:
        (LOCALE / f"{DOMAIN}.pot").write_bytes(po_bytes(template))
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
