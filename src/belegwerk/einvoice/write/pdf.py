"""ZUGFeRD 2.3 / Factur-X EN 16931: a readable German invoice as PDF/A-3b with the CII inside.

The page is drawn with reportlab using the Bitstream Vera fonts that ship with reportlab, so
every glyph is embedded (PDF/A forbids relying on the reader's fonts; the canvas' initial font is
set to Vera too, so the standard Helvetica never appears). PDF/A-3 further needs an output intent
with an ICC profile: an sRGB profile made by LittleCMS through Pillow (a reportlab dependency),
nothing is downloaded. The ``factur-x`` package then embeds ``factur-x.xml`` as an associated
file (``/AF``) with the relationship *Alternative* — the XML is the invoice, the page its
picture, as ZUGFeRD asks for German invoices in the profiles from BASIC up — and writes the XMP
metadata (PDF/A identification, Factur-X extension schema, profile ``EN 16931``). A last pass
makes the document information dictionary agree with the XMP, as PDF/A requires.
"""

from __future__ import annotations

import io
import logging
import re
from decimal import Decimal
from functools import cache, partial
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from babel.numbers import format_currency, format_decimal
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from belegwerk.books import vat_treatment as vt
from belegwerk.einvoice.write.source import Outgoing

FONT = "BelegwerkVera"
FONT_BOLD = "BelegwerkVera-Bold"
LOCALE = "de_DE"  # the document is German whatever language the UI speaks
SRGB = "sRGB IEC61966-2.1"
UNIT_NAMES = {
    "C62": "Stk.",
    "H87": "Stk.",
    "HUR": "Std.",
    "DAY": "Tag(e)",
    "WEE": "Woche(n)",
    "MON": "Monat(e)",
    "ANN": "Jahr(e)",
    "MIN": "Min.",
    "KGM": "kg",
    "GRM": "g",
    "TNE": "t",
    "MTR": "m",
    "KMT": "km",
    "MTK": "m²",
    "MTQ": "m³",
    "LTR": "l",
    "KWH": "kWh",
    "LS": "pauschal",
    "SET": "Satz",
    "PR": "Paar",
}
# Info keys the XMP of factur-x carries too (dc:title, dc:creator, dc:description,
# xmp:CreatorTool, pdf:Producer, xmp:CreateDate, xmp:ModifyDate).
_INFO_IN_XMP = frozenset(
    {"/Title", "/Author", "/Subject", "/Creator", "/Producer", "/CreationDate", "/ModDate"}
)
_XMP_DATE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)")


@cache
def _fonts() -> None:
    import reportlab

    folder = Path(reportlab.__file__).parent / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "VeraBd.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)


@cache
def srgb_profile() -> bytes:
    """An sRGB ICC profile for the PDF/A output intent, made by LittleCMS (via Pillow)."""
    from PIL import ImageCms

    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def money(value: Decimal) -> str:
    return str(format_currency(value, "EUR", locale=LOCALE))


def decimal(value: Decimal, places: int = 0) -> str:
    pattern = "#,##0." + "0" * places + "##########" if places else "#,##0.##########"
    return str(format_decimal(value, format=pattern, locale=LOCALE))


def rate_label(rate: Decimal) -> str:
    return f"{decimal(rate)} %"


def render_zugferd(doc: Outgoing, xml: bytes) -> bytes:
    """The ZUGFeRD/Factur-X PDF/A-3b of ``doc`` with ``xml`` (its EN 16931 CII) embedded."""
    visual = _with_output_intent(render_page(doc))
    import facturx

    metadata = {
        "author": doc.seller.name,
        "keywords": "Factur-X, ZUGFeRD, Rechnung",
        "title": f"{_title(doc)} {doc.number}",
        "subject": f"{_title(doc)} {doc.number} vom {doc.issue_date:%d.%m.%Y}",
    }
    logger = logging.getLogger("facturx")
    level = logger.level
    logger.setLevel(logging.WARNING)  # it logs every step at INFO
    try:
        combined = facturx.generate_from_binary(
            visual,
            xml,
            flavor="factur-x",
            level="en16931",
            check_xsd=False,  # the caller validates the XML with every layer, schema included
            pdf_metadata=metadata,
            lang="de-DE",
            afrelationship="alternative",
            xmp_compression=False,  # PDF/A: the metadata stream stays unfiltered
        )
    finally:
        logger.setLevel(level)
    return _info_from_xmp(bytes(combined))


def _title(doc: Outgoing) -> str:
    return "Stornorechnung" if doc.credit_note else "Rechnung"


def _with_output_intent(pdf: bytes) -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        StreamObject,
        TextStringObject,
    )

    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    profile = StreamObject()
    profile.set_data(srgb_profile())
    profile[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject(SRGB),
            NameObject("/Info"): TextStringObject(SRGB),
            NameObject("/DestOutputProfile"): writer._add_object(profile),
        }
    )
    writer._root_object[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _info_from_xmp(pdf: bytes) -> bytes:
    """PDF/A wants the document information dictionary to say what the XMP says (producer,
    creation and modification date); factur-x stamps both separately, so align them."""
    from lxml import etree
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, StreamObject

    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    stream = writer._root_object["/Metadata"].get_object()
    assert isinstance(stream, StreamObject)
    xmp = stream.get_data()
    root = etree.fromstring(xmp.split(b"?>", 1)[1].rsplit(b"<?xpacket", 1)[0])
    ns = {"xmp": "http://ns.adobe.com/xap/1.0/", "pdf": "http://ns.adobe.com/pdf/1.3/"}
    info: dict[str, str] = {}
    for key, path in (
        ("/CreationDate", "//xmp:CreateDate"),
        ("/ModDate", "//xmp:ModifyDate"),
        ("/Producer", "//pdf:Producer"),
    ):
        found = root.xpath(path, namespaces=ns)
        if found and found[0].text:
            text = found[0].text.strip()
            info[key] = _pdf_date(text) if key != "/Producer" else text
    metadata = writer._info.get_object() if writer._info is not None else None
    if isinstance(metadata, DictionaryObject):
        for key in [k for k in metadata if k not in _INFO_IN_XMP]:
            del metadata[key]  # e.g. /Keywords, /Trapped: the XMP of factur-x has no match
    writer.add_metadata(info)
    writer._header = b"%PDF-1.7"  # PDF/A-3 builds on PDF 1.7
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _pdf_date(xmp_date: str) -> str:
    match = _XMP_DATE.match(xmp_date)
    if match is None:
        return xmp_date
    return "D:" + "".join(match.groups()) + "+00'00'"


# --------------------------------------------------------------------------- the page


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=12)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7, leading=9),
        "sender": ParagraphStyle("sender", parent=base, fontSize=7, leading=9, underlineWidth=0),
        "title": ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=15, leading=19),
        "bold": ParagraphStyle("bold", parent=base, fontName=FONT_BOLD),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "right_bold": ParagraphStyle(
            "right_bold", parent=base, fontName=FONT_BOLD, alignment=TA_RIGHT
        ),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def render_page(doc: Outgoing) -> bytes:
    """The visible invoice (plain PDF, fonts embedded) — German layout after DIN 5008."""
    _fonts()
    st = _styles()
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=15 * mm,
        bottomMargin=28 * mm,
        title=f"{_title(doc)} {doc.number}",
        author=doc.seller.name,
        lang="de-DE",
        initialFontName=FONT,
    )
    story: list[Any] = [
        _p(doc.seller.name, st["title"]),
        Spacer(1, 12 * mm),
        _address_and_facts(doc, st),
        Spacer(1, 10 * mm),
        _p(f"{_title(doc)} {doc.number}", st["title"]),
    ]
    if doc.preceding is not None:
        story.append(
            _p(
                f"zu Rechnung {doc.preceding.number} vom {doc.preceding.issue_date:%d.%m.%Y}",
                st["base"],
            )
        )
    story += [Spacer(1, 5 * mm), _lines_table(doc, st), Spacer(1, 3 * mm), _totals(doc, st)]
    story.append(Spacer(1, 6 * mm))
    for text in _notes(doc):
        story += [_p(text, st["base"]), Spacer(1, 2 * mm)]
    story += [_p(doc.payment_terms, st["base"]), Spacer(1, 2 * mm)]
    if doc.seller.iban and not doc.credit_note:
        bank = f"Bitte überweisen Sie den Betrag auf das Konto IBAN {_iban(doc.seller.iban)}"
        if doc.seller.bic:
            bank += f", BIC {doc.seller.bic}"
        if doc.seller.bank_name:
            bank += f" ({doc.seller.bank_name})"
        story.append(_p(f"{bank}, Verwendungszweck {doc.remittance}.", st["base"]))
    canvas = partial(_Canvas, footer=_footer(doc))
    template.build(story, canvasmaker=canvas)
    return buffer.getvalue()


class _Canvas(Canvas):  # type: ignore[misc]
    """A canvas whose initial font is the embedded Vera and which draws the footer."""

    def __init__(self, *args: Any, footer: list[str], **kwargs: Any) -> None:
        kwargs["initialFontName"] = FONT  # platypus passes None, which means Helvetica
        kwargs["initialFontSize"] = 9
        super().__init__(*args, **kwargs)
        self._footer = footer

    def showPage(self) -> None:
        self.saveState()
        self.setFont(FONT, 7)
        self.setFillColor(colors.HexColor("#444444"))
        y = 18 * mm
        for text in self._footer:
            self.drawString(20 * mm, y, text)
            y -= 3.2 * mm
        self.drawRightString(A4[0] - 20 * mm, 18 * mm, f"Seite {self.getPageNumber()}")
        self.restoreState()
        super().showPage()


def _style(commands: list[Any]) -> TableStyle:
    """Table cells default to Helvetica, which PDF/A cannot have unembedded: use Vera."""
    return TableStyle([("FONT", (0, 0), (-1, -1), FONT, 9), *commands])


def _iban(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def _footer(doc: Outgoing) -> list[str]:
    seller = doc.seller
    address = seller.address
    first = f"{seller.name} · {address.street} · {address.postcode} {address.city}"
    ids = []
    if seller.tax_number:
        ids.append(f"Steuernummer {seller.tax_number}")
    if seller.vat_id:
        ids.append(f"USt-IdNr. {seller.vat_id}")
    contact = [c for c in (seller.contact_name, seller.phone, seller.email) if c]
    lines = [first, " · ".join(ids + contact)]
    if seller.iban:
        bank = f"IBAN {_iban(seller.iban)}" + (f" · BIC {seller.bic}" if seller.bic else "")
        lines.append(bank + (f" · {seller.bank_name}" if seller.bank_name else ""))
    return [line for line in lines if line.strip(" ·")]


def _address_and_facts(doc: Outgoing, st: dict[str, ParagraphStyle]) -> Table:
    seller, buyer = doc.seller, doc.buyer
    sender = (
        f"{seller.name} · {seller.address.street} · {seller.address.postcode} {seller.address.city}"
    )
    recipient = [buyer.name, buyer.address.street, f"{buyer.address.postcode} {buyer.address.city}"]
    if buyer.address.country != vt.HOME:
        recipient.append(buyer.address.country)
    left = [_p(sender, st["sender"]), Spacer(1, 2 * mm)]
    left += [_p(line, st["base"]) for line in recipient if line.strip()]
    facts = [
        ("Rechnungsnummer", doc.number),
        ("Rechnungsdatum", f"{doc.issue_date:%d.%m.%Y}"),
        ("Leistungsdatum", f"{doc.delivery_date:%d.%m.%Y}"),
    ]
    if buyer.customer_number:
        facts.append(("Kundennummer", str(buyer.customer_number)))
    if buyer.public_authority:
        facts.append(("Leitweg-ID", doc.buyer_reference))
    if buyer.vat_id:
        facts.append(("USt-IdNr. Kunde", buyer.vat_id))
    if doc.due_date is not None:
        facts.append(("Fällig am", f"{doc.due_date:%d.%m.%Y}"))
    right = Table(
        [[_p(k, st["small"]), _p(v, st["right"])] for k, v in facts],
        colWidths=[30 * mm, 40 * mm],
    )
    right.setStyle(
        _style([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("PADDING", (0, 0), (-1, -1), 1)])
    )
    table = Table([[left, right]], colWidths=[100 * mm, 70 * mm])
    table.setStyle(
        _style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, 0), 0)])
    )
    return table


def _lines_table(doc: Outgoing, st: dict[str, ParagraphStyle]) -> Table:
    head = ["Pos.", "Beschreibung", "Menge", "Einheit", "Einzelpreis", "USt", "Betrag"]
    rows: list[list[Any]] = [[_p(h, st["bold"]) for h in head]]
    for line in doc.lines:
        vat = "–" if line.vat_category == vt.OUT_OF_SCOPE else rate_label(line.vat_rate)
        rows.append(
            [
                _p(line.id, st["base"]),
                _p(line.name, st["base"]),
                _p(decimal(line.quantity), st["right"]),
                _p(UNIT_NAMES.get(line.unit, line.unit), st["base"]),
                _p(
                    money(line.net_price) if _cents(line.net_price) else _price(line.net_price),
                    st["right"],
                ),
                _p(vat, st["right"]),
                _p(money(line.net_amount), st["right"]),
            ]
        )
    table = Table(
        rows,
        colWidths=[11 * mm, 63 * mm, 17 * mm, 17 * mm, 22 * mm, 14 * mm, 26 * mm],
        repeatRows=1,
    )
    table.setStyle(
        _style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#999999")),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _cents(value: Decimal) -> bool:
    return value == value.quantize(Decimal("0.01"))


def _price(value: Decimal) -> str:
    """A unit price with more than two places (gross price mode), shown with up to four."""
    return f"{decimal(value.quantize(Decimal('0.0001')), 2)} €"


def _totals(doc: Outgoing, st: dict[str, ParagraphStyle]) -> Table:
    rows: list[tuple[str, str, bool]] = [("Summe netto", money(doc.line_total), False)]
    if not doc.small_business:
        for group in doc.groups:
            if group.category == vt.STANDARD or group.tax:
                label = f"Umsatzsteuer {rate_label(group.rate)} auf {money(group.taxable)}"
                rows.append((label, money(group.tax), False))
    label = "Gutschriftsbetrag" if doc.credit_note else "Rechnungsbetrag"
    rows.append((label, money(doc.gross_total), True))
    table = Table(
        [
            [
                _p(text, st["right_bold" if bold else "right"]),
                _p(value, st["right_bold" if bold else "right"]),
            ]
            for text, value, bold in rows
        ],
        colWidths=[134 * mm, 36 * mm],
    )
    table.setStyle(
        _style(
            [("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black), ("PADDING", (0, 0), (-1, -1), 2)]
        )
    )
    return table


def _notes(doc: Outgoing) -> list[str]:
    """The legal notes: exemption reasons (§ 14a UStG), the § 19 note, the invoice's own note."""
    texts: list[str] = []
    for group in doc.groups:
        reason = group.exemption_reason
        if reason and reason not in texts and not any(reason in n for n in doc.notes):
            texts.append(reason)
    texts.extend(doc.notes)
    return texts
