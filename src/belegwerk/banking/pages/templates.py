"""CSV templates: the list (own and shipped ones), JSON export and import, and the editor that
makes a template for an unknown CSV from the uploaded file — map the columns by dropdown, test
on the file, save; the import then continues with the new template."""

from __future__ import annotations

import csv
import mimetypes
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from belegwerk.banking import template_store
from belegwerk.banking.csv_parse import sniff_encoding, split_lines
from belegwerk.banking.csv_template import (
    TEXT_FIELDS,
    CsvTemplate,
    get_system_template,
    list_system_templates,
    load_template_json,
    template_from_dict,
    template_to_json,
)
from belegwerk.banking.detect import (
    detected_columns,
    parse_file,
    sniff_format,
    suggest_template,
)
from belegwerk.banking.pages.common import UploadLimitRoute, fail, read_upload, render
from belegwerk.banking.pages.imports import get_document
from belegwerk.banking.statement import ParsedStatement
from belegwerk.core.documents import Document, store_document
from belegwerk.core.errors import BelegwerkError, NotFound, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.web.ui import FormDep, Page, PageDep, checkbox, parse_int, redirect, text

pages = APIRouter(include_in_schema=False, route_class=UploadLimitRoute)

LIST_TEMPLATE = "banking/templates.html"
EDITOR_TEMPLATE = "banking/template_editor.html"
RAW_LINES = 12
SAMPLES = 3
RESULT_ROWS = 20
MAX_COLUMNS = 60

DELIMITERS = {"semicolon": ";", "comma": ",", "tab": "\t", "pipe": "|"}
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "iso-8859-1", "iso-8859-15")
THOUSANDS = {"dot": ".", "comma": ",", "space": " ", "apostrophe": "'", "none": ""}
DATE_FORMATS = ("%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y")


def field_labels() -> list[tuple[str, str]]:
    """Our fields a CSV column can be mapped to, in the order of the dropdown."""
    return [
        ("", _("– ignore –")),
        ("booking_date", _("Booking date")),
        ("value_date", _("Value date")),
        ("amount", _("Amount (signed)")),
        ("debit", _("Debit (money out)")),
        ("credit", _("Credit (money in)")),
        ("sign", _("Debit/credit mark (S/H)")),
        ("currency", _("Currency")),
        ("counterparty_name", _("Counterparty name")),
        ("counterparty_iban", _("Counterparty IBAN")),
        ("counterparty_bic", _("Counterparty BIC")),
        ("purpose", _("Purpose")),
        ("booking_text", _("Booking text")),
        ("end_to_end_ref", _("End-to-end reference")),
        ("mandate_ref", _("Mandate reference")),
        ("creditor_id", _("Creditor ID")),
        ("balance_after", _("Balance after booking")),
        ("status", _("Status (booked/pending)")),
        ("account_iban", _("Own account (IBAN)")),
    ]


def delimiter_labels() -> list[tuple[str, str]]:
    return [
        ("semicolon", _("Semicolon ;")),
        ("comma", _("Comma ,")),
        ("tab", _("Tab")),
        ("pipe", _("Vertical bar |")),
    ]


def thousands_labels() -> list[tuple[str, str]]:
    return [
        ("dot", _("Dot 1.000")),
        ("comma", _("Comma 1,000")),
        ("space", _("Space 1 000")),
        ("apostrophe", _("Apostrophe 1'000")),
        ("none", _("none")),
    ]


def date_labels() -> list[tuple[str, str]]:
    examples = {
        "%d.%m.%Y": "31.12.2026",
        "%d.%m.%y": "31.12.26",
        "%Y-%m-%d": "2026-12-31",
        "%d/%m/%Y": "31/12/2026",
        "%m/%d/%Y": "12/31/2026",
        "%d-%m-%Y": "31-12-2026",
    }
    return [(fmt, examples[fmt]) for fmt in DATE_FORMATS]


# --------------------------------------------------------------------------- list


def _list_context(page: Page, **extra: Any) -> dict[str, Any]:
    own = template_store.list_user_templates(page.session, page.tenant_id)
    return {
        "section": "bank_templates",
        "own": own,
        "system": list_system_templates(),
        "form": {},
        **extra,
    }


@pages.get("/bank/templates", response_class=HTMLResponse)
def template_list(page: PageDep) -> HTMLResponse:
    return render(page, LIST_TEMPLATE, **_list_context(page))


@pages.get("/bank/templates/{key}.json")
def template_json(key: str, page: PageDep) -> Response:
    """Download a template (one's own or a shipped one, e.g. as a start) as JSON."""
    row = template_store.find_user_template(page.session, page.tenant_id, key)
    template = load_template_json(row.definition) if row else get_system_template(key)
    if template is None:
        raise NotFound(
            "bank.template_not_found",
            _("Template not found."),
            [{"field": "key", "value": key}],
        )
    return Response(
        template_to_json(template),
        media_type="application/json",
        headers={"content-disposition": f'attachment; filename="{template.key}.json"'},
    )


@pages.post("/bank/templates/import", response_model=None)
def template_import(page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    """Add a template from an exported JSON file (e.g. from another installation)."""
    try:
        content, _name = read_upload(form)
        template = load_template_json(content)
        if get_system_template(template.key) is not None:
            key = template_store.unique_key(page.session, page.tenant_id, template.name)
            template = template.model_copy(update={"key": key})
        template_store.save_user_template(
            page.session,
            page.tenant_id,
            template,
            page.actor,
            replace=checkbox(form, "replace"),
        )
    except BelegwerkError as exc:
        form_values = {"replace": checkbox(form, "replace")}
        return fail(page, LIST_TEMPLATE, exc, lambda: _list_context(page, form=form_values))
    return redirect("/bank/templates", done="template_imported")


@pages.post("/bank/templates/{template_id}/delete", response_model=None)
def template_delete(template_id: int, page: PageDep) -> HTMLResponse | RedirectResponse:
    template_store.get_user_template(page.session, page.tenant_id, template_id)  # 404 first
    try:
        template_store.delete_user_template(page.session, page.tenant_id, template_id, page.actor)
    except BelegwerkError as exc:
        return fail(page, LIST_TEMPLATE, exc, lambda: _list_context(page))
    return redirect("/bank/templates", done="template_deleted")


@pages.post("/bank/templates/upload", response_model=None)
def template_from_upload(page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    """Start the editor from a sample file, without importing it."""
    try:
        content, file_name = read_upload(form)
        if not content.strip():
            raise ValidationFailed("bank.empty_file", _("The file is empty."), [{"field": "file"}])
        media_type = mimetypes.guess_type(file_name)[0] or "text/csv"
        document, _new = store_document(
            page.session, page.tenant_id, content, file_name, media_type, actor=page.actor
        )
    except BelegwerkError as exc:
        return fail(page, LIST_TEMPLATE, exc, lambda: _list_context(page))
    return redirect(f"/bank/templates/editor?document={document.id}")


# --------------------------------------------------------------------------- editor


@dataclass
class Editor:
    """The file as the current settings read it: its first lines, columns and samples."""

    document: Document
    lines: list[str]
    columns: list[str]
    samples: list[list[str]]
    header_index: int  # 0-based line of the header (or the first data line)
    result: ParsedStatement | None = None
    result_rows: list[Any] = field(default_factory=list)


def _cells(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _text_of(document: Document) -> list[str]:
    if sniff_format(document.content) != "csv":
        raise ValidationFailed(
            "bank.template_not_csv",
            _("Templates are for CSV files; this file is MT940 or CAMT and is read directly."),
            [{"field": "document"}],
        )
    return split_lines(sniff_encoding(document.content).text)


def _editor(document: Document, values: dict[str, Any]) -> Editor:
    lines = _text_of(document)
    delimiter = DELIMITERS.get(values["delimiter"], ";")
    index = max(0, min(int(values["header_line"] or 1) - 1, max(len(lines) - 1, 0)))
    first = _cells(lines[index], delimiter) if lines else []
    width = len(first)
    while width and not first[width - 1].strip():
        width -= 1
    width = min(width, MAX_COLUMNS)
    header = values["header"]
    columns = (
        [c.strip() for c in first[:width]]
        if header
        else [_("Column {n}").format(n=i + 1) for i in range(width)]
    )
    data = lines[index + 1 :] if header else lines[index:]
    rows = [_cells(line, delimiter) for line in data if line.strip()][:SAMPLES]
    samples = [[r[i].strip() for r in rows if i < len(r) and r[i].strip()] for i in range(width)]
    return Editor(document, lines[:RAW_LINES], columns, samples, index)


def _initial_values(document: Document) -> dict[str, Any]:
    """The editor's first settings: what detection guesses from the file."""
    _text_of(document)
    suggestion = suggest_template(document.content)
    delimiter = next(
        (k for k, v in DELIMITERS.items() if v == suggestion.get("delimiter")), "semicolon"
    )
    header = bool(suggestion.get("header", True))
    info = detected_columns(document.content)
    header_line = int(info.get("header_line") or 1)
    columns: list[str] = list(info.get("columns") or [])
    mapping: dict[str, str] = {}
    for name, ref in (suggestion.get("columns") or {}).items():
        refs = ref if isinstance(ref, list) else [ref]
        for r in refs:
            if isinstance(r, dict) and r.get("names") and r["names"][0] in columns:
                mapping[f"map_{columns.index(r['names'][0])}"] = name
            elif isinstance(r, dict) and isinstance(r.get("index"), int):
                mapping[f"map_{r['index']}"] = name
    thousands = next((k for k, v in THOUSANDS.items() if v == suggestion.get("thousands")), "dot")
    date_formats = suggestion.get("date_formats") or ["%d.%m.%Y"]
    encoding = suggestion.get("encoding", "utf-8")
    return {
        "name": "",
        "delimiter": delimiter,
        "encoding": encoding if encoding in ENCODINGS else "utf-8",
        "decimal": suggestion.get("decimal", ","),
        "thousands": thousands,
        "date_format": date_formats[0] if date_formats[0] in DATE_FORMATS else "%d.%m.%Y",
        "header": header,
        "header_line": str(header_line),
        **mapping,
    }


def _submitted(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {
        k: text(form, k)
        for k in ("name", "delimiter", "encoding", "decimal", "thousands", "date_format")
    }
    values["header"] = checkbox(form, "header")
    values["header_line"] = text(form, "header_line") or "1"
    for key in form:
        if key.startswith("map_"):
            values[key] = text(form, key)
    return values


def _check_settings(values: dict[str, Any]) -> None:
    problems = {
        "delimiter": values["delimiter"] not in DELIMITERS,
        "encoding": values["encoding"] not in ENCODINGS,
        "decimal": values["decimal"] not in (",", "."),
        "thousands": values["thousands"] not in THOUSANDS,
        "date_format": values["date_format"] not in DATE_FORMATS,
    }
    for name, bad in problems.items():
        if bad:
            raise ValidationFailed(
                "bank.template_setting",
                _("Please choose one of the offered values."),
                [{"field": name, "value": values[name]}],
            )
    line = parse_int(values["header_line"], "header_line")
    if line is None or not 1 <= line <= 200:
        raise ValidationFailed(
            "bank.template_header_line",
            _("The line must be a number from 1 to 200."),
            [{"field": "header_line", "value": values["header_line"]}],
        )


def build_template(key: str, values: dict[str, Any], editor: Editor) -> CsvTemplate:
    """The template the editor's settings describe (validated like any template JSON)."""
    name = values["name"].strip()
    if not name:
        raise ValidationFailed(
            "bank.template_name_missing",
            _("Please give the template a name, e.g. the name of your bank."),
            [{"field": "name"}],
        )
    header = bool(values["header"])
    labels = dict(field_labels())
    refs: dict[str, list[dict[str, Any]]] = {}
    first_column: dict[str, int] = {}
    seen: dict[str, int] = {}
    for i, column in enumerate(editor.columns):
        target = values.get(f"map_{i}", "")
        if target and target not in labels:
            raise ValidationFailed(
                "bank.template_setting",
                _("Please choose one of the offered values."),
                [{"field": f"map_{i}", "value": target}],
            )
        norm = column.strip().casefold()
        seen[norm] = seen.get(norm, 0) + 1
        if not target:
            continue
        if header and column.strip():
            ref: dict[str, Any] = {"names": [column.strip()]}
            if seen[norm] > 1:
                ref["occurrence"] = seen[norm]
        else:
            ref = {"index": i}
        if target in refs and target not in TEXT_FIELDS:
            raise ValidationFailed(
                "bank.template_mapped_twice",
                _("{field} is assigned to two columns ({first} and {second}).").format(
                    field=labels[target],
                    first=editor.columns[first_column[target]],
                    second=column,
                ),
                [{"field": f"map_{i}", "value": target}],
            )
        refs.setdefault(target, []).append(ref)
        first_column.setdefault(target, i)
    if "booking_date" not in refs:
        raise ValidationFailed(
            "bank.template_no_date",
            _("Please choose the column with the booking date."),
            [{"field": "mapping"}],
        )
    if not {"amount", "debit", "credit"} & refs.keys():
        raise ValidationFailed(
            "bank.template_no_amount",
            _("Please choose the column with the amount (or the debit and credit columns)."),
            [{"field": "mapping"}],
        )
    decimal = values["decimal"]
    thousands = THOUSANDS[values["thousands"]]
    if thousands == decimal:
        thousands = "" if decimal == "," else ","
    line = int(values["header_line"])
    definition: dict[str, Any] = {
        "schema_version": 1,
        "key": key,
        "name": name[:200],
        "bank": name[:100],
        "note": _("Made in the template editor from {file}.").format(
            file=editor.document.file_name
        ),
        "encoding": values["encoding"],
        "delimiter": DELIMITERS[values["delimiter"]],
        "decimal": decimal,
        "thousands": thousands,
        "date_formats": [values["date_format"]],
        "header": header,
        "column_count": max(len(editor.columns), 1),
        "columns": {k: v[0] if len(v) == 1 else v for k, v in refs.items()},
    }
    if header:
        definition["max_preamble_lines"] = min(max(30, line + 5), 200)
    else:
        definition["skip_lines"] = line - 1
    return template_from_dict(definition)


def test_template(document: Document, template: CsvTemplate) -> ParsedStatement:
    return parse_file(
        document.content,
        document.file_name,
        user_templates=(template,),
        template_key=template.key,
    )


def _editor_context(
    page: Page,
    document_id: int,
    account_id: int | None,
    values: dict[str, Any],
    result: ParsedStatement | None = None,
    **extra: Any,
) -> dict[str, Any]:
    document = get_document(page, document_id)
    editor = _editor(document, values)
    if result is not None:
        editor.result = result
        editor.result_rows = result.head(RESULT_ROWS)
    return {
        "section": "bank_templates",
        "e": editor,
        "form": values,
        "account_id": account_id or "",
        "fields": field_labels(),
        "delimiters": delimiter_labels(),
        "encodings": [(e, e.upper()) for e in ENCODINGS],
        "decimals": [(",", _("Comma 1,50")), (".", _("Dot 1.50"))],
        "thousands": thousands_labels(),
        "date_formats": date_labels(),
        **extra,
    }


@pages.get("/bank/templates/editor", response_class=HTMLResponse)
def editor_page(page: PageDep, document: int, account: int | None = None) -> HTMLResponse:
    doc = get_document(page, document)
    try:
        values = _initial_values(doc)
    except BelegwerkError as exc:
        return fail(page, LIST_TEMPLATE, exc, lambda: _list_context(page))
    return render(page, EDITOR_TEMPLATE, **_editor_context(page, document, account, values))


@pages.post("/bank/templates/editor", response_model=None)
def editor_submit(page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    values = _submitted(form)
    action = text(form, "action") or "test"
    document_id = parse_int(text(form, "document"), "document") or 0
    account_id = parse_int(text(form, "account"), "account")
    document = get_document(page, document_id)
    try:
        _check_settings(values)
        editor = _editor(document, values)
        if action == "refresh":  # delimiter or header line changed: show the new columns
            return render(
                page, EDITOR_TEMPLATE, **_editor_context(page, document_id, account_id, values)
            )
        key = template_store.unique_key(page.session, page.tenant_id, values["name"] or "x")
        template = build_template(key, values, editor)
        result = test_template(document, template)
        if action != "save":
            return render(
                page,
                EDITOR_TEMPLATE,
                **_editor_context(page, document_id, account_id, values, result, tested=True),
            )
        if not result.transactions:
            raise ValidationFailed(
                "bank.template_reads_nothing",
                _("The template reads no transaction from this file; test it and correct it."),
                [{"field": "mapping"}],
            )
        template_store.save_user_template(page.session, page.tenant_id, template, page.actor)
    except BelegwerkError as exc:
        return fail(
            page,
            EDITOR_TEMPLATE,
            exc,
            lambda: _editor_context(page, document_id, account_id, values),
        )
    return redirect(
        f"/bank/import/{document_id}", done="template_saved", template=key, account=account_id
    )
