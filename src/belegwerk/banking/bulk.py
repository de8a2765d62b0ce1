"""Bulk writes for runs over 100,000 bank lines.

SQLAlchemy builds and type-processes one parameter dictionary per row, which for 100,000 rows
costs more than the insert itself. :func:`insert_tuples` hands plain tuples to the driver's
``executemany``; typed values are converted beforehand with the columns' own bind processors
(:func:`binder`), so the stored values are exactly what the ORM would store.
:func:`audit_many` appends many audit records to the tenant's hash chain the same way
:meth:`belegwerk.core.audit.AuditWriter.record` does, in one insert.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from belegwerk.core.audit import AuditEntry, audit_writer, compute_hash, to_json
from belegwerk.core.types import utcnow

_AUDIT = cast(Table, AuditEntry.__table__)
_AUDIT_COLUMNS = (
    "tenant_id",
    "seq",
    "at",
    "actor",
    "action",
    "entity",
    "entity_id",
    "before",
    "after",
    "reason",
    "prev_hash",
    "hash",
)


def _same(value: Any) -> Any:
    return value


def _json(value: dict[str, Any] | None) -> str | None:
    """:func:`belegwerk.core.audit.to_json` for flat records, without its recursive walk."""
    if value is None:
        return None
    flat = {k: str(v) if isinstance(v, Decimal) else v for k, v in value.items()}
    if not all(isinstance(v, str | int | float | bool | None) for v in flat.values()):
        return to_json(value)
    return json.dumps(flat, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def binder(session: Session, table: Table, column: str) -> Callable[[Any], Any]:
    """The function turning a Python value into what the driver receives for ``column``."""
    process = table.c[column].type.bind_processor(session.connection().dialect)
    return process if process is not None else _same


def insert_tuples(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert already converted values (see :func:`binder`) with the driver's ``executemany``
    (SQLite reuses one prepared statement, psycopg pipelines the rows; multi-row ``VALUES``
    measured slower on both, and COPY is not allowed under row-level security)."""
    if not rows:
        return
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))})",
        list(rows),
    )


def audit_many(
    session: Session,
    tenant_id: int,
    actor: str,
    action: str,
    entity: str,
    items: Iterable[tuple[object, dict[str, Any] | None, dict[str, Any] | None]],
) -> int:
    """Append one audit record per ``(entity_id, before, after)``, chained and hashed like
    :meth:`~belegwerk.core.audit.AuditWriter.record`; returns how many were written."""
    writer = audit_writer(session, tenant_id, actor)
    session.flush()  # records the writer holds are written first
    at = utcnow()
    stamp = binder(session, _AUDIT, "at")(at)
    rows = []
    for entity_id, before, after in items:
        writer.seq += 1
        fields = {
            "tenant_id": tenant_id,
            "seq": writer.seq,
            "at": at,
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": str(entity_id),
            "before": _json(before),
            "after": _json(after),
            "reason": None,
            "prev_hash": writer.head,
        }
        writer.head = compute_hash(**fields)  # type: ignore[arg-type]
        fields["hash"] = writer.head
        fields["at"] = stamp
        rows.append(tuple(fields[c] for c in _AUDIT_COLUMNS))
    insert_tuples(session, _AUDIT, _AUDIT_COLUMNS, rows)
    return len(rows)
