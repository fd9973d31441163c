"""The staff list at a county's size: how long does importing it take (the first time, when
every person is new; again unchanged, as the nightly job mostly runs; and with a term's leavers
and arrivals), on SQLite and on a throwaway PostgreSQL? The web page's import waits in the
request, so its figure must stay well inside the worker's timeout.

Run: .venv/bin/python benchmarks/staff_import.py [--people N] [--sqlite-only]"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]  # the engine package before benchmarks/engine.py

from _common import fresh, postgres_database, row, timed  # noqa: E402

from engine.store import directory, staff_file  # noqa: E402
from engine.write import staff_directory  # noqa: E402

SCHOOLS = 40
ISSUER = "https://auth.dataporten.no"  # everyone has a Feide identifier, as in a county that uses it


def _listing(people: int, leavers: int = 0) -> bytes:
    """``people`` at 40 schools, each with a Feide identifier: a teacher at one school, every
    fiftieth one at two; a rektor and an avdelingsleder per school. ``leavers``: the first ones
    gone, as many new at the end."""
    lines = ["brukernavn;navn;epost;skole;roller;identitet"]
    for n in range(leavers, people + leavers):
        school = f"Skole {n % SCHOOLS:02d}"
        roles = "ansatt rektor" if n < SCHOOLS else "ansatt avdelingsleder" if n < 2 * SCHOOLS else "ansatt"
        lines.append(f"p{n:06d};Person {n};p{n}@skole.no;{school};{roles};p{n}@feide.no")
        if n % 50 == 49:
            lines.append(f"p{n:06d};Person {n};p{n}@skole.no;Skole {(n + 1) % SCHOOLS:02d};ansatt;p{n}@feide.no")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _import(kap12, data: bytes, **options) -> staff_directory.DirectoryResult:
    return staff_directory.import_staff(kap12, staff_file.read(data), source="bench.csv",
                                        digest=staff_directory.file_digest(data), issuer=ISSUER, **options)


def measure(label: str, url: str | None, people: int) -> None:
    _folder, kap12, demo = fresh(url)
    with kap12.db.writing() as session:
        county = directory.get_or_create_county(session, "Innlandet fylkeskommune (demo)")
        for i in range(SCHOOLS):
            directory.get_or_create_school(session, county, f"Skole {i:02d}")
    first, again, term = _listing(people), _listing(people), _listing(people, leavers=people // 20)
    print(f"{label}, {people} people at {SCHOOLS} schools ({len(first) // 1024} kB):")
    read = timed(lambda: staff_file.read(first))
    row("  reading and checking the file", f"{read:7.2f} s")
    made = timed(lambda: _import(kap12, first))
    row("  the first import (everyone new)", f"{made:7.2f} s")
    same = timed(lambda: _import(kap12, again, complete=True))
    row("  the same list again (--fullstendig)", f"{same:7.2f} s")
    tried = timed(lambda: _import(kap12, term, complete=True, dry_run=True, allow_large=True))
    row(f"  a trial with {people // 20} leavers and arrivals", f"{tried:7.2f} s")
    moved = timed(lambda: _import(kap12, term, complete=True, allow_large=True))
    row("  the same, imported", f"{moved:7.2f} s")
    kap12.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=15_000)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    measure("SQLite", None, args.people)
    if not args.sqlite_only:
        with postgres_database("staff") as url:
            measure("PostgreSQL", url, args.people)


if __name__ == "__main__":
    main()
