"""The audit table is append-only: the database itself refuses UPDATE and DELETE of event rows.

TRUNCATE (table owner only) is left possible: the test runner's database flush uses it.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION approvals_event_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'approvals_applicationevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER approvals_event_append_only
    BEFORE UPDATE OR DELETE ON approvals_applicationevent
    FOR EACH ROW EXECUTE FUNCTION approvals_event_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS approvals_event_append_only ON approvals_applicationevent;
DROP FUNCTION IF EXISTS approvals_event_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("approvals", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
