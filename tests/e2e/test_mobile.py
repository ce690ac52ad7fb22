"""A division head approves on a phone: the reviewer journey at a 390×844 viewport (issue #5:
queue, application map, overlap table, actions), with no sideways scrolling of the page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from approvals.services import window_accept
from data.demo import DEMO_PASSWORD
from tests.e2e.conftest import ARTIFACTS
from tests.factories import submit

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1 && !e.closest('.table-scroll, .leaflet-container'))"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)"
    )
    assert width <= PHONE["width"], f"page is {width}px wide on a {PHONE['width']}px screen: {wide}"


def test_reviewer_journey_on_a_phone(browser: Browser, live_server, onemap, users):
    app = submit(users["applicant"], title="手机审批测试项目")
    window_accept(application=app, by=users["clerk_jiayu"])
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN", base_url=live_server.url)
    offsite: list[str] = []
    context.route(re.compile(r"^(?!" + re.escape(live_server.url) + r"|data:|blob:).*"), lambda route: (offsite.append(route.request.url), route.abort()))
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto("/accounts/login/")
        page.fill("#id_username", "reviewer_jiayu")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.goto("/applications/")
        expect(page.locator("#work-queue")).to_contain_text(app.reference)
        no_sideways_scroll(page)
        page.screenshot(path=str(ARTIFACTS / "mobile_queue.png"), full_page=True)
        page.click(f"#work-queue a:has-text('{app.reference}')")
        page.wait_for_url(re.compile(rf"/applications/{app.pk}/$"))
        # the map is there and usable, the overlap table is readable, the actions reachable
        expect(page.locator(".leaflet-container")).to_be_visible()
        box = page.locator(".leaflet-container").bounding_box()
        assert box["width"] >= 300
        assert box["height"] >= 250
        rows = page.locator("tr.overlap-row[data-class]:not([data-class=''])")
        expect(rows.first).to_be_visible()
        page.wait_for_function("document.documentElement.dataset.piecesLoaded > 0")
        before = page.evaluate("[OneMap.map.getCenter().lat, OneMap.map.getCenter().lng]")
        rows.first.tap()
        expect(rows.first).to_have_class(re.compile("selected"))
        assert page.evaluate("[OneMap.map.getCenter().lat, OneMap.map.getCenter().lng]") != before
        no_sideways_scroll(page)
        page.screenshot(path=str(ARTIFACTS / "mobile_application.png"), full_page=True)
        page.select_option("#id_outcome", "forwarded")
        page.fill("#id_comment", "出差途中审核，同意上报")
        page.locator("#decide-button").scroll_into_view_if_needed()
        page.tap("#decide-button")
        expect(page.locator("#messages .msg-success")).to_be_visible()
        app.refresh_from_db()
        assert (app.current_level, app.steps.get(number=1).outcome) == ("city", "forwarded")
    finally:
        context.close()
    assert offsite == []


def test_reviewer_measures_an_area_on_the_map(page, onemap, users):
    from tests.e2e.conftest import login

    app = submit(users["applicant"], title="量算测试")
    window_accept(application=app, by=users["clerk_jiayu"])
    login(page, "reviewer_jiayu", DEMO_PASSWORD)
    page.goto(f"/applications/{app.pk}/")
    page.wait_for_function("document.documentElement.dataset.piecesLoaded > 0")
    page.evaluate("OneMap.map.setView([29.956, 113.931], 16, {animate: false})")
    page.click(".onemap-measure .measure-area")
    box = page.locator(".folium-map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in [(-100, -60), (100, -60), (100, 60), (-100, 60), (-100, -60)]:
        page.mouse.click(cx + dx, cy + dy)
        page.wait_for_timeout(150)
    expect(page.locator(".measure-result")).to_contain_text("m²")
    shown = float(re.sub(r"[^0-9.]", "", page.text_content(".measure-result").split("m²")[0]))
    drawn = page.evaluate("(() => { let g; OneMap.map.eachLayer(l => { if (l.getLatLngs && l.options.color === '#fa8c16') g = l.toGeoJSON(); }); return g; })()")
    from shapely.geometry import shape

    from tests.geodesy import assert_area_close, geod_area_m2

    assert_area_close(shown, geod_area_m2(shape(drawn["geometry"])))
    # a measurement is not part of anything saved
    app.refresh_from_db()
    assert app.events.filter(action="modified").count() == 0
