"""The main menu offers only pages the user may open: no link that answers 403."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db

ROLE_LINKS = ["/planner/overlap/", "/maps/print/", "/dashboard/"]


def _nav_hrefs(html: str) -> set[str]:
    nav = re.search(r'<nav aria-label="[^"]*">(.*?)</nav>', html, re.S)
    assert nav is not None
    return set(re.findall(r'href="([^"]+)"', nav.group(1)))


@pytest.mark.parametrize(("who", "shown"), [
    ("applicant", set()),
    ("caller_hubei", set()),
    ("clerk_jiayu", {"/maps/print/", "/dashboard/"}),
    ("reviewer_jiayu", {"/maps/print/", "/dashboard/"}),
    ("dept_jiayu", {"/maps/print/", "/dashboard/"}),
    ("planner", {"/planner/overlap/", "/maps/print/", "/dashboard/"}),
    ("admin", {"/planner/overlap/", "/maps/print/", "/dashboard/"}),
])
def test_menu_matches_what_the_pages_allow(client_as, who, shown):
    client = client_as(who)
    hrefs = _nav_hrefs(client.get("/applications/").content.decode())
    assert hrefs.intersection(ROLE_LINKS) == shown
    for href in ROLE_LINKS:
        assert (client.get(href).status_code == 200) == (href in shown), href


def test_anonymous_menu_has_no_role_links(client):
    hrefs = _nav_hrefs(client.get("/hall/").content.decode())
    assert not hrefs.intersection(ROLE_LINKS)
