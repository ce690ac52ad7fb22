"""Hostile files (issue 9, item 1): VRTs disguised as KML/GeoJSON/zip parts, CSV: and /vsicurl/
sources, linked CRSs, GeoPackage views and VirtualOGR tables, XML entities, network links.

Each is refused *before* GDAL opens it, with a message that does not depend on whether the file it
names exists, and no request reaches a local HTTP server that counts them. Also: GDAL itself is
locked (only the allowed drivers, network off), even for a file that skipped the checks; the
import and overlap commands refuse projected or swapped coordinates taken as degrees, long class
codes, and give ellipsoidal areas outside China's 3° zones; --source-layer picks the layer.
"""

from __future__ import annotations

import http.server
import io
import json
import sqlite3
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from django.core.management import CommandError, call_command
from pyogrio.errors import DataSourceError
from shapely.geometry import box

from parcels.exceptions import CRSError, SpatialInputError
from parcels.importers.readers import read_any
from parcels.importers.safety import gdal_lockdown

SQUARE = box(113.90, 29.96, 113.905, 29.965)
SECRET = "onemap-secret-7f3a"


class CountingServer:
    """An HTTP server on 127.0.0.1 that records every request (method, path) it receives."""

    def __init__(self) -> None:
        hits: list[tuple[str, str]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append((self.command, self.path))
                body = b'{"type": "name", "properties": {"name": "EPSG:4326"}}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_HEAD = do_GET

            def log_message(self, *args) -> None:
                pass

        self.hits = hits
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server(monkeypatch) -> Iterator[CountingServer]:
    # curl would bypass a proxy for hosts in NO_PROXY: the lock must hold even then.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    running = CountingServer()
    yield running
    running.close()


def _vrt(source: str, layer: str = "passwd") -> bytes:
    return (
        f'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>{source}</SrcDataSource><SrcLayer>{layer}</SrcLayer>'
        '<GeometryType>wkbPoint</GeometryType><GeometryField encoding="PointFromColumns" x="field_1" y="field_2"/>'
        "</OGRVRTLayer></OGRVRTDataSource>"
    ).encode()


def _zip(members: dict[str, bytes], symlinks: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            if name in symlinks:
                info.external_attr = 0o120777 << 16
            archive.writestr(info, data)
    return out.getvalue()


def _shapefile_parts(tmp: Path) -> dict[str, bytes]:
    folder = tmp / "shp"
    folder.mkdir(exist_ok=True)
    gpd.GeoDataFrame({"DLBM": ["0101"]}, geometry=[SQUARE], crs="EPSG:4490").to_file(folder / "dltb.shp")
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _gpkg(tmp: Path, name: str, sql: list[str]) -> bytes:
    path = tmp / name
    gpd.GeoDataFrame({"DLBM": ["0101"]}, geometry=[SQUARE], crs="EPSG:4490").to_file(path, layer="zones", driver="GPKG")
    with sqlite3.connect(path) as db:
        for statement in sql:
            db.execute(statement)
    return path.read_bytes()


def _geojson(crs: dict | None = None) -> bytes:
    doc: dict = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"DLBM": "0101"}, "geometry": SQUARE.__geo_interface__}]}
    if crs is not None:
        doc["crs"] = crs
    return json.dumps(doc).encode()


def hostile_files(tmp: Path, url: str, target: str) -> dict[str, tuple[str, bytes]]:
    """name → (file name, content). `target` is the server file a payload tries to read."""
    parts = _shapefile_parts(tmp)
    kml_ok = b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark>'
    polygon = b"<Polygon><outerBoundaryIs><LinearRing><coordinates>113.9,29.96 113.905,29.96 113.905,29.965 113.9,29.96</coordinates></LinearRing></outerBoundaryIs></Polygon>"
    return {
        "vrt-as-kml-csv-source": ("site.kml", _vrt(f"CSV:{target}")),
        "vrt-as-kml-plain-source": ("site.kml", _vrt(target)),
        "vrt-as-kml-vsicurl": ("site.kml", _vrt(f"/vsicurl/{url}/dir/x.csv", "x")),
        "vrt-as-kml-leading-xml-decl": ("site.kml", b'<?xml version="1.0"?>\n' + _vrt(f"CSV:{target}")),
        "vrt-in-zip": ("site.zip", _zip({**parts, "x.vrt": _vrt(f"CSV:{target}")})),
        "vrt-as-shp-in-zip": ("site.zip", _zip({**parts, "dltb.shp": _vrt(f"CSV:{target}")})),
        "vrt-as-prj-in-zip": ("site.zip", _zip({**parts, "dltb.prj": _vrt(f"/vsicurl/{url}/prj")})),
        "symlink-in-zip": ("site.zip", _zip({**parts, "dltb.prj": target.encode()}, symlinks=("dltb.prj",))),
        "vrt-as-geojson": ("site.geojson", _vrt(f"CSV:{target}")),
        "gdalg-as-geojson": ("site.geojson", json.dumps({"type": "gdal_streamed_alg", "command_line": f"gdal vector read {target}"}).encode()),
        "vsicurl-in-geojson": ("site.geojson", _geojson({"type": "name", "properties": {"name": f"/vsicurl/{url}/crs"}})),
        "linked-crs": ("site.geojson", _geojson({"type": "link", "properties": {"href": f"{url}/crs.json", "type": "proj4"}})),
        "linked-crs-escaped-key": ("site.geojson", _geojson({"type": "link", "properties": {"href": f"{url}/crs.json"}}).replace(b'"crs"', b'"\\u0063rs"')),
        "crs-name-file": ("site.geojson", _geojson({"type": "name", "properties": {"name": target}})),
        "crs-name-url": ("site.geojson", _geojson({"type": "name", "properties": {"name": f"{url}/crs"}})),
        "kml-xxe": ("site.kml", b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file://' + target.encode() + b'">]><kml><Document><name>&x;</name></Document></kml>'),
        "kml-network-link": ("site.kml", kml_ok.replace(b"<Placemark>", b"") + b"<NetworkLink><Link><href>" + url.encode() + b"/n.kml</href></Link></NetworkLink></Document></kml>"),
        "kml-external-style": ("site.kml", kml_ok + b"<styleUrl>" + url.encode() + b"/s.kml#x</styleUrl>" + polygon + b"</Placemark></Document></kml>"),
        "gpkg-virtualogr": ("site.gpkg", _gpkg(tmp, f"v-{abs(hash(target))}.gpkg", _virtual_ogr_sql(target))),
        "gpkg-view": ("site.gpkg", _gpkg(tmp, f"w-{abs(hash(target))}.gpkg", [
            "CREATE VIEW zones_view AS SELECT * FROM zones",
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('zones_view', 'features', 'zones_view', 4490)",
        ])),
        "csv-vsicurl": ("site.csv", f"WKT,DLBM\n\"{SQUARE.wkt}\",/vsicurl/{url}/x\n".encode()),
        "csv-binary": ("site.csv", b"WKT,DLBM\n\x00\x01"),
        "kml-not-xml": ("site.kml", b"CSV:" + target.encode()),
        "kml-utf16-xxe": ("site.kml", ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file://' + target
                                       + '">]><kml><Document><name>&x;</name></Document></kml>').encode("utf-16-le")),
        "geojson-utf16-linked-crs": ("site.geojson", _geojson({"type": "link", "properties": {"href": f"{url}/crs.json"}}).decode().encode("utf-16-le")),
        "not-a-gpkg": ("site.gpkg", _vrt(f"CSV:{target}")),
    }


def _virtual_ogr_sql(target: str) -> list[str]:
    # A schema entry for a VirtualOGR table (GDAL's SQLite module that opens any file it names),
    # written with writable_schema because no SQLite outside GDAL knows the module.
    sql = f"CREATE VIRTUAL TABLE leak USING VirtualOGR('{target}')"
    return [
        "PRAGMA writable_schema = ON",
        f"INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES ('table', 'leak', 'leak', 0, '{sql.replace(chr(39), chr(39) * 2)}')",
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('leak', 'features', 'leak', 4490)",
    ]


@pytest.fixture
def secret_file(tmp_path) -> Path:
    path = tmp_path / "secret_key"
    path.write_text(f"a,b\n{SECRET},1\n")
    return path


HOSTILE = [
    "vrt-as-kml-csv-source", "vrt-as-kml-plain-source", "vrt-as-kml-vsicurl", "vrt-as-kml-leading-xml-decl", "vrt-in-zip",
    "vrt-as-shp-in-zip", "vrt-as-prj-in-zip", "symlink-in-zip", "vrt-as-geojson", "gdalg-as-geojson", "vsicurl-in-geojson",
    "linked-crs", "linked-crs-escaped-key", "crs-name-file", "crs-name-url", "kml-xxe", "kml-network-link", "kml-external-style",
    "gpkg-virtualogr", "gpkg-view", "csv-vsicurl", "csv-binary", "kml-not-xml", "not-a-gpkg", "kml-utf16-xxe", "geojson-utf16-linked-crs",
]


def _refusal(tmp_path: Path, name: str, content: bytes) -> str:
    folder = tmp_path / f"in-{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    path = folder / name
    path.write_bytes(content)
    with pytest.raises(SpatialInputError) as info:
        read_any(path)
    return str(info.value)


@pytest.mark.django_db
@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_file_is_refused_before_gdal_and_the_message_does_not_say_whether_the_target_exists(tmp_path, server, secret_file, case):
    name, content = hostile_files(tmp_path, server.url, str(secret_file))[case]
    existing = _refusal(tmp_path, name, content)
    name, content = hostile_files(tmp_path, server.url, str(tmp_path / "no-such-file"))[case]
    missing = _refusal(tmp_path, name, content)
    assert existing == missing
    assert SECRET not in existing
    assert "secret_key" not in existing
    assert "no-such-file" not in existing
    assert server.hits == []


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["vrt-as-kml-csv-source", "vrt-in-zip", "linked-crs", "gpkg-virtualogr"])
def test_commands_refuse_hostile_files(tmp_path, server, secret_file, case):
    name, content = hostile_files(tmp_path, server.url, str(secret_file))[case]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError) as info:
        call_command("import_layer", str(path), "--layer", "hostile", "--no-progress")
    assert SECRET not in str(info.value)
    if name.endswith((".kml", ".zip", ".geojson")):
        with pytest.raises(CommandError):
            call_command("overlap", str(path))
    assert server.hits == []


def test_gdal_is_locked_even_for_a_file_that_skips_the_checks(tmp_path, server):
    """Straight through pyogrio and GeoDjango's GDAL after the lockdown: no VRT driver, and neither a
    linked CRS, a /vsicurl/ path nor an SRS URL reaches the server (NO_PROXY is set)."""
    gdal_lockdown()
    assert not {"OGR_VRT", "VRT", "GDALG", "WFS", "HTTP", "GPSBabel", "SQLite"} & set(pyogrio.list_drivers())
    linked = tmp_path / "linked.geojson"
    linked.write_bytes(_geojson({"type": "link", "properties": {"href": f"{server.url}/crs.json", "type": "proj4"}}))
    pyogrio.read_info(linked)
    with pytest.raises(DataSourceError):
        pyogrio.read_info(f"/vsicurl/{server.url}/dir/site.geojson")
    vrt = tmp_path / "v.kml"
    vrt.write_bytes(_vrt(f"/vsicurl/{server.url}/dir/x.csv", "x"))
    with pytest.raises(DataSourceError):
        pyogrio.read_info(vrt)
    from django.contrib.gis.gdal import GDALException, SpatialReference

    with pytest.raises(GDALException):  # no content: the fetch is refused inside GDAL
        SpatialReference(f"{server.url}/crs.json")
    assert server.hits == []


# --- imports and the command line: coordinates, class codes, zones, layers --------------------


def _write(tmp_path: Path, name: str, frame: gpd.GeoDataFrame) -> Path:
    path = tmp_path / name
    frame.to_file(path)
    return path


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("coords", "fragment"),
    [
        (lambda x, y: (x * 111_320, y * 111_320 * 1.15), "--srid"),  # Web Mercator-like metres, no CRS
        (lambda x, y: (y, x), "swapped"),  # latitude first
        (lambda x, y: (x * 1000, y * 1000), "--srid"),
    ],
    ids=["web-mercator", "swapped", "metres"],
)
def test_crs_less_geojson_out_of_lonlat_range_is_refused_with_the_hint(tmp_path, coords, fragment):
    from shapely import transform

    shape = transform(SQUARE, lambda xy: __import__("numpy").array([coords(x, y) for x, y in xy]))
    path = tmp_path / "survey.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"DLBM": "0101"}, "geometry": shape.__geo_interface__}]}))
    with pytest.raises(CRSError, match=fragment):
        read_any(path)
    with pytest.raises(CommandError, match=fragment):
        call_command("import_layer", str(path), "--layer", "survey", "--no-progress")
    with pytest.raises(CommandError, match=fragment):
        call_command("overlap", str(path))


@pytest.mark.django_db
def test_long_class_code_is_a_clear_error(tmp_path):
    path = _write(tmp_path, "long.geojson", gpd.GeoDataFrame({"DLBM": ["0101", "X" * 17]}, geometry=[SQUARE, box(113.91, 29.96, 113.915, 29.965)], crs="EPSG:4490"))
    with pytest.raises(CommandError, match=r"class code longer than 16 characters in feature\(s\) 2"):
        call_command("import_layer", str(path), "--layer", "long", "--no-progress")
    from parcels.models import LayerVersion

    assert not LayerVersion.objects.filter(layer__slug="long").exists()


@pytest.mark.django_db
def test_overlap_command_outside_the_3_degree_zones_gives_ellipsoidal_areas_and_no_gk(tmp_path, capsys):
    from tests.geodesy import assert_area_close, geod_area_m2

    site = box(10.0, 50.0, 10.01, 50.01)  # Germany: no CGCS2000 3° zone
    path = _write(tmp_path, "far.geojson", gpd.GeoDataFrame({"n": [1]}, geometry=[site], crs="EPSG:4490"))
    call_command("overlap", str(path), "--format", "json")
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert_area_close(report["site"]["area_m2"], geod_area_m2(site))
    assert report["site"]["gk_epsg"] is None
    assert report["site"]["gk_area_m2"] is None
    assert "outside China's 3° Gauss–Krüger zones" in out.err
    call_command("overlap", str(path))
    assert "GK: —" in capsys.readouterr().out


@pytest.mark.django_db
def test_import_layer_source_layer_picks_the_named_layer_of_a_geopackage(tmp_path):
    from parcels.models import LayerVersion, Zone

    path = tmp_path / "multi.gpkg"
    gpd.GeoDataFrame({"DLBM": ["0101"]}, geometry=[SQUARE], crs="EPSG:4490").to_file(path, layer="first", driver="GPKG")
    second = [box(113.91, 29.96, 113.915, 29.965), box(113.92, 29.96, 113.925, 29.965)]
    gpd.GeoDataFrame({"DLBM": ["0201", "0202"]}, geometry=second, crs="EPSG:4490").to_file(path, layer="second", driver="GPKG")
    call_command("import_layer", str(path), "--layer", "multi", "--source-layer", "second", "--no-progress")
    version = LayerVersion.objects.get(layer__slug="multi")
    assert sorted(Zone.objects.filter(layer_version=version).values_list("class_code", flat=True)) == ["0201", "0202"]
    with pytest.raises(CommandError, match="has no layer third; its layers are: first, second"):
        call_command("import_layer", str(path), "--layer", "multi", "--source-layer", "third", "--no-progress")
