"""Walking an lxml tree while keeping a readable XPath for every value read.

Paths use the syntax's usual prefixes (``/ubl:Invoice/cac:InvoiceLine[2]/cbc:ID``); repeated
elements read as lists carry their 1-based position. Building the path while walking costs a
string concatenation, so a 4,000-line invoice stays fast.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from belegwerk.einvoice.findings import Location
from belegwerk.einvoice.values import (
    Amount,
    Binary,
    Day,
    Flag,
    Quantity,
    Text,
    parse_boolean,
    parse_date,
    parse_decimal,
    xml_strip,
)


class Node:
    """An element plus its XPath; ``ns`` maps the prefixes used in names to namespaces.

    Names may be relative paths (``cac:Item/cbc:Name``). On the first lookup a node walks its
    subtree once and indexes every descendant by its relative path; further lookups are
    dictionary hits, and a child that is the only one at its path shares that index (under a
    key prefix) instead of walking again. One walk per invoice line is far cheaper than one
    ``find`` per field.
    """

    __slots__ = ("_index", "_names", "_prefix", "el", "ns", "path")

    def __init__(
        self, el: Any, path: str, ns: Mapping[str, str], names: _Names | None = None
    ) -> None:
        self.el = el
        self.path = path
        self.ns = ns
        self._names = names if names is not None else _names(ns)
        self._index: dict[str, list[Any]] | None = None
        self._prefix = ""

    def _elements(self, name: str) -> tuple[str, list[Any]]:
        index = self._index
        if index is None:
            index = self._index = {}
            _walk(self.el, "", index)
        key = self._prefix + self._names[name]
        return key, index.get(key, _NONE)

    def _node(self, el: Any, path: str, shared_key: str | None) -> Node:
        node = Node(el, path, self.ns, self._names)
        if shared_key is not None and el.tag not in _OPAQUE:
            node._index = self._index
            node._prefix = shared_key + "/"
        return node

    @property
    def location(self) -> Location:
        return Location(self.path, self.el.sourceline)

    def text_content(self) -> str:
        el = self.el
        if len(el) == 0:
            return el.text or ""
        return "".join(el.itertext())

    def child(self, name: str) -> Node | None:
        """The first element at the relative path ``name``."""
        key, found = self._elements(name)
        if not found:
            return None
        return self._node(found[0], f"{self.path}/{name}", key if len(found) == 1 else None)

    def path_to(self, *names: str) -> Node | None:
        return self.child("/".join(names))

    def children(self, name: str) -> list[Node]:
        key, found = self._elements(name)
        if len(found) == 1:
            return [self._node(found[0], f"{self.path}/{name}", key)]
        path = self.path
        return [self._node(el, f"{path}/{name}[{i}]", None) for i, el in enumerate(found, 1)]

    def attr(self, name: str) -> str | None:
        value = self.el.get(name)
        return None if value is None else str(value)

    # ---- typed values of a child element (None when the child is absent)

    def _leaf(self, name: str) -> tuple[Any, Location, str] | None:
        """The first element at ``name`` with its location and text, without a Node."""
        found = self._elements(name)[1]
        if not found:
            return None
        el = found[0]
        text = el.text or "" if len(el) == 0 else "".join(el.itertext())
        return el, Location(f"{self.path}/{name}", el.sourceline), text

    def text(self, name: str, scheme_attr: str | None = None) -> Text | None:
        leaf = self._leaf(name)
        if leaf is None:
            return None
        el, location, text = leaf
        return Text(xml_strip(text), location, el.get(scheme_attr) if scheme_attr else None)

    def texts(self, name: str, scheme_attr: str | None = None) -> list[Text]:
        return [node.as_text(scheme_attr) for node in self.children(name)]

    def amount(self, name: str) -> Amount | None:
        leaf = self._leaf(name)
        if leaf is None:
            return None
        el, location, text = leaf
        return Amount(parse_decimal(text), text, location, el.get("currencyID"))

    def quantity(self, name: str, unit_attr: str | None = "unitCode") -> Quantity | None:
        leaf = self._leaf(name)
        if leaf is None:
            return None
        el, location, text = leaf
        return Quantity(
            parse_decimal(text), text, location, el.get(unit_attr) if unit_attr else None
        )

    def flag(self, name: str) -> Flag | None:
        node = self.child(name)
        return None if node is None else node.as_flag()

    # ---- this element as a typed value

    def as_text(self, scheme_attr: str | None = None) -> Text:
        return Text(
            xml_strip(self.text_content()),
            self.location,
            self.attr(scheme_attr) if scheme_attr else None,
        )

    def as_amount(self) -> Amount:
        raw = self.text_content()
        return Amount(parse_decimal(raw), raw, self.location, self.attr("currencyID"))

    def as_quantity(self, unit_attr: str | None = "unitCode") -> Quantity:
        raw = self.text_content()
        unit = self.attr(unit_attr) if unit_attr else None
        return Quantity(parse_decimal(raw), raw, self.location, unit)

    def as_flag(self) -> Flag:
        raw = self.text_content()
        return Flag(parse_boolean(raw), raw, self.location)

    def as_day(self, fmt: str | None = None) -> Day:
        raw = self.text_content()
        return Day(parse_date(raw, fmt), raw, self.location, fmt)

    def as_binary(self) -> Binary:
        raw = self.text_content()
        try:
            content: bytes | None = base64.b64decode("".join(raw.split()), validate=True)
        except (binascii.Error, ValueError):
            content = None
        return Binary(content, self.attr("mimeCode"), self.attr("filename"), self.location)


_NONE: list[Any] = []


# Invoice lines are indexed by their own node only: an ancestor lists the line elements but does
# not look inside them, so a 4,000-line invoice is walked once, not twice.
_OPAQUE = frozenset(
    {
        "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}InvoiceLine",
        "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}CreditNoteLine",
        "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"
        "IncludedSupplyChainTradeLineItem",
        "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12}"
        "IncludedSupplyChainTradeLineItem",
    }
)


def _walk(el: Any, prefix: str, index: dict[str, list[Any]]) -> None:
    """Index every descendant of ``el`` by its path of Clark names relative to ``el`` (not
    looking into invoice lines, see ``_OPAQUE``)."""
    for child in el:
        tag = child.tag
        if type(tag) is not str:  # comments and processing instructions
            continue
        key = prefix + tag
        found = index.get(key)
        if found is None:
            index[key] = [child]
        else:
            found.append(child)
        if len(child) and tag not in _OPAQUE:
            _walk(child, key + "/", index)


class _Names(dict[str, str]):
    """``a:x/b:y`` → ``{ns-a}x/{ns-b}y``, computed once per name."""

    def __init__(self, ns: Mapping[str, str]) -> None:
        super().__init__()
        self.ns = ns

    def __missing__(self, name: str) -> str:
        steps = []
        for step in name.split("/"):
            prefix, _sep, local = step.partition(":")
            steps.append(f"{{{self.ns[prefix]}}}{local}")
        clark = self[name] = "/".join(steps)
        return clark


_NAMES: dict[int, _Names] = {}


def _names(ns: Mapping[str, str]) -> _Names:
    """The name cache of a prefix map (the readers' maps are module constants)."""
    names = _NAMES.get(id(ns))
    if names is None or names.ns is not ns:
        names = _NAMES[id(ns)] = _Names(ns)
    return names
