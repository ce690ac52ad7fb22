"""A villager on a phone (390×844): from the service hall to the running public notices, the notice
with its site map, an objection lodged, and the reference shown. Nothing off-server, nothing the
CSP refuses, no sideways scrolling."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from approvals.notices.models import NoticeRule, Objection
from approvals.notices.services import notice_publish
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_mobile import PHONE, no_sideways_scroll
from tests.notices.helpers import homestead_at_last_level, last_reviewer

pytestmark = pytest.mark.browser


def test_objection_on_a_phone(browser: Browser, live_server, onemap, users):
    NoticeRule.objects.create(kind_id="rural_homestead", days=5)
    app = homestead_at_last_level(users, title="手机公示测试")
    notice = notice_publish(application=app, by=last_reviewer(app), ip="10.0.0.3")
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN", base_url=live_server.url)
    offsite: list[str] = []
    context.route(re.compile(r"^(?!" + re.escape(live_server.url) + r"|data:|blob:).*"), lambda route: (offsite.append(route.request.url), route.abort()))
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        page.goto("/hall/")
        page.tap("#hall-notices-link")
        page.wait_for_url(re.compile(r"/notices/$"))
        expect(page.locator("#notice-list")).to_contain_text(notice.number)
        no_sideways_scroll(page)
        page.screenshot(path=str(ARTIFACTS / "notices_list_phone.png"), full_page=True)
        page.tap(f"#notice-list a:has-text('{notice.number}')")
        expect(page.locator("#notice-case")).to_have_text(app.reference)
        expect(page.locator("#notice-site")).to_be_visible()
        box = page.locator("#notice-map svg").bounding_box()
        assert box["width"] >= 300
        assert box["height"] >= 200
        expect(page.locator("#notice-area")).to_contain_text("m²")
        no_sideways_scroll(page)
        page.fill("#id_text", "新建房屋东侧紧贴我家承包地，请核实界址。")
        expect(page.locator("#objection-count")).to_have_text("20 / 2000")
        page.fill("#id_name", "王建国")
        page.fill("#id_phone", "139 7215 0707")
        page.locator("#objection-submit").scroll_into_view_if_needed()
        page.tap("#objection-submit")
        expect(page.locator("#objection-lodged")).to_be_visible()
        objection = Objection.objects.get(notice=notice)
        expect(page.locator("#objection-reference")).to_have_text(objection.reference)
        assert (objection.name, objection.phone) == ("王建国", "13972150707")
        no_sideways_scroll(page)
        page.screenshot(path=str(ARTIFACTS / "notices_objection_phone.png"), full_page=True)
    finally:
        context.close()
    assert offsite == []
    assert errors == []


def test_reviewer_answers_the_objection(page, live_server, onemap, users):
    """The level's reviewer sees the notice, the objector's phone (the text as text) and the hold on
    the application page, and answers in place (nothing the page's CSP refuses; see conftest)."""
    from approvals.notices.services import objection_lodge
    from data.demo import DEMO_PASSWORD
    from tests.e2e.conftest import login

    NoticeRule.objects.create(kind_id="rural_homestead", days=5)
    app = homestead_at_last_level(users, title="公示答复测试")
    reviewer = last_reviewer(app)
    if reviewer.username not in users:
        pytest.skip("the last level's reviewer is not a demo account")
    notice = notice_publish(application=app, by=reviewer, ip="10.0.0.3")
    objection_lodge(notice=notice, name="李四", phone="13907152222", text="<b>界址</b>有误")
    login(page, reviewer.username, DEMO_PASSWORD)
    page.goto(f"/applications/{app.pk}/")
    panel = page.locator("#notice-panel")
    expect(panel).to_contain_text(notice.number)
    expect(panel.locator(".objector-phone")).to_have_text("13907152222")
    expect(panel.locator(".objection-text").first).to_have_text("<b>界址</b>有误")
    expect(page.locator("#notice-hold")).to_be_visible()
    panel.locator("textarea[name=text]").fill("经现场复核，界址无误。")
    panel.locator(".answer-submit").click()
    expect(page.locator("#notice-panel .answer-text")).to_have_text("经现场复核，界址无误。")
    page.screenshot(path=str(ARTIFACTS / "notices_staff_panel.png"), full_page=True)
