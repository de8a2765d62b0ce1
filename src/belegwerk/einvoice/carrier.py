"""The file around an e-invoice: plain XML, or a PDF/A-3 with the invoice XML embedded.

ZUGFeRD 2.x / Factur-X embed ``factur-x.xml`` (older 2.0 files ``zugferd-invoice.xml``),
ZUGFeRD 1.0 ``ZUGFeRD-invoice.xml``, the ZUGFeRD XRECHNUNG profile ``xrechnung.xml``. The PDF is
read with pypdf; a PDF that cannot be opened (encrypted with a password, corrupt, truncated) is
refused with a German message. A PDF without invoice XML is a plain PDF for manual entry.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from enum import StrEnum

from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _

MAX_FILE_BYTES = 20 * 1024 * 1024  # e-invoices with attachments stay far below; 50 MB is refused
INVOICE_XML_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml")
_PDF_HEAD = 1024  # the PDF header may follow some junk bytes (ISO 32000-1, 7.5.2 tolerance)


class Container(StrEnum):
    XML = "XML"
    PDF = "PDF"


@dataclass(frozen=True, slots=True)
class Payload:
    """The invoice XML found in a file, or why there is none."""

    container: Container
    xml: bytes | None  # None for a PDF without invoice XML
    xml_name: str | None = None  # the attachment's name in a PDF
    conflict: tuple[str, ...] = ()  # names of invoice XMLs in one PDF that disagree


def unreadable(code: str, message: str, file_name: str, **detail: object) -> ValidationFailed:
    return ValidationFailed(f"einvoice.{code}", message, [{"file": file_name, **detail}])


def too_large(file_name: str, size: int) -> ValidationFailed:
    return unreadable(
        "too_large",
        _("The file {name} is larger than {limit} MB.").format(
            name=file_name, limit=MAX_FILE_BYTES // (1024 * 1024)
        ),
        file_name,
        bytes=size,
        limit=MAX_FILE_BYTES,
    )


def open_carrier(content: bytes, file_name: str) -> Payload:
    """Find the invoice XML in ``content``; ValidationFailed when the file cannot be read."""
    if len(content) > MAX_FILE_BYTES:
        raise too_large(file_name, len(content))
    head = content[:_PDF_HEAD]
    stripped = head.lstrip(b" \t\r\n\x00").removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if not stripped:
        raise unreadable(
            "empty_file", _("The file {name} is empty.").format(name=file_name), file_name
        )
    if b"%PDF-" in head:
        return _from_pdf(content, file_name)
    # A file named .xml is judged as XML even when it is not (the verdict: not well-formed).
    xml_like = stripped.startswith(b"<") or head.startswith((b"\xff\xfe", b"\xfe\xff"))
    if xml_like or file_name.lower().endswith(".xml"):
        return Payload(Container.XML, content)
    raise unreadable(
        "unsupported_type",
        _(
            "The file {name} is neither XML nor PDF. E-invoices arrive as XML (XRechnung, "
            "UBL, CII) or as PDF with embedded XML (ZUGFeRD, Factur-X)."
        ).format(name=file_name),
        file_name,
    )


def _from_pdf(content: bytes, file_name: str) -> Payload:
    attachments = _pdf_attachments(content, file_name)
    found: dict[str, bytes] = {}
    for name, data in attachments.items():
        if name.lower() in INVOICE_XML_NAMES:
            if len(data) > MAX_FILE_BYTES:
                raise unreadable(
                    "too_large",
                    _("The invoice XML {member} in {name} is larger than {limit} MB.").format(
                        member=name, name=file_name, limit=MAX_FILE_BYTES // (1024 * 1024)
                    ),
                    file_name,
                    member=name,
                )
            found[name] = data
    if not found:
        return Payload(Container.PDF, None)
    names = sorted(found, key=lambda n: INVOICE_XML_NAMES.index(n.lower()))
    if len({found[n] for n in names}) > 1:
        return Payload(Container.PDF, found[names[0]], names[0], conflict=tuple(names))
    return Payload(Container.PDF, found[names[0]], names[0])


def _pdf_attachments(content: bytes, file_name: str) -> dict[str, bytes]:
    """The embedded files of a PDF by name (the first one of a name)."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)  # pypdf warns about every repaired xref; not our concern
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        # Many PDFs are encrypted with an owner password only: the empty user password opens
        # them. Anything else needs a password we do not have.
        if reader.is_encrypted and not reader.decrypt(""):
            raise _encrypted(file_name)
        return {name: data[0] for name, data in reader.attachments.items() if data}
    except (FileNotDecryptedError, DependencyError, NotImplementedError):
        raise _encrypted(file_name) from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise _corrupt(file_name, str(exc)[:200] or type(exc).__name__) from None
    except RecursionError:
        raise _corrupt(file_name, "recursion") from None
    finally:
        pypdf_log.setLevel(level)


def _encrypted(file_name: str) -> ValidationFailed:
    return unreadable(
        "pdf_encrypted",
        _(
            "The PDF {name} is protected with a password; its embedded invoice cannot be read. "
            "Please ask the sender for an unprotected file."
        ).format(name=file_name),
        file_name,
    )


def _corrupt(file_name: str, reason: str) -> ValidationFailed:
    return unreadable(
        "pdf_corrupt",
        _("The PDF {name} is damaged or incomplete and cannot be read ({reason}).").format(
            name=file_name, reason=reason
        ),
        file_name,
    )
