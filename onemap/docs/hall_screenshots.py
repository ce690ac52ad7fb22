"""Regenerates the README screenshots of the public's side from a running demo (`make run`), in
headless Chromium: the receipt, the public query on a phone, the window's rating tablet asking
for a rating, the window board, the rankings and the dashboard's public-side figures.

Usage: .venv/bin/python onemap/docs/hall_screenshots.py [http://127.0.0.1:8000]
Pairs a new rating tablet at the Jiayu window (unpairing any other) and asks for one rating, so
run it on a throw-away demo database.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

OUT = Path(__file__).resolve().parent
PASSWORD = os.environ.get("ONEMAP_DEMO_PASSWORD", "onemap-demo-2026")
PHONE = {"width": 390, "height": 844}


def login(page: Page, user: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("#id_username", user)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "login" not in u)


def main(base: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", base_url=base).new_page()

        # The applicant's latest receipt: its page shows the query code and the QR link.
        login(desk, "applicant")
        desk.goto("/applications/")
        desk.locator("tr", has_text="嘉鱼县物流园仓储用地").locator("a").first.click()
        desk.locator("a[href*='/hall/receipts/']").first.click()
        desk.locator("#receipt-code").wait_for()
        desk.screenshot(path=str(OUT / "hall-receipt.png"), full_page=True)
        query_url = desk.locator("#receipt-query-link").get_attribute("href")

        # The public query on a phone, from the receipt's QR link, without an account.
        phone = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=base, is_mobile=True, has_touch=True).new_page()
        phone.goto(query_url)
        phone.locator("#query-result").wait_for()
        phone.screenshot(path=str(OUT / "hall-query-phone.png"), full_page=True)

        # The rating tablet: the head pairs it, a clerk's "consultation done" makes it ask.
        login(desk, "head_jiayu")
        desk.goto("/hall/window/")
        desk.click("#kiosk-pair-button")
        key = desk.locator("#kiosk-new-key").inner_text().strip()
        tablet = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN", base_url=base, has_touch=True).new_page()
        tablet.goto("/hall/kiosk/")
        tablet.fill("#kiosk-key", key)
        tablet.click("#kiosk-pair-submit")
        tablet.locator("#kiosk-waiting").wait_for()
        login(desk, "clerk_jiayu")
        desk.goto("/hall/window/")
        desk.click("#consultation-button")
        tablet.locator("#kiosk-form").wait_for(state="visible", timeout=15000)
        tablet.screenshot(path=str(OUT / "hall-kiosk.png"))

        # The public board and the rankings, without an account.
        public = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", base_url=base).new_page()
        public.goto("/hall/windows/jiayu-land/")
        public.screenshot(path=str(OUT / "hall-board.png"), full_page=True)
        public.goto("/hall/rankings/?period=year")
        public.screenshot(path=str(OUT / "hall-rankings.png"), full_page=True)

        login(desk, "reviewer_xianning")
        desk.goto("/dashboard/")
        desk.locator("#public-side").scroll_into_view_if_needed()
        desk.screenshot(path=str(OUT / "hall-dashboard.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
