"""Headless Chromium (Debian's package) driven by Playwright against pytest-django's live server.

Every request the page makes is checked: anything not addressed to the live server is aborted
and recorded, and the test fails. Uncaught page errors fail the test too, and so does anything the
page's Content-Security-Policy refuses (a page that needs an inline script or style would break).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )
    yield browser
    browser.close()


class Offsite:
    """Requests to hosts other than the live server."""

    def __init__(self) -> None:
        self.urls: list[str] = []


@pytest.fixture
def offsite() -> Offsite:
    return Offsite()


@pytest.fixture
def page(browser: Browser, live_server, offsite: Offsite, request) -> Iterator[Page]:
    origin = urlsplit(live_server.url)
    context = browser.new_context(viewport={"width": 1400, "height": 950}, locale="zh-CN", base_url=live_server.url)
    page_errors: list[str] = []

    def guard(route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in {"data", "blob"} or (url.hostname == origin.hostname and url.port == origin.port):
            route.continue_()
        else:
            offsite.urls.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.wait_for_function = _wait_without_eval(page)
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    # Chromium reports what the Content-Security-Policy refused on the console ("Refused to …")
    csp_refusals: list[str] = []
    page.on("console", lambda m: csp_refusals.append(m.text) if "Content Security Policy" in m.text else None)
    page.set_default_timeout(15_000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert offsite.urls == [], f"page requested off-server resources: {offsite.urls}"
    assert page_errors == [], f"uncaught errors in the page: {page_errors}"
    assert csp_refusals == [], f"the page needed something its Content-Security-Policy refuses: {csp_refusals}"


def _wait_without_eval(page: Page):
    """page.wait_for_function for pages under OneMap's Content-Security-Policy.

    Playwright polls the expression with eval() inside the page, which the policy (no
    'unsafe-eval') refuses; page.evaluate goes through the DevTools protocol, which it does not
    govern. So the tests keep the real policy and poll from here.
    """

    def wait(expression: str, *, arg=None, timeout: float | None = None, polling=None):
        deadline = time.monotonic() + (timeout if timeout is not None else 15_000) / 1000
        while True:
            value = page.evaluate(expression, arg)
            if value:
                return value
            if time.monotonic() > deadline:
                raise PlaywrightTimeoutError(f"wait_for_function timed out: {expression}")
            page.wait_for_timeout(50)

    return wait


def login(page: Page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
