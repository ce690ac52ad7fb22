"""One application per form token: the new-application form carries a hidden one-time token, unique
per applicant in the database. Three identical POSTs at the same moment (threads, real PostgreSQL
transactions) create exactly one application; the others are redirected to it."""

from __future__ import annotations

import json
import re
import threading
import uuid

import pytest
from django.db import IntegrityError, connections, transaction
from django.urls import reverse

from approvals.models import Application, ApplicationEvent
from approvals.services import application_submit
from approvals.services.submission import AlreadySubmitted
from tests.factories import JIAYU_SITE, MembershipFactory, UserFactory, kind, site_box

SITE_FC = {"type": "FeatureCollection",
           "features": [{"type": "Feature", "properties": {}, "geometry": json.loads(site_box(*JIAYU_SITE)[0].geojson)}]}


def _form(token: str, title: str = "仓储用房") -> dict[str, str]:
    return {"title": title, "kind": "construction_land", "purpose": "物流仓储", "site_geojson": json.dumps(SITE_FC),
            "submission_token": token}


@pytest.mark.django_db(transaction=True)
def test_three_concurrent_identical_submissions_make_one_application(client_as, users):
    clients = [client_as("applicant") for _ in range(3)]  # logged in here; the threads only post
    token = str(uuid.uuid4())
    barrier = threading.Barrier(3)
    responses: list = [None] * 3

    def post(i: int) -> None:
        try:
            barrier.wait(timeout=20)
            responses[i] = clients[i].post(reverse("application-new"), _form(token))
        except Exception as exc:  # recorded, so the assertion below shows it
            responses[i] = exc
        finally:
            connections.close_all()  # each thread has its own connection

    threads = [threading.Thread(target=post, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    [app] = Application.objects.filter(applicant=users["applicant"])
    assert [getattr(r, "status_code", r) for r in responses] == [302, 302, 302]
    assert {r["Location"] for r in responses} == {reverse("application-detail", args=[app.pk])}
    assert str(app.submission_token) == token
    assert ApplicationEvent.objects.filter(application=app, action="submitted").count() == 1
    assert app.overlap_reports.count() == 1


@pytest.mark.django_db
def test_the_form_token_on_the_page_and_a_repeated_post(client_as, users):
    client = client_as("applicant")
    page = client.get(reverse("application-new")).content.decode()
    token = re.search(r'name="submission_token" value="([0-9a-f-]{36})"', page).group(1)
    first = client.post(reverse("application-new"), _form(token))
    assert first.status_code == 302
    again = client.post(reverse("application-new"), _form(token), follow=True)
    assert again.status_code == 200
    assert "already been submitted" in again.content.decode()
    assert again.redirect_chain[-1][0] == first["Location"]
    assert Application.objects.count() == 1
    # a new form (a new token) is a new application
    assert client.post(reverse("application-new"), _form(str(uuid.uuid4()), title="第二个")).status_code == 302
    assert Application.objects.count() == 2
    # the token is unique per applicant: someone else's form with the same token is theirs alone
    other = UserFactory(username="applicant_two")
    MembershipFactory(user=other, role="applicant", division_id="421221")
    from django.test import Client

    other_client = Client()
    other_client.force_login(other)
    assert other_client.post(reverse("application-new"), _form(token)).status_code == 302
    assert Application.objects.filter(applicant=other).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["not-a-uuid", "' OR 1=1 --", "0" * 5000, "{00000000-0000-0000-0000-00000000000g}"])
def test_a_malformed_token_is_refused_with_a_message(client_as, users, token):
    response = client_as("applicant").post(reverse("application-new"), _form(token))
    assert response.status_code == 400
    assert "This form is out of date" in response.content.decode()
    assert not Application.objects.exists()
    # the page offers a fresh, valid token to submit with
    assert re.search(r'name="submission_token" value="[0-9a-f-]{36}"', response.content.decode())


@pytest.mark.django_db
def test_a_nul_in_the_token_is_refused_before_the_form(client_as, users):
    # onemap.middleware.NulCharacterMiddleware answers before any view (tests/onemap/test_nul.py)
    response = client_as("applicant").post(reverse("application-new"), _form("\x00"))
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_the_service_and_the_database_refuse_a_second_use_of_a_token(users):
    token = uuid.uuid4()
    applicant = users["applicant"]
    made = application_submit(applicant=applicant, kind=kind(), title="一", purpose="p", site=site_box(*JIAYU_SITE), submission_token=token)
    with pytest.raises(AlreadySubmitted) as caught:
        application_submit(applicant=applicant, kind=kind(), title="二", purpose="p", site=site_box(*JIAYU_SITE), submission_token=token)
    assert caught.value.application == made
    assert Application.objects.count() == 1
    # the unique constraint stands behind the service's check
    second = application_submit(applicant=applicant, kind=kind(), title="三", purpose="p", site=site_box(*JIAYU_SITE))
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=second.pk).update(submission_token=token)
