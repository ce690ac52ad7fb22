"""The receipt's QR code on a phone: a visitor without an account opens /query/#n=…&c=… at 390×844,
the page's module posts the fragment's number and code, and the case's status shows; no sideways
scrolling. Then the applicant's receipt page on the same phone."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from playwright.sync_api import Page, expect

from approvals.hall.models import Receipt
from approvals.services import window_accept
from data.demo import DEMO_PASSWORD
from tests.e2e.conftest import ARTIFACTS, login
from tests.factories import submit

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide on a {PHONE['width']}px screen"


def test_qr_url_on_a_phone_without_login(page: Page, live_server, onemap, users):
    app = window_accept(application=submit(users["applicant"], title="扫码查询测试"), by=users["clerk_jiayu"])
    receipt = Receipt.objects.get(application=app)
    # the link the receipt carries (the same URL as its QR code)
    client = Client()
    client.force_login(users["applicant"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(f"/hall/receipts/{receipt.number}/").content.decode()
    href = re.search(r'href="([^"]+)" id="receipt-query-link"', html)
    assert href is not None, "the receipt links the query"
    link = urlsplit(href.group(1).replace("&amp;", "&"))
    assert link.path == "/query/"
    assert link.fragment.startswith("n=")

    page.set_viewport_size(PHONE)
    page.goto(f"/query/#{link.fragment}")
    expect(page.locator("#query-result")).to_be_visible()
    with translation.override("zh-hans"):
        expected = str(app.get_status_display())
    expect(page.locator("#query-status")).to_have_text(expected)
    # the code left the address bar with the fragment
    assert "#" not in page.url
    assert "c=" not in page.url
    _no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "public_query_phone.png"), full_page=True)

    # the applicant's receipt page on the same phone
    login(page, "applicant", DEMO_PASSWORD)
    page.goto(f"/hall/receipts/{receipt.number}/")
    expect(page.locator("#receipt-number")).to_have_text(receipt.number)
    expect(page.locator("#receipt-qr")).to_be_visible()
    _no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "receipt_phone.png"), full_page=True)


def test_wrong_code_from_a_link(page: Page, live_server, onemap, users):
    app = window_accept(application=submit(users["applicant"]), by=users["clerk_jiayu"])
    page.set_viewport_size(PHONE)
    page.goto(f"/query/#n={app.reference}&c=WRONGCODE2")
    expect(page.locator("#query-error")).to_be_visible()
    expect(page.locator("#query-result")).to_have_count(0)
    _no_sideways_scroll(page)
