"""The German UI is complete: every message id in the code and templates has a German
translation (no English leaks into the German UI), and numbers use German formats."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from belegwerk.core import i18n

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "src" / "belegwerk" / "locale" / "de" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*(?::[^}]*)?\}")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}


def _extracted() -> dict[str | tuple[str, ...], str]:
    """msgid -> where it was found, with the same mapping as ``pybabel extract -F babel.cfg``."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[str | tuple[str, ...], str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        if not message or (isinstance(message, tuple) and not all(message)):
            continue
        found.setdefault(message, f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def catalog_and_ids() -> tuple[dict[object, object], dict[str | tuple[str, ...], str]]:
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="de")
    translations = {m.id: m.string for m in catalog if m.id}
    return translations, _extracted()


def test_every_message_has_a_german_translation(
    catalog_and_ids: tuple[dict[object, object], dict[str | tuple[str, ...], str]],
) -> None:
    translations, ids = catalog_and_ids
    assert len(ids) > 300  # the extraction really found the code and the templates
    missing = []
    for msgid, where in sorted(ids.items(), key=lambda item: str(item[0])):
        text = translations.get(msgid)
        ok = all(text) if isinstance(text, tuple | list) else bool(text)
        if not ok:
            missing.append(f"{where}: {msgid!r}")
    assert not missing, (
        "messages without German translation (re-run the extraction, see babel.cfg):\n"
        + "\n".join(missing)
    )


def test_translations_keep_the_placeholders(
    catalog_and_ids: tuple[dict[object, object], dict[str | tuple[str, ...], str]],
) -> None:
    translations, _ids = catalog_and_ids
    wrong = []
    for msgid, text in translations.items():
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        texts = text if isinstance(text, tuple | list) else (text,)
        for source, target in zip(ids, texts, strict=False):
            if not target:
                continue
            if sorted(PLACEHOLDER.findall(str(source))) != sorted(PLACEHOLDER.findall(target)):
                wrong.append(f"{source!r} -> {target!r}")
            # Templates format every message with %, so a bare % must not appear in a
            # translation whose message id has none.
            if "%" not in PLACEHOLDER.sub("", str(source)) and "%" in PLACEHOLDER.sub("", target):
                wrong.append(f"bare % in {target!r}")
    assert not wrong, "\n".join(wrong)


def test_german_is_the_default_and_formats_are_german() -> None:
    token = i18n.current_locale.set("de")
    try:
        assert i18n.format_money(Decimal("1234.56")) == "1.234,56 €"
        assert i18n.format_money(Decimal("-0.5")) == "-0,50 €"
        assert i18n.format_date(date(2026, 12, 31)) == "31.12.2026"
        assert i18n.gettext("Cash book") == "Kassenbuch"
        assert i18n.gettext("No daily closing for yesterday") == "Kein Tagesabschluss für gestern"
    finally:
        i18n.current_locale.reset(token)
    assert i18n.DEFAULT_LOCALE == "de"
    token = i18n.current_locale.set("en")
    try:
        assert i18n.gettext("Cash book") == "Cash book"
        assert i18n.format_money(Decimal("1234.56")) == "1,234.56 €"
    finally:
        i18n.current_locale.reset(token)
