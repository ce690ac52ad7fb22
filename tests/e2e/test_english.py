"""The same workbenches in English, switched from the header: the reviewer's queue and
application page and the planner's layer query, with English labels and layer names."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from approvals.services import window_accept
from data.demo import DEMO_PASSWORD
from tests.e2e.conftest import login
from tests.factories import submit

pytestmark = pytest.mark.browser

# Chinese UI labels that must not remain once English is chosen (data such as titles may be Chinese).
CHINESE_CHROME = ["待办事项", "叠加分析报告", "办理时限", "审查决定", "办理过程", "图例"]


def test_reviewer_and_planner_in_english(page: Page, onemap, users):
    app = submit(users["applicant"], title="English check")
    window_accept(application=app, by=users["clerk_jiayu"])
    login(page, "reviewer_jiayu", DEMO_PASSWORD)
    page.goto("/applications/")
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    expect(page.locator("h1").first).to_have_text("Work queue")
    page.click(f"#work-queue a:has-text('{app.reference}')")
    page.wait_for_url(re.compile(rf"/applications/{app.pk}/$"))
    expect(page.locator("#clocks h2")).to_have_text("Clocks")
    expect(page.locator(".overlap h2")).to_have_text("Overlap report")
    expect(page.locator("#decide-button")).to_have_text("Decide")
    expect(page.locator(".onemap-legend")).to_contain_text("Permanent basic farmland")
    expect(page.locator("#application-status")).to_have_text("In review")
    body = page.text_content("body")
    assert not [w for w in CHINESE_CHROME if w in body]
    page.context.clear_cookies()
    login(page, "planner", DEMO_PASSWORD)
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": page.url}])
    page.goto("/planner/layers/?layer_a=permanent-farmland&layer_b=landuse-survey&division=421221")
    expect(page.locator("#cross-result h2")).to_contain_text("Permanent basic farmland × Land-use survey")
    expect(page.locator(".tabs")).to_contain_text("Layer × layer")
