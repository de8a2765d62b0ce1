"""Fixtures: the same tests run on SQLite and on PostgreSQL (fresh database per run).

PostgreSQL is looked for at ``BELEGWERK_TEST_PG`` (default ``postgresql://127.0.0.1:5432``).
Without it the PostgreSQL variants skip with a message, unless ``BELEGWERK_REQUIRE_POSTGRES=1``
(set by ``.ci/run``), in which case they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from belegwerk.books.categories import sync_master_categories
from belegwerk.core.db import get_engine, make_engine, session_factory, system_session
from belegwerk.core.guards import APP_ROLE
from belegwerk.core.migrate import upgrade
from belegwerk.core.settings import get_settings
from belegwerk.tenancy.service import CompanyData, create_tenant

PG_BASE = os.environ.get("BELEGWERK_TEST_PG", "postgresql://127.0.0.1:5432")
REQUIRE_PG = os.environ.get("BELEGWERK_REQUIRE_POSTGRES") == "1"
# BELEGWERK_CORPUS points elsewhere, e.g. from a git worktree that is not beside shared/.
CORPUS = Path(
    os.environ.get("BELEGWERK_CORPUS")
    or Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
)


def _pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(f"{PG_BASE}/postgres", connect_timeout=3):
            return None
    except Exception as exc:  # pragma: no cover - depends on the machine
        return str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    problem = _pg_available()
    if problem:
        message = f"PostgreSQL not reachable at {PG_BASE} ({problem})"
        if REQUIRE_PG:
            pytest.fail(message + " – BELEGWERK_REQUIRE_POSTGRES=1")
        pytest.skip(message + " – PostgreSQL tests skipped")
    import psycopg

    name = f"belegwerk_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = f"{PG_BASE}/{name}"
    upgrade(url)
    yield url
    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'belegwerk.sqlite3'}"
    upgrade(url)
    return url


def _prepare(engine: Engine) -> Engine:
    with system_session(engine) as session:
        sync_master_categories(session)
    return engine


@pytest.fixture(scope="session")
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = _prepare(make_engine(sqlite_url))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = _prepare(make_engine(pg_url, APP_ROLE))
    yield engine
    engine.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def engine(request: pytest.FixtureRequest) -> Engine:
    """Both databases; each test runs once per backend."""
    return request.getfixturevalue(f"{'sqlite' if request.param == 'sqlite' else 'pg'}_engine")  # type: ignore[no-any-return]


@pytest.fixture
def make_tenant(engine: Engine) -> Callable[..., int]:
    """Each test works in fresh tenants, so no cleanup is needed (booked rows can't be deleted)."""

    def factory(**overrides: Any) -> int:
        data = CompanyData(name=overrides.pop("name", "Testfirma GmbH"), **overrides)
        with system_session(engine) as session:
            tenant = create_tenant(session, data, slug=f"t-{uuid.uuid4().hex[:12]}")
            return tenant.id

    return factory


@pytest.fixture
def tenant_id(make_tenant: Callable[..., int]) -> int:
    return make_tenant(chart="skr03")


@pytest.fixture
def session(engine: Engine, tenant_id: int) -> Iterator[Session]:
    """A session bound to the test's tenant; the test commits what it wants to keep."""
    s = session_factory(engine)()
    s.info["tenant_id"] = tenant_id
    try:
        yield s
    finally:
        s.rollback()
        s.close()


@pytest.fixture
def client(engine: Engine, tenant_id: int) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from belegwerk.tenancy.models import Tenant
    from belegwerk.web.app import create_app

    with system_session(engine) as s:
        slug = s.get(Tenant, tenant_id).slug  # type: ignore[union-attr]
    with TestClient(create_app(engine), headers={"X-Belegwerk-Tenant": slug}) as c:
        yield c


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def cli_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The database the CLI finds in BELEGWERK_DATABASE_URL: fresh SQLite file or the PG run DB."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("pg_url")
    mp = pytest.MonkeyPatch()
    mp.setenv("BELEGWERK_DATABASE_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield url
    get_engine().dispose()
    mp.undo()
    get_settings.cache_clear()
    get_engine.cache_clear()


def corpus_path(*parts: str) -> Path:
    """A file of ../shared/corpus; skips (or fails under BELEGWERK_REQUIRE_CORPUS=1) if absent."""
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        message = f"corpus file missing: {path}"
        if os.environ.get("BELEGWERK_REQUIRE_CORPUS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path
