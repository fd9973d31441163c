"""What the pages and documents show about measures: «Mine tiltak» (the measures a colleague is
responsible for — the measure, not the case), and what was carried out of the current plan, read
from the history, for "Gjennomføre tiltak" to open with and for the evaluation and its document
to show."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from engine import access
from engine.read import paging
from engine.store import history
from engine.store.events import MEASURE_RECORDED, TASK_COMPLETED
from engine.store.models import (
    Case,
    CaseParty,
    HistoryEvent,
    Measure,
    OpenTask,
    PendingTimer,
    RoleGrant,
    User,
)
from engine.write import evaluation

if TYPE_CHECKING:  # the facade passes itself in; named here for the types only
    from engine.service import Kap12
from processes import measures as names


@dataclass(frozen=True)
class OwnedMeasure:
    id: int
    case_id: int
    case_number: str
    school: str
    position: int
    what: str
    when: str
    status: str | None
    note: str
    recorded_at: datetime | None


@dataclass(frozen=True)
class CarriedOut:
    """One measure of the current plan and what was last recorded about carrying it out."""
    position: int
    what: str
    when: str
    owner: str
    status: str | None
    status_text: str
    note: str
    by: str
    at: datetime | None


# By case (oldest first) and place in the plan; the id makes the order total for paging.
OWNED_ORDER = (paging.Key(Case.created_at), paging.Key(Case.id), paging.Key(Measure.position), paging.Key(Measure.id))


def owned_page(kap12: Kap12, viewer: access.Viewer, cursor: str | None = None,
               limit: int | None = None) -> paging.Page[OwnedMeasure]:
    """One page of the measures this viewer is responsible for now, by case and place in the plan."""
    query: Select = access.owned_measures(viewer)
    with kap12.db.reading() as session:
        page = paging.fetch(session, query, OWNED_ORDER, cursor, limit, _owned_key)
        return paging.Page([OwnedMeasure(m.id, c.id, c.number, c.school.name, m.position, m.what, m.when_text,
                                         m.status, m.note, m.recorded_at) for m, c in page.items], page.next_cursor)


def _owned_key(row: Any) -> tuple[object, ...]:
    measure, case = row
    return (case.created_at, case.id, measure.position, measure.id)


@lru_cache(maxsize=512)
def _owned_count(viewer: access.Viewer) -> Select[int]:
    """Built once per person and grants ("now" is taken when it runs): Mine oppgaver asks it at
    every request, and building the policy's circle took longer than the count."""
    return access.owned_measures(viewer).with_only_columns(func.count(Measure.id))


def owned_count(kap12: Kap12, viewer: access.Viewer) -> int:
    with kap12.db.reading() as session:
        return session.scalar(_owned_count(viewer)) or 0


def status_labels(kap12: Kap12) -> dict[str, str]:
    """The choices of "Gjennomføre tiltak" for one measure (value → label), from its newest version."""
    form = kap12.forms.get(names.CARRY_OUT_FORM)
    rows = next((f for f in form.fields if f.name == names.CARRIED_ROWS), None)
    status = next((f for f in rows.fields if f.name == names.STATUS), None) if rows else None
    return {c.value: c.label for c in status.choices} if status else {}


def carried_out(events: Iterable[HistoryEvent], labels: dict[str, str], upto_seq: int | None = None) -> list[CarriedOut]:
    """The latest plan before ``upto_seq`` (all of the history when None), each measure with the
    latest record of carrying it out after that plan: a row of "Gjennomføre tiltak" or what its
    owner recorded under «Mine tiltak», whichever came last."""
    plan: HistoryEvent | None = None
    later: list[HistoryEvent] = []
    for ev in events:
        if upto_seq is not None and ev.seq >= upto_seq:
            break
        data = ev.data or {}
        if ev.kind == TASK_COMPLETED and data.get("form") == names.PLAN_FORM:
            plan, later = ev, []
        elif plan is not None and (ev.kind == MEASURE_RECORDED or (
                ev.kind == TASK_COMPLETED and data.get("form") == names.CARRY_OUT_FORM)):
            later.append(ev)
    if plan is None:
        return []
    rows = ((plan.data or {}).get("data") or {}).get(names.PLAN_ROWS) or []
    latest: dict[int, tuple[str | None, str, str, datetime | None]] = {}
    plan_task = (plan.data or {}).get("task_id")
    for ev in later:
        data = ev.data or {}
        if ev.kind == MEASURE_RECORDED:
            if data.get("plan_task_id") == plan_task:
                latest[int(data.get("position", -1))] = (data.get("status"), data.get("note") or "", ev.actor, ev.at)
        else:
            for i, row in enumerate((data.get("data") or {}).get(names.CARRIED_ROWS) or []):
                latest[i] = (row.get(names.STATUS), row.get(names.NOTE) or "", ev.actor, ev.at)
    found = []
    for i, row in enumerate(rows):
        status, note, by, at = latest.get(i, (None, "", "", None))
        found.append(CarriedOut(i, row.get(names.WHAT) or "", row.get(names.WHEN) or "", row.get(names.OWNER_TEXT) or "",
                                status, labels.get(status or "", names.NOT_RECORDED), note, by, at))
    return found


def case_events(session: Session, case_id: int) -> list[HistoryEvent]:
    return list(session.scalars(select(HistoryEvent).where(
        HistoryEvent.chain == history.case_chain(case_id),
        HistoryEvent.kind.in_((TASK_COMPLETED, MEASURE_RECORDED))).order_by(HistoryEvent.seq)))


def current_plan(kap12: Kap12, case_id: int) -> list[CarriedOut]:
    with kap12.db.reading() as session:
        events = case_events(session, case_id)
    return carried_out(events, status_labels(kap12))


def carrying_out_answers(kap12: Kap12, case_id: int) -> dict:
    """What "Gjennomføre tiltak" opens with: a row per measure of the current plan, with what
    was recorded so far (by the owners, or the last time the step was done)."""
    rows = [{names.CARRIED_WHAT: m.what, names.STATUS: m.status, names.NOTE: m.note} for m in current_plan(kap12, case_id)]
    return {names.CARRIED_ROWS: [{k: v for k, v in r.items() if v not in (None, "")} for r in rows]} if rows else {}


def owner_choices(kap12: Kap12, case_id: int) -> list[tuple[str, str]]:
    """(username, name) of the colleagues who may be responsible for a measure in the case: the
    school's active staff, less the accused and (in C) the bypassed leadership."""
    with kap12.db.reading() as session:
        case = session.get(Case, case_id)
        if case is None:
            return []
        staff = session.scalars(select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(
            RoleGrant.school_id == case.school_id, User.active.is_(True)).distinct().order_by(User.display_name)
            .options(selectinload(User.grants)))
        accused = set(session.scalars(select(CaseParty.user_id).where(CaseParty.case_id == case.id,
                                                                      CaseParty.relation == "accused")))
        return [(u.username, u.display_name) for u in staff if access.owner_problem(case, u, u.id in accused) is None]


def waits_for_evaluation(tasks: Iterable[OpenTask], timers: Iterable[PendingTimer]) -> bool:
    """Whether the case is carrying out its measures or waiting for the evaluation date: the
    moments when the evaluation can be moved forward ("evaluere nå")."""
    return (any(t.element_id in evaluation.WAITING_ELEMENTS for t in tasks)
            or any(t.element_id in evaluation.WAITING_ELEMENTS for t in timers))
