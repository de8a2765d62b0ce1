"""The tenant's own CSV templates (table ``bank_templates``): save, list, delete.

A user template is the same JSON as a system template (:mod:`belegwerk.banking.csv_template`).
Detection tries the user's templates first and prefers them on an equal score
(:func:`belegwerk.banking.importer.user_templates` loads them). Keys are unique per tenant and
never shadow a system template, so ``--template KEY`` always means one thing.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from belegwerk.banking.csv_template import (
    CsvTemplate,
    get_system_template,
    load_template_json,
    template_to_json,
)
from belegwerk.banking.models import UserTemplate
from belegwerk.core.audit import audit_writer
from belegwerk.core.db import owned_row
from belegwerk.core.errors import Conflict
from belegwerk.core.i18n import _
from belegwerk.core.types import utcnow

KEY_PREFIX = "user-"
_NOT_KEY = re.compile(r"[^a-z0-9]+")


def list_user_templates(session: Session, tenant_id: int) -> list[UserTemplate]:
    query = (
        select(UserTemplate)
        .where(UserTemplate.tenant_id == tenant_id)
        .order_by(UserTemplate.name, UserTemplate.id)
    )
    return list(session.scalars(query))


def get_user_template(session: Session, tenant_id: int, template_id: int) -> UserTemplate:
    return owned_row(
        session,
        UserTemplate,
        tenant_id,
        template_id,
        code="bank.template_not_found",
        message=_("Template not found."),
        field="template_id",
    )


def find_user_template(session: Session, tenant_id: int, key: str) -> UserTemplate | None:
    return session.scalar(
        select(UserTemplate).where(UserTemplate.tenant_id == tenant_id, UserTemplate.key == key)
    )


def key_from_name(name: str) -> str:
    """``user-`` and the name in lower-case ASCII (Sparda Süd → user-sparda-sud)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _NOT_KEY.sub("-", ascii_name.lower()).strip("-")[:60] or "template"
    return KEY_PREFIX + slug


def unique_key(session: Session, tenant_id: int, name: str) -> str:
    """A key for a new template that neither the tenant nor the system templates use yet."""
    base = key_from_name(name)
    key, n = base, 1
    while get_system_template(key) is not None or find_user_template(session, tenant_id, key):
        n += 1
        key = f"{base}-{n}"
    return key


def save_user_template(
    session: Session,
    tenant_id: int,
    template: CsvTemplate,
    actor: str = "local",
    *,
    replace: bool = False,
) -> UserTemplate:
    """Store a template; with ``replace`` an existing one of the same key is overwritten."""
    if get_system_template(template.key) is not None:
        raise Conflict(
            "bank.template_key_taken",
            _(
                "The key {key} belongs to a template that comes with Belegwerk; please give "
                "your template another key."
            ).format(key=template.key),
            [{"field": "key", "value": template.key}],
        )
    definition = template_to_json(load_template_json(template_to_json(template)))
    existing = find_user_template(session, tenant_id, template.key)
    writer = audit_writer(session, tenant_id, actor)
    if existing is not None:
        if not replace:
            raise Conflict(
                "bank.template_exists",
                _("A template with the key {key} exists already.").format(key=template.key),
                [{"field": "key", "value": template.key}],
            )
        before = {"key": existing.key, "name": existing.name, "definition": existing.definition}
        existing.name = template.name
        existing.definition = definition
        existing.updated_at = utcnow()
        session.flush()
        writer.record(
            "update",
            "bank_template",
            existing.id,
            before=before,
            after={"key": existing.key, "name": existing.name, "definition": definition},
        )
        return existing
    row = UserTemplate(
        tenant_id=tenant_id, key=template.key, name=template.name, definition=definition
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            "bank.template_exists",
            _("A template with the key {key} exists already.").format(key=template.key),
            [{"field": "key", "value": template.key}],
        ) from None
    writer.record(
        "create",
        "bank_template",
        row.id,
        after={"key": row.key, "name": row.name, "definition": definition},
    )
    return row


def delete_user_template(
    session: Session, tenant_id: int, template_id: int, actor: str = "local"
) -> None:
    """Remove a template; imports made with it keep their transactions and its key."""
    row = get_user_template(session, tenant_id, template_id)
    audit_writer(session, tenant_id, actor).record(
        "delete",
        "bank_template",
        row.id,
        before={"key": row.key, "name": row.name, "definition": row.definition},
    )
    session.delete(row)
    session.flush()
