"""Engine, sessions and the tenant context.

Every business query runs inside ``tenant_session``: the application filters by ``tenant_id``
and, on PostgreSQL, row-level security enforces the same with ``SET LOCAL app.current_tenant``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, MetaData, create_engine, event, select, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from belegwerk.core.errors import NotFound

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    # 64 MB page cache (default 2 MB): bulk imports keep their indexes in memory.
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def make_engine(url: str, app_role: str | None = None) -> Engine:
    """SQLite gets WAL and foreign keys; PostgreSQL switches to ``app_role`` so RLS applies."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, pool_pre_ping=True)
    if app_role:

        def _set_role(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute(f'SET ROLE "{app_role}"')
            cur.close()
            dbapi_conn.commit()

        event.listen(engine, "connect", _set_role)
    return engine


@lru_cache
def get_engine() -> Engine:
    from belegwerk.core.settings import get_settings

    settings = get_settings()
    return make_engine(
        settings.database_url, None if settings.is_sqlite else settings.database_role
    )


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False)


@event.listens_for(Session, "after_begin")
def _apply_tenant(session: Session, _transaction: Any, connection: Any) -> None:
    tenant_id = session.info.get("tenant_id")
    if tenant_id is not None and connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT set_config('app.current_tenant', :t, true)"), {"t": str(tenant_id)}
        )


# Namespace of Belegwerk's advisory locks ("Belg"), so they never collide with other apps'.
LOCK_NAMESPACE = 0x42656C67


def lock_tenant(session: Session, tenant_id: int) -> None:
    """Serialise writes of one tenant until the transaction ends (PostgreSQL; SQLite serialises
    writers anyway). Taken first by every writing request, so the row locks services take later
    (cash book, number ranges, audit chain) can never deadlock, and audit sequence numbers
    never collide."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:ns, :t)"), {"ns": LOCK_NAMESPACE, "t": tenant_id}
        )


@contextmanager
def tenant_session(tenant_id: int, engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work for one tenant: commits on success, rolls back on any error."""
    session = session_factory(engine)()
    session.info["tenant_id"] = tenant_id
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def system_session(engine: Engine | None = None) -> Iterator[Session]:
    """For tenant-independent tables (tenants, master categories)."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


T = TypeVar("T")


def owned_row(
    session: Session,
    model: type[T],
    tenant_id: int,
    row_id: int,
    *,
    code: str,
    message: str,
    field: str,
    for_update: bool = False,
) -> T:
    """One row of the tenant by id, or a 404 naming it; the tenant filter is never forgotten."""
    table: Any = model
    query = select(model).where(table.id == row_id, table.tenant_id == tenant_id)
    if for_update:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise NotFound(code, message, [{"field": field, "value": row_id}])
    return row
