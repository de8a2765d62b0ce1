"""The real app under uvicorn in a background thread, for the Chromium tests."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine

from belegwerk.books.categories import sync_master_categories
from belegwerk.core.db import make_engine, system_session
from belegwerk.core.migrate import upgrade

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=de-DE",
]


def require_browser() -> None:
    """Skip without Chromium or Playwright, unless BELEGWERK_REQUIRE_BROWSER=1 (CI)."""
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} not found (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the Python package playwright is not installed"
    if problem:
        if os.environ.get("BELEGWERK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser test required but {problem}")
        pytest.skip(f"browser test skipped: {problem}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_app(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """A fresh, migrated SQLite file served on a free port; yields (base URL, engine)."""
    require_browser()
    import uvicorn

    from belegwerk.web.app import create_app

    url = f"sqlite:///{tmp_path / 'belegwerk.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with system_session(engine) as session:
        sync_master_categories(session)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(engine), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", engine
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()
