"""Attached documents: a permission-checked download (the application's own rule, 404 otherwise),
served as an attachment with nosniff and its checked type; uploads checked by content (a PDF must
parse, an image must decode), polyglots and other hostile files refused with a clear 400 and
nothing written. Real files in a temporary MEDIA_ROOT, real PostGIS, the real pages."""

from __future__ import annotations

import html
import io
import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from approvals.choices import Role
from approvals.models import ApplicationDocument, ApplicationEvent
from approvals.services import window_accept
from tests.factories import PDF_BYTES, MembershipFactory, UserFactory, minimal_pdf, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _pdf(*, catalog: bytes = b"", extra: tuple[bytes, ...] = (), header: bytes = b"%PDF-1.4\n") -> bytes:
    """A real PDF with extra catalog entries and objects (numbered from 4), offsets computed."""
    return minimal_pdf(*extra, catalog=catalog, header=header)


def _image(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, format=fmt)
    return out.getvalue()


def _encrypted_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_bomb() -> bytes:
    """A tiny PNG whose header claims 30000 × 30000 pixels (900 million): refused before decoding."""
    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _png_chunk(b"IEND", b"")


def _corrupt_png() -> bytes:
    data = bytearray(_image("PNG", (200, 200)))
    start = data.index(b"IDAT") + 8
    data[start:start + 40] = bytes(40)  # zeroes in the compressed pixels: the CRC and zlib stream break
    return bytes(data)


PNG, JPEG = _image("PNG"), _image("JPEG")
SCRIPT = b"<html><body><script>alert(document.cookie)</script></body></html>"

# (file name, content, the message's distinctive words)
HOSTILE = [
    ("polyglot.pdf", b"%PDF-1.4\n" + SCRIPT + b"\n%%EOF\n", "contains web-page code"),
    ("polyglot-valid.pdf", _pdf(header=b"%PDF-1.4\n%" + SCRIPT + b"\n"), "contains web-page code"),
    ("in-a-string.pdf", _pdf(catalog=b"/Lang (" + SCRIPT + b") "), "contains web-page code"),
    ("svg-head.pdf", _pdf(catalog=b"/Lang (<svg onload=alert(1)>) "), "contains web-page code"),
    ("uppercase.pdf", b"%PDF-1.7\n%<HTML><SCRIPT SRC=//evil.example/x.js></SCRIPT>\n" + PDF_BYTES[9:], "contains web-page code"),
    ("no-xref.pdf", b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n", "the PDF cannot be read"),
    ("truncated.pdf", PDF_BYTES[:120], "the PDF cannot be read"),
    ("header-only.pdf", b"%PDF-", "the PDF cannot be read"),
    ("encrypted.pdf", _encrypted_pdf(), "password-protected"),
    ("open-action.pdf", _pdf(catalog=b"/OpenAction 4 0 R ", extra=(b"<< /S /JavaScript /JS (app.alert(1)) >>",)), "the PDF runs actions"),
    ("names-js.pdf", _pdf(catalog=b"/Names << /JavaScript 4 0 R >> ", extra=(b"<< /Names [(x) 5 0 R] >>", b"<< /S /JavaScript /JS (1) >>")), "the PDF runs actions"),
    ("launch.pdf", _pdf(catalog=b"/OpenAction << /S /Launch /F (cmd.exe) >> "), "the PDF runs actions"),
    ("page.html.pdf", SCRIPT, "not a PDF, PNG or JPEG file"),
    ("exe.pdf", b"MZ\x90\x00\x03" + bytes(200), "not a PDF, PNG or JPEG file"),
    ("drawing.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "not a PDF, PNG or JPEG file"),
    ("png-named.jpg", PNG, "not a PDF, PNG or JPEG file"),
    ("jpeg-named.png", JPEG, "not a PDF, PNG or JPEG file"),
    ("report.pdf.html", PDF_BYTES, "not a PDF, PNG or JPEG file"),
    ("png-then-html.png", PNG + SCRIPT, "contains web-page code"),
    ("png-then-zip.png", PNG + b"PK\x03\x04\x14\x00" + bytes(64), "data follows the end of the image"),
    ("jpeg-then-zip.jpg", JPEG + b"PK\x03\x04\x14\x00" + bytes(64), "data follows the end of the image"),
    ("jpeg-comment.jpg", JPEG[:2] + b"\xff\xfe" + struct.pack(">H", len(SCRIPT) + 2) + SCRIPT + JPEG[2:], "contains web-page code"),
    ("corrupt.png", _corrupt_png(), "the image cannot be decoded"),
    ("truncated.jpg", JPEG[: len(JPEG) // 2], "the image cannot be decoded"),
    ("signature-only.png", b"\x89PNG\r\n\x1a\n" + bytes(32), "the image cannot be decoded"),
    ("bomb.png", _png_bomb(), "the image is too large"),
]


def _attach(client: Client, app, requirement, name: str, content: bytes):
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return client.post(reverse("application-act", args=[app.pk]), {"action": "document", "requirement": requirement.pk, "file": upload})


def _url(app, document) -> str:
    return reverse("document-download", args=[app.pk, document.pk])


@pytest.fixture
def app(users):
    return submit(users["applicant"])


@pytest.fixture
def other_applicant():
    user = UserFactory(username="applicant_two")
    MembershipFactory(user=user, role=Role.APPLICANT, division_id="421221")
    return user


def test_the_application_page_links_to_the_download_not_to_media(client_as, app):
    page = client_as("applicant").get(reverse("application-detail", args=[app.pk])).content.decode()
    document = app.documents.first()
    assert f'href="{_url(app, document)}"' in page
    assert "/media/documents/" not in page


# (user, status) while it waits at the county window: who may see the application (approvals.view_documents)
# and, of those, only the applicant and the staff acting on the land (no planner, no superuser)
ROLES = [
    ("applicant", 200),          # their own
    ("clerk_jiayu", 200),        # the window of the county
    ("clerk_xianning", 200),     # the city window covers the county
    ("planner", 404),            # sees the application, but documents are personal data it does not need
    ("admin", 404),              # sees the application; documents only through the (audited) admin
    ("applicant_two", 404),      # another applicant
    ("reviewer_jiayu", 404),     # not yet at the county level (no step)
    ("reviewer_chibi", 404),     # another county
    ("reviewer_xianning", 404),  # not at the city level
    ("reviewer_ministry", 404),
    ("dept_jiayu", 404),         # no task of their department
    ("dept_xianning_plan", 404),
]


def test_download_follows_the_rule_for_seeing_the_application(client_as, users, app, other_applicant):
    users["applicant_two"] = other_applicant
    document = app.documents.first()
    for username, status in ROLES:
        response = client_as(username).get(_url(app, document))
        assert response.status_code == status, username
        if status == 200:
            assert response["Content-Type"] == "application/pdf"
            assert response["Content-Disposition"].startswith("attachment;")
            assert document.original_name in response["Content-Disposition"]
            assert response["X-Content-Type-Options"] == "nosniff"
            assert "sandbox" in response["Content-Security-Policy"]
            assert b"".join(response.streaming_content) == PDF_BYTES


def test_download_denials_reveal_nothing_and_media_is_not_served(client, client_as, users, app):
    document = app.documents.first()
    # anonymous: to the login page, no file
    response = client.get(_url(app, document))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    # a document id of another application, through this application's URL: 404 even for the owner
    other = submit(users["applicant"], title="另一个")
    foreign = other.documents.first()
    assert client_as("applicant").get(reverse("document-download", args=[app.pk, foreign.pk])).status_code == 404
    assert client_as("applicant").get(reverse("document-download", args=[app.pk, 10**9])).status_code == 404
    # the stored file is never reachable by its storage path
    assert client_as("admin").get("/" + "media/" + document.file.name).status_code == 404
    # once at the county level, the county reviewer may read it; the Chibi reviewer still may not
    window_accept(application=app, by=users["clerk_jiayu"])
    assert client_as("reviewer_jiayu").get(_url(app, document)).status_code == 200
    assert client_as("reviewer_chibi").get(_url(app, document)).status_code == 404


def test_hostile_uploads_are_refused_with_a_message_and_nothing_written(client_as, users, media):
    """One application, every hostile file in turn (each submission costs an overlap report)."""
    app = submit(users["applicant"], documents=False)
    requirement = app.kind.required_documents.first()
    client = client_as("applicant")
    events = ApplicationEvent.objects.filter(application=app).count()
    for name, content, message in HOSTILE:
        response = _attach(client, app, requirement, name, content)
        assert response.status_code == 400, name
        text = html.unescape(response.content.decode())
        assert message in text, (name, text[-600:])
        assert name in text, name
    assert not ApplicationDocument.objects.filter(application=app).exists()
    assert ApplicationEvent.objects.filter(application=app).count() == events
    assert not any(p.is_file() for p in Path(media).rglob("*"))


GENUINE = [("survey.pdf", PDF_BYTES, "application/pdf"), ("scan.PNG", PNG, "image/png"), ("photo.jpeg", JPEG, "image/jpeg"),
           ("generated.pdf", _pdf(), "application/pdf")]


def test_genuine_documents_are_accepted_and_served_with_their_type(client_as, users):
    app = submit(users["applicant"], documents=False)
    requirements = list(app.kind.required_documents.all())
    for (name, content, content_type), requirement in zip(GENUINE, requirements, strict=True):
        assert _attach(client_as("applicant"), app, requirement, name, content).status_code == 302, name
        document = app.documents.get(requirement=requirement)
        response = client_as("clerk_jiayu").get(_url(app, document))
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert b"".join(response.streaming_content) == content


def test_only_the_applicant_attaches_documents(client_as, users, other_applicant):
    users["applicant_two"] = other_applicant
    app = submit(users["applicant"], documents=False)
    requirement = app.kind.required_documents.first()
    for username in ("clerk_jiayu", "clerk_xianning", "planner", "admin", "reviewer_chibi", "applicant_two"):
        response = _attach(client_as(username), app, requirement, "survey.pdf", PDF_BYTES)
        assert response.status_code in (403, 404), username  # 404 for those who cannot see it at all
    assert not app.documents.exists()


def test_a_hostile_file_name_is_kept_as_text(client_as, users):
    """The name is the user's: it must not break the page or the download's headers."""
    app = submit(users["applicant"], documents=False)
    requirement = app.kind.required_documents.first()
    name = "<img src=x onerror=alert(1)>' 报告.pdf"
    assert _attach(client_as("applicant"), app, requirement, name, PDF_BYTES).status_code == 302
    document = app.documents.get()
    assert document.original_name == name
    page = client_as("clerk_jiayu").get(reverse("application-detail", args=[app.pk])).content.decode()
    assert "<img src=x onerror" not in page
    response = client_as("clerk_jiayu").get(_url(app, document))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    # the whole name is percent-encoded in filename* (RFC 6266): no quote, bracket or second parameter
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")
    assert not set("\"'<>; ") & set(response["Content-Disposition"].removeprefix("attachment; filename*=utf-8''"))


def test_the_reviewer_and_the_departments_asked_get_the_documents_once_it_is_in_review(client_as, users, app):
    from decimal import Decimal

    from approvals.services import tasks_assign, window_accept
    from tests.factories import department, open_step

    window_accept(application=app, by=users["clerk_jiayu"])
    tasks_assign(step=open_step(app), by=users["reviewer_jiayu"], lead=department("421221", "耕地保护股"), cooperating=[], days=Decimal("1"))
    document = app.documents.first()
    expected = {"reviewer_jiayu": 200, "dept_jiayu": 200, "dept_jiayu_plan": 404, "planner": 404, "reviewer_chibi": 404}
    assert {u: client_as(u).get(_url(app, document)).status_code for u in expected} == expected
    # the planner's page shows that the document was received, without a link
    page = client_as("planner").get(reverse("application-detail", args=[app.pk])).content.decode()
    assert _url(app, document) not in page
    assert document.original_name not in page
