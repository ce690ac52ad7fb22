"""The one PDF path of the project: HTML → PDF with WeasyPrint, and QR codes as data: URIs.

Shared by the hall's receipts and the issued documents. The renderer loads nothing but data: URIs
(QR codes, server-drawn map SVGs): the network is closed and the text may be hostile, so no URL in
the HTML is ever fetched. Fonts are the system's Noto CJK (fonts-noto-cjk).
"""

from __future__ import annotations


def pdf_render(html: str) -> bytes:
    """HTML → PDF bytes, fetching nothing but data: URIs."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    return HTML(string=html, base_url=None, url_fetcher=URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)).write_pdf()


def qr_data_uri(url: str, *, scale: int = 4) -> str:
    """A QR code (error correction M) of `url` as an SVG data: URI, for <img src> in a page or a PDF
    (the page's CSP allows img-src data:, the PDF fetcher allows only data:)."""
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=scale, border=2)


def svg_data_uri(svg: str) -> str:
    """An SVG document as a base64 data: URI (the map images embedded in a PDF)."""
    import base64

    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def pdf_page_count(data: bytes) -> int:
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)
