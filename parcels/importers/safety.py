"""What GDAL may open, and what it may reach while opening it (issue 9, item 1).

GDAL picks a driver by *content*, not by name: a `.kml` that is really a VRT was opened by the VRT
driver, whose `CSV:/path` source read server files and whose `/vsicurl/` source sent requests. A
GeoJSON "linked" CRS made GDAL fetch a URL. So, three independent layers:

1. `check_upload` looks at the bytes *before* GDAL sees them: the content must be what the
   extension says (JSON for .geojson, a `<kml>` root for .kml, a SQLite GeoPackage for .gpkg,
   only Shapefile parts in a .zip, …); any VRT, `/vsi…` path, GDAL streamed algorithm, linked or
   free-form CRS, DOCTYPE or network link is refused with a fixed message that never depends on
   whether a referenced file exists. Zipped Shapefiles are unpacked by Python's zipfile into a
   fresh folder under our own file names, so GDAL never sees an archive.
2. `gdal_lockdown` deregisters every GDAL driver except the few formats OneMap reads (in every
   GDAL loaded in the process: pyogrio bundles its own, GeoDjango uses the system's), so even a
   file that slipped through cannot be opened as a VRT, GDALG, WFS, … The driver GDAL actually
   used is checked against the one the extension promises (`expect_driver`).
3. `gdal_lockdown` also switches network access off: a fetch callback refuses every HTTP request
   GDAL makes through CPLHTTPFetch (linked CRS, importFromUrl), `/vsicurl/` only accepts a file
   name that cannot exist, and a proxy with an unknown scheme catches any other curl use. These
   hold even when NO_PROXY would let curl bypass a proxy (tests/parcels/test_hostile_files.py
   counts requests on a local server: 0).
"""

from __future__ import annotations

import ctypes
import json
import re
import sqlite3
import tempfile
import threading
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.utils.translation import gettext as _

from parcels.exceptions import SpatialInputError

# The GDAL drivers OneMap reads with (and the tests and data scripts write with). "MEM"/"Memory"
# are GDAL's in-memory datasets, used internally. Everything else is deregistered.
ALLOWED_DRIVERS = frozenset({"ESRI Shapefile", "GPKG", "KML", "LIBKML", "GeoJSON", "TopoJSON", "CSV", "MEM", "Memory"})

# Extension → the format it promises → the GDAL drivers allowed to open it.
FORMAT_BY_SUFFIX = {
    ".geojson": "json",
    ".json": "json",
    ".topojson": "json",
    ".zip": "shapefile_zip",
    ".shp": "shapefile",
    ".gpkg": "gpkg",
    ".kml": "kml",
    ".csv": "csv",
}
DRIVERS_BY_FORMAT = {
    "json": frozenset({"GeoJSON", "TopoJSON"}),
    "shapefile_zip": frozenset({"ESRI Shapefile"}),
    "shapefile": frozenset({"ESRI Shapefile"}),
    "gpkg": frozenset({"GPKG"}),
    # LIBKML reads ExtendedData/SchemaData attributes (the plain KML driver does not).
    "kml": frozenset({"KML", "LIBKML"}),
    "csv": frozenset({"CSV"}),
}
# Parts a zipped Shapefile may hold (.qix/.sbn/.sbx are spatial indexes some tools add).
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
# Unpacked size limit for a zip, relative to its packed size and absolute (zip bombs).
MAX_UNZIPPED_BYTES = 1024 * 1024 * 1024
MAX_UNZIP_RATIO = 200

_NETWORK_OFF = {
    # /vsicurl/ (and /vsis3/, /vsigs/, … built on it) accepts only this name, which no URL has.
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/onemap/network-access-is-disabled",
    # Any other curl use goes through a proxy whose scheme curl does not know: it fails at once.
    "GDAL_HTTP_PROXY": "onemap-network-disabled://0.0.0.0:0",
    "GDAL_HTTPS_PROXY": "onemap-network-disabled://0.0.0.0:0",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_ALLOW_REMOTE_RESOURCE_TO_ACCESS_LOCAL_FILE": "NO",
    "GDAL_VRT_ENABLE_PYTHON": "NO",
    "GDAL_ENABLE_PYTHON_PATH": "NO",
    # LIBKML would otherwise be allowed to fetch styles named by a styleUrl in another document.
    "LIBKML_RESOLVE_STYLE": "NO",
}
NETWORK_REFUSED = b"network access is disabled in OneMap"


class _HTTPResult(ctypes.Structure):
    # cpl_http.h's CPLHTTPResult (unchanged since GDAL 1.x).
    _fields_ = [
        ("nStatus", ctypes.c_int),
        ("pszContentType", ctypes.c_void_p),
        ("pszErrBuf", ctypes.c_void_p),
        ("nDataLen", ctypes.c_int),
        ("nDataAlloc", ctypes.c_int),
        ("pabyData", ctypes.c_void_p),
        ("papszHeaders", ctypes.c_void_p),
        ("nMimePartCount", ctypes.c_int),
        ("pasMimePart", ctypes.c_void_p),
    ]


_FETCH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p
)


@dataclass
class _Gdal:
    lib: ctypes.CDLL
    callback: object  # the ctypes callback must outlive the library's use of it


_locked: dict[int, _Gdal] = {}
_lock = threading.Lock()


def _loaded_gdal_paths() -> list[str]:
    """Paths of every libgdal mapped into this process (pyogrio's bundled one, the system's)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            fields = [line.split() for line in maps]
    except OSError:  # not Linux: only GeoDjango's GDAL is known
        return []
    return sorted({f[-1] for f in fields if len(f) >= 6 and Path(f[-1]).name.startswith("libgdal")})


def _refusing_callback(lib: ctypes.CDLL):
    lib.VSICalloc.restype = ctypes.c_void_p
    lib.VSICalloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
    lib.CPLStrdup.restype = ctypes.c_void_p
    lib.CPLStrdup.argtypes = [ctypes.c_char_p]

    def refuse(url, options, progress, progress_arg, write, write_arg, user_data):
        # An error result allocated by the same GDAL, which frees it with CPLHTTPDestroyResult.
        pointer = lib.VSICalloc(1, ctypes.sizeof(_HTTPResult))
        if pointer:
            result = _HTTPResult.from_address(pointer)
            result.nStatus = 1  # CURLE_UNSUPPORTED_PROTOCOL: "the request failed"
            result.pszErrBuf = lib.CPLStrdup(NETWORK_REFUSED)
        return pointer

    return _FETCH_CALLBACK(refuse)


def _lock_library(lib: ctypes.CDLL, *, register_all_first: bool) -> _Gdal | None:
    try:
        lib.GDALGetDriverCount.restype = ctypes.c_int
        lib.GDALGetDriver.restype = ctypes.c_void_p
        lib.GDALGetDriver.argtypes = [ctypes.c_int]
        lib.GDALGetDescription.restype = ctypes.c_char_p
        lib.GDALGetDescription.argtypes = [ctypes.c_void_p]
        lib.GDALDeregisterDriver.argtypes = [ctypes.c_void_p]
        lib.CPLSetConfigOption.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        lib.CPLHTTPSetFetchCallback.argtypes = [_FETCH_CALLBACK, ctypes.c_void_p]
    except AttributeError:  # not a full GDAL (or too old for fetch callbacks, < 3.2)
        return None
    if register_all_first and lib.GDALGetDriverCount() == 0:
        # GeoDjango registers all drivers lazily when it finds none; do it now so that our
        # deregistration is not undone later.
        lib.GDALAllRegister()
    for key, value in _NETWORK_OFF.items():
        lib.CPLSetConfigOption(key.encode(), value.encode())
    callback = _refusing_callback(lib)
    lib.CPLHTTPSetFetchCallback(callback, None)
    gdal = _Gdal(lib=lib, callback=callback)
    _deregister(gdal)
    return gdal


def _deregister(gdal: _Gdal) -> None:
    lib = gdal.lib
    drivers = [lib.GDALGetDriver(i) for i in range(lib.GDALGetDriverCount())]
    for driver in drivers:
        name = (lib.GDALGetDescription(driver) or b"").decode("ascii", "replace")
        if name not in ALLOWED_DRIVERS:
            lib.GDALDeregisterDriver(driver)


def gdal_lockdown() -> None:
    """Drivers limited to ALLOWED_DRIVERS and network access off, in every GDAL in the process.

    Idempotent and cheap after the first call; called before every GDAL open, because a later
    GDALAllRegister (by any library) would register the other drivers again.
    """
    import pyogrio  # noqa: F401 - loads pyogrio's GDAL so that it is locked too
    import pyproj.network
    from django.contrib.gis.gdal import libgdal

    pyproj.network.set_network_enabled(False)
    with _lock:
        libraries = [(libgdal.lgdal, True)] + [(ctypes.CDLL(path), False) for path in _loaded_gdal_paths()]
        for lib, is_geodjango in libraries:
            # dlopen gives one handle per library however it is named, so each GDAL is locked once.
            gdal = _locked.get(lib._handle)
            if gdal is None:
                locked = _lock_library(lib, register_all_first=is_geodjango)
                if locked is not None:
                    _locked[lib._handle] = locked
                continue
            _deregister(gdal)
            for name, value in _NETWORK_OFF.items():
                gdal.lib.CPLSetConfigOption(name.encode(), value.encode())
            gdal.lib.CPLHTTPSetFetchCallback(gdal.callback, None)


# ---------------------------------------------------------------------------------------------
# Content checks before GDAL.


def _refuse(source: str, message: str) -> SpatialInputError:
    return SpatialInputError(message, source=source)


def _references_refused(source: str) -> SpatialInputError:
    # One fixed message: whether the referenced file or URL exists must not change the answer.
    return _refuse(source, _("refers to another file or to a URL (GDAL VRT, /vsi path or linked source); such files are refused"))


_VSI = re.compile(rb"/vsi[a-z0-9_]*/", re.IGNORECASE)
_VRT_ROOTS = re.compile(rb"<\s*(?:OGRVRTDataSource|VRTDataset|GDAL_WMS|WFS_GetCapabilities|OGRWFSDataSource)\b", re.IGNORECASE)
_GDALG = re.compile(rb"gdal_streamed_alg", re.IGNORECASE)


def _check_no_references(data: bytes, source: str) -> None:
    if _VSI.search(data) or _VRT_ROOTS.search(data) or _GDALG.search(data):
        raise _references_refused(source)


def _first_byte(data: bytes) -> bytes:
    stripped = data.lstrip(b"\xef\xbb\xbf").lstrip()
    return stripped[:1]


# A JSON key "crs", each letter possibly \u-escaped, in any letter case (GDAL's GeoJSON reader
# looks members up case-insensitively).
_CRS_KEY = re.compile(rb'"(?:c|\\u00[46]3)(?:r|\\u00[57]2)(?:s|\\u00[57]3)"\s*:', re.IGNORECASE)
EPSG_NAME = re.compile(r"^(?:urn:ogc:def:crs:EPSG:[0-9.]*:|EPSG:)([0-9]{4,6})$", re.IGNORECASE)


# The OGC names of lon/lat WGS84, compared whole (case aside): a name that merely ends in CRS84
# ("http://host/CRS84") is a URL, not one of them.
CRS84_NAMES = frozenset({"URN:OGC:DEF:CRS:OGC:1.3:CRS84", "URN:OGC:DEF:CRS:OGC::CRS84", "OGC:CRS84", "CRS84"})


def is_crs84_name(name: object) -> bool:
    return isinstance(name, str) and name.upper() in CRS84_NAMES


def crs_name_allowed(name: object) -> bool:
    """Only EPSG codes and OGC CRS84 names: never a file name, URL or PROJ string for GDAL to resolve."""
    if not isinstance(name, str) or len(name) > 64:
        return False
    return bool(EPSG_NAME.match(name)) or is_crs84_name(name)


def check_crs_member(crs: object, source: str) -> None:
    """A GeoJSON `crs` member must be null or {"type": "name", "properties": {"name": EPSG/CRS84}}."""
    if crs is None:
        return
    if not isinstance(crs, dict):
        raise _refuse(source, _("the crs member is not an object"))
    kind = crs.get("type")
    if kind == "link" or (isinstance(crs.get("properties"), dict) and "href" in crs["properties"]):
        raise _refuse(source, _("a linked crs (\"type\": \"link\") makes the server fetch a URL; declare the CRS by name, e.g. \"EPSG:4490\""))
    properties = crs.get("properties")
    if kind != "name" or not isinstance(properties, dict) or not crs_name_allowed(properties.get("name")):
        raise _refuse(source, _("unsupported crs member; use {\"type\": \"name\", \"properties\": {\"name\": \"EPSG:4490\"}} or another EPSG code"))


def _check_json(data: bytes, source: str) -> None:
    # UTF-16/32 text (NUL bytes) would hide a "crs" key or a DOCTYPE from the byte checks below.
    if b"\x00" in data:
        raise _refuse(source, _("cannot be read as GeoJSON or TopoJSON: the text is not UTF-8"))
    if _first_byte(data) != b"{":
        raise _refuse(source, _("cannot be read as GeoJSON or TopoJSON: the content is not a JSON object"))
    for match in _CRS_KEY.finditer(data):
        window = data[match.end() : match.end() + 65536].decode("utf-8", "replace").lstrip()
        try:
            value, _end = json.JSONDecoder().raw_decode(window)
        except ValueError as exc:
            raise _refuse(source, _("the crs member is malformed")) from exc
        check_crs_member(value, source)


def _check_kml(data: bytes, source: str) -> None:
    head = data.lstrip(b"\xef\xbb\xbf").lstrip()
    if b"\x00" in data:
        raise _refuse(source, _("cannot be read as KML: the text is not UTF-8"))
    if not head.startswith(b"<"):
        raise _refuse(source, _("cannot be read as KML: the content is not XML"))
    # Entities (external ones read files; nested ones explode) are declared only in a DOCTYPE.
    if re.search(rb"<!\s*(?:DOCTYPE|ENTITY)", data, re.IGNORECASE):
        raise _refuse(source, _("is not accepted: KML files with a DOCTYPE or entities are refused"))
    try:
        # Safe here: a DOCTYPE (the only place entities are declared) was refused just above.
        _event, root = next(ET.iterparse(_BytesReader(data), events=("start",)))  # noqa: S314
    except (ET.ParseError, StopIteration) as exc:
        raise _refuse(source, _("cannot be read as KML: not well-formed XML")) from exc
    if root.tag.rsplit("}", 1)[-1] != "kml":
        raise _refuse(source, _("cannot be read as KML: the root element is <%(tag)s>, not <kml>") % {"tag": root.tag.rsplit("}", 1)[-1][:40]})
    if re.search(rb"<\s*(?:[a-z0-9_]+:)?NetworkLink\b", data, re.IGNORECASE):
        raise _references_refused(source)
    # A style may only be named inside the document (#id); other styleUrls point at files or URLs.
    if re.search(rb"<\s*(?:[a-z0-9_]+:)?styleUrl\s*>\s*(?:<!\[CDATA\[\s*)?[^#<\s]", data, re.IGNORECASE):
        raise _references_refused(source)


class _BytesReader:
    """A minimal file object over bytes for iterparse, so only the start of the file is parsed."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        size = 65536 if size is None or size < 0 else size
        chunk = self._data[self._pos : self._pos + size]
        self._pos += len(chunk)
        return bytes(chunk)


def _check_csv(data: bytes, source: str) -> None:
    if b"\x00" in data:
        raise _refuse(source, _("cannot be read as CSV: it contains binary data"))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            data.decode(encoding)
            return
        except UnicodeDecodeError:
            continue
    raise _refuse(source, _("cannot be read as CSV: the text is neither UTF-8 nor GB18030"))


SQLITE_MAGIC = b"SQLite format 3\x00"
_RTREE = re.compile(r"^\s*CREATE\s+VIRTUAL\s+TABLE\s+.*\bUSING\s+rtree\s*\(", re.IGNORECASE | re.DOTALL)


def _check_gpkg(path: Path, source: str) -> None:
    """A GeoPackage is a SQLite database: its schema is read by Python's sqlite3 (which runs no
    view, trigger, generated column or virtual-table module) before GDAL opens it. Everything in
    the schema that runs SQL when a row is *read* is refused: views, virtual tables other than the
    R-tree spatial index (a VirtualOGR table opens any file) and generated columns (their
    expression runs GDAL's SQL functions, e.g. gdal_get_pixel_value on a '/v'||'sicurl/…' path
    that concatenation hides from the byte check). Triggers run only on writes and GDAL opens the
    file read-only."""
    with open(path, "rb") as fh:
        header = fh.read(100)
    if not header.startswith(SQLITE_MAGIC):
        raise _refuse(source, _("cannot be read as a GeoPackage: not a SQLite database"))
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise _refuse(source, _("cannot be read as a GeoPackage")) from exc
    try:
        connection.execute("PRAGMA trusted_schema = OFF")
        rows = connection.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
        names = {name for _type, name, _sql in rows}
        if "gpkg_contents" not in names or "gpkg_spatial_ref_sys" not in names:
            raise _refuse(source, _("cannot be read as a GeoPackage: it has no gpkg_contents table"))
        for kind, name, sql in rows:
            if kind == "view":
                raise _refuse(source, _("is not accepted: GeoPackages with SQL views are refused (view %(name)s)") % {"name": str(name)[:60]})
            if kind == "table" and sql and re.match(r"^\s*CREATE\s+VIRTUAL\s+TABLE", sql, re.IGNORECASE) and not _RTREE.match(sql):
                raise _references_refused(source)
        for kind, name, sql in rows:
            if kind != "table" or (sql and re.match(r"^\s*CREATE\s+VIRTUAL\s+TABLE", sql, re.IGNORECASE)):
                continue
            # hidden = 2 (VIRTUAL) or 3 (STORED): a generated column; sqlite3 lists it without evaluating it
            hidden = connection.execute("SELECT name FROM pragma_table_xinfo(?) WHERE hidden IN (2, 3)", (name,)).fetchall()
            if hidden:
                raise _refuse(source, _("is not accepted: GeoPackages with generated columns are refused (column %(name)s)")
                              % {"name": str(hidden[0][0])[:60]})
        contents = connection.execute("SELECT table_name FROM gpkg_contents").fetchall()
        tables = {name for kind, name, sql in rows if kind == "table"}
        for (table,) in contents:
            if table not in tables:
                raise _refuse(source, _("is not accepted: GeoPackage content %(name)s is not a table") % {"name": str(table)[:60]})
    except sqlite3.Error as exc:
        raise _refuse(source, _("cannot be read as a GeoPackage")) from exc
    finally:
        connection.close()


_PRJ = re.compile(r"^\s*(?:PROJCS|GEOGCS|GEOCCS|COMPD_CS|PROJCRS|GEOGCRS|GEODCRS|COMPOUNDCRS|BOUNDCRS)\s*\[", re.IGNORECASE)


def _check_shapefile_part(suffix: str, data: bytes, source: str) -> None:
    if suffix in (".shp", ".shx") and data[:4] != b"\x00\x00\x27\x0a":
        raise _refuse(source, _("cannot be read as a Shapefile: %(part)s has no Shapefile header") % {"part": suffix})
    if suffix == ".prj":
        text = data.decode("utf-8", "replace")
        if not _PRJ.match(text) or len(data) > 65536:
            raise _refuse(source, _("the .prj part is not a WKT coordinate reference system"))
    if suffix == ".cpg" and (len(data) > 64 or not re.fullmatch(rb"\s*[A-Za-z0-9_\-. ]*\s*", data)):
        raise _refuse(source, _("the .cpg part is not an encoding name"))


def _unpack_shapefile_zip(path: Path, folder: Path, source: str, max_unzipped: int) -> Path:
    """The zip's one Shapefile written to `folder` as site.* (our names); every member checked."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _refuse(source, _("cannot be read as a zip archive")) from exc
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        total = sum(m.file_size for m in members)
        if total > max_unzipped or total > max(path.stat().st_size, 1) * MAX_UNZIP_RATIO:
            raise _refuse(source, _("unpacks to %(size)d bytes, more than allowed") % {"size": total})
        parts: dict[str, zipfile.ZipInfo] = {}
        for member in members:
            name = PurePosixPath(member.filename.replace("\\", "/"))
            suffix = name.suffix.lower()
            if (member.external_attr >> 16) & 0o170000 == 0o120000:
                raise _references_refused(source)
            if name.name.startswith("._") or "__MACOSX" in name.parts:
                continue  # macOS resource forks: ignored, never opened
            if suffix not in SHAPEFILE_PARTS:
                raise _refuse(
                    source,
                    _("contains %(member)s; a zipped Shapefile may hold only %(parts)s files")
                    % {"member": name.name[:80], "parts": " ".join(SHAPEFILE_PARTS)},
                )
            if suffix in parts:
                raise _refuse(source, _("holds more than one Shapefile; zip one Shapefile per file"))
            parts[suffix] = member
        missing = [s for s in (".shp", ".shx", ".dbf") if s not in parts]
        if missing:
            raise _refuse(source, _("is missing the Shapefile part(s) %(parts)s") % {"parts": " ".join(missing)})
        stems = {PurePosixPath(m.filename.replace("\\", "/")).stem.lower() for m in parts.values()}
        if len(stems) != 1:
            raise _refuse(source, _("holds parts of different Shapefiles: %(names)s") % {"names": ", ".join(sorted(stems))[:200]})
        for suffix, member in parts.items():
            try:
                data = archive.read(member)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:  # corrupt, encrypted, unknown method
                raise _refuse(source, _("cannot be unpacked")) from exc
            _check_shapefile_part(suffix, data, source)
            if suffix in (".prj", ".cpg"):
                _check_no_references(data, source)
            (folder / f"site{suffix}").write_bytes(data)
    return folder / "site.shp"


def format_of(path: Path, *, source: str, accepted: frozenset[str] | None = None) -> str:
    kind = FORMAT_BY_SUFFIX.get(path.suffix.lower())
    if kind is None or (accepted is not None and kind not in accepted):
        suffixes = sorted(s for s, k in FORMAT_BY_SUFFIX.items() if accepted is None or k in accepted)
        raise _refuse(source, _("unsupported file type %(suffix)s; accepted: %(accepted)s") % {"suffix": path.suffix or "—", "accepted": " ".join(suffixes)})
    return kind


@dataclass(frozen=True)
class Checked:
    """A file GDAL may open: its path (a fresh copy for zips) and the drivers allowed to open it."""

    path: Path
    drivers: frozenset[str]
    source: str


@contextmanager
def checked_vector_file(
    path: Path, *, source: str | None = None, accepted: frozenset[str] | None = None, max_unzipped: int = MAX_UNZIPPED_BYTES
) -> Iterator[Checked]:
    """Refuses `path` unless its content is what its extension says and references nothing;
    yields what GDAL may open. Call before any GDAL open; raises SpatialInputError."""
    source = source or path.name
    kind = format_of(path, source=source, accepted=accepted)
    gdal_lockdown()
    if kind == "shapefile_zip":
        with tempfile.TemporaryDirectory(prefix="onemap-zip-") as folder:
            yield Checked(_unpack_shapefile_zip(path, Path(folder), source, max_unzipped), DRIVERS_BY_FORMAT[kind], source)
        return
    if kind == "gpkg":
        _check_gpkg(path, source)
        _check_no_references(path.read_bytes(), source)
    elif kind == "shapefile":
        with open(path, "rb") as fh:
            _check_shapefile_part(".shp", fh.read(4), source)
        for sidecar in (".prj", ".cpg"):
            side = path.with_suffix(sidecar)
            if side.exists():
                data = side.read_bytes()
                _check_shapefile_part(sidecar, data, source)
                _check_no_references(data, source)
    else:
        data = path.read_bytes()
        _check_no_references(data, source)
        {"json": _check_json, "kml": _check_kml, "csv": _check_csv}[kind](data, source)
    yield Checked(path, DRIVERS_BY_FORMAT[kind], source)


def expect_driver(driver: str | None, checked: Checked) -> None:
    """After GDAL opened the file: the driver it used must be one the extension promised."""
    if driver not in checked.drivers:
        raise _refuse(checked.source, _("was read as %(driver)s, not as the format its extension says") % {"driver": driver or "?"})
