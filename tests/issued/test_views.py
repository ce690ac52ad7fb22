"""Every endpoint of the issued documents: who gets what (a denial test per role), the boundary
table page agreeing with the TXT, the public verification page (no personal data, rate-limited,
superseded versions), and hostile input (bad and foreign tokens, NUL, huge ids, others' documents)."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.test import Client

from approvals.issued.models import IssuedDocument
from approvals.issued.selectors import verify_token
from approvals.issued.services import decision_issue
from approvals.services import step_decide, window_accept
from tests.factories import UserFactory, open_step, submit


@pytest.fixture
def decided(users):
    """An approved registration case of the demo applicant, with its decision v1."""
    app = submit(users["applicant"], code="registration", title="城关镇住宅登记")
    app = window_accept(application=app, by=users["clerk_jiayu"], ip="10.0.0.2")
    app = step_decide(step=open_step(app), by=users["reviewer_jiayu"], outcome="approved", comment="准予登记", ip="10.1.0.2")
    return app, IssuedDocument.objects.get(application=app, kind="decision")


def token_of(document: IssuedDocument) -> str:
    """The verification token printed in the document's QR (read back from the PDF's text)."""
    from tests.issued.helpers import pdf_text

    match = re.search(r"/verify/([A-Za-z0-9_-]{32})/", "".join(pdf_text(document.file.read()).split()))
    assert match is not None
    return match.group(1)


# --- the decision PDF download ---------------------------------------------------------------

DECISION_ACCESS = {
    "applicant": 200, "clerk_jiayu": 200, "reviewer_jiayu": 200, "clerk_xianning": 200,
    # a county-only route: the city reviewer never had the case; planners and the administrator see
    # cases but not their papers; a department without a task, another county: nothing
    "reviewer_xianning": 404, "planner": 404, "reviewer_chibi": 404, "dept_jiayu": 404, "admin": 404,
}


def test_decision_download_per_role(client_as, decided):
    _app, doc = decided
    got = {}
    for username in DECISION_ACCESS:
        response = client_as(username).get(f"/documents/{doc.pk}.pdf")
        got[username] = response.status_code
        if response.status_code == 200:
            assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == doc.sha256
            assert response["Content-Type"] == "application/pdf"
    assert got == DECISION_ACCESS


def test_another_applicant_and_anonymous_get_nothing(users, decided):
    _app, doc = decided
    other = Client()
    other.force_login(UserFactory(username="someone_else"))
    assert other.get(f"/documents/{doc.pk}.pdf").status_code == 404
    anonymous = Client().get(f"/documents/{doc.pk}.pdf")
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]


def test_unknown_or_malformed_document_ids_are_404(client_as, decided):
    client = client_as("applicant")
    for path in ("/documents/0.pdf", "/documents/999999999.pdf", "/documents/99999999999999999999999.pdf",
                 "/documents/-1.pdf", "/documents/1%00.pdf", "/documents/abc.pdf"):
        assert client.get(path).status_code == 404, path


def test_the_application_page_lists_the_decision_and_the_boundary_buttons(client_as, decided):
    app, doc = decided
    page = client_as("applicant").get(f"/applications/{app.pk}/").content.decode()
    assert f'href="/documents/{doc.pk}.pdf"' in page
    assert f'href="/applications/{app.pk}/boundary-points/"' in page
    assert f'href="/applications/{app.pk}/boundary-points.txt"' in page
    planner = client_as("planner").get(f"/applications/{app.pk}/").content.decode()
    assert f"/documents/{doc.pk}.pdf" not in planner  # the planner may see the case, not its papers


# --- boundary points: page, TXT, stamped PDF ------------------------------------------------

BOUNDARY_ACCESS = {"applicant": 200, "clerk_jiayu": 200, "reviewer_jiayu": 200, "planner": 200, "reviewer_chibi": 404, "dept_jiayu": 404}


def test_boundary_page_and_txt_per_role(client_as, decided):
    app, _doc = decided
    pages, txts = {}, {}
    for username in BOUNDARY_ACCESS:
        client = client_as(username)
        pages[username] = client.get(f"/applications/{app.pk}/boundary-points/").status_code
        txt = client.get(f"/applications/{app.pk}/boundary-points.txt")
        txts[username] = txt.status_code
        if txt.status_code == 200:
            assert txt["Content-Type"] == "text/plain; charset=utf-8"
            assert f'filename="{app.reference}.txt"' in txt["Content-Disposition"]
    assert pages == BOUNDARY_ACCESS
    assert txts == BOUNDARY_ACCESS


def test_the_page_shows_the_txt_coordinates(client_as, decided):
    app, _doc = decided
    client = client_as("clerk_jiayu")
    page = client.get(f"/applications/{app.pk}/boundary-points/").content.decode()
    txt = client.get(f"/applications/{app.pk}/boundary-points.txt").content.decode()
    from_txt = re.findall(r"^(J\d+),(\d+),([\d.]+),([\d.]+)\r?$", txt, re.MULTILINE)
    from_page = re.findall(r'<td>(J\d+)</td><td>(\d+)</td><td class="num x">([\d.]+)</td><td class="num y">([\d.]+)</td>', page)
    assert len(from_txt) == 5
    assert from_page == from_txt
    assert "EPSG:4526" in page
    assert 'id="boundary-issue"' in page  # the clerk may issue the stamped table


def test_boundary_pages_refuse_the_anonymous(decided):
    app, _doc = decided
    for path in (f"/applications/{app.pk}/boundary-points/", f"/applications/{app.pk}/boundary-points.txt",
                 f"/applications/{app.pk}/site-map.svg"):
        assert Client().get(path).status_code == 302


def test_issuing_the_stamped_table_per_role(client_as, decided):
    app, _doc = decided
    expected = {"applicant": 403, "planner": 403, "reviewer_chibi": 404, "dept_jiayu": 404, "clerk_jiayu": 302}
    got = {u: client_as(u).post(f"/applications/{app.pk}/boundary-points/issue/").status_code for u in expected}
    assert got == expected
    # only the clerk's post issued one
    assert list(IssuedDocument.objects.filter(application=app, kind="boundary_points").values_list("version", "created_by__username")) == [(1, "clerk_jiayu")]


def test_the_stamped_table_versions_and_text(client_as, decided):
    from tests.issued.helpers import ink_share, page_png, pdf_text

    app, _doc = decided
    client = client_as("clerk_jiayu")
    client.post(f"/applications/{app.pk}/boundary-points/issue/")
    client.post(f"/applications/{app.pk}/boundary-points/issue/")
    first, second = IssuedDocument.objects.filter(application=app, kind="boundary_points").order_by("version")
    assert (first.version, second.version) == (1, 2)
    data = first.file.read()
    text = "".join(pdf_text(data).split())
    txt = client.get(f"/applications/{app.pk}/boundary-points.txt").content.decode()
    for _name, _ring, x, y in re.findall(r"^(J\d+),(\d+),([\d.]+),([\d.]+)\r?$", txt, re.MULTILINE):
        assert f"{x}{y}" in text
    assert "界址点成果表" in text
    assert ink_share(page_png(data)) > 0.02
    assert client.get(f"/applications/{app.pk}/boundary-points/issue/").status_code == 405


# --- the print view's server-drawn map --------------------------------------------------------

def test_site_map_svg_per_role(client_as, decided):
    app, _doc = decided
    svg = client_as("applicant").get(f"/applications/{app.pk}/site-map.svg")
    assert svg.status_code == 200
    assert svg["Content-Type"] == "image/svg+xml"
    body = svg.content.decode()
    assert body.lstrip().startswith(("<?xml", "<svg"))
    assert "<script" not in body
    assert client_as("reviewer_chibi").get(f"/applications/{app.pk}/site-map.svg").status_code == 404


def test_the_print_view_is_a4_without_map_controls(client_as, decided):
    app, _doc = decided
    page = client_as("reviewer_jiayu").get(f"/applications/{app.pk}/print/").content.decode()
    assert f'src="/applications/{app.pk}/site-map.svg"' in page
    assert "issued/css/issued.css" in page
    assert "leaflet" not in page.lower()
    assert "folium" not in page.lower()
    assert 'id="signature-block"' in page
    css = (__import__("pathlib").Path(__file__).parents[2] / "approvals/issued/static/issued/css/issued.css").read_text()
    assert "size: A4" in css
    assert ".leaflet-control-container" in css


# --- public verification ---------------------------------------------------------------------

def test_verification_shows_the_document_without_personal_data(users, decided):
    app, doc = decided
    token = token_of(doc)
    page = Client().get(f"/verify/{token}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert doc.sha256 in text
    assert app.reference in text
    assert 'id="verify-version">1<' in text
    assert 'id="verify-current"' in text
    assert "applicant" not in re.sub(r"<[^>]+>", " ", text.split('id="verification"')[1])
    assert app.title not in text


def test_verification_says_a_newer_version_exists(users, decided):
    app, doc = decided
    token = token_of(doc)
    decision_issue(application=app, by=users["reviewer_jiayu"])
    found = verify_token(token=token)
    assert (found.version, found.latest_version, found.superseded) == (1, 2, True)
    english = Client()
    english.cookies["django_language"] = "en"
    text = english.get(f"/verify/{token}/").content.decode()
    assert 'id="verify-superseded"' in text
    assert "A newer version (2)" in text


def test_bad_tokens_answer_alike(decided):
    english = Client()
    english.cookies["django_language"] = "en"
    for token in ("x", "A" * 32, "A" * 31 + "!", "A" * 200, "%00" * 32, "AAAA%00AAAAAAAAAAAAAAAAAAAAAAAAAAA", "%E4%B8%AD" * 11):
        response = english.get(f"/verify/{token}/")
        assert response.status_code == 404, token
        assert "No document matches" in response.content.decode()
    assert Client().get("/verify/../../etc/passwd/").status_code == 404


def test_a_token_is_not_a_key_to_another_document(users, decided):
    _app, doc = decided
    token = token_of(doc)
    assert verify_token(token=token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    # the stored hash is not a token either
    assert Client().get(f"/verify/{doc.token_hash[:32]}/").status_code == 404


def test_verification_is_rate_limited(settings, decided):
    settings.ONEMAP_PUBLIC_QUERY_PER_MINUTE = 2
    _app, doc = decided
    token = token_of(doc)
    client = Client(REMOTE_ADDR="10.9.9.9")
    assert [client.get(f"/verify/{token}/").status_code for _ in range(3)] == [200, 200, 429]
