"""Public notice pages (no login) and the staff actions: what the public sees and never sees, the
objection form with its reference, hostile input, every role's denial, and the rate limits."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from approvals.choices import Role
from approvals.models import Membership
from approvals.notices.models import TEXT_MAX, Notice, NoticeRule, Objection, ObjectionAnswer
from approvals.notices.services import notice_publish, objection_lodge
from approvals.notices.views import OBJECTIONS_PER_MINUTE
from tests.factories import UserFactory
from tests.notices.helpers import NOTICE_ENDS, PUBLISHED, homestead_at_last_level, last_reviewer

# one hour into the notice, at the start of a minute (rate-limit windows are whole minutes)
DURING = PUBLISHED + dt.timedelta(hours=1)
TITLE = "张三家宅基地翻建"
APPLICANT_PHONE = "13800001111"
SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _anon(address: str = "10.9.8.7", **kw) -> Client:
    client = Client(REMOTE_ADDR=address, **kw)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def case(users):
    NoticeRule.objects.create(kind_id="rural_homestead", days=5)
    app = homestead_at_last_level(users, title=TITLE)
    reviewer = last_reviewer(app)
    with time_machine.travel(PUBLISHED, tick=False):
        notice = notice_publish(application=app, by=reviewer, ip="10.0.0.3")
    return app, notice, reviewer


@pytest.fixture
def during():
    with time_machine.travel(DURING, tick=False):
        yield


def test_list_and_notice_without_login(case, during):
    app, notice, _reviewer = case
    listing = _anon().get("/notices/")
    assert listing.status_code == 200
    assert f'href="/notices/{notice.number}/"' in listing.content.decode()
    page = _anon().get(f"/notices/{notice.number}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert app.reference in html
    assert "Rural homestead approval" in html
    area_m2 = f"{app.site_area_m2:.2f}"
    assert f"{area_m2} m²" in html
    assert f"{app.site_area_m2 / 10000:.4f} ha" in html
    assert f"{app.site_area_m2 * 15 / 10000:.3f} mu" in html
    assert '2026-11-04 09:00</time> – <time datetime="2026-11-11T17:30:00+08:00">2026-11-11 17:30</time>' in html
    assert 'id="notice-site" d="M' in html
    assert 'id="objection-form"' in html
    # no personal data and no title (titles carry names)
    for secret in (TITLE, "张三", APPLICANT_PHONE, app.applicant.username):
        assert secret not in html


def test_hall_home_links_the_notices(db):
    assert 'href="/notices/"' in _anon().get("/hall/").content.decode()


def test_lodge_an_objection_and_get_its_reference(case, during):
    _app, notice, _reviewer = case
    response = _anon().post(f"/notices/{notice.number}/", {"text": "界址有误", "name": "李四", "phone": "13907152222"})
    objection = Objection.objects.get()
    assert response.status_code == 200
    assert f'id="objection-reference">{objection.reference}<' in response.content.decode()
    assert (objection.text, objection.name, objection.phone, objection.notice) == ("界址有误", "李四", "13907152222", notice)


def test_objection_needs_the_csrf_token(case, during):
    _app, notice, _reviewer = case
    client = _anon(enforce_csrf_checks=True)
    assert client.post(f"/notices/{notice.number}/", {"text": "异议"}).status_code == 403
    assert Objection.objects.count() == 0


@pytest.mark.parametrize(("data", "status"), [
    ({"text": ""}, 400),
    ({"text": "x" * (TEXT_MAX + 1)}, 400),
    ({"text": "异议", "name": "n" * 41}, 400),
    ({"text": "异议", "phone": "not a phone"}, 400),
    ({"text": "异议\x00"}, 400),
    ({"text": "异议", "name": "李\x00四"}, 400),
])
def test_hostile_objections_are_refused_whole(case, during, data, status):
    _app, notice, _reviewer = case
    assert _anon().post(f"/notices/{notice.number}/", data).status_code == status
    assert Objection.objects.count() == 0


@pytest.mark.parametrize("number", ["GS999999-2026-000001-1", "../admin", "%00", "x" * 500, "1 OR 1=1"])
def test_forged_numbers_are_404(case, during, number):
    assert _anon().get(f"/notices/{number}/").status_code == 404
    assert _anon().post(f"/notices/{number}/", {"text": "异议"}).status_code == 404


def test_closed_notice_takes_no_objection(case):
    _app, notice, _reviewer = case
    with time_machine.travel(NOTICE_ENDS, tick=False):
        page = _anon().get(f"/notices/{notice.number}/")
        response = _anon().post(f"/notices/{notice.number}/", {"text": "迟到的异议"})
        listing = _anon().get("/notices/").content.decode()
    assert page.status_code == 200
    assert 'id="objection-form"' not in page.content.decode()
    assert response.status_code == 409
    assert "has ended" in response.content.decode()
    assert notice.number not in listing
    assert Objection.objects.count() == 0


def test_objections_are_rate_limited_per_client(case, during):
    _app, notice, _reviewer = case
    client = _anon("10.66.0.1")
    codes = [client.post(f"/notices/{notice.number}/", {"text": f"异议{i}"}).status_code for i in range(OBJECTIONS_PER_MINUTE + 1)]
    assert codes == [200] * OBJECTIONS_PER_MINUTE + [429]
    limited = client.post(f"/notices/{notice.number}/", {"text": "再来"})
    assert int(limited["Retry-After"]) >= 1
    assert Objection.objects.count() == OBJECTIONS_PER_MINUTE
    # another address is counted on its own
    assert _anon("10.66.0.2").post(f"/notices/{notice.number}/", {"text": "另一人"}).status_code == 200


def test_public_pages_are_rate_limited(case, during, settings):
    _app, notice, _reviewer = case
    settings.ONEMAP_PUBLIC_PAGE_PER_MINUTE = 2
    client = _anon("10.77.0.1")
    codes = [client.get(url).status_code for url in ("/notices/", f"/notices/{notice.number}/", "/notices/")]
    assert codes == [200, 200, 429]


# --- staff --------------------------------------------------------------------------------

def _objection(notice, **kw) -> Objection:
    with time_machine.travel(DURING, tick=False):
        return objection_lodge(notice=notice, **{"text": "界址有误", "name": "李四", "phone": "13907152222", **kw})


def test_panel_shows_state_and_objections_by_role(case, client_as, users):
    app, notice, reviewer = case
    objection = _objection(notice, text=SCRIPT, name=SCRIPT[:40])
    url = f"/applications/{app.pk}/"
    level = client_as(reviewer.username).get(url).content.decode()
    assert 'id="notice-panel"' in level
    assert notice.number in level
    assert "13907152222" in level
    assert f'action="/notices/objections/{objection.pk}/answer/"' in level
    assert SCRIPT not in level
    assert SCRIPT[:40] not in level
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in level
    assert "Objections to the public notice are unanswered (1)" in level
    clerk = client_as("clerk_jiayu").get(url).content.decode()
    assert "&lt;script&gt;" in clerk  # the text, for staff acting on the land
    assert "13907152222" not in clerk
    assert "/answer/" not in clerk
    own = client_as("applicant").get(url).content.decode()
    assert notice.number in own
    assert "&lt;script&gt;" not in own
    assert "13907152222" not in own


def test_publish_from_the_page(users, client_as):
    NoticeRule.objects.create(kind_id="rural_homestead", days=5)
    app = homestead_at_last_level(users)
    reviewer = last_reviewer(app)
    page = client_as(reviewer.username).get(f"/applications/{app.pk}/").content.decode()
    assert 'id="notice-publish"' in page
    response = client_as(reviewer.username).post(f"/notices/publish/{app.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/applications/{app.pk}/"
    assert Notice.objects.filter(application=app).count() == 1
    again = client_as(reviewer.username).post(f"/notices/publish/{app.pk}/")
    assert again.status_code == 409


@pytest.fixture
def other_division_reviewer(users):
    user = UserFactory(username="reviewer_tongcheng")
    Membership.objects.create(user=user, role=Role.REVIEWER, division_id="421222")
    return user


def _client(client_as, who: str, other) -> Client:
    if who != other.username:
        return client_as(who)
    client = _anon()
    client.force_login(other)
    return client


@pytest.mark.parametrize(("who", "status"), [
    ("applicant", 403), ("clerk_jiayu", 403), ("planner", 403), ("reviewer_chibi", 404), ("reviewer_tongcheng", 404), ("dept_jiayu", 404),
])
def test_publish_denied_per_role(users, client_as, other_division_reviewer, who, status):
    NoticeRule.objects.create(kind_id="rural_homestead", days=5)
    app = homestead_at_last_level(users)
    client = _client(client_as, who, other_division_reviewer)
    assert client.post(f"/notices/publish/{app.pk}/").status_code == status
    assert client.get(f"/notices/publish/{app.pk}/").status_code == 405
    assert Notice.objects.count() == 0


def test_staff_endpoints_send_anonymous_to_login(case):
    app, notice, _reviewer = case
    objection = _objection(notice)
    for url in (f"/notices/publish/{app.pk}/", f"/notices/objections/{objection.pk}/answer/"):
        response = _anon().post(url, {"text": "答复"})
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert (Notice.objects.count(), ObjectionAnswer.objects.count()) == (1, 0)


@pytest.mark.parametrize(("who", "status"), [
    ("applicant", 403), ("clerk_jiayu", 403), ("planner", 403), ("reviewer_chibi", 404), ("reviewer_tongcheng", 404), ("dept_jiayu", 404),
])
def test_answer_denied_per_role(case, client_as, other_division_reviewer, who, status):
    _app, notice, _reviewer = case
    objection = _objection(notice)
    client = _client(client_as, who, other_division_reviewer)
    assert client.post(f"/notices/objections/{objection.pk}/answer/", {"text": "答复"}).status_code == status
    assert ObjectionAnswer.objects.count() == 0


def test_answer_from_the_page_and_hostile_answers(case, client_as):
    app, notice, reviewer = case
    objection = _objection(notice)
    client = client_as(reviewer.username)
    url = f"/notices/objections/{objection.pk}/answer/"
    assert client.post("/notices/objections/999999/answer/", {"text": "答复"}).status_code == 404
    assert client.post(url, {"text": ""}).status_code == 400
    assert client.post(url, {"text": "x" * 4001}).status_code == 400
    assert client.post(url, {"text": "答\x00复"}).status_code == 400
    assert ObjectionAnswer.objects.count() == 0
    done = client.post(url, {"text": f"已复核。{SCRIPT}"})
    assert done.status_code == 302
    assert client.post(url, {"text": "再答"}).status_code == 409
    answer = ObjectionAnswer.objects.get()
    assert (answer.answered_by, answer.text) == (reviewer, f"已复核。{SCRIPT}")
    page = client.get(f"/applications/{app.pk}/").content.decode()
    assert SCRIPT not in page
    assert "已复核。&lt;script&gt;" in page
