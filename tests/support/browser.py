"""The browser tests' helpers, imported by name: the app served on a free local port, and a page
logged in. (The one Chromium for the whole session is the ``browser`` fixture in tests/conftest.py.)"""
from __future__ import annotations

import threading
from contextlib import contextmanager

from werkzeug.serving import make_server


@contextmanager
def serving(app):
    """Serve ``app`` on 127.0.0.1 in a thread; yields its base URL."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()


def logged_in_page(browser, url: str, username: str, viewport: dict, javascript: bool = True):
    """A Norwegian page logged in as ``username``; script errors are collected in ``page.errors``.
    ``javascript=False``: a browser with scripts switched off (close it with ``page.context.close()``)."""
    from engine.write import demo
    page = (browser.new_page(viewport=viewport, locale="nb-NO") if javascript else
            browser.new_context(viewport=viewport, locale="nb-NO", java_script_enabled=False).new_page())
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{url}/logg-inn")
    page.fill("#username", username)
    page.fill("#password", demo.PASSWORD)
    page.click("button:has-text('Logg inn')")
    page.wait_for_url("**/oppgaver")
    return page
