"""Bulk inserts for runs over many thousand rows.

SQLAlchemy builds and type-processes one parameter dictionary per row, which for 100,000 rows
costs more than the insert itself. :func:`insert_tuples` hands plain tuples to the driver's
``executemany``; typed values are converted beforehand with the columns' own bind processors
for the dialect (:func:`binder`), so the stored values are exactly what the ORM would store.
Row-level security and all constraints apply as to any insert (COPY is not allowed under RLS).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session


def _same(value: Any) -> Any:
    return value


def binder(session: Session, table: Table, column: str) -> Callable[[Any], Any]:
    """The function turning a Python value into what the driver receives for ``column``."""
    dialect = session.connection().dialect
    process = table.c[column].type.dialect_impl(dialect).bind_processor(dialect)
    return process if process is not None else _same


def insert_tuples(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    fixed: Mapping[str, int | None] | None = None,
) -> None:
    """Insert already converted values (see :func:`binder`) with the driver's ``executemany``
    (SQLite reuses one prepared statement, psycopg pipelines the rows; multi-row ``VALUES``
    measured slower on both).

    ``fixed``: columns with the same integer (or NULL) in every row (tenant, parent ids); they
    are written into the statement once instead of bound for each row.
    """
    if not rows:
        return
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    fixed = fixed or {}
    names = [*columns, *fixed]
    values = [mark] * len(columns) + ["NULL" if v is None else str(int(v)) for v in fixed.values()]
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join(values)})",
        list(rows),
    )
