"""The production server under `make run`: gunicorn with a bounded pool, against a real PostGIS.

Issue 9 item 4: runserver with CONN_MAX_AGE kept one connection per request thread, and 160
concurrent tile requests exhausted PostgreSQL's 50 connections. After that every URL answered
500. Here 200 requests arrive at once. Meanwhile pg_stat_activity is sampled, and afterwards every
page must still answer.
"""

from __future__ import annotations

import math
import re
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.test import Client

from data import demo
from onemap.checks import RESERVED_CONNECTIONS, connection_budget_problem, max_connections
from tests.conftest import TEST_BOX

WORKERS, THREADS = 2, 4  # onemap/gunicorn.conf.py defaults
PBKDF2 = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


class ConnectionSampler(threading.Thread):
    """Counts the client connections to the test database every 20 ms (excluding this test's own)."""

    def __init__(self, exclude_pids: set[int]) -> None:
        super().__init__(daemon=True)
        d = connection.settings_dict
        self.conn = psycopg2.connect(dbname=d["NAME"], user=d["USER"], password=d["PASSWORD"] or None, host=d["HOST"], port=d["PORT"])
        self.conn.autocommit = True
        self.exclude = exclude_pids | {self.conn.get_backend_pid()}
        self.peak = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        with self.conn.cursor() as cur:
            while not self.stopping.is_set():
                cur.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend' AND pid <> ALL(%s)",
                    [connection.settings_dict["NAME"], list(self.exclude)],
                )
                self.peak = max(self.peak, cur.fetchone()[0])
                time.sleep(0.02)

    def stop(self) -> int:
        self.stopping.set()
        self.join(timeout=5)
        self.conn.close()
        return self.peak


def test_burst_of_200_concurrent_requests_keeps_connections_bounded_and_every_page_answers(transactional_db, onemap, users, serve):
    served = serve()
    reviewer = session_cookie(users["reviewer_jiayu"])
    applicant = session_cookie(users["applicant"])
    z = 14
    (x0, y1), (x1, y0) = tile_xy(TEST_BOX[0], TEST_BOX[1], z), tile_xy(TEST_BOX[2], TEST_BOX[3], z)
    tiles = [
        f"/tiles/{slug}/v{version.version}/{z}/{x}/{y}.pbf"
        for slug, version in onemap.items() for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)
    ]
    bbox = ",".join(str(v) for v in TEST_BOX)
    pages = [
        ("/accounts/login/", ""), ("/", ""), ("/api/layers/", ""),
        (f"/api/layers/permanent-farmland/geojson/?in_bbox={bbox}&zoom=14", ""),
        ("/applications/", reviewer), ("/api/applications/", reviewer), ("/api/applications/?queue=1", reviewer),
        ("/applications/", applicant), ("/dashboard/", reviewer), ("/inbox/", applicant),
    ]
    burst = [(tiles[i % len(tiles)], reviewer) for i in range(120)] + [pages[i % len(pages)] for i in range(80)]
    assert len(burst) == 200

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        own_pid = cur.fetchone()[0]
    sampler = ConnectionSampler({own_pid})
    sampler.start()
    start = threading.Barrier(len(burst))

    def fire(item: tuple[str, str]) -> tuple[str, int, float]:
        path, cookie = item
        start.wait(timeout=60)
        t0 = time.monotonic()
        status, _headers, _body = served.get(path, cookie=cookie, timeout=120)
        return path, status, time.monotonic() - t0

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(burst)) as pool:
        results = list(pool.map(fire, burst))
    elapsed = time.monotonic() - t0
    peak = sampler.stop()

    statuses = Counter(status for _path, status, _t in results)
    slowest = max(t for _p, _s, t in results)
    print(f"\nburst: {len(burst)} requests, concurrency {len(burst)}, {elapsed:.1f} s, slowest {slowest:.1f} s, "
          f"statuses {dict(sorted(statuses.items()))}, peak server connections {peak} "
          f"(pool {WORKERS}×{THREADS}, max_connections {max_connections()})")
    server_errors = [(p, s) for p, s, _t in results if s >= 500]
    assert not server_errors, server_errors[:10]
    assert set(statuses) <= {200, 204, 302}, statuses
    # Every thread keeps at most one connection: the burst queues, it does not open more.
    assert 1 <= peak <= WORKERS * THREADS, peak

    # Afterwards every page still answers, one by one.
    for path, cookie in [*pages, (tiles[0], reviewer)]:
        status, _headers, _body = served.get(path, cookie=cookie)
        assert status in {200, 204, 302}, (path, status)
    assert re.search(rb'"GET /tiles/\S+ HTTP/1.1" (200|204) ', served.log.read_bytes()), "access log line"
    assert b"Control socket" not in served.log.read_bytes(), "no runtime resizing past the connection budget"


def test_server_header_names_no_software_or_version(transactional_db, serve):
    served = serve()
    status, headers, body = served.get("/accounts/login/")
    assert status == 200, body[:500]
    assert headers["Server"] == "OneMap"
    assert not re.search(r"CPython|Python/|gunicorn|WSGIServer|\d+\.\d+", str(headers)), headers
    # Access log: address, request line, status, duration; no cookies.
    # gunicorn writes the access line after the response is sent: under load it can lag a moment
    lines: list[str] = []
    for _ in range(50):
        lines = [ln for ln in served.log.read_text().splitlines() if "GET /accounts/login/" in ln]
        if lines:
            break
        time.sleep(0.1)
    assert lines, "access log line"
    line = lines[0]
    assert re.search(r'^127\.0\.0\.1 \[.+\] "GET /accounts/login/ HTTP/1.1" 200 \d+ \d+us$', line), line


def test_pool_larger_than_max_connections_is_refused(db):
    limit = max_connections()
    assert connection_budget_problem(workers=WORKERS, threads=THREADS) is None
    too_many = connection_budget_problem(workers=limit, threads=4)
    assert too_many is not None
    assert f"max_connections is {limit}" in too_many
    # The formula at the edge: (workers + 1) × threads + reserved ≤ max_connections.
    threads = 1
    workers = limit - RESERVED_CONNECTIONS - 1
    assert connection_budget_problem(workers=workers, threads=threads) is None
    assert connection_budget_problem(workers=workers + 1, threads=threads) is not None


def test_gunicorn_refuses_a_pool_that_does_not_fit(transactional_db, serve):
    served = serve(wait=False, WEB_WORKERS="20", WEB_THREADS="8")
    assert served.process.wait(timeout=60) != 0
    assert "max_connections" in served.log.read_text()


def test_gunicorn_refuses_to_start_without_the_database(db, serve):
    from tests.onemap.conftest import db_url, free_port

    served = serve(wait=False, database_url=db_url(port=free_port()))
    assert served.process.wait(timeout=60) == 3
    log = served.log.read_text()
    assert "the database cannot be reached" in log
    assert "Traceback" not in log


@pytest.fixture
def demo_accounts_real_hash(settings, divisions):
    """Demo accounts hashed with the production hasher (PBKDF2), as `make demo` stores them:
    the server process checks passwords with its own settings, which do not know the tests' MD5."""
    settings.PASSWORD_HASHERS = PBKDF2
    demo.load_accounts()


def test_demo_accounts_exist_only_when_the_demo_is_loaded(db):
    from django.contrib.auth import get_user_model

    names = [a.username for a in demo.DEMO_ACCOUNTS]
    assert not get_user_model().objects.filter(username__in=names).exists(), "migrations must not create demo accounts"
    demo.load_divisions()
    demo.load_accounts()
    assert get_user_model().objects.filter(username__in=names).count() == len(names)


def test_refuses_to_start_with_debug_off_while_a_demo_password_is_set(transactional_db, demo_accounts_real_hash, serve):
    refused = serve(wait=False, ONEMAP_DEMO="")
    assert refused.process.wait(timeout=60) == 3, refused.log.read_text()
    log = refused.log.read_text()
    assert "published demo password" in log, log
    assert "admin" in log
    assert f"{len(demo.DEMO_ACCOUNTS)} active account(s)" in log
    assert "ONEMAP_DEMO=1" in log

    # ONEMAP_DEMO=1 (what `make run` sets): serving the demo on purpose.
    demo_server = serve(ONEMAP_DEMO="1")
    assert demo_server.get("/accounts/login/")[0] == 200


def test_starts_once_the_demo_passwords_are_changed(transactional_db, demo_accounts_real_hash, serve):
    from django.contrib.auth import get_user_model

    for user in get_user_model().objects.all():
        user.set_password(f"changed-{user.username}-Xq7")
        user.save()
    served = serve(ONEMAP_DEMO="")
    assert served.get("/accounts/login/")[0] == 200


def test_deploy_check_reports_demo_passwords(db, settings, monkeypatch):
    demo.load_divisions()
    demo.load_accounts()  # MD5 in tests: check_password still recognises it
    settings.DEBUG = False
    monkeypatch.delenv("ONEMAP_DEMO", raising=False)
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)  # set by tests/conftest.py for Playwright
    with pytest.raises(SystemCheckError, match=r"onemap\.E001.*published demo password"):
        call_command("check", "--deploy", "--database", "default", "--fail-level", "ERROR")
    monkeypatch.setenv("ONEMAP_DEMO", "1")
    call_command("check", "--deploy", "--database", "default", "--fail-level", "ERROR")


def test_make_run_serves_with_gunicorn_and_sets_onemap_demo():
    """`make -n run` prints the commands: gunicorn with the config, never runserver, ONEMAP_DEMO=1."""
    out = subprocess.run(["make", "-n", "-p", "run"], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=60).stdout
    run_lines = out[out.index("\nrun:"):]
    assert "gunicorn -c onemap/gunicorn.conf.py onemap.wsgi:application" in out
    assert "runserver" not in run_lines.split("\n\n")[0]
    assert re.search(r"^run: ONEMAP_DEMO := 1$", out, re.M), "make run sets ONEMAP_DEMO=1"
    assert re.search(r"^run: export ONEMAP_DEMO", (settings.BASE_DIR / "Makefile").read_text(), re.M), "and exports it"
