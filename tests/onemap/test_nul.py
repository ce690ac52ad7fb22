"""A NUL character in a query string or form field is refused with a 400 before any view runs
(PostgreSQL refuses NUL in text, so it used to end as a 500 in the hall's forms)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("who", "method", "url", "data"), [
    (None, "post", "/query/", {"number": "421221-2026-000001", "code": "a\x00b"}),
    (None, "post", "/hall/kiosk/rate/", {"event": "1", "stars": "3", "comment": "a\x00b"}),
    (None, "post", "/hall/rate/1/", {"stars": "5", "comment": "a\x00"}),
    (None, "get", "/hall/rankings/?period=%00", None),
    ("applicant", "post", "/hall/appointments/book/", {"slot": "1", "window": "jiayu-land", "note": "x\x00y"}),
    ("applicant", "post", "/hall/appointments/book/", {"slot": "1", "window": "jiayu-land\x00"}),
    ("head_jiayu", "post", "/hall/follow-ups/1/verify/", {"text": "a\x00b"}),
    ("clerk_jiayu", "post", "/hall/appointments/1/link/", {"reference": "a\x00"}),
    ("applicant", "get", "/applications/?status=%00", None),
])
def test_nul_in_a_field_is_a_400(users, client_as, who, method, url, data):
    client = client_as(who) if who else Client()
    response = getattr(client, method)(url, data) if data is not None else client.get(url)
    assert response.status_code == 400
    assert b"NUL" in response.content


def test_ordinary_fields_pass(users, client_as):
    assert client_as("applicant").get("/hall/rankings/?period=year").status_code == 200
