"""Database roles: the app logs in as a role that owns nothing and cannot rewrite the audit trail.

Two PostgreSQL roles (README "Database roles"):

* the **owner** owns the schema and every table; migrations and the test runner connect as it;
* the **app** role (`settings.ONEMAP_APP_DB_USER`) is what the web server, `load_demo` and the import
  commands connect as. It may read and write ordinary tables, but on the *protected* tables (the
  workflow audit, the pghistory field-history and context tables, the stored overlap reports) it may
  only SELECT and INSERT: no UPDATE, DELETE or TRUNCATE. Not owning them, it can neither disable their
  triggers nor drop them, and not being a superuser it cannot set `session_replication_role`.

Grants are re-applied idempotently after every `migrate` (post_migrate), from the model registry, so
a table added by a later migration (a new `pghistory.track`, a new app) is covered without anyone
remembering to write a GRANT. Tables created outside migrations get SELECT/INSERT only (default
privileges), which fails closed.

A BEFORE TRUNCATE trigger on every protected table is the second line of defence (migration
approvals 0005, and re-asserted here for later tables): it refuses TRUNCATE even to a role that has
the privilege, e.g. a deployment that still connects the app as the owner. The owner may opt in for
one transaction with `SET LOCAL onemap.allow_audit_truncate = on` (the test runner's flush does).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.apps import AppConfig, apps
from django.conf import settings
from django.core import checks
from django.core.management.base import CommandError
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

log = logging.getLogger(__name__)

# Append-only besides pghistory's own tables: the workflow audit and the stored overlap reports
# (with the layer versions each report was computed against).
PROTECTED_MODELS = (
    "approvals.ApplicationEvent", "approvals.OverlapReport", "hall.Rating", "issued.IssuedDocument",
    "notices.Notice", "notices.Objection", "notices.ObjectionAnswer", "registry.ParcelChange",
)
# Read-only to the app: only migrations write the migration ledger.
READ_ONLY_TABLES = ("django_migrations",)
TRUNCATE_OPT_IN = "onemap.allow_audit_truncate"

TRUNCATE_GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION onemap_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Only a member of the table's owner role may opt in, one transaction at a time: a role that was
    -- granted TRUNCATE by mistake is refused whatever it sets.
    IF current_setting('onemap.allow_audit_truncate', true) = 'on'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% is part of the audit trail: TRUNCATE refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def truncate_guard_sql(table: str, quote) -> str:
    return (
        f"CREATE OR REPLACE TRIGGER onemap_no_truncate BEFORE TRUNCATE ON {quote(table)} "
        "FOR EACH STATEMENT EXECUTE FUNCTION onemap_refuse_truncate();"
    )


def attach_context_sql(*, context_table: str, schema: str, quote) -> str:
    """pghistory's `_pgh_attach_context()` (called by every history trigger), made SECURITY DEFINER
    so that the app role needs no UPDATE on the context table, and so that it can never change a
    context committed by an earlier transaction.

    pghistory upserts the context row whenever the metadata of an open `pghistory.context` grows.
    Within the transaction that created the row that is still allowed. A later transaction whose
    metadata differs (a second service call in the same request) gets its own context row, with an
    id derived from the original id and its transaction id, so the committed row stays as written.
    """
    table = quote(context_table)
    # Identifiers only, each through quote_name; no value from outside reaches this text.
    return f"""
CREATE OR REPLACE FUNCTION _pgh_attach_context() RETURNS {table}.id%TYPE
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {quote(schema)}, pg_temp AS $$
DECLARE
    _pgh_context_id UUID;
    _pgh_context_metadata JSONB;
    _committed JSONB;
BEGIN
    BEGIN
        SELECT INTO _pgh_context_id CURRENT_SETTING('pghistory.context_id');
        SELECT INTO _pgh_context_metadata CURRENT_SETTING('pghistory.context_metadata');
        EXCEPTION WHEN OTHERS THEN
    END;
    IF _pgh_context_id IS NULL OR _pgh_context_metadata IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT metadata INTO _committed FROM {table} WHERE id = _pgh_context_id AND created_at <> NOW();
    IF FOUND AND _committed IS DISTINCT FROM _pgh_context_metadata THEN
        _pgh_context_id := md5(_pgh_context_id::text || ':' || txid_current()::text)::uuid;
    END IF;
    INSERT INTO {table} (id, metadata, created_at, updated_at)
        VALUES (_pgh_context_id, _pgh_context_metadata, NOW(), NOW())
        ON CONFLICT (id) DO UPDATE
            SET metadata = EXCLUDED.metadata, updated_at = EXCLUDED.updated_at
            WHERE {table}.metadata IS DISTINCT FROM EXCLUDED.metadata AND {table}.created_at = NOW();
    RETURN _pgh_context_id;
END;
$$;
"""  # noqa: S608


def protected_tables() -> list[str]:
    """Tables of the audit trail, from the model registry: every pghistory event model, pghistory's
    context, PROTECTED_MODELS, and the many-to-many tables those models own."""
    import pghistory.models

    models = [m for m in apps.get_models() if issubclass(m, pghistory.models.Event)]
    models += [pghistory.models.Context, *(apps.get_model(label) for label in PROTECTED_MODELS)]
    tables: set[str] = set()
    for model in models:
        if model._meta.managed and not model._meta.proxy:
            tables.add(model._meta.db_table)
            tables.update(f.remote_field.through._meta.db_table for f in model._meta.local_many_to_many if f.remote_field.through._meta.auto_created)
    return sorted(tables)


def _schema_tables(cursor) -> list[str]:
    """Tables and views in the current schema that the connected role controls, leaving out those an
    extension owns (PostGIS's spatial_ref_sys: PUBLIC may read it, nobody else writes it)."""
    cursor.execute(
        """
        SELECT c.relname FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
          AND pg_has_role(current_user, c.relowner, 'MEMBER')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        ORDER BY c.relname
        """
    )
    return [row[0] for row in cursor.fetchall()]


def app_role() -> str:
    return settings.ONEMAP_APP_DB_USER


def apply_grants(connection: BaseDatabaseWrapper) -> list[str]:
    """Sets the app role's privileges on every table of the schema, in one transaction (readers see
    the old grants or the new ones, never a gap). Idempotent. Returns the protected tables found."""
    role = app_role()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_schema(), EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s)", [role])
        current, schema, role_exists = cursor.fetchone()
    if not role or role == current:
        log.warning("dbroles: the app connects as the owner (%s); its audit tables are protected by triggers only. See README 'Database roles'.", current)
        return []
    if not role_exists:
        log.warning("dbroles: app role %r does not exist; run `make db` or create it (README 'Database roles').", role)
        return []
    q = connection.ops.quote_name
    r = q(role)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        present = set(_schema_tables(cursor))
        protected = [t for t in protected_tables() if t in present]
        sql = [
            f"GRANT USAGE ON SCHEMA {q(schema)} TO {r}",
            f"REVOKE CREATE ON SCHEMA {q(schema)} FROM PUBLIC, {r}",
            # Tables made outside migrations (until the next migrate) can be read and appended to only.
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {q(schema)} GRANT SELECT, INSERT ON TABLES TO {r}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {q(schema)} GRANT USAGE, SELECT ON SEQUENCES TO {r}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {q(schema)} TO {r}",
            TRUNCATE_GUARD_FUNCTION,
        ]
        for table in sorted(present):
            if table in protected or table in READ_ONLY_TABLES:
                privileges = "SELECT" if table in READ_ONLY_TABLES else "SELECT, INSERT"
            else:
                privileges = "SELECT, INSERT, UPDATE, DELETE"
            sql += [f"REVOKE ALL ON {q(table)} FROM {r}", f"GRANT {privileges} ON {q(table)} TO {r}"]
        sql += [truncate_guard_sql(table, q) for table in protected]
        context_table = _context_table()
        if context_table in present:
            sql.append(attach_context_sql(context_table=context_table, schema=schema, quote=q))
        cursor.execute(";\n".join(sql))
    return protected


def install_truncate_guards(connection: BaseDatabaseWrapper, tables: Iterable[str]) -> None:
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(TRUNCATE_GUARD_FUNCTION + "\n".join(truncate_guard_sql(t, q) for t in tables))


def _context_table() -> str:
    import pghistory.models

    return pghistory.models.Context._meta.db_table


def _last_app_with_models() -> AppConfig:
    return [config for config in apps.get_app_configs() if config.models_module is not None][-1]


def refuse_migrate_as_app(sender: AppConfig, using: str, **kwargs) -> None:
    """pre_migrate: `migrate` as the app role would fail on the first CREATE with 'permission denied
    for schema public'; say what to do instead."""
    if sender is not _last_app_with_models():
        return
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, has_schema_privilege(current_schema(), 'CREATE')")
        user, can_create = cursor.fetchone()
    if not can_create:
        raise CommandError(
            f"migrate must run as the database owner, not as {user!r}: set ONEMAP_DB_ROLE=owner "
            "(`make migrate` does) and DATABASE_OWNER_URL if you use DATABASE_URL (README 'Database roles')."
        )


def grant_after_migrate(sender: AppConfig, using: str, **kwargs) -> None:
    """post_migrate (sent per app; acts once, after the last): re-apply the app role's grants."""
    if sender is not _last_app_with_models():
        return
    connection = connections[using]
    if connection.vendor == "postgresql":
        apply_grants(connection)


def allow_audit_truncate(sender, connection: BaseDatabaseWrapper, **kwargs) -> None:
    """connection_created, test runs only (tests/conftest.py): TransactionTestCase empties every table
    with TRUNCATE between tests, which the audit tables' guard refuses without this opt-in."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET {TRUNCATE_OPT_IN} = on")


@checks.register(checks.Tags.database, deploy=True)
def check_app_role(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    """`manage.py check --deploy --database default`: warns when this process's connection could
    rewrite the audit trail (a superuser, or a role that owns tables), i.e. DATABASE_URL names the
    owner instead of a role like onemap_app."""
    if not databases or "default" not in databases:
        return []
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace"
            " AND c.relowner = r.oid) FROM pg_roles r WHERE rolname = current_user"
        )
        user, superuser, owns = cursor.fetchone()
    if not (superuser or owns):
        return []
    what = "a superuser" if superuser else "the owner of the schema's tables"
    return [checks.Warning(
        f"The app connects as {user!r}, {what}: it could disable the audit triggers and rewrite the audit trail.",
        hint="Set DATABASE_URL to a role that owns nothing and DATABASE_OWNER_URL to the owner (README 'Database roles').",
        id="onemap.W010",
    )]
