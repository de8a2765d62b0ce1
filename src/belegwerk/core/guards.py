"""DDL that makes the database itself guard GoBD rules and tenant isolation.

Used by migrations: immutability triggers (SQLite and PostgreSQL) and, on PostgreSQL,
row-level security policies keyed on ``app.current_tenant``.
"""

from __future__ import annotations

from alembic import op

APP_ROLE = "belegwerk_app"


def _dialect() -> str:
    return str(op.get_bind().dialect.name)


def forbid_changes(table: str, when_old: str | None = None, message: str | None = None) -> None:
    """Refuse UPDATE and DELETE on ``table`` (optionally only when ``when_old`` holds for OLD)."""
    msg = message or f"{table} is immutable (GoBD): use a reversal"
    if _dialect() == "sqlite":
        cond = f" WHEN {when_old}" if when_old else ""
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}"
                f"{cond} BEGIN SELECT RAISE(ABORT, '{msg}'); END"
            )
        return
    cond_sql = when_old or "TRUE"
    op.execute(
        f"""
        CREATE FUNCTION {table}_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF {cond_sql} THEN
                RAISE EXCEPTION '{msg}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        f"CREATE TRIGGER {table}_guard BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_guard()"
    )


def forbid_insert_when(table: str, condition_new: str, message: str) -> None:
    """Refuse INSERT when ``condition_new`` (over NEW) holds, e.g. lines on a booked invoice."""
    if _dialect() == "sqlite":
        op.execute(
            f"CREATE TRIGGER {table}_no_insert BEFORE INSERT ON {table} WHEN {condition_new} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
        return
    op.execute(
        f"""
        CREATE FUNCTION {table}_insert_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF {condition_new} THEN
                RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        f"CREATE TRIGGER {table}_insert_guard BEFORE INSERT ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_insert_guard()"
    )


def ensure_app_role() -> None:
    """The non-superuser role the app runs as, so that RLS applies to it (PostgreSQL only)."""
    if _dialect() != "postgresql":
        return
    op.execute(
        f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                CREATE ROLE {APP_ROLE} NOLOGIN;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$
        """
    )
    op.execute(f"GRANT {APP_ROLE} TO CURRENT_USER")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")


def grant_app_role(table: str) -> None:
    if _dialect() != "postgresql":
        return
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")


def tenant_isolation(table: str) -> None:
    """RLS: a row is visible and writable only inside a transaction set to its tenant."""
    grant_app_role(table)
    if _dialect() != "postgresql":
        return
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        "USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::integer) "
        "WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::integer)"
    )
