"""The scale benchmark's bulk path: a county's worth of cases in minutes instead of hours.

Building 100,000 cases through ``Kap12.report`` and ``Kap12.complete`` takes 0.1–0.5 s each on
this machine, so ``benchmarks/scale.py --bulk`` first makes a handful of *template* cases
through the real write path (reported; received; investigated; closed) and then copies them.
A copy has the template's rows in every table that hangs off a case, as the write path wrote
them, with only what must differ changed:

- the case's id and number (``<year>-<id>``), its school (round-robin over the county) with
  that school's own leaders where the template's acted (in the history, tasks, notices), and
  every time shifted by one offset per copy (open copies from the last weeks, closed ones
  spread over earlier school years), in the rows and in the history's times (or not at all,
  for a copy that re-execution must accept);
- SpiffWorkflow's task ids (UUIDs), replaced consistently in the workflow state, the history,
  open tasks, their roles, waiting timers and measures, so no two cases share one;
- the history chain (``case:<id>``) hashed again from the start with the database's history
  key, so ``kap12 verify`` accepts every copy, and the chain head on the case row;
- the report's ``school`` in the history names the copy's school.

Left as the template has them: the times inside the serialized workflow state (a copy's
waiting timers are due when the template's were — the benchmark runs no sweeper), and stored
documents (PDFs) are not copied: no list page reads them, and 100,000 of them would fill the
disk. Nothing here is used by kap12 itself."""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select, text

from engine.store import history
from engine.store.events import REPORTED
from engine.store.models import Base, Case, HistoryEvent, School, UTCDateTime
from engine.store.task_order import NEVER_DUE

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)?")
# Tables copied with each case: every table with a case_id, but the case's own chain (hashed
# again), the stored documents (see above), who worked in it, which the database makes from
# the chain's task completions as they are inserted (migration 0019), and who reported it, which
# it makes as the reporter's party row is inserted (migration 0038).
SKIPPED = {"history_events", "case_documents", "case_work", "reported_cases"}


@dataclass
class Template:
    case: dict[str, Any]
    events: list[dict[str, Any]]
    rows: dict[str, list[dict[str, Any]]]  # table name -> the case's rows there (open task roles too)
    task_ids: set[str]  # every SpiffWorkflow id that occurs in the case

    @property
    def is_open(self) -> bool:
        return self.case["status"] == "open"


def _case_tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if "case_id" in t.c and t.name not in SKIPPED]


def _as_dict(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


def load_template(session, case_id: int) -> Template:
    case = _as_dict(session.execute(select(Case.__table__).where(Case.id == case_id)).one())
    events = [_as_dict(r) for r in session.execute(
        select(HistoryEvent.__table__).where(HistoryEvent.chain == history.case_chain(case_id))
        .order_by(HistoryEvent.seq))]
    rows = {t.name: [_as_dict(r) for r in session.execute(select(t).where(t.c.case_id == case_id))]
            for t in _case_tables()}
    found = set(UUID.findall(case["state"]))
    for event in events:
        found |= set(UUID.findall(json.dumps(event["data"])))
    return Template(case, events, rows, found)


class _Copy:
    """One copy's new names: its id, the task ids, the shift in time."""

    def __init__(self, template: Template, case_id: int, shift: timedelta, place: tuple[int, int],
                 people: dict[int, tuple[int, str]] | None = None):
        self.case_id, self.shift = case_id, shift
        self.place = {"school_id": place[0], "county_id": place[1]}  # the case's, and its task roles'
        self.people = people or {}  # the template's staff -> the same roles at the copy's school
        self.ids = {old: str(uuid.uuid4()) for old in template.task_ids}
        self.number = f"{(template.case['created_at'] + shift).year}-{case_id:05d}"
        # The template's number and address in its notices' subjects, bodies and links.
        self.names = {template.case["number"]: self.number,
                      f"/saker/{template.case['id']}": f"/saker/{case_id}"}

    def task_ids(self, value: str) -> str:
        return UUID.sub(lambda m: self.ids.get(m.group(0), m.group(0)), value)

    def text(self, value: str) -> str:
        value = self.task_ids(value)
        for old, new in self.names.items():
            value = value.replace(old, new)
        return value

    def moment(self, value: str) -> str:
        try:
            return (datetime.fromisoformat(value.replace("Z", "+00:00")) + self.shift).isoformat()
        except ValueError:
            return value

    def data(self, value: Any) -> Any:
        """JSON data with its task ids renamed and its moments shifted."""
        if value is None:
            return None
        dumped = self.text(json.dumps(value, ensure_ascii=False))
        return json.loads(MOMENT.sub(lambda m: self.moment(m.group(0)), dumped))

    def row(self, table: Table, row: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for name, value in row.items():
            column = table.c[name]
            if column.primary_key and isinstance(value, int) and table.name != "cases":
                continue  # the database numbers it
            if name == "case_id":
                value = self.case_id
            elif name in self.place:
                value = self.place[name]
            elif isinstance(value, int) and value in self.people \
                    and any(fk.column.table.name == "users" for fk in column.foreign_keys):
                value = self.people[value][0]
            elif isinstance(column.type, UTCDateTime) and value is not None and value != NEVER_DUE:
                value = value + self.shift
            elif isinstance(value, str) and name != "state":
                value = self.text(value)
            out[name] = value
        return out


def clone(kap12, templates: list[Template], count: int, schools: list[int], *, open_share: float = 0.2,
          spread: bool = True, staff: dict[int, dict[int, tuple[int, str]]] | None = None,
          batch: int = 500) -> None:
    """``count`` copies of the templates, ``open_share`` of them open, over ``schools``; spread
    over time, or (``spread=False``) at the template's own times, which re-execution accepts
    too — a shifted copy's recorded deadlines were counted in working days from other days, so
    re-executing it finds them changed, as it should. ``staff`` ({school id: {template's user
    id: (user id, name)}}) puts a school's own leaders where the template's acted, so a leader
    sees her own school's copies, not every school's."""
    opened = [t for t in templates if t.is_open]
    closed = [t for t in templates if not t.is_open] or opened
    tables = {t.name: t for t in _case_tables()}
    with kap12.db.reading() as session:
        school_rows = {s.id: (s.county_id, s.name) for s in session.scalars(select(School).where(School.id.in_(schools)))}
    made = 0
    while made < count:
        size = min(batch, count - made)
        with kap12.db.writing() as session:
            keys = history.keys_of(session)
            first = (session.scalar(select(func.max(Case.id))) or 0) + 1
            cases, events = [], []
            others: dict[str, list[dict]] = {name: [] for name in tables}
            for k in range(size):
                n = made + k
                is_open = (n % 100) < open_share * 100
                template = (opened if is_open else closed)[n % len(opened if is_open else closed)]
                # Open copies from the last four weeks; closed ones back over three school years.
                hours = (n * 7) % (28 * 24) if is_open else 24 * 30 + (n * 13) % (3 * 365 * 24)
                school_id = schools[n % len(schools)]
                county_id, school_name = school_rows[school_id]
                copy = _Copy(template, first + k, -timedelta(hours=hours if spread else 0), (school_id, county_id),
                             (staff or {}).get(school_id))
                case = copy.row(Case.__table__, template.case)
                case.update(id=copy.case_id, number=copy.number,
                            lock_version=1, state=copy.task_ids(template.case["state"]))
                chain, prev = history.case_chain(copy.case_id), history.GENESIS
                for event in template.events:
                    at, data = event["at"] + copy.shift, copy.data(event["data"])
                    actor_id, actor = copy.people.get(event["actor_id"], (event["actor_id"], event["actor"]))
                    if event["kind"] == REPORTED and isinstance(data, dict):
                        data["school"] = school_name
                    digest = history.event_hash(prev, chain, event["seq"], at, actor_id, actor,
                                                event["kind"], event["definition_id"], data, keys.current)
                    events.append({"chain": chain, "seq": event["seq"], "case_id": copy.case_id, "at": at,
                                   "actor_id": actor_id, "actor": actor, "kind": event["kind"],
                                   "definition_id": event["definition_id"], "data": data, "prev_hash": prev,
                                   "hash": digest, "key_id": keys.current_id})
                    prev = digest
                case.update(chain_seq=len(template.events), chain_hash=prev)
                cases.append(case)
                for name, rows in template.rows.items():
                    others[name] += [copy.row(tables[name], r) for r in rows]
            session.execute(insert(Case.__table__), cases)
            for name in tables:  # parents before children (open_tasks before their roles)
                if others[name]:
                    session.execute(insert(tables[name]), others[name])
            session.execute(insert(HistoryEvent.__table__), events)
            if session.get_bind().dialect.name == "postgresql":  # explicit ids: move the sequence on
                session.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), "
                                     "(SELECT max(id) FROM cases))"))
        made += size
