"""REST routes of statement imports (upload → preview → import) and bank transactions."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.orm import Session

from belegwerk.banking import importer
from belegwerk.banking.accounts import get_account
from belegwerk.banking.models import BankAccount, ImportBatch
from belegwerk.banking.schemas import (
    BatchOut,
    BatchPage,
    CandidateOut,
    ParsedTransactionOut,
    PreviewOut,
    RejectedOut,
    TransactionDetailOut,
    TransactionOut,
    TransactionPage,
)
from belegwerk.banking.statement import MAX_FILE_BYTES, ParsedStatement, stored_raw
from belegwerk.core.errors import BelegwerkError, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.web.deps import CtxDep

PREVIEW_ROWS = 20
MULTIPART_SLACK = 64 * 1024  # form boundaries and the other fields around the file


class FileTooLarge(BelegwerkError):
    status_code = 413


def too_large(size: int | None = None) -> FileTooLarge:
    limit = MAX_FILE_BYTES // (1024 * 1024)
    return FileTooLarge(
        "bank.too_large",
        _("The file is too large; at most {limit} MB can be imported.").format(limit=limit),
        [{"field": "file", "size": size, "max": MAX_FILE_BYTES}],
    )


class UploadLimitRoute(APIRoute):
    """Refuses an oversized upload from its Content-Length, before the body is read."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > MAX_FILE_BYTES + MULTIPART_SLACK:
                return JSONResponse(too_large(int(length)).to_dict(), status_code=413)
            return await handler(request)

        return limited


router = APIRouter(tags=["bank-imports"], route_class=UploadLimitRoute)


def read_upload(file: UploadFile) -> bytes:
    """The uploaded bytes, at most MAX_FILE_BYTES (413 beyond, 422 when empty)."""
    content = file.file.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise too_large()
    if not content:
        raise ValidationFailed("bank.empty_file", _("The file is empty."), [{"field": "file"}])
    return content


def _parse(
    session: Session, tenant_id: int, content: bytes, file_name: str, template_key: str | None
) -> ParsedStatement:
    return importer.preview(
        content,
        file_name,
        user_templates=importer.user_templates(session, tenant_id),
        template_key=template_key or None,
    )


def batch_out(session: Session, tenant_id: int, batch: ImportBatch) -> BatchOut:
    return BatchOut(
        id=batch.id,
        account_id=batch.account_id,
        document_id=batch.document_id,
        file_name=batch.file_name,
        file_sha256=batch.file_sha256,
        format=batch.format,
        template_key=batch.template_key,
        score=batch.score,
        rows=batch.rows,
        imported=batch.imported,
        duplicates=batch.duplicates,
        rejected=batch.rejected,
        rejected_rows=importer.batch_rejected(batch),
        same_file=importer.same_file_imported(
            session, tenant_id, batch.account_id, batch.file_sha256, before_id=batch.id
        ),
        created_at=batch.created_at,
        created_by=batch.created_by,
    )


# --------------------------------------------------------------------------- imports


@router.post("/bank/imports/preview", response_model=PreviewOut)
def preview(
    ctx: CtxDep,
    file: Annotated[UploadFile, File(description="CSV, MT940 or CAMT (XML or ZIP)")],
    template_key: Annotated[str | None, Form()] = None,
) -> PreviewOut:
    """Detected bank/format with its score, the candidates, and the first rows; stores nothing."""
    content = read_upload(file)
    statement = _parse(ctx.session, ctx.tenant_id, content, file.filename or "", template_key)
    own_iban = importer.statement_iban(statement)
    account_id = None
    if own_iban:
        account_id = ctx.session.scalar(
            select(BankAccount.id).where(
                BankAccount.tenant_id == ctx.tenant_id, BankAccount.iban == own_iban
            )
        )
    return PreviewOut(
        format=statement.format,
        template_key=statement.template_key,
        template_name=statement.template_name,
        score=statement.score,
        candidates=[
            CandidateOut(key=c.key, name=c.name, score=c.score) for c in statement.candidates
        ],
        ambiguous=statement.ambiguous,
        account_iban=own_iban or statement.account_iban,
        account_id=account_id,
        currency=statement.currency,
        rows=len(statement.transactions),
        skipped=statement.skipped,
        transactions=[ParsedTransactionOut.model_validate(t) for t in statement.head(PREVIEW_ROWS)],
        rejected=[
            RejectedOut(line=r.line, message=r.message, code=r.code) for r in statement.rejected
        ],
    )


@router.post("/bank/imports", response_model=BatchOut, status_code=201)
def import_file(
    ctx: CtxDep,
    file: Annotated[UploadFile, File(description="CSV, MT940 or CAMT (XML or ZIP)")],
    account_id: Annotated[int, Form()],
    template_key: Annotated[str | None, Form()] = None,
    accept_rejected: Annotated[bool, Form()] = False,
) -> BatchOut:
    """Import as one batch; duplicates are counted, not stored again."""
    content = read_upload(file)
    get_account(ctx.session, ctx.tenant_id, account_id)  # 404 before the file is parsed
    statement = _parse(ctx.session, ctx.tenant_id, content, file.filename or "", template_key)
    batch = importer.import_statement(
        ctx.session,
        ctx.tenant_id,
        account_id,
        statement,
        content,
        file.filename or "upload",
        actor=ctx.actor,
        accept_rejected=accept_rejected,
    )
    return batch_out(ctx.session, ctx.tenant_id, batch)


@router.get("/bank/imports", response_model=BatchPage)
def list_imports(
    ctx: CtxDep,
    account_id: int | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=importer.PAGE_SIZE_MAX)] = 50,
) -> BatchPage:
    result = importer.list_batches(ctx.session, ctx.tenant_id, account_id, page, page_size)
    return BatchPage(
        items=[batch_out(ctx.session, ctx.tenant_id, b) for b in result.items],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


@router.get("/bank/imports/{batch_id}", response_model=BatchOut)
def get_import(batch_id: int, ctx: CtxDep) -> BatchOut:
    batch = importer.get_batch(ctx.session, ctx.tenant_id, batch_id)
    return batch_out(ctx.session, ctx.tenant_id, batch)


# --------------------------------------------------------------------------- transactions


@router.get("/bank/transactions", response_model=TransactionPage)
def list_transactions(
    ctx: CtxDep,
    account_id: int | None = None,
    batch_id: int | None = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
    direction: Annotated[str | None, Query(description="in | out")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=importer.PAGE_SIZE_MAX)] = 50,
) -> TransactionPage:
    result = importer.list_transactions(
        ctx.session,
        ctx.tenant_id,
        account_id=account_id,
        date_from=date_from,
        date_to=date_to,
        search=search,
        direction=direction,
        page=page,
        page_size=page_size,
        batch_id=batch_id,
    )
    return TransactionPage(
        items=[TransactionOut.model_validate(t) for t in result.items],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


@router.get("/bank/transactions/{transaction_id}", response_model=TransactionDetailOut)
def get_transaction(transaction_id: int, ctx: CtxDep) -> TransactionDetailOut:
    tx = importer.get_transaction(ctx.session, ctx.tenant_id, transaction_id)
    batch = importer.get_batch(ctx.session, ctx.tenant_id, tx.batch_id)
    data = TransactionOut.model_validate(tx).model_dump()
    return TransactionDetailOut(**data, raw=stored_raw(tx.raw, batch.raw_layout))
