"""The yearly prevention cycle (årshjul, opplæringslova § 12-3) of a school, as a process.

It runs through the same write path and history as a chapter 12 case (a ``Case`` of kind
"arshjul"), so the school can document its preventive work the way it documents its cases:
who did what, when, and whether deadlines were kept."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access
from engine.errors import Conflict, Denied, NotFound
from engine.store.events import CYCLE_STARTED
from engine.store.models import Case, School
from engine.versions.definitions import latest_version
from engine.write.unit_of_work import Actor, CaseStep, Opening
from processes.messages import Message

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

PREVENTION_PROCESS = "arshjul"


def cycle_number(school_id: int, school_year: int) -> str:
    return f"ÅR-{school_year}-{school_id:03d}"


def start_cycle(kap12: Kap12, viewer: access.Viewer | None, school_id: int, school_year: int) -> Case:
    """Start the school's cycle for the school year beginning in August of ``school_year``.
    The school's rektor or an administrator starts it (``viewer`` None: the system, e.g. init)."""
    actor = Actor(viewer.id, viewer.name) if viewer else Actor.system("kap12")
    start_data: dict = {}

    def prepare(session: Session, now: datetime) -> Opening:
        school = session.get(School, school_id)
        if school is None:
            raise NotFound(Message("Skolen finnes ikke."))
        if viewer is not None and not access.may_start_cycle(viewer, school):
            raise Denied(Message("Bare rektor eller en administrator kan starte skolens årshjul."))
        number = cycle_number(school_id, school_year)
        if session.scalars(select(Case.id).where(Case.number == number)).first() is not None:
            raise Conflict(Message("Årshjulet for %(school)s %(year)s/%(next)s er allerede startet.",
                                   school=school.name, year=school_year, next=school_year + 1))
        version = latest_version(session, PREVENTION_PROCESS, to_start=True)
        case = Case(number=number, kind="arshjul", school_id=school.id, county_id=school.county_id,
                    definition_id=version.id, procedure="Å", status="open", stage="Startet", state="{}",
                    reporter_id=None, created_at=now, updated_at=now, escalated=False)
        case.school = school
        start_data.update(skole=school.name, skolear=school_year)
        return Opening(case, version, start_data)

    def act(step: CaseStep) -> None:
        version = step.case.definition
        step.record(CYCLE_STARTED, start_data=start_data, school=step.case.school.name, school_year=school_year,
                    definition=f"{version.process_id} v{version.version}")

    return kap12.writer.open(actor, prepare, act)


def cycles_for(kap12: Kap12, viewer: access.Viewer) -> list[Case]:
    with kap12.db.reading() as session:
        return list(session.scalars(access.visible_cases(viewer, kind="arshjul").order_by(Case.number.desc())))
