"""What the banking pages share: labels, flash messages, uploads, account and category choices."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from starlette.datastructures import FormData, UploadFile

from belegwerk.banking.accounts import list_accounts
from belegwerk.banking.models import BankAccount
from belegwerk.banking.rules import PRIVATE_CATEGORY_KEYS
from belegwerk.banking.statement import MAX_FILE_BYTES
from belegwerk.books.categories import list_categories
from belegwerk.books.pages.cash import category_label
from belegwerk.core.errors import BelegwerkError, ValidationFailed
from belegwerk.core.i18n import _, babel_locale, format_money
from belegwerk.web.ui import Page

MULTIPART_SLACK = 64 * 1024  # form boundaries and the other fields around the file
USAGES = ("business", "private", "private_withdrawal", "private_deposit")
KIND_ORDER = ("revenue", "expense", "asset", "transfer", "private")


def usage_labels() -> dict[str, str]:
    return {
        "business": _("Business"),
        "private": _("Private"),
        "private_withdrawal": _("Private withdrawal"),
        "private_deposit": _("Private deposit"),
    }


def source_labels() -> dict[str, str]:
    """Where a suggestion came from, as the user reads it."""
    return {
        "user": _("your decision"),
        "keyword": _("keyword"),
        "rule": _("rule"),
        "memory": _("earlier decision"),
        "classifier": _("learned"),
        "default": _("business account"),
    }


def reason_labels() -> dict[str, str]:
    """Why a payment was matched to an invoice (reason codes of match_scoring)."""
    return {
        "invoice_number": _("invoice number in the purpose"),
        "invoice_number_loose": _("year and number of the invoice in the purpose"),
        "invoice_number_similar": _("similar invoice number (typo?)"),
        "external_number": _("supplier's invoice number in the purpose"),
        "customer_number": _("customer number in the purpose"),
        "supplier_number": _("supplier number in the purpose"),
        "iban": _("IBAN of the customer / supplier"),
        "name": _("name of the customer / supplier"),
        "name_similar": _("similar name"),
        "amount_exact": _("exact amount"),
        "skonto": _("amount less early-payment discount (Skonto)"),
        "partial": _("partial payment"),
        "overpayment": _("more than the open amount"),
        "invoice_sum": _("sum of several invoices"),
        "invoice_subset": _("some of several invoices"),
        "other_number": _("the purpose names another invoice"),
        "late": _("paid more than a year later"),
        "manual": _("linked by hand"),
    }


def account_type_labels() -> dict[str, str]:
    return {
        "business": _("Business account"),
        "mixed": _("Mixed account"),
        "private": _("Private account"),
    }


def flash_messages() -> dict[str, str]:
    return {
        "account_created": _("The account has been created."),
        "account_saved": _("The account has been saved."),
        "imported": _("The statement has been imported."),
        "decided": _("The decision has been saved."),
        "accepted": _("The suggestions have been accepted."),
        "linked": _("The payment has been linked to the invoice."),
        "rejected": _("The proposal has been rejected."),
        "undone": _("The link has been undone; the payment was reversed."),
        "matched": _("The search for matching invoices is done."),
        "rule_created": _("The rule has been created."),
        "rule_saved": _("The rule has been saved."),
        "rule_deleted": _("The rule has been deleted."),
        "rule_moved": _("The order of the rules has been changed."),
        "template_saved": _("The template has been saved; it is used for this file now."),
        "template_imported": _("The template has been imported."),
        "template_deleted": _("The template has been deleted."),
    }


def render(page: Page, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render with the banking flash message (``?done=``) that the shared table does not know."""
    if not page.nav.flash:
        page.nav.flash = flash_messages().get(page.request.query_params.get("done", ""), "")
    return page.render(template, status_code=status_code, **{**helpers(), **context})


def fail(
    page: Page,
    template: str,
    exc: BelegwerkError,
    build: Callable[[], dict[str, Any]] | None = None,
    **context: Any,
) -> HTMLResponse:
    """``Page.fail`` with the helpers every banking template may use."""

    def built() -> dict[str, Any]:
        return {**helpers(), **(build() if build is not None else {})}

    return page.fail(template, exc, built, **context)


def helpers() -> dict[str, Any]:
    return {"file_size": file_size, "plain_money": plain_money}


def plain_money(value: Decimal) -> str:
    """An amount as typed into a form (1.234,56), without the currency sign."""
    return format_money(value, currency=False)


class FileTooLarge(BelegwerkError):
    status_code = 413


def too_large(field: str = "file") -> FileTooLarge:
    return FileTooLarge(
        "bank.too_large",
        _("The file is larger than {mb} MB; please export a shorter period.").format(
            mb=MAX_FILE_BYTES // (1024 * 1024)
        ),
        [{"field": field, "max_bytes": MAX_FILE_BYTES}],
    )


class UploadLimitRoute(APIRoute):
    """Refuses an oversized upload by its Content-Length before the body is read and spooled."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > MAX_FILE_BYTES + MULTIPART_SLACK:
                raise too_large()
            return await handler(request)

        return limited


def read_upload(form: FormData, name: str = "file") -> tuple[bytes, str]:
    """The uploaded file's bytes and name; refuses a missing or oversized file."""
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValidationFailed("bank.file_missing", _("Please choose a file."), [{"field": name}])
    content = upload.file.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise too_large(name)
    return content, upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:255]


def file_size(size: int) -> str:
    """Kilobytes with one decimal in the user's locale (12,5)."""
    return format_decimal(round(size / 1024, 1), format="#,##0.0", locale=babel_locale())


def account_label(account: BankAccount) -> str:
    """Name and identity (IBAN in groups of four, or the PayPal address) for a dropdown."""
    if account.iban:
        if account.iban[-4:] in account.name:
            return account.name
        grouped = " ".join(account.iban[i : i + 4] for i in range(0, len(account.iban), 4))
        return f"{account.name} ({grouped})"
    if account.email and account.email not in account.name:
        return f"{account.name} ({account.email})"
    return account.name


def account_options(accounts: list[BankAccount]) -> list[tuple[str, str]]:
    return [(str(a.id), account_label(a)) for a in accounts]


def importable_accounts(page: Page) -> list[BankAccount]:
    """Accounts statements can be imported into (private accounts never are)."""
    return [a for a in list_accounts(page.session, page.tenant_id) if a.account_type != "private"]


@dataclass(frozen=True)
class CategoryChoice:
    id: int
    label: str
    kind: str


def category_choices(page: Page) -> list[CategoryChoice]:
    """Categories a business bank line may get (private money is said by its usage)."""
    views = [
        v
        for v in list_categories(page.session, page.tenant_id)
        if v.category.key not in PRIVATE_CATEGORY_KEYS
    ]
    views.sort(
        key=lambda v: (
            KIND_ORDER.index(v.category.kind) if v.category.kind in KIND_ORDER else 99,
            v.category.sort_order,
        )
    )
    return [CategoryChoice(v.category.id, category_label(v), v.category.kind) for v in views]


def kind_labels() -> list[tuple[str, str]]:
    return [
        ("revenue", _("Income")),
        ("expense", _("Expenses")),
        ("asset", _("Investments")),
        ("transfer", _("Money in transit")),
        ("private", _("Private")),
    ]
