"""`make loadtest`: a burst of concurrent requests against a running OneMap (default the one
`make run` serves), with the peak of its database connections.

    .venv/bin/python onemap/bin/burst.py [--url http://127.0.0.1:8000] [--requests 200] [--waves 4]

Each wave sends --requests requests at once: map tiles of every public layer around the Jiayu
county seat (zoom 14), the login page, the home page and the public API. Between waves it prints
the statuses. During the waves it samples pg_stat_activity for the app's database, using the
settings, as `manage.py` would. At the end every URL is fetched again, one by one. Exit status 1
on any 5xx or on a page that no longer answers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BOX = (113.86, 29.93, 113.98, 30.01)  # lon/lat around the Jiayu county seat (tests/conftest.py TEST_BOX)


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def fetch(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=120) as r:  # noqa: S310  (the URL is the operator's)
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0  # refused or reset: counted as a failure


def paths(base: str) -> list[str]:
    with urllib.request.urlopen(base + "/api/layers/", timeout=60) as r:  # noqa: S310
        layers = json.load(r)
    z = 14
    (x0, y1), (x1, y0) = tile_xy(BOX[0], BOX[1], z), tile_xy(BOX[2], BOX[3], z)
    tiles = [
        f"/tiles/{layer['slug']}/v{layer['active_version']['version']}/{z}/{x}/{y}.pbf"
        for layer in layers if layer.get("active_version")
        for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)
    ]
    bbox = ",".join(map(str, BOX))
    pages = ["/accounts/login/", "/", "/api/layers/"] + [f"/api/layers/{layer['slug']}/geojson/?in_bbox={bbox}&zoom=14" for layer in layers[:2]]
    return tiles + pages


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak: int | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onemap.settings")
            import django

            django.setup()
            from django.db import connection

            with connection.cursor() as cur:
                cur.execute("SELECT pg_backend_pid(), current_database()")
                own, name = cur.fetchone()
                self.peak = 0
                while not self.stop.is_set():
                    cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend' AND pid <> %s", [name, own])
                    self.peak = max(self.peak, cur.fetchone()[0])
                    time.sleep(0.02)
        except Exception as exc:  # the burst is still worth running without the database figure
            print(f"(no connection figures: {exc})", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--waves", type=int, default=4)
    args = parser.parse_args()
    base = args.url.rstrip("/")
    urls = [base + p for p in paths(base)]
    sampler = Sampler()
    sampler.start()
    time.sleep(0.5)
    total: Counter[int] = Counter()
    for wave in range(1, args.waves + 1):
        batch = [urls[i % len(urls)] for i in range(args.requests)]
        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.requests) as pool:
            statuses = Counter(pool.map(fetch, batch))
        total += statuses
        print(f"wave {wave}: {args.requests} requests at once, {time.monotonic() - t0:.1f} s, statuses {dict(sorted(statuses.items()))}")
    sampler.stop.set()
    sampler.join(timeout=5)
    after = Counter(fetch(u) for u in sorted(set(urls)))
    print(f"total: {sum(total.values())} requests, statuses {dict(sorted(total.items()))}; "
          f"peak server connections {sampler.peak if sampler.peak is not None else 'n/a'}; "
          f"afterwards, one by one: {dict(sorted(after.items()))}")
    failed = any(s >= 500 or s == 0 for s in total) or any(s >= 500 or s == 0 for s in after)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
