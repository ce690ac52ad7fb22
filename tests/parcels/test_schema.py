"""Database invariants that migrations must really create (Django can drop parts silently)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_low_zoom_spatial_index_is_partial():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'zone_geom_lowzoom'")
        (definition,) = cursor.fetchone()
    assert "USING gist (geom)" in definition
    assert "WHERE (min_zoom <= 12)" in definition


def test_exactly_one_full_spatial_index_on_zones():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'parcels_zone' AND indexdef LIKE '%%USING gist%%'")
        definitions = [row[0] for row in cursor.fetchall()]
    assert len([d for d in definitions if "WHERE" not in d]) == 1
