"""OneMap's overlap analysis (PostGIS) against golden results made with shapely + pyproj (see golden/README.md)."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon

from parcels.overlap import overlap_analyse
from tests.geodesy import assert_area_close
from tests.parcels.golden.make_golden import SITES, load

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", sorted(SITES))
def test_overlap_matches_golden(onemap, name):
    golden = load(name)
    geom = GEOSGeometry(memoryview(golden["site"].wkb), srid=4490)
    site = geom if geom.geom_type == "MultiPolygon" else MultiPolygon(geom, srid=4490)
    report = overlap_analyse(site=site, pieces=False).report
    assert_area_close(report["site"]["area_m2"], golden["site_area_m2"])
    by_layer = {lr["layer"]: lr for lr in report["layers"]}
    assert set(by_layer) == set(golden["layers"])
    for slug, classes in golden["layers"].items():
        got = {c["code"]: c for c in by_layer[slug]["classes"]}
        assert set(got) == set(classes), slug
        for code, expected in classes.items():
            assert_area_close(got[code]["area_m2"], expected["area_m2"])
            assert got[code]["count"] == expected["count"], (slug, code)
