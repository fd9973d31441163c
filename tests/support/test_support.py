"""Self-test of the test helpers: a real PostgreSQL and a real Chromium."""

from __future__ import annotations

import http.server
import os
import threading

import pytest

from .chromium import chromium_available, chromium_path, test_output_dir
from .postgres import postgres_available, postgres_server, start_postgres

needs_postgres = pytest.mark.skipif(
    not postgres_available(),
    reason="PostgreSQL server programs not found (apt-get install postgresql)",
)
needs_chromium = pytest.mark.skipif(
    not chromium_available(),
    reason=f"Chromium not found at {chromium_path()} (apt-get install chromium)",
)


@pytest.mark.postgres
@needs_postgres
def test_postgres_select_and_second_database():
    import psycopg

    server = start_postgres()
    try:
        assert server.url == (
            f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/kap12_test"
        )
        with psycopg.connect(server.dsn, connect_timeout=10) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
            assert conn.execute("show fsync").fetchone() == ("off",)
            assert conn.execute("show server_encoding").fetchone() == ("UTF8",)

        url = server.create_database("kap12_second")
        assert url.endswith(f":{server.port}/kap12_second")
        with psycopg.connect(
            host="127.0.0.1", port=server.port, user="postgres",
            dbname="kap12_second", connect_timeout=10,
        ) as conn:
            conn.execute("create table t (x int)")
            conn.execute("insert into t values (42)")
            assert conn.execute("select x from t").fetchone() == (42,)
        tmpdir = server.tmpdir
    finally:
        server.stop()
    assert not tmpdir.exists()
    server.stop()  # a second stop is harmless


@pytest.mark.postgres
@needs_postgres
def test_postgres_twice_in_one_process():
    import psycopg

    with postgres_server() as first, postgres_server() as second:
        assert first.port != second.port
        for server in (first, second):
            with psycopg.connect(server.dsn, connect_timeout=10) as conn:
                assert conn.execute("select current_database()").fetchone() == (
                    "kap12_test",
                )
    assert not first.running and not second.running


PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>smoke</title></head>
<body>
  <h1 id="status">waiting</h1>
  <button id="go" onclick="document.getElementById('status').textContent = 'clicked'">Go</button>
</body></html>
"""


class _PageHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format, *args):  # keep test output quiet
        pass


@pytest.fixture
def page_url():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.mark.browser
@needs_chromium
def test_chromium_click_and_screenshot(page_url, browser):
    from playwright.sync_api import expect

    shot = test_output_dir("support") / "smoke.png"
    if shot.exists():
        shot.unlink()
    page = browser.new_page()
    try:
        page.goto(page_url)
        expect(page.locator("#status")).to_have_text("waiting")
        page.click("#go")
        expect(page.locator("#status")).to_have_text("clicked")
        page.screenshot(path=str(shot))
    finally:
        page.close()
    assert shot.stat().st_size > 0
    assert os.path.basename(shot) == "smoke.png"
