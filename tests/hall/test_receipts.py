"""Receipts (受理回执 / 退件告知书): issued with the window's acceptance and return, the query code
(unambiguous, hashed, derived for reprints, rotated), the PDF (text, ink, embedded CJK font) and
who may see a receipt (everyone else: 404)."""

from __future__ import annotations

import datetime as dt
import io
import subprocess

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import connection
from django.test import Client
from PIL import Image

from approvals.choices import Role
from approvals.exceptions import DataCheckFailed
from approvals.hall.choices import ReceiptKind
from approvals.hall.models import QueryAccess, Receipt
from approvals.hall.selectors.query import receipt_code
from approvals.hall.services.receipts import CODE_ALPHABET, query_code_current, query_code_derive
from approvals.services import application_resubmit, window_accept, window_return
from approvals.workdays import TZ
from tests.factories import MembershipFactory, UserFactory, submit


def _accepted(users, **kw):
    app = submit(users["applicant"], **kw)
    return window_accept(application=app, by=users["clerk_jiayu"], ip="10.0.0.2")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_acceptance_issues_receipt_with_frozen_content(users):
    app = _accepted(users)
    receipt = Receipt.objects.get(application=app)
    assert receipt.kind == ReceiptKind.ACCEPTANCE
    assert receipt.number == f"HZ{app.reference}-01"
    assert receipt.event is not None
    assert receipt.event.window.code == "jiayu-land"
    assert receipt.issued_by == users["clerk_jiayu"]
    c = receipt.content
    assert c["promised_due"] == app.promised_due.isoformat()
    assert c["statutory_due"] == (app.statutory_due.isoformat() if app.statutory_due else None)
    assert c["level"] == "county"
    assert c["reasons"] == []
    assert {d["code"] for d in c["documents"]} == set(app.kind.required_documents.values_list("code", flat=True))
    assert c["window"]["name"].startswith("嘉鱼县")


def test_return_issues_notice_with_every_reason(users):
    app = submit(users["applicant"])
    window_return(application=app, by=users["clerk_jiayu"], reasons=["缺少宗地图", "身份证复印件不清晰", "  "], ip="10.0.0.2")
    receipt = Receipt.objects.get(application=app)
    assert receipt.kind == ReceiptKind.RETURN
    assert receipt.content["reasons"] == ["缺少宗地图", "身份证复印件不清晰"]
    page = _client(users["applicant"]).get(f"/hall/receipts/{receipt.number}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Return notice" in text
    assert "缺少宗地图" in text
    assert "身份证复印件不清晰" in text


def test_code_unambiguous_hashed_and_never_stored_in_clear(users):
    app = _accepted(users)
    code = query_code_current(application=app)
    assert code is not None
    assert len(code) >= 8
    assert set(code) <= set(CODE_ALPHABET)
    assert not set(code) & set("0O1IL")
    access = QueryAccess.objects.get(application=app)
    assert check_password(code, access.code_hash)
    assert code not in access.code_hash
    # Nowhere in the database in clear: dump every text column of the hall and approvals tables.
    with connection.cursor() as cursor:
        cursor.execute("""SELECT table_name, column_name FROM information_schema.columns
                          WHERE table_schema = 'public' AND (table_name LIKE 'hall_%%' OR table_name LIKE 'approvals_%%')
                          AND data_type IN ('text', 'character varying', 'jsonb')""")
        columns = cursor.fetchall()
        for table, column in columns:
            cursor.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}"::text LIKE %s', [f"%{code}%"])
            assert cursor.fetchone()[0] == 0, f"code found in {table}.{column}"


def test_code_depends_on_server_key(users, settings):
    app = _accepted(users)
    access = QueryAccess.objects.get(application=app)
    code = query_code_derive(salt=access.salt, application_id=app.pk)
    settings.ONEMAP_QUERY_CODE_KEY = "another-server-key"
    assert query_code_derive(salt=access.salt, application_id=app.pk) != code


def test_new_receipt_rotates_code(users):
    app = submit(users["applicant"])
    window_return(application=app, by=users["clerk_jiayu"], reasons=["补充材料"], ip="10.0.0.2")
    first = Receipt.objects.get(application=app)
    old_code = receipt_code(receipt=first)
    assert old_code
    application_resubmit(application=app, by=users["applicant"], title=app.title, purpose=app.purpose, ip="10.0.0.7")
    window_accept(application=app, by=users["clerk_jiayu"], ip="10.0.0.2")
    second = Receipt.objects.filter(application=app).order_by("-id").first()
    assert second.number.endswith("-02")
    assert second.kind == ReceiptKind.ACCEPTANCE
    new_code = receipt_code(receipt=second)
    assert new_code
    assert new_code != old_code
    access = QueryAccess.objects.get(application=app)
    assert check_password(new_code, access.code_hash)
    assert not check_password(old_code, access.code_hash)
    # The earlier receipt no longer shows a code; its page points at the latest.
    assert receipt_code(receipt=first) is None
    text = _client(users["applicant"]).get(f"/hall/receipts/{first.number}/").content.decode()
    assert new_code not in text
    assert old_code not in text
    assert second.number in text


def test_no_receipt_when_action_rolls_back(users):
    app = submit(users["applicant"], documents=False)
    with pytest.raises(DataCheckFailed):
        window_accept(application=app, by=users["clerk_jiayu"], ip="10.0.0.2")
    assert not Receipt.objects.filter(application=app).exists()
    assert not QueryAccess.objects.filter(application=app).exists()


def test_receipt_page_for_allowed_roles(users):
    app = _accepted(users)
    receipt = Receipt.objects.get(application=app)
    code = query_code_current(application=app)
    # The code: the applicant, and the issuing clerk for half an hour to print and hand it over;
    # the other staff see the receipt without it (they could otherwise rate their own services).
    for name, sees_code in (("applicant", True), ("clerk_jiayu", True), ("clerk_jiayu2", False), ("clerk_xianning", False),
                            ("reviewer_jiayu", False), ("reviewer_xianning", False), ("reviewer_hubei", False)):
        response = _client(users[name]).get(f"/hall/receipts/{receipt.number}/")
        assert response.status_code == 200, name
        text = response.content.decode()
        assert receipt.number in text
        assert (code in text) is sees_code, name
        assert ("data:image/svg+xml" in text) is sees_code, name
        assert ('id="receipt-code-withheld"' in text) is not sees_code, name
    # the applicant sees the receipt on the application page
    detail = _client(users["applicant"]).get(f"/applications/{app.pk}/").content.decode()
    assert f"/hall/receipts/{receipt.number}/" in detail


def test_receipt_denied_per_role(users):
    app = _accepted(users)
    receipt = Receipt.objects.get(application=app)
    other_applicant = UserFactory(username="someone_else")
    MembershipFactory(user=other_applicant, role=Role.APPLICANT, division_id="421221")
    chibi_clerk = UserFactory(username="clerk_chibi")
    MembershipFactory(user=chibi_clerk, role=Role.CLERK, division_id="421281")
    denied = [Client(), _client(other_applicant), _client(chibi_clerk)]
    denied += [_client(users[n]) for n in ("planner", "dept_jiayu", "caller_hubei", "reviewer_chibi", "admin")]
    for client in denied:
        for url in (f"/hall/receipts/{receipt.number}/", f"/hall/receipts/{receipt.number}.pdf"):
            assert client.get(url).status_code == 404, url
    # the page of a receipt that does not exist looks the same
    assert _client(users["clerk_jiayu"]).get("/hall/receipts/HZ-nope/").status_code == 404


@pytest.mark.parametrize("number", ["x" * 5000, "%00", "' OR 1=1 --", "受理回执", "..%2F..%2Fetc%2Fpasswd", "<script>"])
def test_receipt_hostile_numbers(users, number):
    response = _client(users["clerk_jiayu"]).get(f"/hall/receipts/{number}/")
    assert response.status_code == 404


def _pdftotext(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def test_pdf_text_ink_and_cjk_font(users, tmp_path):
    app = _accepted(users)
    receipt = Receipt.objects.get(application=app)
    response = _client(users["applicant"]).get(f"/hall/receipts/{receipt.number}.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    pdf = response.content
    assert pdf.startswith(b"%PDF-")
    text = _pdftotext(pdf)
    assert "受理回执" in text
    assert receipt.number in text
    due = app.promised_due.astimezone(TZ)
    assert f"{due.year}年{due.month}月{due.day}日" in text
    assert query_code_current(application=app) in text
    # an embedded CJK font
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout
    assert "CJK" in fonts
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert all(" yes " in line for line in cjk), fonts
    # the page is not blank: dark pixels at 50 dpi
    png = subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path)], capture_output=True, check=True).stdout
    image = Image.open(io.BytesIO(png)).convert("L")
    dark = sum(image.histogram()[:128])
    assert dark > 500, dark


def test_return_pdf_lists_reasons(users):
    app = submit(users["applicant"])
    window_return(application=app, by=users["clerk_jiayu"], reasons=["缺少宗地图", "权属证明已过期"], ip="10.0.0.2")
    receipt = Receipt.objects.get(application=app)
    text = _pdftotext(_client(users["clerk_jiayu"]).get(f"/hall/receipts/{receipt.number}.pdf").content)
    assert "退件告知书" in text
    assert "缺少宗地图" in text
    assert "权属证明已过期" in text


def test_pdf_fetches_nothing_from_hostile_text(users, monkeypatch):
    """A reason carrying markup and URLs is text on the paper, and no URL is fetched."""
    from weasyprint.urls import URLFetcher

    fetched: list[str] = []
    original = URLFetcher.fetch

    def spy(self, url, headers=None):
        fetched.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(URLFetcher, "fetch", spy)
    app = submit(users["applicant"])
    hostile = '<img src="http://169.254.169.254/x"><link rel=stylesheet href="file:///etc/passwd"> url(http://evil/)'
    window_return(application=app, by=users["clerk_jiayu"], reasons=[hostile], ip="10.0.0.2")
    receipt = Receipt.objects.get(application=app)
    response = _client(users["applicant"]).get(f"/hall/receipts/{receipt.number}.pdf")
    assert response.status_code == 200
    assert all(u.startswith("data:") for u in fetched), fetched
    assert "169.254.169.254" in _pdftotext(response.content)


def test_clerk_sees_receipt_link_after_acting_on_the_page(users):
    app = submit(users["applicant"])
    clerk = _client(users["clerk_jiayu"])
    response = clerk.post(f"/applications/{app.pk}/act/", {"action": "window_accept"}, follow=True)
    assert response.status_code == 200
    receipt = Receipt.objects.get(application=app)
    text = response.content.decode()
    assert 'id="hall-receipts"' in text
    assert f"/hall/receipts/{receipt.number}/" in text
    assert f"/hall/receipts/{receipt.number}.pdf" in text
    # a planner sees the application but not its receipts (they carry the query code)
    planner_page = _client(users["planner"]).get(f"/applications/{app.pk}/").content.decode()
    assert receipt.number not in planner_page


def test_pdf_renderer_refuses_every_url_but_data(monkeypatch, tmp_path):
    """Even markup that names files and hosts (were a template ever to let some through) loads nothing."""
    import urllib.request

    from approvals.hall.views.query import pdf_render

    opened: list[str] = []
    original = urllib.request.OpenerDirector.open

    def spy(self, url, *args, **kwargs):
        opened.append(url if isinstance(url, str) else url.full_url)
        return original(self, url, *args, **kwargs)

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", spy)
    secret = tmp_path / "secret.css"
    secret.write_text("body { background: red }")
    html = (f'<link rel="stylesheet" href="file://{secret}"><img src="file:///etc/hostname">'
            '<img src="http://127.0.0.1:9/x.png"><p style="background: url(https://example.invalid/a.png)">受理回执</p>'
            '<img src="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSIxIiBoZWlnaHQ9IjEiLz4=">')
    pdf = pdf_render(html)
    assert pdf.startswith(b"%PDF-")
    assert all(u.startswith("data:") for u in opened), opened


def test_the_issuing_clerk_sees_the_code_for_half_an_hour_only(users):
    app = _accepted(users)
    receipt = Receipt.objects.get(application=app)
    code = query_code_current(application=app)
    url = f"/hall/receipts/{receipt.number}/"
    with time_machine.travel(receipt.issued_at + dt.timedelta(minutes=29), tick=False):
        assert code in _client(users["clerk_jiayu"]).get(url).content.decode()
    with time_machine.travel(receipt.issued_at + dt.timedelta(minutes=31), tick=False):
        page = _client(users["clerk_jiayu"]).get(url).content.decode()
        pdf = _client(users["clerk_jiayu"]).get(f"/hall/receipts/{receipt.number}.pdf").content
        assert code not in page
        assert 'id="receipt-code-withheld"' in page
        assert code not in _pdftotext(pdf)
        assert "查询码已印在交给申请人的回执上" in _pdftotext(pdf)
        assert code in _client(users["applicant"]).get(url).content.decode()
