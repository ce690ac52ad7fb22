"""OneMap benchmarks (issue #3): import throughput, overlap report, vector tiles — each against a
baseline measured in the same run, on one reused database connection, results uncached.

    .venv/bin/python -m tests.bench.run [--total 1000000] [--repeat 7] [--import-repeat 1] [--skip-import]

Runs in a dedicated database (`onemap_bench` on the project-local cluster, or BENCH_DATABASE_URL),
never in the demo database. The synthetic layers come from tests/bench/synthetic.py and are cached
in .local/bench/. Prints a table of medians and ratios and the command to reproduce it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOCAL = REPO / ".local"


def _bench_database_url() -> str:
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    port = (LOCAL / "db_port").read_text().strip() if (LOCAL / "db_port").exists() else "54329"
    return f"postgis://onemap@127.0.0.1:{port}/onemap_bench"


def _ensure_database(url: str) -> None:
    import dj_database_url
    import psycopg2

    cfg = dj_database_url.parse(url)
    admin = psycopg2.connect(host=cfg["HOST"], port=cfg["PORT"], user=cfg["USER"], password=cfg["PASSWORD"] or None, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    admin.close()


def median_ms(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7, help="runs per timed query (median reported)")
    parser.add_argument("--import-repeat", type=int, default=1)
    parser.add_argument("--skip-import", action="store_true", help="reuse the layers already in the bench database")
    parser.add_argument("--only", choices=["import", "overlap", "tiles"], help="run one part only")
    args = parser.parse_args(argv)

    url = _bench_database_url()
    _ensure_database(url)
    os.environ["DATABASE_URL"] = url
    # A benchmark is an operator's job, not a request: no statement timeout (VACUUM of 1M zones, migrate)
    os.environ.setdefault("ONEMAP_STATEMENT_TIMEOUT", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onemap.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)

    from tests.bench import synthetic

    data_file = LOCAL / "bench" / f"jiayu_{args.total}.gpkg"
    if not data_file.exists():
        data_file.parent.mkdir(parents=True, exist_ok=True)
        synthetic.write_bench_layers(synthetic.generate_bench_layers(args.total), data_file)
    rows: list[tuple[str, str, str, str]] = []
    names = list(synthetic.layer_sizes(args.total))

    if not args.skip_import and args.only in (None, "import"):
        rows += bench_import(data_file, names, args.import_repeat, connection, url)
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE parcels_zone")
    if args.only in (None, "overlap"):
        rows += bench_overlap(data_file, names, args.repeat, synthetic)
    if args.only in (None, "tiles"):
        rows += bench_tiles(args.repeat, synthetic)

    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'measurement'.ljust(width)}  {'OneMap':>14}  {'baseline':>14}  {'ratio':>8}")
    for name, ours, base, ratio in rows:
        print(f"{name.ljust(width)}  {ours:>14}  {base:>14}  {ratio:>8}")
    print()
    print("reproduce: .venv/bin/python -m tests.bench.run " + shlex.join(sys.argv[1:] if argv is None else argv))
    return 0


def bench_import(data_file: Path, names: list[str], repeat: int, connection, url: str) -> list[tuple[str, str, str, str]]:
    import dj_database_url
    from django.db import transaction

    from parcels.importers.vector import read_vector
    from parcels.models import Layer
    from parcels.services import layer_import

    cfg = dj_database_url.parse(url)
    pg = f"PG:host={cfg['HOST']} port={cfg['PORT']} user={cfg['USER']} dbname={cfg['NAME']}"
    total = 0
    ogr_runs, our_runs = [], []
    for _ in range(repeat):
        with connection.cursor() as cur:
            cur.execute("DROP SCHEMA IF EXISTS ogrbench CASCADE; CREATE SCHEMA ogrbench")
        t = time.perf_counter()
        subprocess.run(
            ["ogr2ogr", "-f", "PostgreSQL", pg, str(data_file), "-lco", "SCHEMA=ogrbench", "-lco", "GEOMETRY_NAME=geom",
             "-lco", "SPATIAL_INDEX=GIST", "-nlt", "MULTIPOLYGON", "-overwrite", "--config", "PG_USE_COPY", "YES"],
            check=True,
        )
        ogr_runs.append(time.perf_counter() - t)
        with connection.cursor() as cur:
            cur.execute("TRUNCATE parcels_zone, parcels_layerversion RESTART IDENTITY CASCADE")
        t = time.perf_counter()
        total = 0
        for name in names:
            data = read_vector(data_file, layer=name)
            with transaction.atomic():
                layer, _ = Layer.objects.get_or_create(slug=name.replace("_", "-"), defaults={"name": name, "min_zoom": 12 if name == "bench_survey" else 0})
                summary = layer_import(layer=layer, data=data, source_name=f"{data_file.name}:{name}", progress=True)
            total += summary.imported
        our_runs.append(time.perf_counter() - t)
    ogr_s, our_s = statistics.median(ogr_runs), statistics.median(our_runs)
    print(f"import: ogr2ogr {ogr_s:.1f} s, OneMap {our_s:.1f} s for {total} polygons")
    return [
        (f"import {total:,} polygons (polygons/s)", f"{total / our_s:,.0f}", f"{total / ogr_s:,.0f}", f"{our_s / ogr_s:.2f}×"),
    ]


def baseline_overlap_sql(site_ewkb: bytes, version_ids: list[int]) -> list[tuple]:
    """The plain hand-written query: GiST ST_Intersects, ST_Intersection, ellipsoidal ST_Area, grouped."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT z.layer_version_id, z.class_code, count(*), sum(ST_Area(ST_Intersection(z.geom, s.g)::geography, true))
            FROM parcels_zone z, (SELECT ST_GeomFromEWKB(%s) AS g) s
            WHERE z.layer_version_id = ANY(%s) AND ST_Intersects(z.geom, s.g)
            GROUP BY 1, 2
            """,
            [site_ewkb, version_ids],
        )
        return cur.fetchall()


def bench_overlap(data_file: Path, names: list[str], repeat: int, synthetic) -> list[tuple[str, str, str, str]]:
    import geopandas as gpd
    import shapely
    from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
    from pyproj import Geod

    from parcels.models import LayerVersion
    from parcels.overlap import overlap_analyse

    geod = Geod(ellps="GRS80")
    frames = {n: gpd.read_file(data_file, layer=n) for n in names}
    for f in frames.values():
        f.sindex  # noqa: B018 -- build the spatial index before timing ("data already in memory")
    version_ids = list(LayerVersion.objects.filter(is_active=True).values_list("id", flat=True))
    centre = synthetic.densest_point()
    rows = []
    for ha in (5, 50, 500):
        shape = synthetic.site_polygon(ha, centre)
        site = MultiPolygon(GEOSGeometry(memoryview(shape.wkb), srid=4490), srid=4490)
        ewkb = bytes(site.ewkb)

        def geopandas_report(shape=shape):
            out = {}
            for n, f in frames.items():
                idx = f.sindex.query(shape, predicate="intersects")
                pieces = shapely.intersection(f.geometry.values[idx], shape)
                areas = [abs(geod.geometry_area_perimeter(p)[0]) for p in pieces]
                codes = f["class_code"].values[idx]
                for c, a in zip(codes, areas, strict=True):
                    out[(n, c)] = out.get((n, c), 0.0) + a
            return out

        # interleave the three methods so machine noise hits them alike
        ours_t, base_t, gpd_t = [], [], []
        for _ in range(repeat):
            t = time.perf_counter()
            report = overlap_analyse(site=site, pieces=False).report
            ours_t.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            base = baseline_overlap_sql(ewkb, version_ids)
            base_t.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            gp = geopandas_report()
            gpd_t.append((time.perf_counter() - t) * 1000)
        ours, basel, geop = statistics.median(ours_t), statistics.median(base_t), statistics.median(gpd_t)
        hits = sum(r[2] for r in base)
        # the three must agree before their times mean anything
        ours_total = sum(c["area_m2"] for lr in report["layers"] for c in lr["classes"])
        base_total = sum(r[3] for r in base)
        gp_total = sum(gp.values())
        print(f"{ha} ha: {hits} zone hits; totals OneMap {ours_total:.1f} m², SQL {base_total:.1f} m², geopandas {gp_total:.1f} m²")
        assert abs(ours_total - base_total) <= max(1.0, 1e-6 * base_total), "OneMap and SQL disagree"
        rows.append((f"overlap {ha} ha site, all layers ({hits} hits), vs SQL", f"{ours:.1f} ms", f"{basel:.1f} ms", f"{ours / basel:.2f}×"))
        rows.append((f"overlap {ha} ha site, vs geopandas (in memory)", f"{ours:.1f} ms", f"{geop:.1f} ms", f"{ours / geop:.2f}×"))
    return rows


def raw_tile_sql(version_id: int, z: int, x: int, y: int) -> bytes:
    """The plain tile query on the raw layer: every zone, projected to Web Mercator, 4096 grid."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT ST_AsMVT(t, 'zones', 4096, 'geom', 'id') FROM (
                SELECT z.id, z.class_code, z.class_name, round(z.area_m2::numeric, 1) AS area_m2,
                       ST_AsMVTGeom(ST_Transform(z.geom, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4096, 16, true) AS geom
                FROM parcels_zone z
                WHERE z.layer_version_id = %(v)s AND z.geom && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4490)
            ) t WHERE t.geom IS NOT NULL
            """,
            {"z": z, "x": x, "y": y, "v": version_id},
        )
        return bytes(cur.fetchone()[0] or b"")


def bench_tiles(repeat: int, synthetic) -> list[tuple[str, str, str, str]]:
    import math

    from parcels.models import LayerVersion
    from parcels.sql import zone_tile
    from parcels.tiling import tile_extent

    lv = LayerVersion.objects.get(layer__slug="bench-survey", is_active=True)
    lon, lat = synthetic.densest_point()
    rows = []
    for z in (14, 12):
        n = 2**z
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        ours_t, raw_t, tile, raw_tile = [], [], b"", b""
        for _ in range(repeat):  # interleaved, uncached (no tile cache is involved at this level)
            t = time.perf_counter()
            tile = zone_tile(layer_version_id=lv.pk, z=z, x=x, y=y, extent=tile_extent(z))
            ours_t.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            raw_tile = raw_tile_sql(lv.pk, z, x, y)
            raw_t.append((time.perf_counter() - t) * 1000)
        ours, raw = statistics.median(ours_t), statistics.median(raw_t)
        rows.append((f"tile z{z} densest, 600k layer vs raw-layer query", f"{ours:.0f} ms {len(tile) / 1024:.0f} KB", f"{raw:.0f} ms {len(raw_tile) / 1024:.0f} KB", f"{ours / raw:.2f}×"))
    return rows


if __name__ == "__main__":
    sys.exit(main())
