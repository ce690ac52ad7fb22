"""The public query (/query/): right answer, one answer for a wrong number and a wrong code, no
personal data, the rate limits (per address, in the database), hostile inputs never a 500."""

from __future__ import annotations

import datetime as dt
import re
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.test import Client

from approvals.choices import StepOutcome
from approvals.hall.access import query_granted
from approvals.hall.models import RateBucket, Receipt
from approvals.hall.services.ratelimit import rate_limit_hit
from approvals.hall.services.receipts import query_code_current
from approvals.services import application_resubmit, step_decide, window_accept, window_return
from approvals.workdays import TZ
from tests.factories import UserFactory, open_step, submit

NAME = "欧阳振华"
PHONE = "13987654321"
TITLE = "欧阳振华家宅基地翻建"
REVIEW_COMMENT = "审查意见：北侧邻里纠纷尚未调处"
RETURN_REASON = "身份证号码与户口簿不一致"
# Rate-limit tests start just after a minute begins, so their hits fall in one counting window.
MINUTE_START = dt.datetime(2026, 12, 3, 2, 0, 1, tzinfo=dt.UTC)


def _anon(address: str = "10.1.2.3") -> Client:
    client = Client(REMOTE_ADDR=address)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _accepted(users):
    app = submit(users["applicant"])
    return window_accept(application=app, by=users["clerk_jiayu"], ip="10.0.0.2")


@pytest.fixture
def seeded(users):
    """A case with personal data, a returned round, a reviewer's comment and a forwarding."""
    applicant = UserFactory(username="ouyang_zhenhua", first_name=NAME, last_name="", email="ouyang@example.cn")
    from approvals.models import Membership

    Membership.objects.create(user=applicant, role="applicant", division_id="421221")
    app = submit(applicant, title=TITLE, contact_phone=PHONE)
    window_return(application=app, by=users["clerk_jiayu"], reasons=[RETURN_REASON], ip="10.0.0.2")
    application_resubmit(application=app, by=applicant, title=TITLE, purpose=app.purpose, ip="10.0.0.7")
    window_accept(application=app, by=users["clerk_jiayu"], ip="10.0.0.2")
    step_decide(step=open_step(app), by=users["reviewer_jiayu"], outcome=StepOutcome.FORWARDED, comment=REVIEW_COMMENT, ip="10.0.0.3")
    app.refresh_from_db()
    return app


def _normalise(html: str) -> str:
    """The page without what differs per request (CSRF token, CSP nonce) or echoes the input."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    html = re.sub(r'nonce="[^"]*"', "", html)
    return re.sub(r'value="[^"]*"', "", html)


def test_form_without_login(db, users):
    response = _anon().get("/query/")
    assert response.status_code == 200
    assert 'id="query-form"' in response.content.decode()
    assert "hall/js/query.js" in response.content.decode()
    home = _anon().get("/hall/").content.decode()
    assert 'href="/query/"' in home


def test_right_answer_shows_the_public_state(users):
    app = _accepted(users)
    code = query_code_current(application=app)
    client = _anon()
    response = client.post("/query/", {"number": app.reference, "code": code.lower()})
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="query-result"' in text
    assert "In review" in text
    assert "Working days used" in text
    assert app.promised_due.astimezone(TZ).strftime("%Y-%m-%d") in text
    assert "Accepted at the window" in text
    assert "Window" in text
    assert 'id="query-services"' in text
    assert "running" in text
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert query_granted(_request_with(client), app.pk)


def _request_with(client: Client):
    class R:  # the session is all query_granted reads
        session = client.session
    return R()


def test_receipt_number_works_as_case_number(users):
    app = _accepted(users)
    receipt = Receipt.objects.get(application=app)
    response = _anon().post("/query/", {"number": receipt.number, "code": query_code_current(application=app)})
    assert 'id="query-result"' in response.content.decode()


def test_wrong_number_and_wrong_code_answer_alike(users):
    app = _accepted(users)
    code = query_code_current(application=app)
    wrong_code = ("Z" if code[0] != "Z" else "Y") + code[1:]
    with mock.patch("approvals.hall.selectors.query.check_password", wraps=check_password) as check:
        by_number = _anon("10.0.0.50").post("/query/", {"number": "421221-2026-999999", "code": code})
        by_code = _anon("10.0.0.51").post("/query/", {"number": app.reference, "code": wrong_code})
    # a password check either way: an unknown number takes as long as a wrong code
    assert check.call_count == 2
    assert by_number.status_code == by_code.status_code == 200
    assert _normalise(by_number.content.decode()) == _normalise(by_code.content.decode())
    assert "No case matches this number and query code" in by_code.content.decode()
    assert 'id="query-result"' not in by_code.content.decode()


def test_no_personal_data_names_or_comments(users, seeded):
    code = query_code_current(application=seeded)
    text = _anon().post("/query/", {"number": seeded.reference, "code": code}).content.decode()
    assert 'id="query-result"' in text
    for secret in (NAME, PHONE, TITLE, "ouyang", REVIEW_COMMENT, RETURN_REASON, "reviewer_jiayu", "clerk_jiayu", "李建国", "王红梅",
                   "10.0.0.2", "10.0.0.3", seeded.purpose):
        assert secret not in text, secret
    # the public timeline shows steps and dates
    assert "Returned by the window" in text
    assert "Approved and forwarded" in text
    assert "County" in text


@time_machine.travel(MINUTE_START, tick=True)
def test_query_rate_limited_per_address(users, settings):
    settings.ONEMAP_PUBLIC_QUERY_PER_MINUTE = 3
    client = _anon("10.7.7.7")
    for _ in range(3):
        assert client.post("/query/", {"number": "x", "code": "y"}).status_code == 200
    limited = client.post("/query/", {"number": "x", "code": "y"})
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert "Too many" in limited.content.decode()
    # another address is not affected
    assert _anon("10.7.7.8").post("/query/", {"number": "x", "code": "y"}).status_code == 200
    # the address is not stored, only a keyed hash
    assert not RateBucket.objects.filter(key__contains="10.7.7.7").exists()


@time_machine.travel(MINUTE_START, tick=True)
def test_page_rate_limited(users, settings):
    settings.ONEMAP_PUBLIC_PAGE_PER_MINUTE = 2
    client = _anon("10.8.8.8")
    assert client.get("/query/").status_code == 200
    assert client.get("/query/").status_code == 200
    assert client.get("/query/").status_code == 429
    assert _anon("10.8.8.9").get("/query/").status_code == 200


@time_machine.travel(MINUTE_START, tick=True)
def test_rate_limit_hit_counts_in_one_row(db):
    for _ in range(5):
        rate_limit_hit(scope="t", address="192.0.2.1", limit=10)
    assert RateBucket.objects.count() == 1
    assert RateBucket.objects.get().hits == 5
    assert rate_limit_hit(scope="t", address="192.0.2.1", limit=5) is True
    assert rate_limit_hit(scope="other", address="192.0.2.1", limit=5) is False


@pytest.mark.parametrize(("number", "code", "statuses"), [
    ("x" * 10000, "ABCDEFGH", {400}),
    ("421221-2026-000001", "A" * 10000, {400}),
    ("421221\x00-2026", "ABCDEFGH", {400}),
    ("421221-2026-000001", "ABC\x00DEFGH", {400}),
    ("' OR 1=1 --", "' OR '1'='1", {200}),
    ("案件编号😀", "查询码𝓒𝓸𝓭𝓮", {200}),
    ("", "", {400}),
    ("<script>alert(1)</script>", "%s%s%n", {200}),
    ("\u202e\u2028\ufeff", "\ud7ff", {200, 400}),
])
def test_hostile_inputs(users, number, code, statuses):
    response = _anon().post("/query/", {"number": number, "code": code})
    assert response.status_code in statuses
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_hostile_bodies(users):
    client = _anon()
    assert client.post("/query/", data=b"\xff\xfe\x00garbage", content_type="application/x-www-form-urlencoded").status_code in {200, 400}
    assert client.post("/query/", data="{}", content_type="application/json").status_code == 400
    assert client.post("/query/", {"number": ["a", "b"], "code": ["c", "d"]}).status_code == 200
    assert client.put("/query/").status_code == 405


def test_logged_in_users_get_the_same_public_answer(users, client_as):
    """The query is public: a logged-in member of staff learns nothing more than anyone else."""
    app = _accepted(users)
    code = query_code_current(application=app)
    for name in ("applicant", "clerk_jiayu", "reviewer_jiayu", "planner", "dept_jiayu", "caller_hubei"):
        text = client_as(name).post("/query/", {"number": app.reference, "code": code}).content.decode()
        assert 'id="query-result"' in text
        assert "applicant" not in text.split('id="query-result"')[1].split("</section>")[0]


@pytest.mark.django_db(transaction=True)
def test_rate_limit_counts_across_connections():
    """Workers share the count: hits from several connections at once land in one row, none lost."""
    import threading

    from django.db import connection

    def hit() -> None:
        try:
            for _ in range(5):
                rate_limit_hit(scope="threads", address="198.51.100.7", limit=1000, per_seconds=86400)
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert list(RateBucket.objects.filter(key__startswith="threads:").values_list("hits", flat=True)) == [30]
