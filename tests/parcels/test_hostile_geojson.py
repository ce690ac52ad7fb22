"""Malformed GeoJSON (issue 9, item 5): every case is a SpatialInputError from parse_site_geojson and
a 4xx with a message on every applicant path (preview upload, site check, overlap API, the
new-application form), never a 500, and no Application row is written.

Z and M values are dropped on every path, so a 3-D site passes the check *and* the submission.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from parcels.exceptions import SpatialInputError
from parcels.site_input import parse_site_geojson

RING = [[113.930, 29.955], [113.932, 29.955], [113.932, 29.957], [113.930, 29.957], [113.930, 29.955]]
DEEP = 100_000


def poly(coordinates) -> str:
    return json.dumps({"type": "Polygon", "coordinates": coordinates})


def ring_with(value) -> str:
    """RING with its second position replaced by `value` (raw JSON text)."""
    text = json.dumps({"type": "Polygon", "coordinates": [RING]})
    return text.replace("[113.932, 29.955]", value, 1)


def fc(features) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features})


def feature(geometry) -> dict:
    return {"type": "Feature", "properties": {}, "geometry": geometry}


def with_crs(crs) -> str:
    return json.dumps({"type": "Polygon", "coordinates": [RING], "crs": crs})


MALFORMED: dict[str, str | bytes] = {
    "deep-coordinates": '{"type": "Polygon", "coordinates": ' + "[" * DEEP + "]" * DEEP + "}",
    "deep-properties": '{"type": "Feature", "geometry": null, "properties": ' + '{"a": ' * 50_000 + "1" + "}" * 50_000 + "}",
    "deep-features": '{"type": "FeatureCollection", "features": ' + "[" * DEEP + "]" * DEEP + "}",
    "nan": ring_with("[NaN, 29.955]"),
    "infinity": ring_with("[Infinity, 29.955]"),
    "minus-infinity": ring_with("[113.932, -Infinity]"),
    "overflow-1e999": ring_with("[1e999, 29.955]"),
    "huge-1e300": ring_with("[1e300, 29.955]"),
    "huge-integer": ring_with("[" + "9" * 5000 + ", 29.955]"),
    "coordinates-5": poly(5),
    "coordinates-string": poly("abc"),
    "coordinates-null": poly(None),
    "coordinates-object": poly({"a": 1}),
    "coordinates-[5]": poly([5]),
    "coordinates-[[5]]": poly([[5, 5, 5, 5]]),
    "coordinates-[[[1]]]": poly([[[1], [2], [3], [1]]]),
    "string-coordinates": poly([[[str(x), str(y)] for x, y in RING]]),
    "one-string-coordinate": ring_with('["113.932", 29.955]'),
    "bool-coordinates": ring_with("[true, false]"),
    "null-position": ring_with("null"),
    "object-position": ring_with('{"x": 113.932, "y": 29.955}'),
    "five-number-position": ring_with("[113.932, 29.955, 1, 2, 3]"),
    "one-number-position": ring_with("[113.932]"),
    "ring-string": poly(["abc"]),
    "ring-three-points": poly([RING[:3]]),
    "ring-open": poly([RING[:-1]]),
    "ring-empty": poly([[]]),
    "features-[1]": fc([1]),
    "features-abc": fc("abc"),
    "features-object": fc({"a": 1}),
    "features-[null]": fc([None]),
    "features-empty": fc([]),
    "geometry-x": fc([feature("x")]),
    "geometry-5": fc([feature(5)]),
    "geometry-list": fc([feature([1, 2])]),
    "geometry-null": fc([feature(None)]),
    "feature-without-geometry": json.dumps({"type": "Feature", "properties": {}}),
    "crs-properties-x": with_crs({"properties": "x"}),
    "crs-string": with_crs("EPSG:4326"),
    "crs-list": with_crs([1]),
    "crs-name-number": with_crs({"type": "name", "properties": {"name": 5}}),
    "crs-link": with_crs({"type": "link", "properties": {"href": "http://127.0.0.1:9/crs"}}),
    "crs-file": with_crs({"type": "name", "properties": {"name": "/etc/passwd"}}),
    "type-number": json.dumps({"type": 5, "coordinates": [RING]}),
    "type-list": json.dumps({"type": ["Polygon"], "coordinates": [RING]}),
    "top-level-array": json.dumps([RING]),
    "top-level-string": json.dumps("Polygon"),
    "top-level-number": "5",
    "empty-object": "{}",
    "point": json.dumps({"type": "Point", "coordinates": RING[0]}),
    "geometry-collection": json.dumps({"type": "GeometryCollection", "geometries": [{"type": "Polygon", "coordinates": [RING]}]}),
    "multipolygon-5": json.dumps({"type": "MultiPolygon", "coordinates": 5}),
    "multipolygon-[5]": json.dumps({"type": "MultiPolygon", "coordinates": [5]}),
    "multipolygon-[[5]]": json.dumps({"type": "MultiPolygon", "coordinates": [[5]]}),
    "invalid-utf8": b'{"type": "Polygon", "coordinates": [\xff\xfe]}',
    "not-json": "{not json",
    "projected-overflow": json.dumps({"type": "Polygon", "crs": {"type": "name", "properties": {"name": "EPSG:4526"}},
                                      "coordinates": [[[1e8, 1e8], [1e8 + 100, 1e8], [1e8 + 100, 1e8 + 100], [1e8, 1e8]]]}),
    "swapped-axes": poly([[[y, x] for x, y in RING]]),
    "web-mercator-metres": poly([[[x * 111_320, y * 128_000] for x, y in RING]]),
}
assert len(MALFORMED) >= 40


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_parse_site_geojson_refuses_with_a_spatial_input_error(case):
    with pytest.raises(SpatialInputError) as info:
        parse_site_geojson(MALFORMED[case], source="site.geojson")
    assert str(info.value).startswith("site.geojson")


def _refused_everywhere(client, path: str) -> list[str]:
    """The cases NOT refused with a 4xx + message on `path` (by an applicant)."""
    from approvals.models import Application

    before = Application.objects.count()
    wrong = []
    for case, text in sorted(MALFORMED.items()):
        body = text if isinstance(text, bytes) else text.encode()
        if path == "preview":
            response = client.post(reverse("api-site-preview"), {"file": SimpleUploadedFile("site.geojson", body)})
        elif path == "form":
            response = client.post(reverse("application-new"), {"title": "t", "kind": "construction_land", "purpose": "p",
                                                                "site_geojson": body.decode("utf-8", "replace")})
        else:
            response = client.post(reverse(path), body, content_type="application/json")
        if path == "form":
            message = response.status_code == 400 and bool(response.context["form"].errors)
        else:
            message = bool(response.json().get("detail")) if response.status_code < 500 else False
        if not (400 <= response.status_code < 500 and message):
            wrong.append(f"{case}: {response.status_code}")
    assert Application.objects.count() == before
    return wrong


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["preview", "api-site-check", "api-overlap", "form"])
def test_every_malformed_case_is_a_4xx_with_a_message_on_every_applicant_path(client_as, path):
    client = client_as("applicant")
    client.raise_request_exception = False  # a 500 is counted as a failure of its case, not raised
    assert _refused_everywhere(client, path) == []


Z_SITES = {
    "z": [[x, y, 12.5] for x, y in RING],
    "zm": [[x, y, 12.5, 3.0] for x, y in RING],
    "mixed-2d-3d": [[x, y, 7.0] if i % 2 else [x, y] for i, (x, y) in enumerate(RING)],
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(Z_SITES))
def test_z_and_m_are_dropped_on_every_path_including_submission(client_as, case):
    from approvals.models import Application

    client = client_as("applicant")
    doc = json.dumps({"type": "Polygon", "coordinates": [Z_SITES[case]]})
    assert not parse_site_geojson(doc).hasz
    check = client.post(reverse("api-site-check"), doc, content_type="application/json")
    assert check.status_code == 200, check.content
    preview = client.post(reverse("api-site-preview"), {"file": SimpleUploadedFile("z.geojson", doc.encode())})
    assert preview.status_code == 200, preview.content
    assert all(len(p) == 2 for p in preview.json()["site"]["coordinates"][0][0])
    overlap = client.post(reverse("api-overlap"), doc, content_type="application/json")
    assert overlap.status_code == 200, overlap.content
    response = client.post(reverse("application-new"), {"title": "Z", "kind": "construction_land", "purpose": "p", "site_geojson": doc})
    assert response.status_code == 302, response.content.decode()[:2000]
    site = Application.objects.get().site
    assert not site.hasz
    assert site.area == pytest.approx(parse_site_geojson(doc).area)
