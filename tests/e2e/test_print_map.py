"""The print-map page in headless Chromium (tests/e2e/conftest.py: no off-server request, no CSP
refusal, no page error): the centre's coordinate pair follows the choice, and the preview image
(an SVG data: URI) loads."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pyproj import Transformer

from data.demo import DEMO_PASSWORD
from tests.e2e.conftest import login

pytestmark = pytest.mark.browser


def test_print_map_page_preview_from_gauss_kruger_centre(page: Page, live_server, onemap):
    login(page, "planner", DEMO_PASSWORD)
    page.goto("/maps/print/")
    expect(page.locator("fieldset[data-centre=lonlat]")).to_be_visible()
    expect(page.locator("fieldset[data-centre=gk]")).to_be_hidden()
    page.select_option("#id_centre", "gk")
    expect(page.locator("fieldset[data-centre=lonlat]")).to_be_hidden()
    expect(page.locator("#id_lon")).to_be_disabled()
    e, n = Transformer.from_crs("EPSG:4490", "EPSG:4526", always_xy=True).transform(113.93, 29.97)
    page.fill("#id_x", f"{n:.3f}")
    page.fill("#id_y", f"{e:.3f}")
    page.select_option("#id_scale", "5000")
    page.check("input[name=layers][value=urban-boundary]")
    page.click("#print-preview")
    image = page.locator("#print-map-image")
    expect(image).to_be_visible()
    assert page.evaluate("document.getElementById('print-map-image').naturalWidth") > 0
    assert "centre=gk" in page.url
    assert "lon=" not in page.url  # the hidden pair was not sent
    expect(page.locator("#print-map-preview h2")).to_contain_text("1:5000")
    href = page.locator("#print-map-pdf-link").get_attribute("href")
    assert href.endswith("&format=pdf")
    assert "centre=gk" in href
    assert "format=preview" not in href
