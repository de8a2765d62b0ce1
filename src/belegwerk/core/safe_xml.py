"""Parsing XML from outside (bank files, e-invoices) without trusting it.

The parser never loads a DTD, never resolves entities and never touches the network; a file
with any DOCTYPE is refused outright (``<prefix>.xml_doctype``), so entity expansion ("billion
laughs") and external entities (XXE: reading local files or calling URLs) cannot happen. Size
and nesting depth are bounded; libxml2's "huge tree" mode stays off.

Each capability passes its own ``code_prefix`` (``bank``, ``einvoice``) so its error codes stay
its own: ``<prefix>.too_large``, ``.empty_file``, ``.xml_doctype``, ``.xml_invalid``,
``.xml_too_deep``.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _

MAX_DEPTH = 64  # CAMT needs about 15 levels, an EN 16931 invoice about 12
_DOCTYPE_MARKERS = tuple(
    "<!DOCTYPE".encode(encoding) for encoding in ("ascii", "utf-16-le", "utf-16-be")
)
_TOO_DEEP = etree.XPath("boolean(/*" + "/*" * MAX_DEPTH + ")")


def parse_xml(content: bytes, source: str, *, max_bytes: int, code_prefix: str) -> Any:
    """Parse untrusted XML and return the root element (``lxml.etree._Element``).

    ``source`` names the file (or ZIP/PDF member) in messages. Errors are ValidationFailed
    with a German message and ``details`` carrying the line.
    """
    if len(content) > max_bytes:
        raise ValidationFailed(
            f"{code_prefix}.too_large",
            _("The file {name} is larger than {limit} MB.").format(
                name=source, limit=max_bytes // (1024 * 1024)
            ),
            [{"file": source, "bytes": len(content), "limit": max_bytes}],
        )
    if not content.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise ValidationFailed(
            f"{code_prefix}.empty_file",
            _("The file {name} is empty.").format(name=source),
            [{"file": source}],
        )
    for marker in _DOCTYPE_MARKERS:
        position = content.find(marker)
        if position >= 0:
            line = content[:position].count(b"\n") + 1
            raise _doctype_error(source, line, code_prefix)
    return _parse_untrusted(content, source, code_prefix)


def _parse_untrusted(content: bytes, source: str, code_prefix: str) -> Any:
    """The parser itself; safe on its own even if a DOCTYPE slipped past the byte check."""
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno or 0, 0)
        raise _invalid(source, line, column, exc.msg or str(exc), code_prefix) from None
    if root is None:
        raise _invalid(source, 1, 1, "no root element", code_prefix)
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _doctype_error(source, 1, code_prefix)
    if _TOO_DEEP(root):
        raise ValidationFailed(
            f"{code_prefix}.xml_too_deep",
            _("The file {name} is nested deeper than {depth} levels.").format(
                name=source, depth=MAX_DEPTH
            ),
            [{"file": source, "depth": MAX_DEPTH}],
        )
    return root


def _invalid(source: str, line: int, column: int, reason: str, prefix: str) -> ValidationFailed:
    return ValidationFailed(
        f"{prefix}.xml_invalid",
        _("The file {name} is not well-formed XML (line {line}, column {column}): {reason}").format(
            name=source, line=line, column=column, reason=reason
        ),
        [{"file": source, "line": line, "column": column}],
    )


def _doctype_error(source: str, line: int, prefix: str) -> ValidationFailed:
    return ValidationFailed(
        f"{prefix}.xml_doctype",
        _(
            "The file {name} contains a DOCTYPE declaration (line {line}). Bank files and "
            "e-invoices never need one; it is refused for security reasons."
        ).format(name=source, line=line),
        [{"file": source, "line": line}],
    )
