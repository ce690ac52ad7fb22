""""While you wait" in the browser: the county clerk accepts a registration case at the window,
registers it on the form, reaches the certificate page, opens the parcel's lineage map, checks the
public verification through the certificate's QR link, and the dashboard shows the minutes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from approvals.registry.models import Certificate
from data.demo import DEMO_PASSWORD
from tests.e2e.conftest import ARTIFACTS, login
from tests.factories import submit
from tests.registry.conftest import FREE_SITE, areas  # noqa: F401 (the register's fixture)

pytestmark = pytest.mark.browser


def test_registration_while_you_wait(page: Page, live_server, users, areas):  # noqa: F811 (the imported fixture)
    app = submit(users["resident_01"] if "resident_01" in users else users["applicant"], code="registration", bbox=FREE_SITE, title="立等可取登记")
    login(page, "clerk_jiayu", DEMO_PASSWORD)
    page.goto(f"/applications/{app.pk}/")
    page.click("#window-accept")
    page.wait_for_selector("#register-link")
    page.click("#register-link")
    page.wait_for_url(re.compile(r"/registry/applications/\d+/register/$"))
    page.select_option("#id_right_type", "国有建设用地使用权")
    page.select_option("#id_land_use", "0701")
    page.fill("#id_term_start", "2026-01-01")
    page.fill("#id_term_end", "2096-01-01")
    page.fill("#id_holder-0-name", "张三")
    page.fill("#id_holder-0-id_number", "420000199001011234")
    page.fill("#id_holder-0-share", "1")
    page.click("#register-submit")
    page.wait_for_url(re.compile(r"/registry/certificates/"))
    certificate = Certificate.objects.get(right__application=app)
    expect(page.locator("#certificate-number")).to_have_text(certificate.number)
    expect(page.locator("#verification-code")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "registry_certificate.png"), full_page=True)
    verify_href = page.get_attribute("#verify-link", "href")

    page.click("#parcel-link")
    page.wait_for_url(re.compile(r"/registry/parcels/"))
    expect(page.locator("#lineage-map path.leaflet-interactive")).to_have_count(1)
    expect(page.locator("#lineage-timeline li")).to_have_count(5)
    page.screenshot(path=str(ARTIFACTS / "registry_lineage.png"), full_page=True)

    page.goto("/dashboard/")
    row = page.locator("#registration-minutes tbody tr").first
    expect(row.locator("td").first).to_have_text("1")

    # the certificate's QR link, opened by anyone: the module posts the fragment's number and code
    page.goto(verify_href)
    expect(page.locator("#verify-result")).to_be_visible()
    expect(page.locator("#verify-holders")).to_have_text("张*")
    assert "#" not in page.url
