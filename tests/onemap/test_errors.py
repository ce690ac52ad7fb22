"""Bodies that are too large or malformed get a 413/400 with a message, JSON under /api/, no traceback
logged (issue 9 item 12). While the database is down, a 503 with Retry-After: a page, JSON for
/api/, an empty body for /tiles/, and the login page too. It is tested against a real outage:
the server's only path to PostgreSQL is a TCP relay that the test closes.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from urllib.parse import urlencode

import pytest
from django.test import Client

LIMIT = 4096
API_POSTS = ["/api/site/check/", "/api/overlap/", "/api/site/preview/", "/api/applications/1/actions/"]


@pytest.fixture
def small_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT


@pytest.fixture
def applicant(db, divisions) -> Client:
    from django.contrib.auth import get_user_model

    from data import demo

    demo.load_accounts()
    client = Client()
    client.force_login(get_user_model().objects.get(username="applicant"))
    return client


def assert_nothing_logged_at_error(caplog) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [(r.name, r.getMessage()) for r in bad]


@pytest.mark.parametrize("path", API_POSTS)
@pytest.mark.parametrize("method", ["post", "put"])
def test_oversized_api_body_is_a_json_413(applicant, small_limit, caplog, path, method):
    body = json.dumps({"type": "Point", "coordinates": [114.0, 30.0], "pad": "x" * LIMIT})
    response = getattr(applicant, method)(path, body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": f"The request body is larger than the limit of {LIMIT} bytes."}
    assert_nothing_logged_at_error(caplog)


def test_oversized_api_body_is_refused_before_login_too(db, small_limit, caplog):
    response = Client().post("/api/overlap/", "[" * (LIMIT + 1), content_type="application/json")
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert_nothing_logged_at_error(caplog)


def test_body_just_under_the_limit_reaches_the_view(applicant, small_limit):
    body = json.dumps({"type": "Point", "coordinates": [114.0, 30.0]})
    body += " " * (LIMIT - len(body))
    response = applicant.post("/api/site/check/", body, content_type="application/json")
    assert response.status_code == 400  # the view's own refusal (a point is not a site), not the size
    assert "larger than the limit" not in response.json()["detail"]


MALFORMED = [b"{", b'{"type": }', b"[1, 2", b"\xff\xfe\x00{", b'{"type": "Polygon", "coordinates": NaN}', b"{'type': 'Point'}", b"\x00" * 10]


@pytest.mark.parametrize("path", ["/api/site/check/", "/api/overlap/"])
@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_json_is_a_json_400(applicant, caplog, path, body):
    response = applicant.post(path, body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]
    assert_nothing_logged_at_error(caplog)


def test_oversized_form_is_a_413_page(db, small_limit, caplog):
    client = Client()
    response = client.post("/accounts/login/", {"username": "x" * LIMIT, "password": "y"})
    assert response.status_code == 413
    assert b"Request too large" in response.content
    assert f"{LIMIT} bytes".encode() in response.content
    # A multipart form whose text fields exceed the limit (files do not count): the same.
    response = client.post("/applications/new/", {"title": "x" * (LIMIT + 10)})
    assert response.status_code == 413
    assert_nothing_logged_at_error(caplog)


def test_too_many_form_fields_and_bad_lengths_are_400(db, caplog, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    client = Client()
    response = client.post("/accounts/login/", {f"f{i}": "1" for i in range(60)})
    assert response.status_code == 400
    assert b"too many fields" in response.content
    for length in ["12abc", "-1", "0x10", " "]:
        response = client.post("/api/overlap/", b"{}", content_type="application/json", CONTENT_LENGTH=length)
        assert response.status_code == 400, length
        assert response.json() == {"detail": "The Content-Length header is not a number."}
    response = client.post("/accounts/login/", b"--xx\r\nbroken", content_type="multipart/form-data; boundary=")
    assert response.status_code == 400
    assert_nothing_logged_at_error(caplog)


class Relay(threading.Thread):
    """A TCP relay to PostgreSQL: the server under test reaches the database only through it,
    so closing it is a real outage (connections reset, new ones refused)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        super().__init__(daemon=True)
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    def run(self) -> None:
        while True:
            try:
                client, _addr = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            with self.lock:
                self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    @staticmethod
    def pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        # shutdown() wakes the thread blocked in accept(); close() alone would leave it listening.
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()


def test_database_outage_answers_503_with_retry_after_and_recovers(transactional_db, onemap, users, serve):
    from django.conf import settings
    from django.db import connection

    from tests.onemap.conftest import db_url

    d = connection.settings_dict
    relay = Relay((d["HOST"] or "127.0.0.1", int(d["PORT"])))
    relay.start()
    served = serve(database_url=db_url(port=relay.port))
    logged_in = Client()
    logged_in.force_login(users["reviewer_jiayu"])
    # English pages, as the assertions read them (zh-hans is the default)
    session = f"{settings.SESSION_COOKIE_NAME}={logged_in.cookies[settings.SESSION_COOKIE_NAME].value}; {settings.LANGUAGE_COOKIE_NAME}=en"
    tile = f"/tiles/permanent-farmland/v{onemap['permanent-farmland'].version}/14/13376/6838.pbf"
    # A browser that holds a session: every request reads it from the database.
    pages = {"/": "html", "/applications/": "html", "/accounts/login/": "html", "/admin/": "html", "/api/layers/": "json",
             "/api/applications/": "json", tile: "tile"}
    for path in pages:
        assert served.get(path, cookie=session)[0] in {200, 204, 302}, path  # up; worker threads hold connections
    status, headers, body = served.get("/accounts/login/")
    csrf = headers["Set-Cookie"].split("csrftoken=")[1].split(";")[0]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    login = urlencode({"csrfmiddlewaretoken": token, "username": "reviewer_jiayu", "password": "wrong"}).encode()

    relay.close()
    for _round in range(2):  # the first hits a dead kept connection, the second a refused new one
        for path, kind in pages.items():
            status, headers, body = served.get(path, cookie=session)
            assert status == 503, (path, status, body[:300])
            assert headers["Retry-After"] == "30"
            if kind == "json":
                assert headers["Content-Type"] == "application/json"
                assert "database cannot be reached" in json.loads(body)["detail"]
            elif kind == "tile":
                assert body == b""
            else:
                assert headers["Content-Type"].startswith("text/html")
                assert "服务暂不可用".encode() in body or b"Service unavailable" in body
                assert b"Traceback" not in body
        # Logging in needs the database: 503 too, not a bare 500.
        status, headers, body = served.get("/accounts/login/", cookie=f"csrftoken={csrf}", data=login,
                                           headers={"Referer": served.base + "/accounts/login/"})
        assert status == 503, body[:300]
        assert headers["Retry-After"] == "30"

    # The database comes back (a relay on the same port): the next request reconnects.
    revived = Relay((d["HOST"] or "127.0.0.1", int(d["PORT"])))
    revived.listener.close()
    revived.listener = socket.create_server(("127.0.0.1", relay.port))
    revived.port = relay.port
    revived.start()
    try:
        for path in pages:
            assert served.get(path, cookie=session)[0] in {200, 204, 302}, path
    finally:
        revived.close()
