"""Database guards of the register that Django constraints cannot express (docs/registry.md).

1. Gap-free certificate serials: a new certificate's serial must be the county-year's max + 1.
   The services allocate serials from CertificateCounter under a row lock (SELECT … FOR UPDATE),
   which serialises inserts per county and year, so `max` here is never stale; this trigger is
   the second line against any other writer (admin, shell, a bug).
2. Shares of a right sum to 1: a constraint trigger, DEFERRABLE INITIALLY DEFERRED, checked at
   commit after the right and all its holders are written (so holders can be inserted one by one).
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION registry_certificate_gap_free() RETURNS trigger AS $$
DECLARE expected integer;
BEGIN
    SELECT COALESCE(MAX(serial), 0) + 1 INTO expected FROM registry_certificate
        WHERE county_id = NEW.county_id AND year = NEW.year;
    IF NEW.serial <> expected THEN
        RAISE EXCEPTION 'certificate serial % for %/% leaves a gap or repeats (expected %)',
            NEW.serial, NEW.county_id, NEW.year, expected USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER registry_certificate_gap_free
    BEFORE INSERT ON registry_certificate
    FOR EACH ROW EXECUTE FUNCTION registry_certificate_gap_free();
CREATE OR REPLACE FUNCTION registry_certificate_no_renumber() RETURNS trigger AS $$
BEGIN
    IF NEW.serial <> OLD.serial OR NEW.year <> OLD.year OR NEW.county_id <> OLD.county_id OR NEW.number <> OLD.number THEN
        RAISE EXCEPTION 'a certificate keeps its number' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER registry_certificate_no_renumber
    BEFORE UPDATE ON registry_certificate
    FOR EACH ROW EXECUTE FUNCTION registry_certificate_no_renumber();

CREATE OR REPLACE FUNCTION registry_shares_sum_to_one() RETURNS trigger AS $$
DECLARE rid bigint; total numeric;
BEGIN
    IF TG_TABLE_NAME = 'registry_right' THEN
        rid := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        rid := OLD.right_id;
    ELSE
        rid := NEW.right_id;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM registry_right WHERE id = rid) THEN
        RETURN NULL;
    END IF;
    SELECT COALESCE(SUM(share), 0) INTO total FROM registry_rightholder WHERE right_id = rid;
    IF total <> 1 THEN
        RAISE EXCEPTION 'the holders'' shares of right % sum to %, not 1', rid, total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER registry_right_shares
    AFTER INSERT ON registry_right DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION registry_shares_sum_to_one();
CREATE CONSTRAINT TRIGGER registry_rightholder_shares
    AFTER INSERT OR UPDATE OR DELETE ON registry_rightholder DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION registry_shares_sum_to_one();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS registry_certificate_gap_free ON registry_certificate;
DROP FUNCTION IF EXISTS registry_certificate_gap_free();
DROP TRIGGER IF EXISTS registry_certificate_no_renumber ON registry_certificate;
DROP FUNCTION IF EXISTS registry_certificate_no_renumber();
DROP TRIGGER IF EXISTS registry_right_shares ON registry_right;
DROP TRIGGER IF EXISTS registry_rightholder_shares ON registry_rightholder;
DROP FUNCTION IF EXISTS registry_shares_sum_to_one();
"""


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
