"""One geometry lineage: split, merge and re-survey retire their inputs, give the outputs new
gap-free codes in the cadastral area and keep the ancestors; bad geometry is refused."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import LineString, MultiPolygon, Point, Polygon
from django.core.exceptions import ValidationError
from shapely import wkb

from approvals.exceptions import NotPermitted, StateConflict
from approvals.registry.selectors import parcel_lineage
from approvals.registry.services.lineage import parcel_merge, parcel_resurvey, parcel_split
from approvals.registry.services.registration import registration_register
from parcels.models import Parcel
from tests.geodesy import assert_area_close, geod_area_m2
from tests.registry.conftest import ONE_HOLDER, holders, state_terms

pytestmark = pytest.mark.django_db


def _halves(parcel: Parcel, shift: float = 0.0) -> list[MultiPolygon]:
    xmin, ymin, xmax, ymax = parcel.geom.extent
    mid = (xmin + xmax) / 2
    west = parcel.geom.intersection(Polygon.from_bbox((xmin - 1e-3, ymin - 1e-3, mid + shift, ymax + 1e-3)))
    east = parcel.geom.intersection(Polygon.from_bbox((mid, ymin - 1e-3, xmax + 1e-3, ymax + 1e-3)))
    return [g if isinstance(g, MultiPolygon) else MultiPolygon(g, srid=4490) for g in (west, east)]


def _gb_parcel() -> Parcel:
    return Parcel.objects.filter(status="registered", code__contains="GB").order_by("code").first()


def test_split_merge_resurvey_chain(users, areas):
    clerk = users["clerk_jiayu"]
    source = _gb_parcel()
    prefix = source.code[:14]
    top = max(int(c[-5:]) for c in Parcel.objects.filter(code__startswith=prefix).values_list("code", flat=True))
    split = parcel_split(parcel=source, parts=_halves(source), by=clerk, reason="分割转让", ip="10.0.0.9")
    west, east = split.outputs.order_by("code")
    # new codes: same cadastral area and feature, the next numbers, no gap
    assert [west.code, east.code] == [f"{prefix}{top + 1:05d}", f"{prefix}{top + 2:05d}"]
    source.refresh_from_db()
    assert source.status == "retired"
    assert list(west.predecessors.all()) == [source]
    expected = geod_area_m2(wkb.loads(bytes(source.geom.wkb)))
    assert_area_close(west.area_m2 + east.area_m2, expected)
    assert_area_close(source.area_m2, expected)

    merge = parcel_merge(parcels=[west, east], by=clerk, reason="合并", ip="10.0.0.9")
    (whole,) = merge.outputs.all()
    assert whole.code == f"{prefix}{top + 3:05d}"
    assert set(whole.predecessors.all()) == {west, east}
    assert_area_close(whole.area_m2, expected)

    smaller = whole.geom.buffer(-0.00001)
    resurvey = parcel_resurvey(parcel=whole, geom=smaller, by=clerk, reason="复测", ip="10.0.0.9")
    (final,) = resurvey.outputs.all()
    assert_area_close(final.area_m2, geod_area_m2(wkb.loads(bytes(smaller.wkb))))
    lineage = parcel_lineage(parcel=final)
    assert {p.code for p in lineage.parcels} == {source.code, west.code, east.code, whole.code, final.code}
    assert [e.label for e in lineage.timeline] == ["Split", "Merge", "Re-survey"]
    # the same family seen from the first ancestor
    assert {p.code for p in parcel_lineage(parcel=source).parcels} == {p.code for p in lineage.parcels}
    with pytest.raises(StateConflict):
        parcel_resurvey(parcel=whole, geom=smaller, by=clerk)


def test_split_of_certified_parcel_cancels_certificate(users, accepted):
    app = accepted()
    certificate = registration_register(application=app, by=users["clerk_jiayu"], holders=holders(*ONE_HOLDER), **state_terms())
    parcel = certificate.right.parcel
    split = parcel_split(parcel=parcel, parts=_halves(parcel), by=users["clerk_jiayu"])
    certificate.refresh_from_db()
    assert certificate.status == "cancelled"
    assert certificate.status_reason.startswith("Parcel split into")
    assert certificate.right.status == "ended"
    assert {p.code[:14] for p in split.outputs.all()} == {parcel.code[:14]}
    assert [e.label for e in parcel_lineage(parcel=split.outputs.first()).timeline] == [
        "Application submitted", "Accepted at the window", "Final approval", "First registration", "Certificate issued",
        "Split", "Certificate cancelled"]


def _bowtie() -> MultiPolygon:
    return MultiPolygon(Polygon(((113.9, 29.95), (113.901, 29.951), (113.901, 29.95), (113.9, 29.951), (113.9, 29.95))), srid=4490)


@pytest.mark.parametrize(("parts", "message"), [
    (lambda p: _halves(p)[:1], "between 2"),
    (lambda p: [p.geom, p.geom], "overlap"),
    (lambda p: _halves(p, shift=0.0001), "overlap"),
    (lambda p: [_halves(p)[0], _halves(p)[1].buffer(-0.00002)], "uncovered"),
    (lambda p: [*_halves(p), MultiPolygon(Polygon.from_bbox((113.0, 29.0, 113.001, 29.001)), srid=4490)], "outside"),
    (lambda p: [_halves(p)[0], _bowtie()], "not a valid polygon"),
    (lambda p: [_halves(p)[0], Point(113.9, 29.95, srid=4490)], "must be a polygon"),
    (lambda p: [_halves(p)[0], LineString((113.9, 29.95), (113.91, 29.96), srid=4490)], "must be a polygon"),
    (lambda p: [_halves(p)[0], MultiPolygon(srid=4490)], "empty"),
    (lambda p: [_halves(p)[0], "POLYGON((0 0,1 0,1 1,0 0))"], "not a geometry"),
    (lambda p: [_halves(p)[0]] * 60, "between 2"),
])
def test_bad_split_refused(users, areas, parts, message):
    source = _gb_parcel()
    with pytest.raises(ValidationError, match=message):
        parcel_split(parcel=source, parts=parts(source), by=users["clerk_jiayu"])
    source.refresh_from_db()
    assert source.status == "registered"


def test_merge_needs_adjacent_parcels(users, areas):
    parcels = list(Parcel.objects.filter(status="registered").order_by("code"))
    far = next(p for p in parcels[1:] if not p.geom.intersects(parcels[0].geom.buffer(0.0005)))
    with pytest.raises(ValidationError, match="only adjacent parcels"):
        parcel_merge(parcels=[parcels[0], far], by=users["clerk_jiayu"])
    with pytest.raises(ValidationError, match="between 2"):
        parcel_merge(parcels=[parcels[0], parcels[0]], by=users["clerk_jiayu"])


def test_resurvey_refuses_overlap_with_a_neighbour(users, areas):
    source = _gb_parcel()
    neighbour = Parcel.objects.filter(status="registered", geom__touches=source.geom).first()
    with pytest.raises(ValidationError, match=f"overlaps registered parcel {neighbour.code}"):
        parcel_resurvey(parcel=source, geom=source.geom.union(neighbour.geom), by=users["clerk_jiayu"])


@pytest.mark.parametrize("who", ["applicant", "reviewer_jiayu", "clerk_xianning", "planner", "admin", "reviewer_chibi"])
def test_lineage_changes_only_by_county_clerk(users, areas, who):
    source = _gb_parcel()
    with pytest.raises(NotPermitted):
        parcel_split(parcel=source, parts=_halves(source), by=users[who])
