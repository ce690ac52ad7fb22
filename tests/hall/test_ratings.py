"""Ratings (好差评): once per service event (also under two simultaneous submits), never by staff,
tags from the versioned set, bad ratings open a follow-up case due 15 working days later for the
window's head; the rating tablet's pairing and its rating only for asked services of its window;
hostile input answered 4xx; the database refuses to change or delete a rating."""

from __future__ import annotations

import datetime as dt
import threading
import time
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, connections, transaction
from django.test import Client
from django.utils import timezone

from approvals.exceptions import NotPermitted, StateConflict
from approvals.hall.access import SESSION_KEY as GRANTS
from approvals.hall.choices import FollowUpState, RatingChannel, ServiceKind
from approvals.hall.models import FollowUpCase, Officer, Rating, ServiceEvent, Window
from approvals.hall.selectors.scores import kiosk_pending_event, open_follow_ups
from approvals.hall.services import ratings as svc
from approvals.services import window_accept
from tests.factories import submit

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


def event_at(username: str, *, users, at: dt.datetime | None = None, asked: bool = False, kind: str = ServiceKind.CONSULTATION) -> ServiceEvent:
    officer = Officer.objects.get(user=users[username])
    return ServiceEvent.objects.create(window=officer.window, officer=officer, kind=kind, at=at or timezone.now(),
                                       kiosk_asked_at=timezone.now() if asked else None)


def english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def accepted(users):
    app = submit(users["applicant"])
    window_accept(application=app, by=users["clerk_jiayu"])
    return app, ServiceEvent.objects.get(application=app, kind=ServiceKind.ACCEPTANCE)


# --- services ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_one_rating_per_event(users):
    event = event_at("clerk_jiayu", users=users)
    rating = svc.rating_give(event=event, stars=5, tags=["attitude", "overall"], comment=" 很好 ", channel=RatingChannel.KIOSK)
    assert (rating.stars, rating.tags, rating.comment, rating.tag_set) == (5, ["overall", "attitude"], "很好", "2026.1")
    with pytest.raises(StateConflict, match="already been rated"):
        svc.rating_give(event=event, stars=1, tags=[], comment="", channel=RatingChannel.ONLINE, by=users["applicant"])
    assert Rating.objects.filter(event=event).count() == 1
    assert not FollowUpCase.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_ratings_exactly_one_recorded(users):
    event = event_at("clerk_jiayu", users=users)
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def rate(stars: int) -> None:
        try:
            barrier.wait(timeout=10)
            svc.rating_give(event=event, stars=stars, tags=[], comment="", channel=RatingChannel.KIOSK)
            outcomes[stars] = "applied"
        except StateConflict:
            outcomes[stars] = "conflict"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=rate, args=(s,)) for s in (5, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes.values()) == ["applied", "conflict"], outcomes
    rating = Rating.objects.get(event=event)
    winner = next(s for s, v in outcomes.items() if v == "applied")
    assert rating.stars == winner
    # the bad rating's case exists exactly when the bad one won
    assert FollowUpCase.objects.count() == (1 if winner == 1 else 0)


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["clerk_jiayu", "head_jiayu", "reviewer_jiayu", "planner", "dept_jiayu", "caller_hubei", "admin"])
def test_staff_cannot_rate(users, username):
    event = event_at("clerk_jiayu", users=users)
    with pytest.raises(NotPermitted):
        svc.rating_give(event=event, stars=5, tags=[], comment="", channel=RatingChannel.ONLINE, by=users[username])
    assert not Rating.objects.exists()


@pytest.mark.django_db
def test_applicant_and_anonymous_may_rate(users):
    svc.rating_give(event=event_at("clerk_jiayu", users=users), stars=4, tags=[], comment="", channel=RatingChannel.ONLINE, by=users["applicant"])
    svc.rating_give(event=event_at("clerk_jiayu", users=users), stars=3, tags=[], comment="", channel=RatingChannel.KIOSK)
    assert Rating.objects.count() == 2


@pytest.mark.django_db
def test_bad_rating_opens_case_due_in_15_working_days(users):
    # Tuesday 28 April 2026: 15 working days skip the May Day holiday (1–5 May) and count the
    # make-up Saturday 9 May, so the case is due on Thursday 21 May at the close of the day.
    with time_machine.travel(dt.datetime(2026, 4, 28, 10, 0, tzinfo=TZ), tick=False):
        event = event_at("clerk_jiayu", users=users)
        rating = svc.rating_give(event=event, stars=2, tags=["attitude"], comment="态度不好", channel=RatingChannel.KIOSK)
    case = FollowUpCase.objects.get(rating=rating)
    assert case.window.code == "jiayu-land"
    assert case.state == FollowUpState.OPEN
    assert case.due_at.astimezone(TZ) == dt.datetime(2026, 5, 21, 17, 30, tzinfo=TZ)
    # a 3-star rating is not bad
    svc.rating_give(event=event_at("clerk_jiayu", users=users), stars=3, tags=[], comment="", channel=RatingChannel.KIOSK)
    assert FollowUpCase.objects.count() == 1


@pytest.mark.django_db
def test_follow_up_state_machine_head_only(users):
    rating = svc.rating_give(event=event_at("clerk_jiayu", users=users), stars=1, tags=[], comment="等太久", channel=RatingChannel.KIOSK)
    case = rating.follow_up
    for other in ("clerk_jiayu", "clerk_jiayu2", "clerk_xianning", "reviewer_jiayu", "applicant", "admin"):
        with pytest.raises(NotPermitted):
            svc.follow_up_verify(case=case, by=users[other], verification="x")
    head = users["head_jiayu"]
    with pytest.raises(StateConflict):
        svc.follow_up_rectify(case=case, by=head, rectification="too early")
    with pytest.raises(StateConflict):
        svc.follow_up_reply(case=case, by=head, reply="too early")
    with pytest.raises(ValidationError):
        svc.follow_up_verify(case=case, by=head, verification="   ")
    with pytest.raises(ValidationError):
        svc.follow_up_verify(case=case, by=head, verification="x" * 2001)
    case = svc.follow_up_verify(case=case, by=head, verification="高峰期排队 40 分钟，属实")
    assert case.state == FollowUpState.VERIFIED
    assert case.verified_at
    assert case.handled_by == head
    with pytest.raises(StateConflict):
        svc.follow_up_verify(case=case, by=head, verification="again")
    case = svc.follow_up_rectify(case=case, by=head, rectification="高峰期增开一个窗口")
    assert case.state == FollowUpState.RECTIFIED
    assert [r.case.pk for r in open_follow_ups(user=head)] == [case.pk]
    case = svc.follow_up_reply(case=case, by=head, reply="已电话回复申请人")
    assert case.state == FollowUpState.CLOSED
    assert case.closed_at
    with pytest.raises(StateConflict):
        svc.follow_up_reply(case=case, by=head, reply="again")
    assert open_follow_ups(user=head) == []
    assert case.history.count() >= 3  # pghistory keeps each step


@pytest.mark.django_db
def test_open_follow_ups_clock_and_scope(users):
    with time_machine.travel(dt.datetime(2026, 4, 28, 10, 0, tzinfo=TZ), tick=False):
        svc.rating_give(event=event_at("clerk_jiayu", users=users), stars=1, tags=[], comment="", channel=RatingChannel.KIOSK)
    before = open_follow_ups(now=dt.datetime(2026, 5, 20, 9, 0, tzinfo=TZ))
    assert [(r.overdue, r.working_days_left) for r in before] == [(False, 1)]
    after = open_follow_ups(now=dt.datetime(2026, 5, 22, 9, 0, tzinfo=TZ))
    assert [r.overdue for r in after] == [True]
    # the window's staff and the bureaus above it see it; other counties and non-staff do not
    for username, count in [("head_jiayu", 1), ("clerk_jiayu2", 1), ("reviewer_xianning", 1), ("clerk_xianning", 1),
                            ("reviewer_chibi", 0), ("applicant", 0), ("planner", 0)]:
        assert len(open_follow_ups(user=users[username])) == count, username


@pytest.mark.django_db
@pytest.mark.parametrize("tags", [["unknown"], ["guide_accuracy"], "overall", [1], [None]])
def test_tags_from_the_channel_set(users, tags):
    with pytest.raises(ValidationError):
        svc.rating_give(event=event_at("clerk_jiayu", users=users), stars=5, tags=tags, comment="", channel=RatingChannel.KIOSK)
    assert not Rating.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("stars", [0, 6, -1, "x", "", None, True, 4.5, "5.0"])
def test_stars_one_to_five(users, stars):
    with pytest.raises(ValidationError):
        svc.rating_give(event=event_at("clerk_jiayu", users=users), stars=stars, tags=[], comment="", channel=RatingChannel.KIOSK)


@pytest.mark.django_db
def test_comment_and_channel_checked(users):
    event = event_at("clerk_jiayu", users=users)
    with pytest.raises(ValidationError):
        svc.rating_give(event=event, stars=5, tags=[], comment="长" * 501, channel=RatingChannel.KIOSK)
    with pytest.raises(ValidationError):
        svc.rating_give(event=event, stars=5, tags=[], comment="", channel="phone")
    assert svc.rating_give(event=event, stars=5, tags=[], comment="长" * 500, channel=RatingChannel.KIOSK).comment == "长" * 500


@pytest.mark.django_db
def test_rating_update_and_delete_refused_by_the_database(users):
    rating = svc.rating_give(event=event_at("clerk_jiayu", users=users), stars=5, tags=[], comment="好", channel=RatingChannel.KIOSK)
    with pytest.raises(DatabaseError), transaction.atomic():
        Rating.objects.filter(pk=rating.pk).update(stars=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        Rating.objects.filter(pk=rating.pk).delete()
    rating.refresh_from_db()
    assert rating.stars == 5


@pytest.mark.django_db
def test_service_done_by_the_window_staff_only(users, accepted):
    _app, event = accepted
    for other in ("clerk_xianning", "reviewer_jiayu", "applicant", "planner"):
        with pytest.raises(NotPermitted):
            svc.service_done(event=event, by=users[other])
    svc.service_done(event=event, by=users["clerk_jiayu2"])  # a clerk of the same window
    event.refresh_from_db()
    assert event.kiosk_asked_at is not None
    with pytest.raises(StateConflict):  # already asking
        svc.service_done(event=event, by=users["clerk_jiayu"])
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        svc.service_done(event=event, by=users["clerk_jiayu"])  # the ask expired: ask again
    svc.rating_give(event=event, stars=5, tags=[], comment="", channel=RatingChannel.KIOSK)
    with pytest.raises(StateConflict):
        svc.service_done(event=event, by=users["clerk_jiayu"])


@pytest.mark.django_db
def test_consultation_is_recorded_and_asked(users):
    event = svc.consultation_record(by=users["clerk_jiayu2"])
    assert (event.kind, event.window.code, event.officer.staff_number, event.application) == ("consultation", "jiayu-land", "JY0103", None)
    assert kiosk_pending_event(window=event.window) == event
    for other in ("reviewer_jiayu", "applicant", "planner", "caller_hubei"):
        with pytest.raises(NotPermitted):
            svc.consultation_record(by=users[other])


@pytest.mark.django_db
def test_kiosk_pair_head_only_and_key_hashed(users):
    window = Window.objects.get(code="jiayu-land")
    for other in ("clerk_jiayu", "clerk_xianning", "reviewer_jiayu", "admin"):
        with pytest.raises(NotPermitted):
            svc.kiosk_pair(window=window, by=users[other])
    key = svc.kiosk_pair(window=window, by=users["head_jiayu"])
    window.refresh_from_db()
    assert len(key) == 19
    assert key not in window.kiosk_key_hash
    assert window.kiosk_key_hash.startswith("sha256$")
    assert svc.kiosk_window_for_key(key.lower().replace("-", " ")) == window
    assert svc.kiosk_window_for_key("AAAA-AAAA-AAAA-AAAA") is None
    # a new key replaces the old one
    newer = svc.kiosk_pair(window=window, by=users["head_jiayu"])
    assert svc.kiosk_window_for_key(key) is None
    assert svc.kiosk_window_for_key(newer) == window


@pytest.mark.django_db
def test_kiosk_pair_command_prints_a_key(users, capsys):
    call_command("kiosk_pair", "xianning-land")
    key = capsys.readouterr().out.strip()
    assert svc.kiosk_window_for_key(key).code == "xianning-land"


# --- pages ---------------------------------------------------------------------------------------

def paired_kiosk(code: str = "jiayu-land") -> Client:
    key = svc.kiosk_key_issue(window=Window.objects.get(code=code))
    kiosk = english(Client())
    assert kiosk.post("/hall/kiosk/", {"key": key}).status_code == 302
    return kiosk


@pytest.mark.django_db
def test_kiosk_flow(users, accepted, client_as):
    _app, event = accepted
    kiosk = paired_kiosk()
    page = kiosk.get("/hall/kiosk/")
    assert page.status_code == 200
    assert b'id="kiosk-form"' in page.content
    assert "李建国".encode() in page.content
    state = kiosk.get("/hall/kiosk/state/").json()
    assert state == {"paired": True, "officer": {"name": "李建国", "staff_number": "JY0102"}, "event": None}
    # not asked yet: refused (one answer for any service the tablet is not showing)
    assert kiosk.post("/hall/kiosk/rate/", {"event": event.pk, "stars": "5"}).status_code == 409
    # the clerk presses "service done" on the application page
    clerk = client_as("clerk_jiayu")
    detail = clerk.get(f"/applications/{event.application_id}/")
    assert b'id="service-done"' in detail.content
    assert clerk.post(f"/hall/events/{event.pk}/done/", {"next": f"/applications/{event.application_id}/"}).status_code == 302
    assert b'id="kiosk-asking"' in clerk.get(f"/applications/{event.application_id}/").content
    state = kiosk.get("/hall/kiosk/state/").json()
    assert state["event"]["id"] == event.pk
    done = kiosk.post("/hall/kiosk/rate/", {"event": event.pk, "stars": "5", "tags": ["efficiency", "attitude"], "comment": "很快"})
    assert done.status_code == 200
    assert b'id="kiosk-thanks"' in done.content
    rating = Rating.objects.get(event=event)
    assert (rating.stars, rating.tags, rating.channel) == (5, ["efficiency", "attitude"], "kiosk")
    assert kiosk.get("/hall/kiosk/state/").json()["event"] is None
    assert kiosk.post("/hall/kiosk/rate/", {"event": event.pk, "stars": "4"}).status_code == 409


@pytest.mark.django_db
def test_kiosk_refuses_other_windows_and_stale_asks(users):
    kiosk = paired_kiosk("jiayu-land")
    other = event_at("clerk_xianning", users=users, asked=True)
    assert kiosk.post("/hall/kiosk/rate/", {"event": other.pk, "stars": "5"}).status_code == 409
    with time_machine.travel(timezone.now() - dt.timedelta(minutes=11)):
        stale = event_at("clerk_jiayu", users=users, asked=True)
    assert kiosk.post("/hall/kiosk/rate/", {"event": stale.pk, "stars": "5"}).status_code == 409
    assert not Rating.objects.exists()


@pytest.mark.django_db
def test_kiosk_rates_only_the_service_it_shows(users):
    """Two services asked in turn: the tablet shows the later one, and only that one can be rated
    from it (a tablet cannot rate, nor probe, the window's other events)."""
    kiosk = paired_kiosk("jiayu-land")
    with time_machine.travel(timezone.now() - dt.timedelta(minutes=2)):
        earlier = event_at("clerk_jiayu", users=users, asked=True)
    shown = event_at("clerk_jiayu2", users=users, asked=True)
    assert kiosk.get("/hall/kiosk/state/").json()["event"]["id"] == shown.pk
    refused = kiosk.post("/hall/kiosk/rate/", {"event": earlier.pk, "stars": "5"})
    unknown = kiosk.post("/hall/kiosk/rate/", {"event": 987654, "stars": "5"})
    assert refused.status_code == unknown.status_code == 409
    assert b"This service is no longer waiting for a rating." in refused.content
    assert b"This service is no longer waiting for a rating." in unknown.content
    assert kiosk.post("/hall/kiosk/rate/", {"event": shown.pk, "stars": "4"}).status_code == 200
    assert list(Rating.objects.values_list("event_id", flat=True)) == [shown.pk]


@pytest.mark.django_db
def test_kiosk_pairing_wrong_key_unpaired_and_repaired(users):
    anonymous = english(Client())
    assert anonymous.get("/hall/kiosk/state/").status_code == 403
    assert anonymous.post("/hall/kiosk/rate/", {"event": 1, "stars": "5"}).status_code == 403
    assert b'id="kiosk-pair"' in anonymous.get("/hall/kiosk/").content
    for key in ("", "nope", "AAAA-AAAA-AAAA-AAAA", "x" * 5000, "<script>"):
        assert anonymous.post("/hall/kiosk/", {"key": key}).status_code == 400
    kiosk = paired_kiosk()
    assert kiosk.get("/hall/kiosk/state/").status_code == 200
    svc.kiosk_key_issue(window=Window.objects.get(code="jiayu-land"))  # the head made a new key
    assert kiosk.get("/hall/kiosk/state/").status_code == 403
    assert b'id="kiosk-pair"' in kiosk.get("/hall/kiosk/").content


@pytest.mark.django_db
def test_kiosk_pairing_is_rate_limited(users, settings):
    settings.ONEMAP_PUBLIC_QUERY_PER_MINUTE = 3
    client = english(Client())
    codes = [client.post("/hall/kiosk/", {"key": "WRONG-KEY"}).status_code for _ in range(5)]
    assert codes == [400, 400, 400, 429, 429]


@pytest.mark.django_db
@pytest.mark.parametrize("data", [
    {"stars": "0"}, {"stars": "6"}, {"stars": "x"}, {"stars": ""}, {},
    {"stars": "5", "comment": "长" * 501}, {"stars": "5", "comment": "x" * 100_000},
    {"stars": "5", "tags": ["unknown"]}, {"stars": "5", "tags": ["guide_accuracy"]},
    {"stars": "5", "event": "abc"}, {"stars": "5", "event": "-1"}, {"stars": "5", "event": "99999999999999999999"},
    {"stars": "5", "event": ""},
])
def test_kiosk_hostile_input_is_4xx(users, data):
    kiosk = paired_kiosk()
    event = event_at("clerk_jiayu", users=users, asked=True)
    response = kiosk.post("/hall/kiosk/rate/", {"event": event.pk, **data})
    assert 400 <= response.status_code < 500
    assert not Rating.objects.exists()


@pytest.mark.django_db
def test_online_rating_needs_the_query_grant(users, accepted, client_as):
    app, event = accepted
    visitor = english(Client())
    assert visitor.get(f"/hall/rate/{event.pk}/").status_code == 404
    assert visitor.post(f"/hall/rate/{event.pk}/", {"stars": "5"}).status_code == 404
    session = visitor.session
    session[GRANTS] = {str(app.pk): time.time() + 600}
    session.save()
    page = visitor.get(f"/hall/rate/{event.pk}/")
    assert page.status_code == 200
    assert b'id="rate-form"' in page.content
    assert b"Accuracy of the service guide" in page.content
    assert visitor.post(f"/hall/rate/{event.pk}/", {"stars": "5", "tags": ["overall"]}).status_code == 400  # a kiosk tag
    assert visitor.post(f"/hall/rate/{event.pk}/", {"stars": "4", "tags": ["convenience"]}).status_code == 302
    assert Rating.objects.get(event=event).channel == "online"
    assert b'id="rating-given"' in visitor.get(f"/hall/rate/{event.pk}/").content
    assert visitor.post(f"/hall/rate/{event.pk}/", {"stars": "1"}).status_code == 409
    # a consultation (no case) and an unknown event are not rateable online
    consult = event_at("clerk_jiayu", users=users)
    assert visitor.get(f"/hall/rate/{consult.pk}/").status_code == 404
    assert visitor.get("/hall/rate/99999999/").status_code == 404


@pytest.mark.django_db
def test_online_rating_refused_to_staff(users, accepted, client_as):
    app, event = accepted
    clerk = client_as("clerk_jiayu")
    session = clerk.session
    session[GRANTS] = {str(app.pk): time.time() + 600}
    session.save()
    assert b'id="rate-staff"' in clerk.get(f"/hall/rate/{event.pk}/").content
    assert clerk.post(f"/hall/rate/{event.pk}/", {"stars": "5"}).status_code == 403
    assert not Rating.objects.exists()


@pytest.mark.django_db
def test_rate_links_template(users, accepted, rf):
    from django.contrib.sessions.backends.db import SessionStore
    from django.template.loader import render_to_string

    app, event = accepted
    request = rf.get("/hall/query/")
    request.session = SessionStore()
    request.user = users["applicant"]
    assert "rate-links" not in render_to_string("hall/_rate_links.html", {"application_id": app.pk}, request=request)
    request.session[GRANTS] = {str(app.pk): time.time() + 600}
    html = render_to_string("hall/_rate_links.html", {"application_id": app.pk}, request=request)
    assert f"/hall/rate/{event.pk}/" in html
    svc.rating_give(event=event, stars=4, tags=[], comment="", channel=RatingChannel.ONLINE)
    html = render_to_string("hall/_rate_links.html", {"application_id": app.pk}, request=request)
    assert "★★★★☆" in html
    assert f"/hall/rate/{event.pk}/" not in html


@pytest.mark.django_db
def test_my_window_denials(users, client_as):
    assert Client().get("/hall/window/").status_code == 302
    for username in ("applicant", "reviewer_jiayu", "planner", "dept_jiayu", "caller_hubei", "admin"):
        assert client_as(username).get("/hall/window/").status_code == 403, username
        assert client_as(username).post("/hall/window/consultation/").status_code == 403, username
        assert client_as(username).post("/hall/window/pair/").status_code == 403, username
    page = client_as("clerk_jiayu").get("/hall/window/")
    assert page.status_code == 200
    assert b'id="consultation-button"' in page.content
    assert b'id="kiosk-pair-button"' not in page.content
    assert client_as("clerk_jiayu").post("/hall/window/pair/").status_code == 403
    head = client_as("head_jiayu")
    assert b'id="kiosk-pair-button"' in head.get("/hall/window/").content
    paired = head.post("/hall/window/pair/")
    assert paired.status_code == 200
    assert b'id="kiosk-new-key"' in paired.content
    key = paired.content.decode().split('id="kiosk-new-key">')[1].split("<")[0]
    assert svc.kiosk_window_for_key(key).code == "jiayu-land"


@pytest.mark.django_db
def test_service_done_and_follow_up_pages_deny(users, client_as, accepted):
    _app, event = accepted
    assert Client().post(f"/hall/events/{event.pk}/done/").status_code == 302
    for username in ("applicant", "reviewer_jiayu", "planner", "clerk_xianning", "caller_hubei"):
        assert client_as(username).post(f"/hall/events/{event.pk}/done/").status_code == 403, username
    assert client_as("clerk_jiayu").post("/hall/events/99999999/done/").status_code == 404
    # an outside `next` is not followed
    response = client_as("clerk_jiayu").post(f"/hall/events/{event.pk}/done/", {"next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/hall/window/"
    rating = svc.rating_give(event=event, stars=1, tags=[], comment="", channel=RatingChannel.KIOSK)
    case = rating.follow_up
    for username in ("applicant", "clerk_jiayu", "reviewer_jiayu", "clerk_xianning"):
        assert client_as(username).post(f"/hall/follow-ups/{case.pk}/verify/", {"text": "x"}).status_code == 403, username
    head = client_as("head_jiayu")
    assert head.post(f"/hall/follow-ups/{case.pk}/rectify/", {"text": "x"}).status_code == 409
    assert head.post(f"/hall/follow-ups/{case.pk}/verify/", {"text": ""}).status_code == 400
    assert head.post(f"/hall/follow-ups/{case.pk}/verify/", {"text": "x" * 10_000}).status_code == 400
    assert head.post(f"/hall/follow-ups/{case.pk}/nonsense/", {"text": "x"}).status_code == 404
    assert head.post(f"/hall/follow-ups/{case.pk}/verify/", {"text": "属实"}).status_code == 302
    page = head.get("/hall/window/")
    assert f'id="follow-up-{case.pk}"'.encode() in page.content
    assert b"working days left" in page.content
    assert f'action="/hall/follow-ups/{case.pk}/rectify/"'.encode() in page.content  # the form for the next step
    assert head.post(f"/hall/follow-ups/{case.pk}/rectify/", {"text": "整改"}).status_code == 302
    assert head.post(f"/hall/follow-ups/{case.pk}/reply/", {"text": "已回复"}).status_code == 302
    case.refresh_from_db()
    assert case.state == FollowUpState.CLOSED


@pytest.mark.django_db
def test_hall_home_links(users, client_as):
    home = client_as("clerk_jiayu").get("/hall/")
    assert b'id="hall-my-window-link"' in home.content
    assert b'id="hall-board-staff-jiayu-land"' in home.content
    assert b'id="hall-board-staff-xianning-land"' not in home.content
    public = english(Client()).get("/hall/")
    assert b'href="/hall/windows/jiayu-land/"' in public.content
    assert b"hall-my-window-link" not in public.content


@pytest.mark.django_db
def test_rating_pages_answer_with_the_policy(users, accepted, client_as):
    """No inline script, style or handler on any ratings page (tests/maps/test_csp.py's check)."""
    from tests.maps.test_csp import assert_policy

    app, event = accepted
    rating_event = event_at("clerk_jiayu", users=users)
    svc.rating_give(event=rating_event, stars=1, tags=["attitude"], comment='<img src=x onerror=alert(1)>', channel=RatingChannel.KIOSK)
    kiosk = english(Client())
    pages = [(kiosk, "/hall/kiosk/")]
    kiosk_paired = paired_kiosk()
    svc.service_done(event=event, by=users["clerk_jiayu"])
    pages += [(kiosk_paired, "/hall/kiosk/"), (english(Client()), "/hall/windows/jiayu-land/")]
    head = client_as("head_jiayu")
    pages += [(head, "/hall/window/"), (head, "/hall/windows/jiayu-land/staff/"), (head, "/hall/"), (head, f"/applications/{app.pk}/")]
    visitor = english(Client())
    session = visitor.session
    session[GRANTS] = {str(app.pk): time.time() + 600}
    session.save()
    pages.append((visitor, f"/hall/rate/{event.pk}/"))
    for client, url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_policy(response, url)
        assert b"<img src=x" not in response.content, url
    thanks = kiosk_paired.post("/hall/kiosk/rate/", {"event": event.pk, "stars": "5"})
    assert_policy(thanks, "/hall/kiosk/rate/")
    assert b"&lt;img src=x onerror=alert(1)&gt;" in head.get("/hall/windows/jiayu-land/staff/").content
