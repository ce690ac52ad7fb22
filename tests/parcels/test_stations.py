"""Township land stations (乡镇国土所) as divisions: 9-digit codes for stations only, kept by the
database; the demo stations cover Jiayu County exactly."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, connection, transaction

from data import demo
from parcels.models import Division

pytestmark = pytest.mark.django_db


@pytest.fixture
def stations(divisions) -> None:
    demo.load_stations()


def _insert(code: str, level: str, parent: str | None) -> None:
    """Bypasses full_clean: the database itself must refuse."""
    with transaction.atomic():
        Division.objects.create(code=code, name="测试", level=level, parent_id=parent)


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("421221", "station", "421221"),  # a station needs its town's 9 digits
        ("421221009", "county", "421200"),  # 9 digits for a station only
        ("421222101", "station", "421221"),  # not inside its parent's code
        ("42122110", "station", "421221"),  # 8 digits
        ("42122110x", "station", "421221"),
        ("4212211001", "station", "421221"),  # too long for the column
    ],
)
def test_the_database_refuses_codes_of_the_wrong_length_for_the_level(divisions, code, level, parent):
    with pytest.raises((IntegrityError, DataError)) as caught:
        _insert(code, level, parent)
    assert "division_code_digits_by_level" in str(caught.value) or "value too long for type character varying(9)" in str(caught.value)


def test_a_station_has_its_county_code_and_three_digits_and_six_digit_divisions_stay_valid(divisions):
    _insert("421221199", "station", "421221")
    assert Division.objects.get(code="421221199").level == "station"
    assert Division.objects.filter(code__regex=r"^[0-9]{6}$").count() == 9  # nation, province, city, six counties
    with connection.cursor() as cursor:
        cursor.execute("SELECT character_maximum_length FROM information_schema.columns "
                       "WHERE table_name = 'approvals_application' AND column_name = 'division_id'")
        assert cursor.fetchone() == (9,)


def test_full_clean_refuses_a_station_under_a_city(divisions):
    station = Division(code="421200101", name="测试", level="station", parent_id="421200")
    with pytest.raises(ValidationError) as caught:
        station.full_clean()
    assert caught.value.message_dict["parent"] == ["A township land station belongs to a county."]


def test_demo_stations_cover_the_county_without_overlaps(stations):
    assert list(Division.objects.filter(level="station").values_list("code", "parent_id")) == [
        ("421221100", "421221"), ("421221102", "421221"), ("421221103", "421221"), ("421221105", "421221")]
    with connection.cursor() as cursor:
        # ellipsoidal areas (m²) of the county, of the stations' union and of their pairwise overlaps
        cursor.execute("""
            SELECT ST_Area(c.boundary::geography),
                   (SELECT ST_Area(ST_Union(s.boundary)::geography) FROM parcels_division s WHERE s.parent_id = c.code),
                   (SELECT ST_Area(ST_SymDifference(ST_Union(s.boundary), c.boundary)::geography)
                      FROM parcels_division s WHERE s.parent_id = c.code),
                   (SELECT coalesce(sum(ST_Area(ST_Intersection(a.boundary, b.boundary)::geography)), 0)
                      FROM parcels_division a JOIN parcels_division b ON a.code < b.code
                     WHERE a.parent_id = c.code AND b.parent_id = c.code)
              FROM parcels_division c WHERE c.code = '421221'""")
        county_m2, union_m2, differ_m2, overlap_m2 = cursor.fetchone()
    assert round(county_m2 / 1e6) == 1025
    assert abs(union_m2 - county_m2) < 1.0
    assert differ_m2 < 1.0
    assert overlap_m2 < 0.01
    # a second load changes nothing
    assert demo.load_stations() == 4
    assert Division.objects.filter(level="station").count() == 4
