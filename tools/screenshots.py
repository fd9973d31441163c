"""The README's screenshots, made again from the demo county in Debian's Chromium.

    .venv/bin/python tools/screenshots.py [--ut webui/static/screenshots] [--alle] [--sprak nn]

Builds the demo (``kap12 demo``'s cases) in a throwaway folder on a fixed Monday morning,
serves it on a free local port and saves each page at desktop width and at 390 px (a phone).
``--alle`` also saves the pages the README does not show, to look at after a change;
``--sprak nn`` (or ``en``) shows them in that language, saved with the language in the name.
"""
from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.config import Settings  # noqa: E402
from engine.runtime.clock import Clock  # noqa: E402
from engine.service import Kap12  # noqa: E402
from engine.write import demo  # noqa: E402  (the project root is put on the path first)
from tests.support.chromium import launch  # noqa: E402
from webui.app import create_app  # noqa: E402

MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _pages(kap12: Kap12) -> list[tuple[str, str, str, bool]]:
    """(file name, user, path, in the README) for each page worth a picture."""
    rektor = kap12.viewer("rektor")
    cases = {c.stage: c for c in kap12.cases_for(rektor)}
    closed = next(c for c in cases.values() if c.status == "closed")
    planned = next(c for c in cases.values() if c.stage == "Gjennomføre tiltak")
    return [
        ("mine-oppgaver", "avdelingsleder", "/oppgaver", True),
        ("sak", "rektor", f"/saker/{closed.id}", True),
        ("saker", "rektor", "/saker", True),
        ("ny-melding", "ansatt", "/melding/ny", False),
        ("ukeoversikt", "rektor", "/oversikt", False),
        ("sak-tiltak", "rektor", f"/saker/{planned.id}", False),
        ("revisjon", "revisor", f"/revisjon/saker/{closed.id}", False),
        ("prosesser", "prosesseier", "/prosesser", False),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ut", type=Path, default=ROOT / "webui" / "static" / "screenshots")
    parser.add_argument("--alle", action="store_true")
    parser.add_argument("--sprak", choices=("nb", "nn", "en"), default="nb")
    args = parser.parse_args()
    args.ut.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request lines between the file names
    with tempfile.TemporaryDirectory() as folder:
        clock = Clock()
        clock.set(MONDAY_9)
        kap12 = Kap12(Settings(database_url=f"sqlite:///{folder}/kap12.sqlite3", instance_dir=Path(folder),
                               bpmn_dir=ROOT / "bpmn", base_url="http://127.0.0.1"), clock=clock)
        kap12.init()
        demo.load_demo(kap12)
        httpd = make_server("127.0.0.1", 0, create_app(kap12), threaded=True)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{httpd.server_port}"
        try:
            with sync_playwright() as p:
                browser = launch(p)
                for name, user, path, shown in _pages(kap12):
                    if not (shown or args.alle):
                        continue
                    for suffix, viewport in (("", DESKTOP), ("-mobil", PHONE)):
                        page = browser.new_page(viewport=viewport, locale=f"{args.sprak}-NO")
                        page.goto(f"{url}/logg-inn")
                        page.fill("#username", user)
                        page.fill("#password", demo.PASSWORD)
                        page.click("form button[type=submit]")
                        page.wait_for_url("**/oppgaver")
                        page.goto(url + path)
                        page.wait_for_load_state("networkidle")
                        language = "" if args.sprak == "nb" else f"-{args.sprak}"
                        target = args.ut / f"{name}{language}{suffix}.png"
                        page.screenshot(path=str(target), full_page=suffix == "")
                        print(target)
                        page.close()
                browser.close()
        finally:
            httpd.shutdown()
            kap12.close()


if __name__ == "__main__":
    main()
