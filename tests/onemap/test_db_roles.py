"""Issue 9 item 8: the audit trail cannot be rewritten by the app itself.

The test runner connects as the owner (it creates and migrates the test database). These tests open
a second, plain psycopg2 connection AS THE APP ROLE (settings.ONEMAP_APP_DATABASE) to the same test
database and attack the audit trail the way the app could if it were compromised: disable triggers
(session_replication_role, ALTER TABLE), then UPDATE, DELETE and TRUNCATE every protected table.
Each is refused by PostgreSQL, and the rows are unchanged afterwards. The app role can still do its
ordinary work, through raw SQL and through the ORM in a separate process.

Before the fix the app connected as the cluster superuser, and every one of these statements
succeeded. The data must be committed for the second connection to see it, hence transactional_db.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import psycopg2
import psycopg2.errors
import pytest
from django.conf import settings
from django.db import ProgrammingError, connection, transaction

from onemap import dbroles
from tests.factories import department, open_step, submit

ROOT = Path(__file__).resolve().parents[2]

# Named here, not derived from the code under test, so a table silently dropped from the protected
# list fails this test.
AUDIT_TABLES = [
    "approvals_applicationevent",
    "approvals_overlapreport",
    "approvals_overlapreport_layer_versions",
    "pghistory_context",
    "approvals_applicationhistory",
    "approvals_applicationparcelhistory",
    "approvals_applicationdocumenthistory",
    "approvals_reviewstephistory",
    "approvals_departmenttaskhistory",
]


def app_connect(**kwargs) -> psycopg2.extensions.connection:
    app = settings.ONEMAP_APP_DATABASE
    conn = psycopg2.connect(
        dbname=connection.settings_dict["NAME"], user=app["USER"], password=app["PASSWORD"] or None,
        host=app["HOST"] or "127.0.0.1", port=app["PORT"], **kwargs,
    )
    conn.autocommit = True
    return conn


@pytest.fixture
def app_db() -> Iterator[psycopg2.extensions.cursor]:
    conn = app_connect()
    try:
        with conn.cursor() as cursor:
            yield cursor
    finally:
        conn.close()


@pytest.fixture
def audit_rows(transactional_db, users):
    """An application submitted with its documents, accepted at the window and handed to a
    department: rows in every audit table, committed."""
    from approvals.services import tasks_assign, window_accept

    application = submit(users["applicant"])
    window_accept(application=application, by=users["clerk_jiayu"], ip="10.0.0.2")
    tasks_assign(step=open_step(application), by=users["reviewer_jiayu"], lead=department("421221", "耕地保护股"), cooperating=[], days=Decimal("2"))
    return application


def fingerprint(table: str) -> tuple[int, str]:
    """Row count and a digest of every row, read by the owner."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{table}\" t")
        return cursor.fetchone()


def refused(cursor, sql: str, params=None) -> str:
    """Runs `sql` as the app role and returns PostgreSQL's refusal (the test fails if it is accepted)."""
    with pytest.raises(psycopg2.errors.InsufficientPrivilege) as caught:
        cursor.execute(sql, params)
    return str(caught.value).splitlines()[0]


def test_app_role_is_a_plain_login_that_owns_nothing(db, app_db) -> None:
    role = settings.ONEMAP_APP_DB_USER
    with connection.cursor() as owner:
        owner.execute("SELECT current_user")
        assert owner.fetchone()[0] != role, "the tests must run as the owner, the app as another role"
    app_db.execute("SELECT current_user, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    assert app_db.fetchone() == (role, False, False, False, False, False)
    app_db.execute(
        """SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid), (SELECT count(*) FROM pg_proc WHERE proowner = r.oid),
                  (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid), (SELECT count(*) FROM pg_database WHERE datdba = r.oid),
                  (SELECT count(*) FROM pg_auth_members WHERE member = r.oid)
           FROM pg_roles r WHERE rolname = current_user"""
    )
    assert app_db.fetchone() == (0, 0, 0, 0, 0), "owns no table, function, schema or database, and is a member of no role"
    app_db.execute("SELECT has_schema_privilege(current_schema(), 'CREATE'), has_database_privilege(current_database(), 'CREATE')")
    assert app_db.fetchone() == (False, False)
    assert "permission denied for schema public" in refused(app_db, "CREATE TABLE onemap_intruder (id int)")
    assert "permission denied for schema public" in refused(app_db, "CREATE FUNCTION onemap_intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'")


def test_app_role_cannot_rewrite_the_audit_trail(audit_rows, app_db) -> None:
    assert set(AUDIT_TABLES) <= set(dbroles.protected_tables())
    before = {table: fingerprint(table) for table in AUDIT_TABLES}
    assert all(count > 0 for count, _digest in before.values()), before

    refusals: dict[str, str] = {}
    # Switching row triggers off for the session, or becoming the owner, is refused outright.
    refusals["SET session_replication_role = replica"] = refused(app_db, "SET session_replication_role = replica")
    refusals["SET ROLE owner"] = refused(app_db, "SET ROLE %s", [connection.settings_dict["USER"]])
    for table in AUDIT_TABLES:
        change = "metadata = '{}'" if table == "pghistory_context" else "id = id"
        for sql in (
            f'ALTER TABLE "{table}" DISABLE TRIGGER ALL',
            f'ALTER TABLE "{table}" DISABLE TRIGGER onemap_no_truncate',
            f'UPDATE "{table}" SET {change}',
            f'DELETE FROM "{table}"',
            f'TRUNCATE "{table}"',
            f'TRUNCATE "{table}" CASCADE',
            f'DROP TABLE "{table}" CASCADE',
            f'DROP TRIGGER onemap_no_truncate ON "{table}"',
        ):
            refusals[sql] = refused(app_db, sql)
    # Opting in to TRUNCATE is for the owner only: the app role still lacks the privilege.
    app_db.execute("SET onemap.allow_audit_truncate = on")
    refusals["TRUNCATE with the owner's opt-in set"] = refused(app_db, f'TRUNCATE "{AUDIT_TABLES[0]}"')

    for sql, message in refusals.items():
        expected = ("permission denied", "must be owner")
        assert any(e in message for e in expected), f"{sql}: {message}"
    assert len(refusals) == 2 + 8 * len(AUDIT_TABLES) + 1

    # pghistory's context function runs as its owner, so the app needs no UPDATE on the context
    # table. Pointing it at a committed context with other metadata must not change that row.
    with connection.cursor() as owner:
        owner.execute("SELECT id::text, metadata FROM pghistory_context ORDER BY created_at LIMIT 1")
        context_id, metadata = owner.fetchone()
    app_db.execute("BEGIN")
    app_db.execute(
        "SELECT set_config('pghistory.context_id', %s, true), set_config('pghistory.context_metadata', %s, true)",
        [context_id, json.dumps({"user": -1, "forged": True})],
    )
    app_db.execute("SELECT _pgh_attach_context()::text")
    attached = app_db.fetchone()[0]
    app_db.execute("COMMIT")
    assert attached != context_id, "a different context row must carry the new metadata"
    with connection.cursor() as owner:
        owner.execute("SELECT metadata FROM pghistory_context WHERE id = %s", [context_id])
        assert owner.fetchone()[0] == metadata

    after = {table: fingerprint(table) for table in AUDIT_TABLES if table != "pghistory_context"}
    assert after == {t: v for t, v in before.items() if t != "pghistory_context"}
    assert fingerprint("pghistory_context")[0] == before["pghistory_context"][0] + 1  # the forged one, added


def test_app_role_does_its_ordinary_work(audit_rows, app_db) -> None:
    application = audit_rows
    app_db.execute("SELECT title FROM approvals_application WHERE id = %s", [application.pk])
    assert app_db.fetchone() == (application.title,)
    # An ordinary table: read, update (its history is written by the trigger, as the app), delete.
    app_db.execute("UPDATE approvals_application SET title = 'renamed by the app role' WHERE id = %s", [application.pk])
    assert app_db.rowcount == 1
    app_db.execute("SELECT count(*) FROM approvals_applicationhistory WHERE pgh_obj_id = %s AND title = 'renamed by the app role'", [application.pk])
    assert app_db.fetchone() == (1,)
    app_db.execute("DELETE FROM approvals_notification WHERE application_id = %s", [application.pk])
    # The audit tables: append and read.
    app_db.execute(
        "INSERT INTO approvals_applicationevent (application_id, actor_id, at, action, from_status, to_status, comment, data)"
        " VALUES (%s, %s, now(), 'commented', '', 'submitted', 'appended by the app role', '{}') RETURNING id",
        [application.pk, application.applicant_id],
    )
    assert app_db.fetchone()[0] > 0

    # The ORM in a process of its own that connects as the app role, as the server does: one
    # request-like context spanning two transactions, each with its own action.
    script = f"""
import json, pghistory
from django.db import transaction
from approvals.choices import EventAction
from approvals.models import Application
from approvals.services.common import history, record
app = Application.objects.get(pk={application.pk})
with pghistory.context(url="/dbroles-test"):
    for n in (1, 2):
        with transaction.atomic(), history(by=app.applicant, ip="10.0.0.9", action=f"dbroles-{{n}}"):
            app.purpose = f"purpose {{n}}"
            app.save()
            record(application=app, by=app.applicant, action=EventAction.SUBMITTED, ip="10.0.0.9", comment=f"orm {{n}}")
from django.db import connection
with connection.cursor() as c:
    c.execute("SELECT current_user")
    print(json.dumps(c.fetchone()[0]))
"""
    result = _manage(["shell", "-c", script])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == settings.ONEMAP_APP_DB_USER
    with connection.cursor() as owner:
        owner.execute(
            "SELECT h.purpose, c.metadata->>'action', c.metadata->>'url' FROM approvals_applicationhistory h"
            " JOIN pghistory_context c ON c.id = h.pgh_context_id WHERE h.pgh_obj_id = %s AND h.purpose LIKE 'purpose %%' ORDER BY h.pgh_id",
            [application.pk],
        )
        # Each change keeps the action it was made under, although both share one pghistory context.
        assert owner.fetchall() == [("purpose 1", "dbroles-1", "/dbroles-test"), ("purpose 2", "dbroles-2", "/dbroles-test")]
        owner.execute("SELECT comment FROM approvals_applicationevent WHERE application_id = %s AND comment LIKE 'orm %%' ORDER BY id", [application.pk])
        assert owner.fetchall() == [("orm 1",), ("orm 2",)]


def test_deploy_check_warns_when_the_app_connects_as_the_owner(db) -> None:
    # The test process itself connects as the owner, which is exactly the set-up to warn about.
    warnings = dbroles.check_app_role(databases=["default"])
    assert [w.id for w in warnings] == ["onemap.W010"]
    assert "rewrite the audit trail" in warnings[0].msg
    assert dbroles.check_app_role(databases=None) == []
    # As the app role (separate process, DATABASE_URL = app role) the deploy check has nothing to say.
    result = _manage(["check", "--deploy", "--database", "default", "--tag", "database"])
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_migrate_as_the_app_role_is_refused_with_a_hint(db) -> None:
    result = _manage(["migrate", "--noinput"])
    assert result.returncode != 0
    assert "migrate must run as the database owner" in result.stderr
    assert "ONEMAP_DB_ROLE=owner" in result.stderr


def test_truncate_trigger_refuses_the_owner_and_a_misgranted_role(audit_rows, app_db) -> None:
    # The owner (or an app wrongly connected as the owner) without the explicit opt-in.
    def owner_truncate(table: str) -> None:
        with transaction.atomic(), connection.cursor() as owner:
            owner.execute("SET LOCAL onemap.allow_audit_truncate = off")
            owner.execute(f'TRUNCATE "{table}" CASCADE')

    for table in AUDIT_TABLES:
        with pytest.raises(ProgrammingError, match="part of the audit trail: TRUNCATE refused"):
            owner_truncate(table)
    # A role granted TRUNCATE by mistake is refused even when it opts in: it is not the owner.
    table = "approvals_applicationevent"
    with connection.cursor() as owner:
        owner.execute(f'GRANT TRUNCATE ON "{table}" TO "{settings.ONEMAP_APP_DB_USER}"')
    try:
        app_db.execute("SET onemap.allow_audit_truncate = on")
        message = refused(app_db, f'TRUNCATE "{table}"')
        assert "part of the audit trail: TRUNCATE refused" in message
    finally:
        with connection.cursor() as owner:
            owner.execute(f'REVOKE TRUNCATE ON "{table}" FROM "{settings.ONEMAP_APP_DB_USER}"')
    assert fingerprint(table)[0] > 0


def test_grants_follow_the_schema(db) -> None:
    """Every history table in the database is protected (a new pghistory.track is covered without
    a list to update); re-applying is idempotent; a table made outside migrations is append-only to
    the app until the next migrate."""
    with connection.cursor() as owner:
        owner.execute(
            "SELECT DISTINCT table_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND (column_name = 'pgh_obj_id' OR table_name LIKE 'pghistory%%')"
        )
        history_tables = {row[0] for row in owner.fetchall()}
    assert len(history_tables) >= 6
    assert history_tables <= set(dbroles.protected_tables())

    def acl() -> list[tuple[str, str]]:
        with connection.cursor() as owner:
            owner.execute("SELECT relname, relacl::text FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r' ORDER BY 1")
            return owner.fetchall()

    first = acl()
    assert dbroles.apply_grants(connection) == sorted(set(dbroles.protected_tables()) & {t for t, _ in first})
    assert acl() == first

    with connection.cursor() as owner:
        owner.execute("CREATE TABLE onemap_made_later (id int)")
    # The owner's transaction is not committed: read the privileges it would give from the catalog.
    with connection.cursor() as owner:
        owner.execute(
            "SELECT privilege_type FROM (SELECT (aclexplode(relacl)).* FROM pg_class WHERE relname = 'onemap_made_later') a"
            " WHERE grantee = (SELECT oid FROM pg_roles WHERE rolname = %s) ORDER BY 1",
            [settings.ONEMAP_APP_DB_USER],
        )
        assert owner.fetchall() == [("INSERT",), ("SELECT",)]


def _manage(args: list[str]) -> subprocess.CompletedProcess:
    """manage.py in a separate process that connects to the test database as the app role."""
    app = settings.ONEMAP_APP_DATABASE
    auth = quote(app["USER"], safe="") + (":" + quote(app["PASSWORD"], safe="") if app.get("PASSWORD") else "")
    url = f"postgis://{auth}@{app['HOST'] or '127.0.0.1'}:{app['PORT']}/{connection.settings_dict['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "onemap.settings"}
    for name in ("ONEMAP_DB_ROLE", "DATABASE_OWNER_URL", "ONEMAP_TEST_DB"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
