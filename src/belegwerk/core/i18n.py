"""Gettext with a per-request locale; .po catalogs are compiled in memory on first use."""

from __future__ import annotations

import gettext as _gettext
from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
SUPPORTED = ("de", "en")
DEFAULT_LOCALE = "de"

current_locale: ContextVar[str] = ContextVar("belegwerk_locale", default=DEFAULT_LOCALE)


@lru_cache
def translations(locale: str) -> _gettext.NullTranslations:
    """Message ids are English; German comes from ``locale/de/LC_MESSAGES/messages.po``."""
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return _gettext.NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


def gettext(message: str) -> str:
    return translations(current_locale.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale.get()).ngettext(singular, plural, n)


_ = gettext


def babel_locale() -> str:
    return "de_DE" if current_locale.get() == "de" else "en_GB"


def format_money(value: Decimal | None, currency: bool = True) -> str:
    """1.234,56 € in German, 1,234.56 € in English; two places always."""
    if value is None:
        return ""
    text = format_decimal(value, format="#,##0.00", locale=babel_locale())
    return f"{text} €" if currency else text


def format_date(value: date | None) -> str:
    if value is None:
        return ""
    if current_locale.get() == "de":
        return value.strftime("%d.%m.%Y")
    return value.isoformat()
