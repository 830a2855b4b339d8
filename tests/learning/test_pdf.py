"""The PDF printer: headless Chromium runs no script in the pack and fetches nothing, prints the running footer, and
says clearly what to install when there is no Chromium."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from safetynet.learning import pdf
from tests.learning.conftest import pdf_text


@pytest.fixture
def counting_server() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that records every path asked of it."""
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()


def test_the_pdf_runs_no_script_fetches_nothing_and_has_the_footer(
    counting_server: tuple[str, list[str]], tmp_path: Path
) -> None:
    base, asked = counting_server
    html = (
        "<!DOCTYPE html><html><head>"
        f'<link rel="stylesheet" href="{base}/style.css"></head><body>'
        "<h1>Pack body</h1>"
        f'<img src="{base}/tracker.png" alt="">'
        "<script>document.body.innerHTML = 'SCRIPT RAN';</script>"
        "</body></html>"
    )
    text = pdf_text(pdf.render(html, "Learning review pack - Test Person - OFFICIAL-SENSITIVE"), tmp_path)
    assert "Pack body" in text
    assert "SCRIPT RAN" not in text
    assert "OFFICIAL-SENSITIVE" in text
    assert "Page 1 of 1" in text
    assert asked == []


def test_no_chromium_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pdf, "CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(pdf.PdfUnavailable, match="install Debian's chromium"):
        pdf.render("<p>x</p>", "footer")
