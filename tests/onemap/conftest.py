"""A real gunicorn (onemap/gunicorn.conf.py) serving the test database from a subprocess.

The server is a separate process with its own connections, so it sees only committed data. Tests
that use it request `transactional_db`, so their rows are committed. Its DATABASE_URL is built
from the test connection's settings. `db_url(port=…)` can point it at a closed port instead.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def db_url(*, port: int | None = None) -> str:
    """The test database as the server reaches it in production: as the app role (README "Database
    roles"), which owns nothing and has only the grants that migrate gave it."""
    from django.conf import settings
    from django.db import connection

    d = {**connection.settings_dict, **getattr(settings, "ONEMAP_APP_DATABASE", {})}
    auth = quote(d["USER"] or "", safe="") + (":" + quote(d["PASSWORD"], safe="") if d.get("PASSWORD") else "")
    return f"postgis://{auth}@{d['HOST'] or '127.0.0.1'}:{port or d['PORT']}/{connection.settings_dict['NAME']}"


@dataclass
class Served:
    base: str
    process: subprocess.Popen
    log: Path

    def get(self, path: str, *, cookie: str = "", timeout: float = 30, data: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """GET, or POST when data is given (urllib's rule). Redirects are returned, not followed."""
        all_headers = {**({"Cookie": cookie} if cookie else {}), **(headers or {})}
        request = urllib.request.Request(self.base + path, data=data, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


urllib.request.install_opener(urllib.request.build_opener(NoRedirect))


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> Path:
    """collectstatic once: with DEBUG=0 the pages need the manifest that `make run` builds."""
    root = tmp_path_factory.mktemp("static")
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT,
                   env={**os.environ, "STATIC_ROOT": str(root)}, check=True, timeout=300)
    return root


@pytest.fixture
def serve(static_root, tmp_path) -> Iterator:
    """serve(**env) starts gunicorn with DEBUG=0 and returns a Served; serve(..., wait=False)
    returns as soon as the process exits or answers (for the refusal test)."""
    started: list[subprocess.Popen] = []

    def start(*, database_url: str | None = None, wait: bool = True, **env: str) -> Served:
        port = free_port()
        log = tmp_path / f"gunicorn-{port}.log"
        full_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "onemap.settings",
            "DATABASE_URL": database_url or db_url(),
            "DEBUG": "0",
            "ONEMAP_DEMO": "1",
            "STATIC_ROOT": str(static_root),
            "TILE_CACHE_DIR": str(tmp_path / f"tiles-{port}"),
            "WEB_BIND": f"127.0.0.1:{port}",
            **env,
        }
        # Set by tests/conftest.py for Playwright; a real server keeps Django's async safety.
        for name in ("ONEMAP_TEST_DB", "DJANGO_ALLOW_ASYNC_UNSAFE"):
            full_env.pop(name, None)
        process = subprocess.Popen(
            [str(GUNICORN), "-c", "onemap/gunicorn.conf.py", "onemap.wsgi:application"],
            cwd=ROOT, env=full_env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        )
        started.append(process)
        served = Served(base=f"http://127.0.0.1:{port}", process=process, log=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        if wait and process.poll() is not None:
            raise AssertionError(f"gunicorn exited {process.returncode}:\n{log.read_text()}")
        return served

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
