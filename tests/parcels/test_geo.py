"""CRS codes and units (docs/domain.md, "Coordinate systems and areas")."""

import pytest

from parcels.geo import AreaFigures, gk3_epsg, gk3_zone


@pytest.mark.parametrize(
    ("lon", "zone", "epsg"),
    [(113.92, 38, 4526), (114.4, 38, 4526), (111.0, 37, 4525), (75.0, 25, 4513), (135.0, 45, 4533)],
)
def test_gk3_zone_and_prefixed_epsg(lon, zone, epsg):
    assert gk3_zone(lon) == zone
    assert gk3_epsg(lon) == epsg


def test_longitude_outside_china_has_no_zone():
    with pytest.raises(ValueError, match="outside"):
        gk3_epsg(10.0)


def test_area_units():
    a = AreaFigures(10_000.0)
    assert a.ha == 1.0
    assert a.mu == pytest.approx(15.0)
    assert AreaFigures(666.6666666667).mu == pytest.approx(1.0)
    assert a.as_dict() == {"area_m2": 10000.0, "area_ha": 1.0, "area_mu": 15.0}
