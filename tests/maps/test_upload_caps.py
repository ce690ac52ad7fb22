"""Site caps on zipped Shapefile and KML uploads (attack re-test, issue 9): parts and vertices are
counted on the file itself (Shapefile record headers via the .shx index, KML XML text) before GDAL
builds a geometry, and the preview applies the area cap too. Each hostile file is refused with the
400 message naming the limit on the preview API and on the new-application form, writing nothing."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from approvals.models import Application
from parcels.exceptions import SpatialInputError
from parcels.limits import SiteTooLarge, check_geojson_size, check_kml_size

pytestmark = pytest.mark.django_db

# Near the Jiayu county seat (inside the test layers' box)
WEST, SOUTH = 113.905, 29.94


def zipped(folder: Path, stem: str = "site", replace: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in sorted(folder.glob(f"{stem}.*")):
            archive.writestr(part.name, (replace or {}).get(part.suffix, part.read_bytes()))
    return out.getvalue()


def shapefile_zip(folder: Path, geometries: list) -> bytes:
    gpd.GeoDataFrame({"a": np.zeros(len(geometries), dtype=int)}, geometry=geometries, crs="EPSG:4490").to_file(folder / "site.shp")
    return zipped(folder)


def repeated_square(k: int) -> shapely.Polygon:
    """The attack's rep.zip, smaller: one square whose corners are each repeated k times."""
    corners = np.array([(WEST, SOUTH), (WEST + 0.001, SOUTH), (WEST + 0.001, SOUTH + 0.001), (WEST, SOUTH + 0.001)])
    points = np.repeat(corners, k, axis=0)
    return shapely.Polygon(np.vstack([points, points[:1]]))


def squares(n: int) -> list:
    i = np.arange(n)
    x, y = WEST + (i % 50) * 0.0004, SOUTH + (i // 50) * 0.0004
    return list(shapely.box(x, y, x + 0.0003, y + 0.0003))


def kml(placemarks: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>{placemarks}'
            "</Document></kml>").encode()


def kml_polygon(coordinates: list[tuple[float, float]], separator: str = " ") -> str:
    text = separator.join(f"{x:.7f},{y:.7f}" for x, y in coordinates)
    return (f"<Placemark><Polygon><outerBoundaryIs><LinearRing><coordinates>{text}</coordinates>"
            "</LinearRing></outerBoundaryIs></Polygon></Placemark>")


def ring(n: int) -> list[tuple[float, float]]:
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    points = [(WEST + 0.001 * np.cos(a), SOUTH + 0.001 * np.sin(a)) for a in angles]
    return [*points, points[0]]


def duplicated_index(folder: Path, copies: int) -> bytes:
    """A one-record Shapefile whose .shx points at that record `copies` times (GDAL reads it that often)."""
    shx = (folder / "site.shx").read_bytes()
    entries = shx[100:108] * copies
    header = shx[:24] + struct.pack(">i", (100 + len(entries)) // 2) + shx[28:100]
    return zipped(folder, replace={".shx": header + entries})


def post_both(client_as, name: str, data: bytes, message: str) -> None:
    preview = client_as("applicant").post(reverse("api-site-preview"), {"file": SimpleUploadedFile(name, data)})
    assert preview.status_code == 400, preview.content[:300]
    assert message in preview.json()["detail"]
    new = client_as("applicant").post(reverse("application-new"), {"title": "大厂", "kind": "construction_land", "purpose": "工业用地",
                                                                    "site_file": SimpleUploadedFile(name, data)})
    assert new.status_code == 400
    assert message in new.content.decode()
    assert Application.objects.count() == 0


def test_a_zip_with_one_polygon_of_100000_vertices_is_refused(client_as, tmp_path):
    # (the attack's square of repeated corners unpacks more than 200-fold, which the zip check
    # refuses on its own; a circle of 100,000 distinct vertices compresses less and reaches GDAL)
    data = shapefile_zip(tmp_path, [shapely.Polygon(ring(100_000))])
    assert len(data) < 2_000_000
    post_both(client_as, "rep.zip", data, "site has 100,001 vertices; the limit is 20,000")


def test_a_zip_with_more_parts_than_allowed_is_refused(client_as, tmp_path):
    post_both(client_as, "many.zip", shapefile_zip(tmp_path, squares(1_000)), "site has 1,000 parts; the limit is 500")


def test_a_zip_with_thousands_of_records_is_refused_without_reading_them(client_as, tmp_path):
    post_both(client_as, "many.zip", shapefile_zip(tmp_path, squares(5_000)), "site has 5,000 parts; the limit is 500")


def test_an_index_pointing_at_one_record_many_times_is_counted_as_gdal_reads_it(client_as, tmp_path):
    shapefile_zip(tmp_path, [repeated_square(2_500)])  # 10,001 vertices: allowed once
    post_both(client_as, "index.zip", duplicated_index(tmp_path, 3), "site has 30,003 vertices; the limit is 20,000")


def test_a_kml_with_more_vertices_than_allowed_is_refused(client_as):
    post_both(client_as, "big.kml", kml(kml_polygon(ring(30_000))), "site has 30,001 vertices; the limit is 20,000")


def test_kml_tuples_separated_by_character_references_are_counted(client_as):
    post_both(client_as, "refs.kml", kml(kml_polygon(ring(30_000), separator="&#10;")), "site has 30,001 vertices; the limit is 20,000")


def test_a_kml_with_more_polygons_than_allowed_is_refused(client_as):
    body = "".join(kml_polygon(list(shapely.get_coordinates(square.exterior).tolist())) for square in squares(600))
    post_both(client_as, "many.kml", kml(body), "site has 600 parts; the limit is 500")


def test_a_zip_above_the_area_limit_is_refused_by_the_preview(client_as, tmp_path):
    post_both(client_as, "big.zip", shapefile_zip(tmp_path, [shapely.box(113.86, 29.90, 114.00, 30.00)]),
              "the limit is 100,000,000 m² (100.00 km²)")


def test_a_ground_overlay_does_not_become_the_site(client_as):
    overlay = ("<GroundOverlay><name>img</name><LatLonBox><north>30.5</north><south>29.5</south><east>114.5</east>"
               "<west>113.5</west></LatLonBox></GroundOverlay>")
    post_both(client_as, "overlay.kml", kml(overlay), "contains a GroundOverlay")
    square = kml_polygon(shapely.get_coordinates(shapely.box(WEST, SOUTH, WEST + 0.001, SOUTH + 0.001).exterior).tolist())
    post_both(client_as, "both.kml", kml(overlay + square), "contains a GroundOverlay")


def test_sites_inside_the_limits_still_go_through(client_as, tmp_path):
    for name, data in [("ok.zip", shapefile_zip(tmp_path, squares(400))),
                       ("ok.kml", kml(kml_polygon(ring(19_000))))]:
        response = client_as("applicant").post(reverse("api-site-preview"), {"file": SimpleUploadedFile(name, data)})
        assert response.status_code == 200, response.content[:300]


def test_geojson_counts_include_tuples_and_a_single_polygon():
    polygon = shapely.Polygon(ring(30_000)).__geo_interface__  # tuples, as the Shapefile/KML path gives them
    with pytest.raises(SiteTooLarge, match="30,001 vertices"):
        check_geojson_size([polygon])
    with pytest.raises(SiteTooLarge, match="30,001 vertices"):
        check_geojson_size([{"type": "MultiPolygon", "coordinates": (polygon["coordinates"],)}])
    many = shapely.MultiPolygon(squares(600)).__geo_interface__
    with pytest.raises(SiteTooLarge, match="600 parts"):
        check_geojson_size([many])


def test_malformed_kml_is_refused_by_the_counter():
    with pytest.raises(SpatialInputError, match="not well-formed XML"):
        check_kml_size(b"<kml><Polygon>", source="x.kml")
