"""Public rankings (百企万民评窗口): the rates and their weighting on a constructed data set, the
minimum sample, ordering, the XLSX download (formula-safe) and the absence of personal data."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from approvals.hall.choices import CallOutcome, ServiceKind
from approvals.hall.models import Callback, CallbackRound, Officer, Rating, ServiceEvent, Window
from approvals.hall.selectors.rankings import combined_rate, period_bounds, rankings
from approvals.models import Application
from approvals.services import tasks_assign, window_accept
from tests.factories import UserFactory, department, open_step, submit

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/","x")'
PHONE = "13812345678"


def today() -> dt.date:
    return timezone.localdate()


def rate(window: Window, stars: int, *, officer: Officer | None = None, application: Application | None = None,
         when: dt.datetime | None = None) -> Rating:
    when = when or timezone.now()
    event = ServiceEvent.objects.create(window=window, officer=officer, application=application,
                                        kind=ServiceKind.ACCEPTANCE if application else ServiceKind.CONSULTATION, at=when)
    return Rating.objects.create(event=event, stars=stars, tag_set="2026.1", channel="kiosk", at=when)


@pytest.fixture
def data(users):
    """Jiayu (county): 8 ratings (6 satisfied) + 4 reached calls (2 satisfied), all rated cases
    with tasks of two departments; Xianning (city): 3 ratings, too few; a provincial window with a
    hostile name: 6 satisfied ratings. Officers: clerk_jiayu served 5 (4 satisfied) and accepted the
    4 called cases; head_jiayu served 3."""
    windows = {w.code: w for w in Window.objects.all()}
    hostile = Window.objects.create(division_id="420000", code="hubei-land", name=HYPERLINK, name_en=HYPERLINK)
    clerk, head = Officer.objects.get(user=users["clerk_jiayu"]), Officer.objects.get(user=users["head_jiayu"])
    app = submit(users["applicant"], title="张三的厂房")
    Application.objects.filter(pk=app.pk).update(contact_phone=PHONE)
    app = window_accept(application=app, by=users["clerk_jiayu"])
    tasks_assign(step=open_step(app), by=users["reviewer_jiayu"], lead=department("421221", "耕地保护股"),
                 cooperating=[department("421221", "国土空间规划股")], days=Decimal("1"))
    for stars in (5, 5, 4, 3, 2):
        rate(windows["jiayu-land"], stars, officer=clerk, application=app)
    for stars in (1, 5, 4):
        rate(windows["jiayu-land"], stars, officer=head, application=app)
    for stars in (5, 5, 5):
        rate(windows["xianning-land"], stars)
    for stars in (5, 4, 3, 3, 4, 5):
        rate(hostile, stars)
    # outside any period the tests ask for
    rate(windows["jiayu-land"], 1, officer=clerk, when=timezone.now() - dt.timedelta(days=800))
    round_ = CallbackRound.objects.create(division_id="420000", name="r", period_start=today() - dt.timedelta(days=30),
                                          period_end=today(), per_window=10, seed=1, drawn_at=timezone.now(), drawn_by=users["caller_hubei"])
    for i, stars in enumerate((5, 2, 1, 4)):
        person = UserFactory(username=f"resident_wang{i}")
        called = submit(person, documents=False, title="王五的宅基地")
        ServiceEvent.objects.create(window=windows["jiayu-land"], officer=clerk, application=called, kind=ServiceKind.ACCEPTANCE, at=timezone.now())
        Callback.objects.create(round=round_, application=called, applicant=person, window=windows["jiayu-land"], caller=users["caller_hubei"],
                                outcome=CallOutcome.REACHED, stars=stars, suggestions="电话13812345678", called_at=timezone.now())
    # an unreached call counts nowhere
    person = UserFactory(username="resident_li")
    Callback.objects.create(round=round_, application=submit(person, documents=False), applicant=person, window=windows["jiayu-land"],
                            caller=users["caller_hubei"], outcome=CallOutcome.NO_ANSWER, called_at=timezone.now())
    return {"windows": {**windows, "hubei-land": hostile}, "clerk": clerk, "head": head}


def by_label(rows) -> dict:
    return {row.label: row for row in rows}


def test_rates_weighting_min_sample_and_order(data):
    result = rankings(start=today() - dt.timedelta(days=7), end=today())
    assert result.weight == 0.7
    assert result.min_sample == 5
    rows = [(r.unit.code, r.rank, r.n_ratings, r.n_calls) for r in result.windows]
    # ranked first (best rate first), the unranked after
    assert rows == [("hubei-land", 1, 6, 0), ("jiayu-land", 2, 8, 4), ("xianning-land", None, 3, 0)]
    jiayu = next(r for r in result.windows if r.unit.code == "jiayu-land")
    assert round(jiayu.rating_rate, 3) == 0.75
    assert round(jiayu.call_rate, 3) == 0.5
    assert round(jiayu.rate, 3) == 0.675  # 0.7 × 0.75 + 0.3 × 0.5
    xianning = next(r for r in result.windows if r.unit.code == "xianning-land")
    assert (xianning.rate, xianning.rank, xianning.call_rate) == (1.0, None, None)  # best rate, but 3 < 5
    # per hall level
    assert {level: [r.unit.code for r in rows] for level, rows in result.windows_by_level.items()} == {
        "County": ["jiayu-land"], "City": ["xianning-land"], "Province": ["hubei-land"]}
    assert result.windows_by_level["County"][0].rank == 1


def test_departments_through_their_tasks_and_officers_through_their_events(data):
    result = rankings(start=today(), end=today())
    departments = {r.unit.name: (r.n_ratings, r.n_calls, round(r.rate, 3), r.rank) for r in result.departments}
    assert departments == {"耕地保护股": (8, 0, 0.75, 1), "国土空间规划股": (8, 0, 0.75, 1)}  # equal rates share a rank
    officers = {r.unit.pk: r for r in result.officers}
    clerk, head = officers[data["clerk"].pk], officers[data["head"].pk]
    assert (clerk.n_ratings, clerk.n_calls, round(clerk.rating_rate, 3), round(clerk.call_rate, 3)) == (5, 4, 0.8, 0.5)
    assert round(clerk.rate, 3) == 0.71  # 0.7 × 0.8 + 0.3 × 0.5
    assert clerk.rank == 1
    assert (head.n_ratings, head.n_calls, round(head.rate, 3), head.rank) == (3, 0, 0.667, None)


def test_the_weight_and_the_minimum_come_from_the_settings(data, settings):
    settings.ONEMAP_RANKING_RATING_WEIGHT = 0.5
    settings.ONEMAP_RANKING_MIN_SAMPLE = 3
    result = rankings(start=today(), end=today())
    jiayu = next(r for r in result.windows if r.unit.code == "jiayu-land")
    assert round(jiayu.rate, 3) == 0.625
    assert [(r.unit.code, r.rank) for r in result.windows] == [("hubei-land", 1), ("xianning-land", 1), ("jiayu-land", 3)]


def test_the_period_limits_what_counts(data):
    old = rankings(start=today() - dt.timedelta(days=900), end=today() - dt.timedelta(days=700))
    jiayu = next(r for r in old.windows if r.unit.code == "jiayu-land")
    assert (jiayu.n_ratings, jiayu.n_calls, jiayu.rate, jiayu.rank) == (1, 0, 0.0, None)


def test_combined_rate_and_period_bounds():
    assert combined_rate(0.9, 0.6, 0.7) == pytest.approx(0.81)
    assert combined_rate(None, 0.6, 0.7) == 0.6
    assert combined_rate(0.9, None, 0.7) == 0.9
    assert combined_rate(None, None, 0.7) is None
    day = dt.date(2026, 11, 17)
    assert period_bounds("month", today=day) == (dt.date(2026, 11, 1), day)
    assert period_bounds("quarter", today=day) == (dt.date(2026, 10, 1), day)
    assert period_bounds("year", today=day) == (dt.date(2026, 1, 1), day)


def test_the_public_page_shows_chart_and_tables_without_personal_data(data, client):
    client.cookies["django_language"] = "en"
    response = client.get(reverse("hall-rankings"), {"period": "custom", "start": str(today()), "end": str(today())})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<svg" in page
    assert 'id="ranking-windows"' in page
    assert "too few ratings" in page
    assert "67.5 %" in page
    # the hostile name is text, not markup
    assert "=HYPERLINK(&quot;http://evil.example/&quot;" in page
    for personal in (PHONE, "138****5678", "resident_wang", "resident_li", "张三", "王五", "电话"):
        assert personal not in page, personal
    for reference in Application.objects.values_list("reference", flat=True):
        assert reference not in page
    for period in ("month", "quarter", "year", ""):
        assert client.get(reverse("hall-rankings"), {"period": period}).status_code == 200


def test_xlsx_download_has_the_numbers_and_neutralises_formulas(data, client):
    client.cookies["django_language"] = "en"
    response = client.get(reverse("hall-rankings"), {"period": "custom", "start": str(today()), "end": str(today()), "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet_xml = zipfile.ZipFile(io.BytesIO(response.content)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]
    jiayu = next(r for r in rows if r["Unit"] == data["windows"]["jiayu-land"].name_en and r["Hall level"] == "County" and r["Rank"] == 2)
    assert (jiayu["Ratings"], jiayu["Reached call-backs"], jiayu["Combined satisfaction"], jiayu["Rating satisfaction"]) == (8, 4, 0.675, 0.75)
    hostile_cells = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value == HYPERLINK]
    assert hostile_cells
    for cell in hostile_cells:
        assert cell.data_type == "s"
        assert cell.quotePrefix
    unranked = next(r for r in rows if r["Unit"] == data["windows"]["xianning-land"].name_en)
    assert (unranked["Rank"], unranked["Note"]) == (None, "too few ratings")  # an empty cell
    content = response.content
    assert PHONE.encode() not in content


@pytest.mark.parametrize("query", [
    {"period": "bogus"}, {"period": "custom"}, {"period": "custom", "start": "2026-12-01"},
    {"period": "custom", "start": "2026-12-02", "end": "2026-12-01"}, {"period": "custom", "start": "x", "end": "y"},
    {"period": "custom", "start": "2000-01-01", "end": "2026-12-01"}, {"period": "custom", "start": "99999-01-01", "end": "2026-12-01"},
    {"period": "custom", "start": "2026-12-01\x00", "end": "2026-12-01"},
])
def test_hostile_periods_are_400(users, client, query):
    response = client.get(reverse("hall-rankings"), query)
    assert response.status_code == 400


def test_the_public_page_is_rate_limited(users, client, settings):
    settings.ONEMAP_PUBLIC_PAGE_PER_MINUTE = 2
    codes = [client.get(reverse("hall-rankings")).status_code for _i in range(3)]
    assert codes == [200, 200, 429]


def test_only_get(users, client):
    assert client.post(reverse("hall-rankings")).status_code == 405


def test_the_page_renders_in_the_default_language(data, client):
    client.cookies["django_language"] = "zh-hans"
    response = client.get(reverse("hall-rankings"), {"period": "year"})
    assert response.status_code == 200
    assert "<svg" in response.content.decode()
    assert client.get(reverse("hall-home")).status_code == 200
