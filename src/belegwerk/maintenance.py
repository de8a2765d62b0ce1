"""Bringing a database up to date: used by every command before it touches the books."""

from __future__ import annotations


def upgrade_database() -> None:
    """Apply the Alembic migrations and synchronise the shipped master categories."""
    from belegwerk.books.categories import sync_master_categories
    from belegwerk.core.db import get_engine, system_session
    from belegwerk.core.migrate import upgrade
    from belegwerk.core.settings import get_settings

    upgrade(get_settings().database_url)
    with system_session(get_engine()) as session:
        sync_master_categories(session)
