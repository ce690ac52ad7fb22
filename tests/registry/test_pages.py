"""The register's pages: the clerk's registration form, the certificate page with replace and
cancel, the parcel lineage page, the public verification (number + code, QR link), the
application page's action and the dashboard's minutes. Denial per role and hostile input for each."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from approvals.registry.models import Certificate, Right
from approvals.registry.services.certificates import certificate_verification_url, verification_code
from approvals.registry.services.registration import registration_register
from tests.registry.conftest import holders, state_terms

pytestmark = pytest.mark.django_db

MINUTE_START = dt.datetime(2026, 12, 3, 2, 0, 1, tzinfo=dt.UTC)
STAFF_DENIED = ["applicant", "reviewer_jiayu", "clerk_xianning", "reviewer_chibi", "planner", "dept_jiayu", "admin", "caller_hubei"]


def _anon(address: str = "10.1.2.3") -> Client:
    client = Client(REMOTE_ADDR=address)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def certificate(users, accepted) -> Certificate:
    return registration_register(application=accepted(), by=users["clerk_jiayu"],
                                 holders=holders(("张三", "420000199001011234", "0.5"), ("欧阳修文", "420000199202021234", "0.5")),
                                 **state_terms())


def _form(**over) -> dict:
    data = {"right_type": "国有建设用地使用权", "land_use": "0701", "term_start": "2026-01-01", "term_end": "2096-01-01", "replaces": "",
            "holder-TOTAL_FORMS": "3", "holder-INITIAL_FORMS": "0", "holder-MIN_NUM_FORMS": "0", "holder-MAX_NUM_FORMS": "50",
            "holder-0-name": "王五", "holder-0-id_type": "resident_id", "holder-0-id_number": "420000198001011111", "holder-0-share": "1",
            "holder-1-id_type": "resident_id", "holder-2-id_type": "resident_id"}
    data.update(over)
    return data


def test_clerk_registers_through_the_form(client_as, accepted):
    app = accepted()
    client = client_as("clerk_jiayu")
    detail = client.get(f"/applications/{app.pk}/")
    assert f'/registry/applications/{app.pk}/register/' in detail.content.decode()
    assert client.get(f"/registry/applications/{app.pk}/register/").status_code == 200
    response = client.post(f"/registry/applications/{app.pk}/register/", _form())
    assert response.status_code == 302
    certificate = Certificate.objects.get()
    assert response["Location"].startswith("/registry/certificates/")
    page = client.get(f"/registry/certificates/{certificate.number}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "王五" in text
    assert "420000198001011111" in text
    assert verification_code(certificate) in text
    assert f"/registry/parcels/{certificate.right.parcel.code}/" in text
    # the printed PDF (approvals.issued) is linked from the certificate page
    assert 'id="certificate-papers"' in text
    assert ".pdf" in text.split('id="certificate-papers"')[1]
    # the case page now links the certificate and offers no second registration
    detail = client.get(f"/applications/{app.pk}/").content.decode()
    assert certificate.number in detail
    assert "/register/" not in detail


@pytest.mark.parametrize("who", STAFF_DENIED)
def test_register_page_denied(client_as, accepted, who):
    app = accepted()
    client = client_as(who)
    assert client.get(f"/registry/applications/{app.pk}/register/").status_code in (403, 404)
    assert client.post(f"/registry/applications/{app.pk}/register/", _form()).status_code in (403, 404)
    assert not Right.objects.exists()


def test_register_page_anonymous_and_unknown(client_as, accepted):
    app = accepted()
    assert _anon().get(f"/registry/applications/{app.pk}/register/").status_code == 302
    assert client_as("clerk_jiayu").get("/registry/applications/99999999999/register/").status_code == 404


@pytest.mark.parametrize("over", [
    {"holder-0-share": "0.5"},
    {"holder-0-share": "abc"},
    {"holder-0-share": "-1"},
    {"holder-0-name": "王" * 5000},
    {"holder-0-id_number": ""},
    {"holder-0-id_type": "dna"},
    {"right_type": "freehold"},
    {"land_use": "9999"},
    {"term_end": "2020-01-01"},
    {"term_start": "not a date"},
    {"replaces": "421221001001GB0000X"},
    {"replaces": "421221001001GB99999"},
    {"replaces": "x" * 5000},
    {"holder-TOTAL_FORMS": "100000"},
])
def test_register_hostile_input(client_as, accepted, over):
    app = accepted()
    response = client_as("clerk_jiayu").post(f"/registry/applications/{app.pk}/register/", _form(**over))
    assert response.status_code == 400
    assert not Right.objects.exists()
    app.refresh_from_db()
    assert app.status == "in_review"


def test_register_nul_refused(client_as, accepted):
    app = accepted()
    response = client_as("clerk_jiayu").post(f"/registry/applications/{app.pk}/register/", _form(**{"holder-0-name": "王\x00五"}))
    assert response.status_code == 400
    assert not Right.objects.exists()


def test_certificate_page_roles(client_as, certificate):
    url = f"/registry/certificates/{certificate.number}/"
    reviewer = client_as("reviewer_jiayu").get(url)
    assert reviewer.status_code == 200
    assert "张三" in reviewer.content.decode()
    assert verification_code(certificate) not in reviewer.content.decode()
    assert "replace-form" not in reviewer.content.decode()
    city = client_as("reviewer_xianning").get(url)
    assert city.status_code == 200
    for who in ("applicant", "reviewer_chibi", "planner", "dept_jiayu", "admin", "caller_hubei"):
        assert client_as(who).get(url).status_code == 404, who
    assert _anon().get(url).status_code == 302


@pytest.mark.parametrize("number", ["nope", "鄂(2026)嘉鱼县不动产权第9999999号", "x" * 5000, "%00", "'; DROP TABLE x; --"])
def test_certificate_page_bad_numbers(client_as, certificate, number):
    assert client_as("clerk_jiayu").get(f"/registry/certificates/{number}/").status_code in (400, 404)


def test_replace_and_cancel(client_as, certificate):
    client = client_as("clerk_jiayu")
    base = f"/registry/certificates/{certificate.number}"
    assert client.get(f"{base}/replace/").status_code == 405
    assert client.post(f"{base}/replace/", {"reason": ""}).status_code == 400
    assert client.post(f"{base}/replace/", {"reason": "x" * 5000}).status_code == 400
    assert client.post(f"{base}/replace/", {"reason": "遗\x00失"}).status_code == 400
    for who in ("reviewer_jiayu", "clerk_xianning"):
        assert client_as(who).post(f"{base}/replace/", {"reason": "遗失"}).status_code == 403, who
        assert client_as(who).post(f"{base}/cancel/", {"reason": "错误"}).status_code == 403, who
    for who in ("applicant", "reviewer_chibi", "planner", "admin"):
        assert client_as(who).post(f"{base}/cancel/", {"reason": "错误"}).status_code == 404, who
    assert _anon().post(f"{base}/cancel/", {"reason": "错误"}).status_code in (302, 403)
    certificate.refresh_from_db()
    assert certificate.status == "issued"
    response = client.post(f"{base}/replace/", {"reason": "原证遗失补发"})
    assert response.status_code == 302
    certificate.refresh_from_db()
    new = certificate.replaced_by
    assert (certificate.status, certificate.status_reason, new.serial) == ("replaced", "原证遗失补发", 2)
    assert client.post(f"{base}/cancel/", {"reason": "错误"}).status_code == 409
    assert client.post(f"/registry/certificates/{new.number}/cancel/", {"reason": "登记错误"}).status_code == 302
    new.refresh_from_db()
    assert new.status == "cancelled"


def test_parcel_page(client_as, certificate):
    code = certificate.right.parcel.code
    page = client_as("clerk_jiayu").get(f"/registry/parcels/{code}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="lineage-data"' in text
    assert certificate.number in text
    assert "First registration" in text
    for who in ("applicant", "reviewer_chibi", "planner", "admin"):
        assert client_as(who).get(f"/registry/parcels/{code}/").status_code == 404, who
    assert _anon().get(f"/registry/parcels/{code}/").status_code == 302
    for bad in ("x" * 500, "421221001001GB99999", "<script>"):
        assert client_as("clerk_jiayu").get(f"/registry/parcels/{bad}/").status_code == 404


@time_machine.travel(MINUTE_START, tick=True)
def test_public_verification(certificate):
    client = _anon()
    assert client.get("/certificates/verify/").status_code == 200
    ok = client.post("/certificates/verify/", {"number": certificate.number, "code": verification_code(certificate).lower()})
    text = ok.content.decode()
    assert ok.status_code == 200
    assert 'id="verify-status">Valid' in text
    assert "张*、欧***" in text
    assert "张三" not in text
    assert "420000199001011234" not in text
    assert certificate.right.parcel.code in text
    area = certificate.right.area_m2
    assert f"{area:.2f} m²" in text
    assert f"{area / 10000:.4f} ha" in text
    assert f"{area / (10000 / 15):.2f} mu" in text
    wrong_code = client.post("/certificates/verify/", {"number": certificate.number, "code": "ABCDEFGHJK"})
    wrong_number = client.post("/certificates/verify/", {"number": "鄂(2026)嘉鱼县不动产权第7654321号", "code": verification_code(certificate)})
    assert wrong_code.status_code == wrong_number.status_code == 200
    assert "No certificate matches" in wrong_code.content.decode()
    assert "No certificate matches" in wrong_number.content.decode()
    assert "verify-result" not in wrong_number.content.decode()


@time_machine.travel(MINUTE_START, tick=True)
def test_qr_url_verifies(certificate):
    url = certificate_verification_url(certificate)
    parts = urlsplit(url)
    assert parts.path == "/certificates/verify/"
    fragment = parse_qs(parts.fragment)
    assert fragment == {"n": [certificate.number], "c": [verification_code(certificate)]}
    response = _anon().post(parts.path, {"number": fragment["n"][0], "code": fragment["c"][0]})
    assert 'id="verify-status">Valid' in response.content.decode()


@time_machine.travel(MINUTE_START, tick=True)
def test_verification_of_replaced_and_cancelled(users, certificate):
    from approvals.registry.services.certificates import certificate_cancel, certificate_replace

    new = certificate_replace(certificate=certificate, by=users["clerk_jiayu"], reason="遗失补发")
    text = _anon().post("/certificates/verify/", {"number": certificate.number, "code": verification_code(certificate)}).content.decode()
    assert 'id="verify-status">Replaced' in text
    assert new.number in text
    certificate_cancel(certificate=new, by=users["clerk_jiayu"], reason="依法注销")
    text = _anon("10.1.2.4").post("/certificates/verify/", {"number": new.number, "code": verification_code(new)}).content.decode()
    assert 'id="verify-status">Cancelled' in text
    assert "依法注销" in text


@time_machine.travel(MINUTE_START, tick=True)
@pytest.mark.parametrize("data", [
    {"number": "x" * 5000, "code": "y"},
    {"number": "", "code": ""},
    {"number": "鄂", "code": "c" * 500},
    {"number": "鄂\x00", "code": "A"},
])
def test_verification_hostile_input(certificate, data):
    response = _anon().post("/certificates/verify/", data)
    assert response.status_code == 400
    assert "verify-result" not in response.content.decode()


@time_machine.travel(MINUTE_START, tick=True)
def test_verification_rate_limited(certificate, settings):
    settings.ONEMAP_PUBLIC_QUERY_PER_MINUTE = 2
    client = _anon("10.9.9.9")
    for _ in range(2):
        assert client.post("/certificates/verify/", {"number": "x", "code": "y"}).status_code == 200
    limited = client.post("/certificates/verify/", {"number": certificate.number, "code": verification_code(certificate)})
    assert limited.status_code == 429
    assert "verify-result" not in limited.content.decode()
    assert _anon("10.9.9.8").post("/certificates/verify/", {"number": "x", "code": "y"}).status_code == 200


def test_dashboard_minutes(client_as, users, accepted):
    import time_machine as tm
    from django.utils import timezone

    start = timezone.now()
    with tm.travel(start, tick=False):
        app = accepted()
    with tm.travel(start + dt.timedelta(minutes=17), tick=False):
        registration_register(application=app, by=users["clerk_jiayu"], holders=holders(("张三", "1", "1")), **state_terms())
    text = client_as("clerk_jiayu").get("/dashboard/").content.decode()
    assert 'id="registration-minutes"' in text
    row = text.split('id="registration-minutes"')[1].split("</tbody>")[0]
    assert '<td class="num">1</td>' in row
    assert "17.0" in row


def test_verification_shows_the_local_issue_day(users, accepted):
    # 17:30 UTC is 01:30 the next day in Asia/Shanghai, the day printed on the certificate
    with time_machine.travel(dt.datetime(2026, 12, 3, 17, 30, tzinfo=dt.UTC), tick=False):
        certificate = registration_register(application=accepted(), by=users["clerk_jiayu"],
                                            holders=holders(("张三", "420000199001011234", "1")), **state_terms())
    response = _anon().post("/certificates/verify/", {"number": certificate.number, "code": verification_code(certificate)})
    assert 'id="verify-issued">2026-12-04<' in response.content.decode()
