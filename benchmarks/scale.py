"""Do list pages stay fast as a county's history grows? A county on PostgreSQL with many
schools and cases, built through the real write path (reports, received, some investigated), and
the median and 95th percentile of each list page and API list as rektor, the school owner and
an auditor, at two sizes.

Every case is made by ``Kap12.report`` and ``Kap12.complete`` — the rows are the ones a county
would have — in several processes at once. That is honest but slow on a small machine (about
0.1–0.5 s per case on two busy cores), so the default sizes are small. With ``--bulk``, a few
template cases are made that way and the rest are copies of them (benchmarks/_bulk.py says
exactly what a copy changes; ``kap12 verify`` accepts the copies' chains, checked here on a
sample), 20 % open, over three school years, about one in four in the school owner's circle
(serious A, B and C; see ``_templates``): ``--bulk --cases 1000,100000`` is the issue's run.

Run: .venv/bin/python benchmarks/scale.py [--cases 200,1000] [--schools 40] [--processes 2] [--bulk]
     (KAP12_DATABASE_URL=postgresql+psycopg://…/NAME to use a server of your own: each size gets
     a database NAME_scaleSIZE there, dropped and made afresh, which needs the right to create
     databases; otherwise a throwaway server is started, as the tests do)"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]

import _bulk  # noqa: E402
from _common import (  # noqa: E402
    api_tokens,
    county_schools,
    engine_at,
    logged_in,
    postgres_databases,
    row,
    school_staff,
    settle_tables,
    staff_username,
)
from sqlalchemy import event, func, select  # noqa: E402

from engine.store.models import Case  # noqa: E402
from engine.versions.example_data import example_data  # noqa: E402
from engine.write.demo import complete_next, ensure_directory, report_data  # noqa: E402

PAGES = {
    "rektor": ["/oppgaver", "/saker", "/saker?status=alle", "/varsler", "/oversikt", "/api/v1/cases",
               "/api/v1/tasks"],
    "skoleeier": ["/oppgaver", "/saker", "/saker?status=alle", "/oversikt", "/api/v1/cases"],
    "revisor": ["/revisjon", "/saker?status=alle", "/api/v1/cases"],
    "prosesseier": ["/prosesser"],
    # The teacher who reports their school's cases (every one of them in the bulk county: 2,500
    # at 100,000): the person whose own cases, found first, are the most ids a page carries.
    "ansatt": ["/saker?status=alle", "/api/v1/cases"],
}
REQUESTS = 40  # the machine varies by a few ms from one request to the next: the median of many
ROUNDS = 4  # the sizes take turns this often (``measure``)


def _build(args: tuple[str, str, list[int], int, int]) -> int:
    """Worker process: ``count`` cases through the write path, spread over the schools; at the
    demo school every fifth is received and investigated by rektor."""
    url, folder, schools, start, count = args
    kap12 = engine_at(Path(folder), url=url)
    people = ensure_directory(kap12)
    # A teacher at each school reports; rektor leads the demo school (the first).
    leader = people.users["rektor"]
    for i in range(start, start + count):
        school_id = schools[i % len(schools)]
        case = kap12.report(_reporter(people, schools, school_id), school_id, report_data())
        if i % 5 or case.school_id not in leader.schools({"rektor"}):
            continue
        for _ in range(2):
            tasks = [t for t in kap12.tasks_for(leader) if t.case_id == case.id]
            if tasks:
                complete_next(kap12, leader, case.id)
    kap12.close()
    return count


def _reporter(people, schools: list[int], school_id: int):
    """The teacher who reports at a school: the demo's at the demo school, else ``school_staff``'s."""
    return people.users["ansatt" if school_id == schools[0] else staff_username("ansatt", school_id)]


# How often each kind of template is copied: most cases are pupil against pupil (A); the rest
# are the school owner's circle, so the owner's pages have their share to read: a serious A case
# rektor told the owner of, one against a teacher (B), one against the school's leadership (C).
PLAIN, SERIOUS, AGAINST_STAFF, AGAINST_LEADERS = 8, 1, 1, 1


def _templates(kap12, school_id: int) -> tuple[list[_bulk.Template], list[_bulk.Template]]:
    """Cases made through the write path at the demo school, open and closed, each repeated as
    often as it is copied (``PLAIN`` : ``SERIOUS`` : ``AGAINST_STAFF`` : ``AGAINST_LEADERS``):
    procedure A reported, received, investigated, and closed; a serious A case, B (a teacher
    accused) and C (the avdelingsleder accused), each received (the owner told) and closed. The
    A case not yet received is also late (its receipt deadline missed, recorded by the sweep), and
    the leaders reviewed an investigated one and the serious one in lederforum, so Ukeoversikt's
    missed deadlines and reviews are there to count and order by."""
    people = ensure_directory(kap12)
    reporter = people.users["ansatt"]  # at the demo school; each copy's is its own school's
    actors = [people.users[name] for name in ("rektor", "avdelingsleder", "skoleeier")]  # rektor tells the owner

    def advance(case_id: int, **answers) -> None:
        """The next step, by the one it falls to, with the answers its form has."""
        actor, task = next((v, t) for v in actors for t in kap12.tasks_for(v) if t.case_id == case_id)
        form = kap12.forms.get(task.form_key)
        given = {k: v for k, v in answers.items() if k in {f.name for f in form.fields}}
        kap12.complete(actor, task.id, example_data(form, kap12.clock.now().date(), **given))

    def made(steps: int, report: dict | None = None, **answers) -> int:
        case = kap12.report(reporter, school_id, report or report_data())
        for _ in range(steps):
            advance(case.id, **answers)
        return case.id

    def closed(report: dict | None = None, **answers) -> int:
        case_id = made(0, report)
        while any(t.case_id == case_id for v in actors for t in kap12.tasks_for(v)):
            advance(case_id, trygt_skolemiljo="ja", **answers)  # safe: no plan, the case ends
        return case_id

    b_report = report_data(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    c_report = report_data(krenker_type="ledelse", krenker_navn="Anne Avdelingsleder",
                           anklaget_bruker="avdelingsleder")
    # Made first and left a day: only its deadline falls due before the sweep.
    late = made(0)
    kap12.clock.advance(timedelta(days=1))
    kap12.sweep_timers()
    plain_open, plain_closed = [late] + [made(steps) for steps in (1, 2)], [closed()]
    # Received as serious, and rektor has told the owner; B and C: received, the owner told.
    serious_open, serious_closed = [made(2, alvorlig_sak=True)], [closed(alvorlig_sak=True)]
    kap12.record_review(people.users["rektor"], [plain_open[2], serious_open[0]], "Gjennomgått i lederforum")
    b_open, b_closed = [made(2, b_report)], [closed(b_report)]
    c_open, c_closed = [made(1, c_report)], [closed(c_report)]
    circle = serious_open + serious_closed + b_open + b_closed + c_open + c_closed
    with kap12.db.reading() as session:
        def load(ids: list[int], times: int) -> list[_bulk.Template]:
            return [_bulk.load_template(session, case_id) for case_id in ids] * times
        # Three open A templates weigh PLAIN together, as one open of each other kind weighs its own.
        opened = (load(plain_open, PLAIN) + load(serious_open, SERIOUS * 3) + load(b_open, AGAINST_STAFF * 3)
                  + load(c_open, AGAINST_LEADERS * 3))
        ended = (load(plain_closed, PLAIN) + load(serious_closed, SERIOUS) + load(b_closed, AGAINST_STAFF)
                 + load(c_closed, AGAINST_LEADERS))
        told = session.scalar(select(func.count()).where(Case.id.in_(circle), Case.owner_notified_at.is_not(None)))
    assert all(t.is_open for t in opened) and not any(t.is_open for t in ended), "a template did not stop where meant"
    marked = {t.case["id"]: (t.case["deadline_missed"], t.case["last_reviewed_at"] is not None) for t in opened}
    assert marked[late][0] and marked[plain_open[2]][1] and marked[serious_open[0]][1], "no missed deadline or review"
    assert told == len(circle), "the school owner was not told of every serious, B and C template"
    return opened, ended


def _verified_sample(kap12, size: int) -> str:
    with kap12.db.reading() as session:
        ids = list(session.scalars(select(Case.id).order_by(func.random()).limit(size)))
    reports = kap12.verify(ids)
    bad = [r.label for r in reports if not r.ok]
    return f"{len(ids)} random cases verified" + (f", NOT: {', '.join(bad)}" if bad else ", all intact")


def grow(url: str, folder: Path, schools: list[int], have: int, want: int, processes: int) -> None:
    missing = want - have
    if missing <= 0:
        return
    share = -(-missing // processes)
    jobs = [(url, str(folder), schools, have + k * share, min(share, missing - k * share))
            for k in range(processes) if missing - k * share > 0]
    with ProcessPoolExecutor(processes) as pool:
        list(pool.map(_build, jobs))


class SqlClock:
    """The time one request spends waiting on the database (its statements, end to end): the
    part of a page that could grow with the county's history. The rest is Python building and
    rendering the page, which grows with the rows shown (a page at 1,000 cases is often not
    full)."""

    def __init__(self, engine) -> None:
        self.seconds = 0.0
        self._started = f"kap12_sql_started_{id(self)}"  # one per clock: each size's run has its own
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, *_args) -> None:
        conn.info[self._started] = time.perf_counter()

    def _after(self, conn, *_args) -> None:
        self.seconds += time.perf_counter() - conn.info.pop(self._started)


# A row of a list: a case, task or diagram version it links to (the header's links are to none).
ROW_LINK = re.compile(r'href="/(?:revisjon/)?(?:saker/\d+|oppgaver/[0-9a-f-]{36}|prosesser/[\w-]+/versjon/\d+)"')


def rows_shown(response) -> int:
    """The cases or tasks a page lists (an API list: its items): a page at 1,000 cases is often
    not full, so its time is read beside how much it shows."""
    if response.is_json:
        return len(response.get_json().get("items", []))
    return len(set(ROW_LINK.findall(response.get_data(as_text=True))))


@dataclass
class County:
    """One county of the run, at one size, in its own database."""

    size: int
    kap12: Any
    tokens: dict[str, str]


Figures = tuple[float, float, float, int]  # median, p95, median of the database's share (ms), rows shown


def measure(counties: list[County], pages_of: dict[str, list[str]] = PAGES) -> list[dict[tuple[str, str], Figures]]:
    """Each page of each county, as each person, ``REQUESTS`` times; per county, (median, p95,
    median of the database's share, rows shown) per person and page. The counties take turns
    (``ROUNDS``), so whatever else the machine does in those minutes weighs on every size alike:
    measured one size after the other, the large county came right after its own build, with the
    server still writing it out, and a page that shows as many rows at both sizes was 1.2-1.3x
    slower in it; taking turns, at rest, the same pages came out 1.0-1.2x."""
    from webui.app import create_app
    from webui.settling import settled

    visits = []
    for county in counties:
        app = settled(create_app(county.kap12))  # as a web worker serves it (webui/serving.py)
        clients = {user: logged_in(app, user) for user in pages_of}
        visits.append((county, clients, SqlClock(county.kap12.db.engine), defaultdict(list)))
    for _ in range(ROUNDS):
        for county, clients, sql, samples in visits:
            for user, pages in pages_of.items():
                headers = {"Authorization": f"Bearer {county.tokens[user]}"}
                for page in pages:
                    for _ in range(REQUESTS // ROUNDS):
                        sql.seconds = 0.0
                        start = time.perf_counter()
                        response = clients[user].get(page, headers=headers if page.startswith("/api/") else None)
                        took = time.perf_counter() - start
                        assert response.status_code == 200, (county.size, user, page, response.status_code)
                        samples[(user, page)].append((took, sql.seconds, rows_shown(response)))
    return [{key: _figures(taken) for key, taken in samples.items()} for *_, samples in visits]


def _figures(taken: list[tuple[float, float, int]]) -> Figures:
    times = sorted(t for t, _, _ in taken)
    return (statistics.median(times) * 1000, times[min(len(times) - 1, int(len(times) * 0.95))] * 1000,
            statistics.median(s for _, s, _ in taken) * 1000, taken[-1][2])


def _once_full(results: dict[int, dict], sizes: list[int], key: tuple[str, str]) -> str:
    """The largest size's median against the first size whose page lists as many rows: once a
    page is full, what a county's further history adds to it, apart from showing more rows."""
    shown = results[sizes[-1]][key][3]
    first = next(size for size in sizes if results[size][key][3] == shown)
    if first in (sizes[0], sizes[-1]):  # full from the start (the ratio says it), or only at the end
        return ""
    return f"   full x{results[sizes[-1]][key][0] / results[first][key][0]:4.2f} from {first}"


def same_rows(small: dict, large: dict, counties: list[County]) -> None:
    """An API list that shows fewer rows in the small county (its page is not full) measured in
    both cut to as many rows (``limit``; in the small county that is its whole page), taking turns
    again: what the history adds, apart from what showing more rows costs."""
    cut = {user: [f"{page}?limit={small[(user, page)][3]}" for page in pages
                  if page.startswith("/api/") and 0 < small[(user, page)][3] < large[(user, page)][3]]
           for user, pages in PAGES.items()}
    cut = {user: pages for user, pages in cut.items() if pages}
    if not cut:
        return
    at_small, at_large = measure([counties[0], counties[-1]], cut)
    for key, (median, p95, in_db, shown) in at_large.items():
        base = at_small[key]
        row(f"{key[0]:<10} {key[1]}", f"{base[0]:6.1f}/{base[1]:6.1f}  {median:6.1f}/{p95:6.1f} ms   "
            f"x{median / base[0]:4.2f}   db {base[2]:.1f}/{in_db:.1f} ms   rows {base[3]}/{shown}")
    print("  the same rows: an API list cut, in both counties, to the rows its page shows in the small one")


def planned_every_run(county: County) -> list[str]:
    """The statements the server planned anew at every run on the web worker's connections (it
    chose its own plan for each run's values over the plan it keeps once prepared): their planning
    is in the pages' time in the database, and whether the server chooses so can differ between
    two counties built alike (README, "Running in a county")."""
    engine = county.kap12.db.engine
    held = [engine.raw_connection() for _ in range(engine.pool.checkedin())]  # each pooled one
    try:
        found = set()
        for connection in held:
            cursor = connection.cursor()
            cursor.execute("SELECT statement FROM pg_prepared_statements WHERE custom_plans >= 5 "
                           "AND custom_plans > generic_plans")
            found |= {" ".join(statement.split())[:80] for (statement,) in cursor.fetchall()}
        return sorted(found)
    finally:
        for connection in held:
            connection.close()


def build(url: str, folder: Path, size: int, args: argparse.Namespace) -> County:
    """A county of ``size`` cases in the database at ``url``, as autovacuum keeps it."""
    started = time.perf_counter()
    kap12 = engine_at(folder, url=url)
    schools = county_schools(kap12, args.schools)
    staff = school_staff(kap12, schools)  # before any case: the reports are made by each school's teacher
    tokens = api_tokens(kap12, PAGES, "scale")
    if args.bulk:
        opened, ended = _templates(kap12, schools[0])
        templates = opened + ended
        with kap12.db.reading() as session:
            have = session.scalar(select(func.count()).select_from(Case)) or 0
        _bulk.clone(kap12, templates, size - have, schools, staff=staff)
        print(f"  built {size} cases by copying {len({id(t) for t in templates})} "
              f"({time.perf_counter() - started:.0f} s); {_verified_sample(kap12, 20)}")
    else:
        grow(url, folder, schools, 0, size, args.processes)
        print(f"  built {size} cases ({time.perf_counter() - started:.0f} s)")
    settle_tables(kap12)
    return County(size, kap12, tokens)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="200,1000", help="sizes to measure at, comma-separated")
    parser.add_argument("--schools", type=int, default=40)
    parser.add_argument("--processes", type=int, default=2, help="processes building cases")
    parser.add_argument("--bulk", action="store_true", help="copy template cases (benchmarks/_bulk.py)")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.cases.split(","))

    with postgres_databases(*(f"scale{size}" for size in sizes)) as urls:
        print(f"kap12 list pages at scale (PostgreSQL, {args.schools} schools, Flask test client, "
              f"median / p95 of {REQUESTS} requests, the sizes taking turns {ROUNDS} times)")
        counties = [build(url, Path(tempfile.mkdtemp(prefix="kap12-scale-")), size, args)
                    for size, url in zip(sizes, urls, strict=True)]
        results = dict(zip(sizes, measure(counties), strict=True))
        for (user, page), (median, *_rest) in results[sizes[0]].items():
            cells = "  ".join(f"{results[s][(user, page)][0]:6.1f}/{results[s][(user, page)][1]:6.1f}" for s in sizes)
            sql_cells = "/".join(f"{results[s][(user, page)][2]:.1f}" for s in sizes)
            shown = "/".join(str(results[s][(user, page)][3]) for s in sizes)
            ratio = results[sizes[-1]][(user, page)][0] / median
            row(f"{user:<10} {page}", f"{cells} ms   x{ratio:4.2f}   db {sql_cells} ms   rows {shown}"
                                      f"{_once_full(results, sizes, (user, page))}")
        print(f"  columns: {', '.join(str(s) for s in sizes)} cases, median/p95; x: median at {sizes[-1]} / at "
              f"{sizes[0]} [target <= 1.3; p95 < 300 ms]; db: the median's time in the database at each size; "
              f"rows: the cases or tasks the page lists at each size; full: median at {sizes[-1]} / at the "
              f"first size where the page lists as many rows (with three sizes or more)")
        for county in counties:
            anew = planned_every_run(county)
            print(f"  planned anew at every run at {county.size} cases: {len(anew)} statements"
                  + "".join(f"\n    {statement}" for statement in anew))
        same_rows(results[sizes[0]], results[sizes[-1]], counties)
        for county in counties:
            county.kap12.close()


if __name__ == "__main__":
    main()
