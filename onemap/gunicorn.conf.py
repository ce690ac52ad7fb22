"""gunicorn settings for `make run` and production: `gunicorn -c onemap/gunicorn.conf.py onemap.wsgi`.

Bounded on purpose. Each worker runs WEB_THREADS threads. Each thread keeps at most one PostgreSQL
connection (CONN_MAX_AGE), so the server can never hold more than WEB_WORKERS × WEB_THREADS
connections, plus WEB_THREADS for a worker that is being replaced. Requests beyond that wait in
the listen backlog; they do not open more connections. At startup, before any worker forks,
`on_starting` checks this figure against PostgreSQL's max_connections and refuses to start if it
does not fit (see README "Serving").
"""

from __future__ import annotations

import os

import gunicorn.http.wsgi


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, "") or default)


# The machine has 2 cores: 2 processes × 4 threads keeps both busy while some threads wait on
# PostgreSQL, and stays far below max_connections (8 of 50).
workers = _int("WEB_WORKERS", 2)
threads = _int("WEB_THREADS", 4)
worker_class = "gthread"
bind = os.environ.get("WEB_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
# Connections waiting for a free thread. A burst queues here rather than opening more DB connections.
backlog = _int("WEB_BACKLOG", 2048)
# A worker that stops answering its arbiter for this long is killed and replaced. Statement time
# in PostgreSQL has its own bound (statement_timeout), which keeps a request from getting this far.
timeout = _int("WEB_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then: GDAL/GEOS keep caches that grow; jitter avoids recycling all at once.
max_requests = _int("WEB_MAX_REQUESTS", 2000)
max_requests_jitter = 200
# Smaller request lines and header blocks than HTTP allows. OneMap's URLs are short.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

accesslog = os.environ.get("WEB_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("WEB_LOG_LEVEL", "info")
# Client, time, request line, status, bytes and duration in µs. No cookies and no query strings
# beyond the request line, so the log holds no session ids.
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(D)sus'
proc_name = "onemap"
# gunicorn ≥ 25 opens a control socket in $HOME by default. Through it the worker count can be
# changed at runtime, past the connection budget checked below, and two servers on one machine would
# share its path. The pool is sized here instead.
control_socket_disable = True
# The application is loaded once in the master, then forked (copy-on-write of GDAL, Django, numpy).
preload_app = True

# gunicorn writes `Server: gunicorn` into every response. It names no version, but a reverse proxy
# or a scanner learns nothing useful from a product name either, so the header says only "OneMap".
# gunicorn reads this module global each time it builds a response.
gunicorn.http.wsgi.SERVER = "OneMap"


def on_starting(server) -> None:
    """Refuse to start on a deployment that is unsafe to serve.

    That means: accounts with the published demo password while DEBUG=0 (unless ONEMAP_DEMO=1),
    or a worker pool that could open more connections than PostgreSQL accepts.
    """
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onemap.settings")
    django.setup()
    from django.db import DatabaseError, connections

    from onemap.checks import startup_problems

    try:
        problems = startup_problems(workers=server.cfg.workers, threads=server.cfg.threads)
    except DatabaseError as exc:
        # Fail closed: without the database the checks cannot run. A supervisor restarts the server
        # once PostgreSQL is up. A running server that loses the database answers 503 instead.
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        problems = [f"the database cannot be reached, so the startup checks cannot run: {first_line}"]
    finally:
        # The master must not hand an open database socket to the workers it forks.
        connections.close_all()
    if problems:
        for problem in problems:
            server.log.error("%s", problem)
        raise SystemExit(3)
