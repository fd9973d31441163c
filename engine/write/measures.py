"""The measures of an action plan: who is responsible for each, and whether it was carried out.

A plan step (Utarbeide / Revidere tiltaksplan) names for each measure a colleague picked from the
school's staff, or someone written freely. When the step is completed its rows become the case's
current measures (a revision retires the earlier plan's rows; nothing is deleted); each colleague
named is told, without pupil data, sees their measures under «Mine tiltak» and records whether
each was carried out — without seeing the rest of the case. "Gjennomføre tiltak" records every
measure at once. Every act is a step of the one write path, with its event in the history."""
from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, lazyload

from engine import access
from engine.errors import Conflict, InvalidInput, NotFound
from engine.store.events import MEASURE_RECORDED, MEASURES_ASSIGNED
from engine.store.models import Case, Measure, User
from engine.write import projection_rows
from engine.write.unit_of_work import Actor, CaseOf, CaseStep, Host
from engine.write.written import as_written, within
from processes import measures as names
from processes.messages import Message

NOTE_MAX = 2000


def plan_owners(step: CaseStep, rows: list[dict]) -> list[User | None]:
    """The colleague named for each row (None when written freely), or InvalidInput with a
    message on each row that names nobody or someone who cannot own a measure in this case.
    A picked colleague's name fills the free-text field when it is empty, so the plan, its
    documents and its letter say who is responsible."""
    errors: dict[int, dict[str, list[str]]] = {}
    owners: list[User | None] = []
    for i, row in enumerate(rows):
        username = (row.get(names.OWNER) or "").strip()
        user = None
        if username:
            user = step.session.scalars(select(User).where(User.username == username)).first()
            problem = ("Velg personen fra listen over ansatte." if user is None
                       else access.measure_owner_problem(step.session, step.case, user))
            if problem:
                errors[i] = {names.OWNER: [problem]}
            elif not (row.get(names.OWNER_TEXT) or "").strip():
                row[names.OWNER_TEXT] = user.display_name if user is not None else ""
        elif not (row.get(names.OWNER_TEXT) or "").strip():
            errors[i] = {names.OWNER_TEXT: ["Velg en ansatt fra listen, eller skriv hvem som har ansvaret."]}
        owners.append(user)
    if errors:
        raise InvalidInput(Message("Skjemaet har feil. Rett feltene som er merket, og send på nytt."), {names.PLAN_ROWS: errors})
    return owners


def save_plan(step: CaseStep, task_id: str, rows: list[dict], owners: list[User | None]) -> None:
    """The completed plan's rows become the case's current measures; each colleague named is
    recorded (and so told, by the notices of this step)."""
    session, case = step.session, step.case
    for old in session.scalars(select(Measure).where(Measure.case_id == case.id, Measure.current.is_(True))):
        old.current = False
    for i, (row, owner) in enumerate(zip(rows, owners, strict=True)):
        session.add(Measure(case_id=case.id, plan_task_id=task_id, position=i, what=row.get(names.WHAT) or "",
                            when_text=row.get(names.WHEN) or "", responsible_id=owner.id if owner else None,
                            responsible_text=row.get(names.OWNER_TEXT) or "", current=True, note=""))
    counts: dict[int, int] = {}
    for owner in owners:
        if owner is not None:
            counts[owner.id] = counts.get(owner.id, 0) + 1
    for owner_id, count in counts.items():
        owner = session.get(User, owner_id)
        step.record(MEASURES_ASSIGNED, user_id=owner_id, name=owner.display_name if owner else "", count=count)


def retire_all(step: CaseStep) -> None:
    """A reclassification starts the new procedure from its receipt, with a new circle: the
    earlier plan is no longer the case's plan, and its owners (a teacher in A, perhaps outside
    the B or C circle, perhaps the one now accused) no longer see or record its measures. The
    new procedure's plan names its own. The history keeps the old plan and every record."""
    step.session.flush()
    step.session.execute(projection_rows.RETIRE_MEASURES, {"retired_case": step.case.id})
    for measure in [row for row in step.session.identity_map.values()
                    if isinstance(row, Measure) and row.case_id == step.case.id]:
        step.session.expire(measure)


# The case's current measures in the plan's order, without the person responsible (not needed to
# record what was done); built once, as each carrying out asks it.
_CURRENT = (select(Measure).where(Measure.case_id == bindparam("case_id"), Measure.current.is_(True))
            .order_by(Measure.position).options(lazyload(Measure.responsible)))


def save_carried_out(step: CaseStep, rows: list[dict]) -> None:
    """"Gjennomføre tiltak" completed: each current measure takes the status and note of its row
    (rows are offered in the plan's order; a row whose measure text was changed is matched by
    its place)."""
    current = list(step.session.scalars(_CURRENT, {"case_id": step.case.id}))
    for measure, row in zip(current, rows, strict=False):
        measure.status = row.get(names.STATUS)
        measure.note = row.get(names.NOTE) or ""
        measure.recorded_by_id, measure.recorded_at = step.actor.id, step.now


_MEASURE_CASE = select(Measure.case_id).where(Measure.id == bindparam("of")).scalar_subquery()


def record(kap12: Host, viewer: access.Viewer, measure_id: int, status: str, note: str,
           statuses: dict[str, str]) -> Case:
    """The colleague responsible (or one who leads the case) records whether a measure was
    carried out. ``statuses`` are the choices of "Gjennomføre tiltak" (value → label)."""
    note = as_written(note)

    def missing(session: Session) -> None:
        raise NotFound(Message("Tiltaket finnes ikke."))

    def act(step: CaseStep) -> None:
        measure = step.session.get(Measure, measure_id)
        if measure is None or not access.may_record_measure(step.session, viewer, measure, step.case):
            raise NotFound(Message("Tiltaket finnes ikke."))
        if not measure.current or step.case.status != "open":
            raise Conflict(Message("Tiltaket er ikke lenger med i en gjeldende plan. Ingenting ble endret."))
        # Checked after the measure is found and may be recorded: a measure that is not there is
        # "not found", whatever was posted.
        if status not in statuses:
            raise InvalidInput(Message("Velg om tiltaket er gjennomført."),
                               {names.STATUS: ["Velg et av alternativene."]})
        within(note, names.NOTE, NOTE_MAX, Message("Merknaden er for lang."))
        measure.status, measure.note = status, note
        measure.recorded_by_id, measure.recorded_at = viewer.id, step.now
        step.record(MEASURE_RECORDED, measure_id=measure.id, plan_task_id=measure.plan_task_id,
                    position=measure.position, what=measure.what, status=status, status_text=statuses[status],
                    note=note)

    case_of = CaseOf(_MEASURE_CASE, measure_id, missing)
    return kap12.writer.step(case_of, Actor(viewer.id, viewer.name), act)
