"""What an attached document really is: checked by content, not by its name or first bytes.

A file is accepted only when it is wholly what its extension says:
- a PDF parses with pypdf (cross-reference table, trailer, at least one page), is not encrypted
  (reviewers could not open it) and carries no JavaScript action;
- a PNG or JPEG decodes with Pillow (verify, then a full load) within a pixel budget and ends
  where the image ends (nothing appended after IEND / EOI);
- no file contains web-page markup where a browser would look for it: a `%PDF-1.4\\n<html><script>`
  polyglot passes a magic-number check and can run as a page if it is ever served inline.
The download view (maps/views/pages.py: document_download) also serves documents as attachments
with nosniff, so this is the first of two lines.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

CONTENT_TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
# Magic numbers: a cheap first refusal before any parser sees the file.
SIGNATURES = {".pdf": b"%PDF-", ".png": b"\x89PNG\r\n\x1a\n", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff"}
PILLOW_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
# Scanned plans are large but bounded: A1 at 300 dpi is about 70 million pixels. Beyond this a
# small compressed file could expand to gigabytes in memory (a decompression bomb). Pillow's own
# bomb check (warning above 89.5 million pixels) is turned into this refusal as well.
MAX_IMAGE_PIXELS = 80_000_000
# Browsers sniff the first bytes of a response (the MIME-sniffing "resource header", 1445 bytes);
# markup that short is checked in the first 4 KB. Longer tags are checked in the whole file: at
# six or more fixed characters they do not occur by chance in compressed data.
HEAD_BYTES = 4096
_MARKUP_HEAD = re.compile(rb"<\s*(?:script|html|body|iframe|svg|object|embed|meta|img|!doctype|\?xml-stylesheet)", re.IGNORECASE)
_MARKUP_ANYWHERE = re.compile(rb"<\s*(?:script|html[\s>]|body[\s>]|iframe|!doctype\s+html)", re.IGNORECASE)


def content_type_for(name: str) -> str:
    """The content type a stored document is served with (its extension was checked against its content)."""
    return CONTENT_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


def _refuse(message: str, name: str, code: str) -> ValidationError:
    return ValidationError(message % {"file": name}, code=code)


def document_check(*, upload: UploadedFile, name: str) -> str:
    """Raises ValidationError (with the file's name and why) unless `upload` is a genuine PDF, PNG
    or JPEG matching its extension; returns its content type. Leaves the file at position 0."""
    suffix = Path(name).suffix.lower()
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    if suffix not in SIGNATURES or not data.startswith(SIGNATURES[suffix]):
        raise _refuse(_("%(file)s: not a PDF, PNG or JPEG file (by its content)."), name, "bad_type")
    if _MARKUP_HEAD.search(data[:HEAD_BYTES]) or _MARKUP_ANYWHERE.search(data):
        raise _refuse(_("%(file)s: contains web-page code (HTML or script), which a document must not; "
                        "save it again as a plain PDF, PNG or JPEG and attach that."), name, "markup")
    if suffix == ".pdf":
        _pdf_check(data, name)
    else:
        _image_check(data, name, PILLOW_FORMATS[suffix])
    return CONTENT_TYPES[suffix]


def _pdf_check(data: bytes, name: str) -> None:
    from pypdf import PdfReader

    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)  # a damaged file is refused with our message, not logged as pypdf's noise
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise _refuse(_("%(file)s: the PDF is password-protected; attach it without a password."), name, "encrypted")
            pages = len(reader.pages)
            catalog = reader.trailer["/Root"]
            names = catalog.get("/Names")
            javascript = "/JavaScript" in (names.get_object() if names is not None else {}) or "/AA" in catalog
            action = catalog.get("/OpenAction")
            action = action.get_object() if action is not None else None
            if isinstance(action, dict) and action.get("/S") in ("/JavaScript", "/Launch", "/URI"):
                javascript = True
    except ValidationError:
        raise
    except Exception as exc:  # pypdf raises many types on hostile input; all mean "not a readable PDF"
        raise _refuse(_("%(file)s: the PDF cannot be read (damaged, or not really a PDF)."), name, "bad_pdf") from exc
    finally:
        pypdf_log.setLevel(level)
    if pages < 1:
        raise _refuse(_("%(file)s: the PDF has no pages."), name, "bad_pdf")
    if javascript:
        raise _refuse(_("%(file)s: the PDF runs actions (JavaScript, launch or link on opening); attach a plain PDF."), name, "pdf_actions")


def _image_check(data: bytes, name: str, expected: str) -> None:
    from PIL import Image

    bad = _refuse(_("%(file)s: the image cannot be decoded (damaged, or not really a PNG or JPEG)."), name, "bad_image")
    too_large = ValidationError(_("%(file)s: the image is too large (over %(limit)d million pixels).")
                                % {"file": name, "limit": MAX_IMAGE_PIXELS // 1_000_000}, code="image_too_large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format != expected:
                    raise bad
                width, height = probe.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise too_large
                probe.verify()  # chunk checksums and structure
            with Image.open(io.BytesIO(data)) as image:  # verify() leaves the image unusable: decode afresh
                image.load()  # every pixel, so truncated or corrupt data fails here
    except ValidationError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise too_large from exc
    except Exception as exc:  # Pillow's errors on hostile input vary (OSError, SyntaxError, ValueError, ...)
        raise bad from exc
    # Nothing may follow the image's end: appended data is how image polyglots carry a second file.
    end = data.rstrip(b"\x00\r\n ")
    if (expected == "PNG" and not end.endswith(b"IEND\xaeB`\x82")) or (expected == "JPEG" and not end.endswith(b"\xff\xd9")):
        raise _refuse(_("%(file)s: data follows the end of the image; attach the image alone."), name, "trailing_data")
