"""Statement import: upload → detected bank and score → preview → import → result.

The uploaded file is archived at once (content-addressed and immutable, so archiving it again
on import is a no-op) and the steps pass its document id along: the user never uploads twice,
whether they pick a template for an ambiguous file or make a new one for an unknown layout.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import func, select

from belegwerk.banking import classify, importer, matching
from belegwerk.banking.accounts import get_account
from belegwerk.banking.models import (
    BankAccount,
    BankTransaction,
    Classification,
    ImportBatch,
    PaymentMatch,
)
from belegwerk.banking.pages.common import (
    UploadLimitRoute,
    account_options,
    fail,
    importable_accounts,
    read_upload,
    render,
    usage_labels,
)
from belegwerk.banking.statement import ParsedStatement
from belegwerk.core.documents import Document, store_document
from belegwerk.core.errors import BelegwerkError, Conflict, NotFound, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.web.ui import FormDep, Page, PageDep, checkbox, parse_int, redirect, text

pages = APIRouter(include_in_schema=False, route_class=UploadLimitRoute)

UPLOAD_TEMPLATE = "banking/import_upload.html"
PREVIEW_TEMPLATE = "banking/import_preview.html"
RESULT_TEMPLATE = "banking/import_result.html"
PREVIEW_ROWS = 20
REJECTED_SHOWN = 200
RECENT_IMPORTS = 10
RESULT_ROWS = 50


# --------------------------------------------------------------------------- helpers


def get_document(page: Page, document_id: int) -> Document:
    document = page.session.scalar(
        select(Document).where(Document.id == document_id, Document.tenant_id == page.tenant_id)
    )
    if document is None:
        raise NotFound(
            "bank.file_not_found",
            _("The uploaded file was not found; please upload it again."),
            [{"field": "document_id", "value": document_id}],
        )
    return document


def parse_document(
    page: Page, document: Document, template_key: str | None = None
) -> ParsedStatement:
    return importer.preview(
        document.content,
        document.file_name,
        user_templates=importer.user_templates(page.session, page.tenant_id),
        template_key=template_key or None,
    )


def editor_url(document_id: int, account_id: int | None) -> str:
    url = f"/bank/templates/editor?document={document_id}"
    return url + (f"&account={account_id}" if account_id else "")


def _upload_context(page: Page, **extra: Any) -> dict[str, Any]:
    accounts = importable_accounts(page)
    batches = importer.list_batches(page.session, page.tenant_id, page_size=RECENT_IMPORTS)
    names = {a.id: a.name for a in accounts}
    for batch in batches.items:
        if batch.account_id not in names:
            names[batch.account_id] = get_account(
                page.session, page.tenant_id, batch.account_id
            ).name
    return {
        "section": "bank_import",
        "accounts": accounts,
        "account_options": account_options(accounts),
        "batches": batches.items,
        "account_names": names,
        "form": {},
        **extra,
    }


# --------------------------------------------------------------------------- step 1: upload


@pages.get("/bank/import", response_class=HTMLResponse)
def upload_page(page: PageDep, account: int | None = None) -> HTMLResponse:
    return render(
        page,
        UPLOAD_TEMPLATE,
        **_upload_context(page, form={"account_id": str(account or "")}),
    )


@pages.post("/bank/import", response_model=None)
def upload(page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    values = {"account_id": text(form, "account_id")}
    unknown = False
    try:
        account_id = parse_int(values["account_id"], "account_id")
        if account_id is not None:
            get_account(page.session, page.tenant_id, account_id)
        content, file_name = read_upload(form)
        try:
            importer.preview(
                content,
                file_name,
                user_templates=importer.user_templates(page.session, page.tenant_id),
            )
        except ValidationFailed as exc:
            if exc.code != "bank.unknown_layout":
                raise
            unknown = True  # kept: the template editor starts from this file
        media_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        document, _new = store_document(
            page.session, page.tenant_id, content, file_name, media_type, actor=page.actor
        )
    except BelegwerkError as exc:
        return fail(page, UPLOAD_TEMPLATE, exc, lambda: _upload_context(page, form=values))
    if unknown:
        return redirect(editor_url(document.id, account_id))
    return redirect(f"/bank/import/{document.id}", account=account_id)


# --------------------------------------------------------------------------- step 2: preview


@dataclass
class Preview:
    """What the preview page shows about a file and the chosen account."""

    document: Document
    statement: ParsedStatement | None = None
    account: BankAccount | None = None
    statement_iban: str = ""
    iban_account: BankAccount | None = None  # the account the statement names, if we have it
    new_rows: int | None = None
    duplicates: int | None = None
    account_problem: str = ""
    template_key: str = ""
    rows: list[Any] = field(default_factory=list)


def _preview(
    page: Page, document_id: int, account_id: int | None, template_key: str | None
) -> Preview:
    document = get_document(page, document_id)
    result = Preview(document=document, template_key=template_key or "")
    statement = parse_document(page, document, template_key)
    result.statement = statement
    result.rows = statement.head(PREVIEW_ROWS)
    result.statement_iban = importer.statement_iban(statement)
    if result.statement_iban:
        result.iban_account = page.session.scalar(
            select(BankAccount).where(
                BankAccount.tenant_id == page.tenant_id,
                BankAccount.iban == result.statement_iban,
            )
        )
    accounts = importable_accounts(page)
    if account_id is not None:
        result.account = get_account(page.session, page.tenant_id, account_id)
    elif result.iban_account is not None:
        result.account = result.iban_account
    elif len(accounts) == 1 and not result.statement_iban:
        result.account = accounts[0]
    if result.account is not None:
        try:
            importer.check_importable(result.account, statement)
        except BelegwerkError as exc:
            result.account_problem = exc.message
        else:
            plan = importer.plan_import(page.session, page.tenant_id, result.account.id, statement)
            result.new_rows = len(plan.new)
            result.duplicates = plan.duplicates
    return result


def _preview_context(
    page: Page,
    document_id: int,
    account_id: int | None,
    template_key: str | None,
    form: dict[str, Any] | None = None,
) -> dict[str, Any]:
    preview = _preview(page, document_id, account_id, template_key)
    statement = preview.statement
    assert statement is not None
    chosen = template_key or ("" if statement.ambiguous else statement.template_key)
    return {
        "section": "bank_import",
        "p": preview,
        "s": statement,
        "account_options": account_options(importable_accounts(page)),
        "rejected": statement.rejected[:REJECTED_SHOWN],
        "form": form
        or {
            "account_id": str(preview.account.id) if preview.account else "",
            "template_key": chosen,
        },
        "editor_url": editor_url(document_id, preview.account.id if preview.account else None),
    }


@pages.get("/bank/import/{document_id}", response_model=None)
def preview_page(
    document_id: int, page: PageDep, account: int | None = None, template: str = ""
) -> HTMLResponse | RedirectResponse:
    try:
        context = _preview_context(page, document_id, account, template or None)
    except ValidationFailed as exc:
        if exc.code == "bank.unknown_layout" and not template:
            return redirect(editor_url(document_id, account))
        document = get_document(page, document_id)
        return fail(
            page,
            PREVIEW_TEMPLATE,
            exc,
            section="bank_import",
            p=Preview(document=document, template_key=template),
            s=None,
            form={},
            editor_url=editor_url(document_id, account),
        )
    return render(page, PREVIEW_TEMPLATE, **context)


def _choice_needed(statement: ParsedStatement) -> ValidationFailed:
    names = ", ".join(c.name for c in statement.candidates[:3])
    return ValidationFailed(
        "bank.template_choice_needed",
        _("Several templates fit this file equally well ({names}); please choose one.").format(
            names=names
        ),
        [{"field": "template_key"}],
    )


@pages.post("/bank/import/{document_id}", response_model=None)
def import_document(
    document_id: int, page: PageDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    values: dict[str, Any] = {
        "account_id": text(form, "account_id"),
        "template_key": text(form, "template_key"),
        "accept_rejected": checkbox(form, "accept_rejected"),
    }
    template_key: str = values["template_key"]
    account_id: int | None = None
    try:
        account_id = parse_int(text(form, "account_id"), "account_id")
        if account_id is None:
            raise ValidationFailed(
                "bank.account_missing",
                _("Please choose the account this statement belongs to."),
                [{"field": "account_id"}],
            )
        document = get_document(page, document_id)
        statement = parse_document(page, document, template_key)
        if statement.ambiguous and not template_key:
            raise _choice_needed(statement)
        batch = importer.import_statement(
            page.session,
            page.tenant_id,
            account_id,
            statement,
            document.content,
            document.file_name,
            actor=page.actor,
            accept_rejected=bool(values["accept_rejected"]),
        )
        if batch.imported:
            ids = list(
                page.session.scalars(
                    select(BankTransaction.id).where(
                        BankTransaction.tenant_id == page.tenant_id,
                        BankTransaction.batch_id == batch.id,
                    )
                )
            )
            matching.match_transactions(page.session, page.tenant_id, ids, actor=page.actor)
    except BelegwerkError as exc:
        error = exc
        if error.code == "bank.account_not_found":
            account_id = None

        def build() -> dict[str, Any]:
            try:
                return _preview_context(page, document_id, account_id, template_key or None, values)
            except BelegwerkError:
                raise error from None

        return fail(page, PREVIEW_TEMPLATE, error, build)
    return redirect(f"/bank/imports/{batch.id}", done="imported")


# --------------------------------------------------------------------------- step 3: result


@dataclass(frozen=True)
class BatchFigures:
    """How far the imported lines have been dealt with."""

    confirmed: int
    suggested: int
    undecided: int
    linked: int
    proposed: int


def batch_figures(page: Page, batch: ImportBatch) -> BatchFigures:
    tx = BankTransaction
    in_batch = (tx.tenant_id == page.tenant_id, tx.batch_id == batch.id)
    counts = dict(
        page.session.execute(
            select(Classification.confirmed, func.count(Classification.id))
            .join(tx, tx.id == Classification.transaction_id)
            .where(*in_batch)
            .group_by(Classification.confirmed)
        ).all()
    )
    confirmed = int(counts.get(True, 0))
    suggested = int(counts.get(False, 0))
    matches = dict(
        page.session.execute(
            select(PaymentMatch.status, func.count(func.distinct(PaymentMatch.transaction_id)))
            .join(tx, tx.id == PaymentMatch.transaction_id)
            .where(*in_batch, PaymentMatch.tenant_id == page.tenant_id)
            .group_by(PaymentMatch.status)
        ).all()
    )
    return BatchFigures(
        confirmed=confirmed,
        suggested=suggested,
        undecided=max(batch.imported - confirmed - suggested, 0),
        linked=int(matches.get("linked", 0)),
        proposed=int(matches.get("proposed", 0)),
    )


def _result_context(page: Page, batch_id: int, **extra: Any) -> dict[str, Any]:
    batch = importer.get_batch(page.session, page.tenant_id, batch_id)
    account = get_account(page.session, page.tenant_id, batch.account_id)
    listing = classify.list_classifications(
        page.session, page.tenant_id, batch_id=batch.id, page_size=RESULT_ROWS
    )
    return {
        "section": "bank_import",
        "batch": batch,
        "account": account,
        "rejected": importer.batch_rejected(batch),
        "figures": batch_figures(page, batch),
        "listing": listing,
        "usage_labels": usage_labels(),
        "same_file": importer.same_file_imported(
            page.session, page.tenant_id, batch.account_id, batch.file_sha256, before_id=batch.id
        ),
        "skipped": page.request.query_params.get("skipped", ""),
        **extra,
    }


@pages.get("/bank/imports/{batch_id}", response_class=HTMLResponse)
def result_page(batch_id: int, page: PageDep) -> HTMLResponse:
    return render(page, RESULT_TEMPLATE, **_result_context(page, batch_id))


@pages.post("/bank/imports/{batch_id}/accept", response_model=None)
def accept_batch(batch_id: int, page: PageDep) -> HTMLResponse | RedirectResponse:
    importer.get_batch(page.session, page.tenant_id, batch_id)  # 404 for a foreign batch
    try:
        result = classify.accept_all(page.session, page.tenant_id, batch_id, actor=page.actor)
        if not result.accepted and not result.skipped:
            raise Conflict(
                "bank.nothing_to_accept",
                _("There are no open suggestions in this import."),
                [{"field": "batch_id", "value": batch_id}],
            )
    except BelegwerkError as exc:
        return fail(page, RESULT_TEMPLATE, exc, lambda: _result_context(page, batch_id))
    return redirect(
        f"/bank/imports/{batch_id}", done="accepted", skipped=len(result.skipped) or None
    )
