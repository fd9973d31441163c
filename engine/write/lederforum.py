"""The weekly leadership forum (lederforum) as a rhythm: once a week every leader who may read
open chapter 12 cases gets a notice (in the app and by mail) with the list of their cases, the
ones not reviewed for more than a week named first. "Reviewed" is the forum's recorded act on
the overview ("Marker som gjennomgått i lederforum"), an event in each case's history.

The sweeper calls ``send_if_due`` every round; it writes at most one notice per person per
week, also with several sweepers (they queue on the system lock and see what the first wrote),
and catches up when the sweeper was down at the appointed hour."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from engine import access
from engine.store.code_values import code
from engine.store.models import Case, Notification, RoleGrant, User
from engine.write import appointed
from engine.write.unit_of_work import Host
from processes.deadlines import OSLO, REVIEW_EVERY
from processes.roles import LEADERSHIP_ROLES

KIND = "lederforum"
LINK = "/oversikt"
# The forum's notice goes out on Monday morning, before the week's meeting.
WEEKDAY, AT = 0, time(7, 0)
LISTED = 30  # case numbers in one notice; the overview has the rest

@dataclass(frozen=True)
class ForumCases:
    """A leader's open cases for the week's notice: how many, and the first ``LISTED`` of them,
    those not reviewed for more than a week first (their numbers, and which are overdue)."""

    count: int
    listed: list[str]
    overdue: list[str]


def week_start(now: datetime) -> datetime:
    """The appointed time of this week's notice (Monday 07:00 in Oslo)."""
    local = now.astimezone(OSLO)
    monday = local.date() - timedelta(days=(local.weekday() - WEEKDAY) % 7)
    return datetime.combine(monday, AT, tzinfo=OSLO)


def cases_for_forum(session: Session, viewer: access.Viewer, now: datetime) -> ForumCases:
    """The open chapter 12 cases the viewer may read in full, overdue ones first, counted and the
    first listed by the database: every leader's open cases were read to list thirty (a school
    owner's 5,000, each week, for every leader of the country, with the system lock held)."""
    visible = access.readable_cases(viewer).where(Case.status == code("open"))
    count = session.scalar(visible.with_only_columns(func.count()).order_by(None)) or 0
    if not count:
        return ForumCases(0, [], [])
    overdue = Case.review_overdue(now, REVIEW_EVERY)
    first = session.execute(visible.with_only_columns(Case.number, overdue)
                            .order_by(case((overdue, 0), else_=1), Case.created_at, Case.id).limit(LISTED)).all()
    return ForumCases(count, [number for number, _ in first], [number for number, late in first if late])


def _leaders(session: Session) -> list[User]:
    """Everyone who sits in a lederforum: the schools' leadership and the school owner."""
    roles = set(LEADERSHIP_ROLES) | {"skoleeier"}
    return list(session.scalars(select(User).join(RoleGrant, RoleGrant.user_id == User.id)
                                .where(RoleGrant.role.in_(roles), User.active.is_(True))
                                .distinct().order_by(User.id)))


def _notice(user: User, found: ForumCases, start: datetime, now: datetime) -> Notification:
    week = start.isocalendar().week
    listed = ", ".join(found.listed) + (" …" if found.count > LISTED else "")
    body = (f"Lederforum uke {week}: {found.count} åpne kapittel 12-saker å gå gjennom: {listed}. "
            + (f"Ikke gjennomgått på over 7 dager: {', '.join(found.overdue)}. " if found.overdue else "")
            + "Ukeoversikten har hele listen; marker sakene som gjennomgått der etter møtet.")
    return Notification(user_id=user.id, case_id=None, kind=KIND, subject=f"Lederforum uke {week}: {found.count} saker",
                        body=body, link=LINK, created_at=now, mail_attempts=0)


def send_if_due(kap12: Host, wait: bool = False) -> int:
    """Write this week's notices if the appointed time has passed and they are not written yet;
    the number written (0 on most rounds, cheaply; ``wait``: see ``appointed.send_once``)."""
    now = kap12.clock.now()
    start = week_start(now)

    def write(session: Session) -> list[Notification]:
        return [_notice(user, found, start, now) for user in _leaders(session)
                if (found := cases_for_forum(session, access.Viewer.of(user), now)).count]
    return appointed.send_once(kap12, KIND, start, write, wait)
