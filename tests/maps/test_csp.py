"""Content-Security-Policy on every page (issue 9, items 2 and 12), and HTML with no way around it.

Every HTML page, for every role, answers with the policy: scripts and <style> blocks only from this
server or with the request's nonce (no 'unsafe-inline'), object-src 'none', base-uri 'self',
frame-ancestors 'none'. Every <script> and <style> tag carries that nonce, and no page has an inline
event handler or a style attribute (the policy would refuse both, so a page relying on one would
break). Text with `</script>` in it cannot end the map's script early.
"""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser

import pytest
from django.test import Client

from tests.factories import JIAYU_SITE, submit

pytestmark = pytest.mark.django_db

PAYLOAD = '</script><script>alert("t")</script><img src=x onerror=alert(1)>'

ROLES = ["applicant", "clerk_jiayu", "clerk_xianning", "reviewer_jiayu", "dept_jiayu", "planner", "admin"]


def directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_policy(response, url: str) -> None:
    header = response.get("Content-Security-Policy")
    assert header, f"{url}: no Content-Security-Policy"
    d = directives(header)
    assert "'unsafe-inline'" not in d["script-src"], url
    assert "'unsafe-eval'" not in d["script-src"], url
    assert "'unsafe-inline'" not in d["style-src"], url
    assert d["object-src"] == ["'none'"], url
    assert d["base-uri"] == ["'self'"], url
    assert d["frame-ancestors"] == ["'none'"], url
    assert d["default-src"] == ["'self'"], url
    assert d["connect-src"] == ["'self'"], url
    assert set(d["img-src"]) <= {"'self'", "data:"}, url
    if "text/html" not in response.get("Content-Type", ""):
        return
    page = Page()
    page.feed(response.content.decode())
    nonces = [s[len("'nonce-"):-1] for s in d["script-src"] if s.startswith("'nonce-")]
    for name, attrs, body in page.blocks:
        if "nonce" in attrs:
            assert nonces == [attrs["nonce"]], f"{url}: <{name}> nonce is not the policy's"
        elif name == "script" and attrs.get("src"):
            # Django admin's own external scripts: same-origin paths, allowed by 'self'
            assert url.startswith("/admin/"), f"{url}: <script src={attrs['src']}> without the nonce"
            assert attrs["src"].startswith(("/static/", "/admin/jsi18n/")), f"{url}: script from elsewhere {attrs['src']}"
        elif name == "script" and attrs.get("type") in {"application/json", "text/template"}:
            continue  # data, never executed
        else:
            # only the standalone error pages, rendered without a request, use a hash instead
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in d[f"{name}-src"], f"{url}: <{name} {attrs}> with neither nonce nor hash"
    assert [s for s in d["style-src"] if not s.startswith(("'nonce-", "'sha256-"))] == ["'self'"], url
    for tag, attrs in page.tags:
        handlers = [a for a in attrs if a.lower().startswith("on")]
        assert not handlers, f"{url}: inline event handler {handlers} on <{tag}>"
        assert "style" not in attrs, f"{url}: style attribute on <{tag} {attrs}>"


class Page(HTMLParser):
    """Start tags with their attributes, and each <script>/<style> with its contents."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.blocks: list[tuple[str, dict[str, str], str]] = []
        self._open: tuple[str, dict[str, str]] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag in {"script", "style"}:
            self._open, self._text = (tag, a), []

    def handle_data(self, data):
        if self._open:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._open and tag == self._open[0]:
            self.blocks.append((*self._open, "".join(self._text)))
            self._open = None


@pytest.fixture
def hostile_apps(users):
    at_window = submit(users["applicant"], title=PAYLOAD)
    near = (JIAYU_SITE[0] + 0.003, JIAYU_SITE[1], JIAYU_SITE[2] + 0.003, JIAYU_SITE[3])
    other = submit(users["applicant"], title=PAYLOAD, bbox=near)
    from parcels.models import Layer

    Layer.objects.filter(slug="permanent-farmland").update(name=PAYLOAD, name_en=PAYLOAD)
    return [at_window.pk, other.pk]


def pages(pks: list[int]) -> list[str]:
    out = ["/", "/accounts/login/", "/applications/", "/applications/new/", "/inbox/", "/dashboard/",
           "/planner/overlap/", "/planner/layers/", "/planner/layers/?layer_a=permanent-farmland&layer_b=landuse-survey&division=421221",
           "/planner/applications/?year=&kind=&status=", "/layers/import/", "/admin/", "/admin/parcels/layer/",
           "/admin/approvals/application/", "/no-such-page/"]
    for pk in pks:
        out += [f"/applications/{pk}/", f"/applications/{pk}/print/", f"/applications/{pk}/resubmit/"]
    return out


@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_with_the_policy_and_nonced_scripts(client_as, hostile_apps, role):
    client = client_as(role)
    seen = {}
    for url in pages(hostile_apps):
        response = client.get(url)
        seen[url] = response.status_code
        assert response.status_code < 500, url
        assert_policy(response, url)
    # the maps were really there (not only 403s): the home page and each role's own pages
    assert seen["/"] == 200
    if role in {"clerk_jiayu", "admin"}:
        assert seen[f"/applications/{hostile_apps[0]}/"] == 200


def test_anonymous_pages_answer_with_the_policy(onemap, hostile_apps):
    client = Client()
    for url in ["/", "/accounts/login/", "/applications/", "/no-such-page/", "/api/layers/"]:
        response = client.get(url)
        assert response.status_code < 500, url
        assert_policy(response, url)


def test_standalone_error_pages_answer_with_the_policy_and_a_hashed_style(client):
    """413 (and 503) pages are rendered without the request, hence without a nonce: their one
    <style> block is allowed by its hash, nothing else."""
    from django.conf import settings

    response = client.generic("POST", "/accounts/login/", data=b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10),
                              content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "<style>" in response.content.decode()
    assert_policy(response, "413")


def test_the_map_script_cannot_be_ended_by_a_title(client_as, hostile_apps):
    """The reviewer's map embeds the nearby application's title: as escaped JSON, shown as text."""
    response = client_as("clerk_jiayu").get(f"/applications/{hostile_apps[0]}/")
    html = response.content.decode()
    script = html[html.rindex("<script"):]
    assert "OneMap.textTooltip" in script  # the nearby outline's tooltip, text only
    assert "\\u003c/script\\u003e\\u003cscript\\u003ealert" in script  # the title, as JSON with < escaped
    assert "</script><script>alert" not in html
    assert "innerHTML" not in script  # folium's GeoJsonTooltip / GeoJsonPopup would put it there
    assert "GeoJsonTooltip" not in script


def test_swatch_and_nonce_helpers_refuse_anything_but_a_colour_and_escape_the_nonce():
    from maps.templatetags.onemap_csp import csp_nonce, swatch

    assert 'fill="#d4b106"' in swatch("#d4b106")
    for hostile in ['red" onload="alert(1)', "#12345g", "javascript:alert(1)", None, "#fff"]:
        out = swatch(hostile)
        assert 'fill="#8c8c8c"' in out
        assert "onload" not in out
    assert csp_nonce('<script nonce="__onemap_csp_nonce__">', 'a"b') == '<script nonce="a&quot;b">'


def test_maps_carry_only_whitelisted_feature_properties():
    """folium writes the name of a unique property into the script as code unless features have ids;
    OneMap gives ids and keeps only known property names."""
    from maps.builders import _text_features

    hostile_key = "x);alert(1);//"
    fc = _text_features([{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]},
                          "properties": {hostile_key: 1, "title": "t"}}], ["title"])
    assert fc["features"][0]["id"] == 0
    assert fc["features"][0]["properties"] == {"title": "t"}


def test_basemap_sources_reach_img_src_only_for_the_configured_host():
    from onemap.settings import _basemap_sources

    assert _basemap_sources("none") == []
    assert _basemap_sources("http://tiles.intranet/{z}/{x}/{y}.png") == ["http://tiles.intranet"]
    assert _basemap_sources("javascript:alert(1)") == []
