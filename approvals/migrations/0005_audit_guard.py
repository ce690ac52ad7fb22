"""Audit guard (issue 9, item 8): TRUNCATE is refused on every audit table.

Row triggers (0002, pghistory's append-only Protect triggers) never see a TRUNCATE, and the owner or
any role granted TRUNCATE could empty the audit trail in one statement. A BEFORE TRUNCATE statement
trigger refuses it. Only a member of the table's owner role that opts in for the transaction
(`SET LOCAL onemap.allow_audit_truncate = on`, which the test runner's flush uses) gets through.

The app role's privileges (no UPDATE, DELETE or TRUNCATE on these tables) are applied after every
migrate by onemap/dbroles.py, which also re-asserts these triggers on audit tables added later.
The SQL is copied here, not imported, so that this migration keeps meaning what it meant.
"""

from django.db import migrations

TABLES = [
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

FUNCTION = """
CREATE OR REPLACE FUNCTION onemap_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('onemap.allow_audit_truncate', true) = 'on'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% is part of the audit trail: TRUNCATE refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

FORWARD = FUNCTION + "\n".join(
    f'CREATE OR REPLACE TRIGGER onemap_no_truncate BEFORE TRUNCATE ON "{t}" FOR EACH STATEMENT EXECUTE FUNCTION onemap_refuse_truncate();'
    for t in TABLES
)

BACKWARD = "\n".join(f'DROP TRIGGER IF EXISTS onemap_no_truncate ON "{t}";' for t in TABLES) + "\nDROP FUNCTION IF EXISTS onemap_refuse_truncate() CASCADE;"


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0004_workflow"),
        ("parcels", "0002_zone_min_zoom"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
