"""Regenerates the README screenshots from a running demo (`make run`), in headless Chromium.

Usage: .venv/bin/python onemap/docs/screenshots.py [http://127.0.0.1:8000]
Submits one demo application as `applicant` (so run it on a throw-away demo database).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent
PASSWORD = os.environ.get("ONEMAP_DEMO_PASSWORD", "onemap-demo-2026")


def main(base: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN", base_url=base).new_page()
        page.goto("/")
        page.wait_for_function("document.querySelectorAll('.leaflet-pane path').length > 10")
        page.screenshot(path=str(OUT / "home.png"))

        def login(user: str) -> None:
            page.context.clear_cookies()
            page.goto("/accounts/login/")
            page.fill("#id_username", user)
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(lambda u: "login" not in u)

        login("applicant")
        page.goto("/applications/new/")
        page.fill("#id_title", "嘉鱼县产业园仓储项目")
        page.fill("#id_purpose", "仓储物流用地")
        page.evaluate("OneMap.map.setView([29.956, 113.931], 16, {animate: false})")
        page.click(".leaflet-draw-draw-polygon")
        box = page.locator(".folium-map").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        clicks = [(-120, -80), (110, -95), (140, 70), (-90, 100), (-120, -80)]
        for dx, dy in clicks:
            page.mouse.click(cx + dx, cy + dy)
            page.wait_for_timeout(200)
        page.locator("#site-area .area-m2").wait_for()
        page.locator("#site-precheck li").first.wait_for()
        page.screenshot(path=str(OUT / "draw.png"), full_page=True)
        page.click("#submit-application")
        page.wait_for_url("**/applications/*/")
        url = page.url
        for value in page.locator("#id_requirement option").evaluate_all("os => os.map(o => o.value)"):
            page.select_option("#id_requirement", value)
            page.set_input_files("#id_file", files=[{"name": "材料.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}])
            page.click("#document-upload")
            page.locator("#messages").wait_for()
        login("clerk_jiayu")
        page.goto(url)
        page.screenshot(path=str(OUT / "window.png"), full_page=True)
        page.click("#window-accept")
        page.locator("#messages").wait_for()
        login("reviewer_jiayu")
        page.goto("/applications/")
        page.screenshot(path=str(OUT / "queue.png"))
        page.goto(url)
        page.wait_for_function("document.documentElement.dataset.piecesLoaded > 0")
        page.wait_for_timeout(800)
        page.screenshot(path=str(OUT / "review.png"), full_page=True)
        page.goto("/dashboard/")
        page.screenshot(path=str(OUT / "dashboard.png"), full_page=True)
        login("planner")
        page.goto("/planner/layers/?layer_a=permanent-farmland&layer_b=landuse-survey&division=421221")
        page.wait_for_timeout(800)
        page.screenshot(path=str(OUT / "planner.png"))
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
