"""HTML to PDF through headless Chromium (Playwright driving the system's Chromium; set-up installs Debian's).

Chromium lays out a 160-page pack in a few seconds, where WeasyPrint took minutes (docs/benchmarks.md, section
``learning``). Chromium does not support CSS page-margin boxes, so the running footer (what the pack is, its
classification, page x of y) is Chromium's own footer template. The HTML is loaded with JavaScript disabled and
every network request refused: the pack is self-contained, and a PDF must never fetch anything.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright._impl._api_structures import PdfMargins

CHROMIUM = os.environ.get("SAFETYNET_CHROMIUM", "/usr/bin/chromium")
MARGINS: PdfMargins = {"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"}
FOOTER = (
    "<div style=\"font: 7.5pt Arial, 'Liberation Sans', sans-serif; color: #4c6272; width: 100%; "
    'margin: 0 14mm; display: flex; justify-content: space-between;">'
    "<span>{left}</span>"
    '<span>Page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>'
)


class PdfUnavailable(RuntimeError):
    """No Chromium to render with: says where it was looked for and how to install it."""


def render(html: str, footer: str) -> bytes:
    """``html`` as an A4 PDF, with ``footer`` (plain text) at the bottom left of every page."""
    from playwright.sync_api import Error, sync_playwright

    if not Path(CHROMIUM).exists():
        raise PdfUnavailable(
            f"No Chromium at {CHROMIUM} to make the PDF: install Debian's chromium package (make setup does) or set "
            "SAFETYNET_CHROMIUM. The HTML pack (--format html) needs nothing."
        )
    # Chromium's own sandbox cannot start as root (containers); everywhere else it stays on.
    args = ["--disable-gpu", "--no-first-run", *(["--no-sandbox"] if os.geteuid() == 0 else [])]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
            try:
                context = browser.new_context(java_script_enabled=False, offline=True)
                page = context.new_page()
                page.route("**/*", lambda route: route.abort())
                page.set_content(html, wait_until="load")
                document: bytes = page.pdf(
                    format="A4",
                    print_background=True,
                    display_header_footer=True,
                    header_template="<div></div>",
                    footer_template=FOOTER.format(left=escape(footer)),
                    margin=MARGINS,
                )
            finally:
                browser.close()
    except Error as exc:
        raise PdfUnavailable(f"Chromium could not make the PDF: {exc}") from exc
    return document
