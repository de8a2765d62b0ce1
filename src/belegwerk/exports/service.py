"""Export settings, the export log and the shape every export hands back.

Every file leaves Belegwerk with a log entry (period, number of records, SHA-256, who, when)
and an audit record; the checks that ran before it are part of the result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from belegwerk.core.audit import audit_writer
from belegwerk.core.documents import sha256_of
from belegwerk.core.errors import Conflict, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.types import utcnow
from belegwerk.exports.models import ExportLog, ExportSettings

Level = Literal["error", "warning"]
EXAMPLES = 20  # details kept per finding


@dataclass
class Finding:
    """One result of the checks before an export: errors block, warnings need confirming."""

    level: Level
    code: str
    message: str
    count: int = 1
    details: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "code": self.code,
            "message": self.message,
            "count": self.count,
            "details": self.details,
        }


class Findings:
    """Collects findings by code: the first occurrence's message, a count, some examples."""

    def __init__(self) -> None:
        self._by_code: dict[str, Finding] = {}

    def add(
        self,
        level: Level,
        code: str,
        message: str,
        detail: dict[str, Any] | None = None,
        count: int = 1,
    ) -> None:
        found = self._by_code.get(code)
        if found is None:
            found = self._by_code[code] = Finding(level, code, message, 0)
        found.count += count
        if detail is not None and len(found.details) < EXAMPLES:
            found.details.append(detail)

    def extend(self, findings: list[Finding]) -> None:
        for f in findings:
            self._by_code.setdefault(f.code, f)

    @property
    def items(self) -> list[Finding]:
        return sorted(self._by_code.values(), key=lambda f: (f.level != "error", f.code))

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.items if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.items if f.level == "warning"]


def require_clean(findings: Findings, confirm_warnings: bool, what: str) -> None:
    """Errors refuse the export; warnings refuse it until the user has read and confirmed them."""
    errors = findings.errors
    if errors:
        raise ValidationFailed(
            "export.checks_failed",
            _("The {what} cannot be created: {reason}").format(what=what, reason=errors[0].message),
            [f.to_dict() for f in findings.items],
        )
    if findings.warnings and not confirm_warnings:
        raise Conflict(
            "export.warnings_unconfirmed",
            _("Please read and confirm the warnings before the {what} is created: {first}").format(
                what=what, first=findings.warnings[0].message
            ),
            [f.to_dict() for f in findings.warnings],
        )


@dataclass(frozen=True)
class ExportFile:
    """A finished export: its bytes, how to name them, and its log entry."""

    file_name: str
    media_type: str
    content: bytes
    records: int
    log_id: int
    findings: list[Finding]


class PeriodExport(Protocol):
    """The shape of the period exports (DATEV, AGENDA), so every edge calls them alike."""

    def __call__(
        self,
        session: Session,
        tenant_id: int,
        start: date,
        end: date,
        *,
        actor: str = ...,
        confirm_warnings: bool = ...,
    ) -> ExportFile: ...


# --------------------------------------------------------------------------- settings


def export_settings(session: Session, tenant_id: int) -> ExportSettings:
    """The tenant's export settings; defaults until the tenant saves its own."""
    row = session.scalar(select(ExportSettings).where(ExportSettings.tenant_id == tenant_id))
    return row or ExportSettings(tenant_id=tenant_id, datev_lock=False)


def set_datev_lock(session: Session, tenant_id: int, lock: bool, actor: str = "local") -> bool:
    """Festschreibung on or off for future DATEV exports; the change is audited."""
    row = session.scalar(select(ExportSettings).where(ExportSettings.tenant_id == tenant_id))
    before = row.datev_lock if row is not None else False
    if row is None:
        row = ExportSettings(tenant_id=tenant_id)
        session.add(row)
    row.datev_lock = lock
    row.updated_at = utcnow()
    row.updated_by = actor
    session.flush()
    if before != lock:
        audit_writer(session, tenant_id, actor).record(
            "update", "export_settings", tenant_id, {"datev_lock": before}, {"datev_lock": lock}
        )
    return lock


# --------------------------------------------------------------------------- log


def record_export(
    session: Session,
    tenant_id: int,
    *,
    kind: str,
    period: tuple[date, date] | None,
    records: int,
    file_name: str,
    content: bytes,
    locked: bool,
    findings: list[Finding],
    actor: str,
    sha256: str | None = None,
) -> ExportLog:
    """Log what was handed out (the log is a record: never changed, never deleted)."""
    confirmed = [{"code": f.code, "message": f.message, "count": f.count} for f in findings]
    entry = ExportLog(
        tenant_id=tenant_id,
        kind=kind,
        period_start=period[0] if period else None,
        period_end=period[1] if period else None,
        records=records,
        file_name=file_name[:255],
        sha256=sha256 or sha256_of(content),
        size=len(content),
        locked=locked,
        warnings=json.dumps(confirmed, ensure_ascii=False),
        created_by=actor,
    )
    session.add(entry)
    session.flush()
    audit_writer(session, tenant_id, actor).record(
        "export",
        "export_log",
        entry.id,
        after={
            "kind": kind,
            "period_start": entry.period_start,
            "period_end": entry.period_end,
            "records": records,
            "file_name": entry.file_name,
            "sha256": entry.sha256,
            "warnings_confirmed": [f.code for f in findings],
        },
    )
    return entry


@dataclass(frozen=True)
class LogPage:
    items: list[ExportLog]
    total: int
    page: int
    page_size: int


def list_log(session: Session, tenant_id: int, page: int = 1, page_size: int = 50) -> LogPage:
    page = max(1, page)
    page_size = min(max(1, page_size), 500)
    where = ExportLog.tenant_id == tenant_id
    total = int(session.scalar(select(func.count()).select_from(ExportLog).where(where)) or 0)
    items = list(
        session.scalars(
            select(ExportLog)
            .where(where)
            .order_by(ExportLog.created_at.desc(), ExportLog.id.desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
    )
    return LogPage(items, total, page, page_size)


def confirmed_warnings(entry: ExportLog) -> list[dict[str, Any]]:
    value = json.loads(entry.warnings or "[]")
    return value if isinstance(value, list) else []
