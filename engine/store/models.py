"""The SQLAlchemy models: the directory (counties, schools, people, roles), immutable definition
versions, cases with their stored workflow state, the derived task and timer rows, and the
append-only history.

Longer than ~400 lines: one declarative mapping of every table on one metadata, which Alembic
compares against and the relationships resolve in; the models hold columns, no rules."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
    literal_column,
    or_,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from engine.store.counted_events import completed_task_id, deadline_counted, plan_made, task_completed


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict: JSON, list: JSON}


class County(Base):
    __tablename__ = "counties"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class School(Base):
    __tablename__ = "schools"
    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id"))
    name: Mapped[str] = mapped_column(String(200))
    # The school's language form (målform), "nb" or "nn": letters to families use it unless the
    # family has chosen otherwise (the report form's «familiens_malform»).
    malform: Mapped[str] = mapped_column(String(2), default="nb", server_default="nb")
    county: Mapped[County] = relationship()
    __table_args__ = (UniqueConstraint("county_id", "name"),)


class Department(Base):
    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    name: Mapped[str] = mapped_column(String(200))
    __table_args__ = (UniqueConstraint("school_id", "name"),)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    # Null for people who log in only through an external identity (Feide / OpenID Connect).
    password_hash: Mapped[str | None] = mapped_column(String(300))
    # Set: the password is a first password an administrator gave, valid until then and only to
    # choose one's own (``engine/write/first_password.py``); None: the person's own, or none.
    password_temporary_until: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    grants: Mapped[list["RoleGrant"]] = relationship(back_populates="user", lazy="selectin")


class ExternalIdentity(Base):
    """A log-in from an identity provider (issuer + subject) bound to a user, so that OpenID
    Connect (Feide) can be added without touching the user rows."""

    __tablename__ = "external_identities"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(500))
    __table_args__ = (UniqueConstraint("issuer", "subject"),)


class RoleGrant(Base):
    """A role held by a user, for one school (school roles) or for a county (county roles)."""

    __tablename__ = "role_grants"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    county_id: Mapped[int | None] = mapped_column(ForeignKey("counties.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    user: Mapped[User] = relationship(back_populates="grants")
    __table_args__ = (Index("ix_role_grants_role_scope", "role", "school_id", "county_id"),)


class DefinitionVersion(Base):
    """An immutable deployed version of one executable process, with the frozen versions of every
    process it calls, keyed by the hash of that content."""

    __tablename__ = "definition_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    # {process_id: {"file": name, "sha256": …, "xml": text}} for the process and all it calls.
    sources: Mapped[dict]
    # SpiffWorkflow's serialized specs: {"spec": …, "subprocess_specs": {…}}.
    spec: Mapped[dict]
    # kap12's reading of the diagram: element properties (timer kinds, forms) per process.
    meta: Mapped[dict]
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deployed_at: Mapped[datetime]
    comment: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (
        UniqueConstraint("process_id", "version"),
        UniqueConstraint("process_id", "content_hash"),
    )


# A case's statuses: open until its procedure closes it.
CASE_STATUSES = ("open", "closed")


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    # Neither school, county nor kind has an index of its own: each begins an index below, which
    # answers whatever one of them alone would, and a step that moves the case's stage writes
    # every index of the row again (migration 0028).
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id"))
    definition_id: Mapped[int] = mapped_column(ForeignKey("definition_versions.id"))
    # "sak": a chapter 12 case (procedure A, B or C); "arshjul": a school's yearly prevention
    # cycle (§ 12-3), run through the same write path and history.
    kind: Mapped[str] = mapped_column(String(20), default="sak", server_default="sak")
    procedure: Mapped[str] = mapped_column(String(1))
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)  # one of CASE_STATUSES
    stage: Mapped[str] = mapped_column(String(300), default="")
    # Where the case stands in the forum's words (processes/stages.py: "meldt" … "avslutning",
    # "annet"; "avsluttet" when closed), projected by each step so that the weekly overview
    # counts and pages its stages in the database.
    stage_code: Mapped[str] = mapped_column(String(20), default="annet", server_default="annet")
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    # The workflow's serialized state, without the spec (DESIGN.md rule 2). Loaded only where
    # asked for (``undefer(Case.state)``: the write path, replay): some 25 kB a case, which every
    # list row fetched and decoded for nothing; read where not asked for, it raises, not loads.
    state: Mapped[str] = mapped_column(Text, deferred=True, deferred_raiseload=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    next_deadline: Mapped[datetime | None]
    # When the school owner was first told of the case (rektor's notice, a task in the owner's
    # lane, an escalation to the owner): the one answer to "is the school owner notified?".
    owner_notified_at: Mapped[datetime | None]
    # The two answers of the report the weekly overview counts (``REPORT_COUNTED`` in
    # write/cases.py: the kind of offence, whether it was still going on), copied when the
    # report is made: the school year's counts read the case rows, not every report's history.
    report_answers: Mapped[dict | None]
    # Whether a deadline of the case was ever missed, and when the leaders last reviewed it: set
    # by the database as the history records either (triggers ``history_events_case_missed`` and
    # ``_reviewed``, migration 0023), so every release keeps them. The weekly overview counts and
    # orders the open cases by them instead of asking each case's history.
    deadline_missed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    last_reviewed_at: Mapped[datetime | None]
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    # The head of the case's history chain: the last event's number and hash, moved on in the
    # same transaction as the events, so a chain cut short or rewritten at its end shows.
    chain_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    chain_hash: Mapped[str] = mapped_column(String(64), default="0" * 64, server_default="0" * 64)
    school: Mapped[School] = relationship(lazy="joined")
    definition: Mapped[DefinitionVersion] = relationship()
    # Keyset paging of the case lists (newest first).
    __table_args__ = (Index("ix_cases_list", "kind", "status", "created_at", "id"),
                      Index("ix_cases_kind_created", "kind", "created_at", "id"),
                      # The school owner's circle (access.py): B and C, and the notified A cases.
                      Index("ix_cases_county_procedure", "county_id", "procedure"),
                      Index("ix_cases_county_notified", "county_id", "owner_notified_at"),
                      # A school's cases of one procedure (access.py): the bypassed leadership's
                      # open C cases, which every task list and read of theirs leaves out, and
                      # rektor's B cases. Without it they were found by ANDing the school's open
                      # cases with every C case of the county's history (0.7 ms at 100,000 cases).
                      Index("ix_cases_school_procedure", "school_id", "procedure", "status"),
                      # The weekly overview: the cases closed this week.
                      Index("ix_cases_closed", "kind", "status", "closed_at"),
                      # A school's cases of every status in the case list's order (a leader's
                      # «Alle», the API's list), read from the school's own (migration 0037).
                      Index("ix_cases_school_created", "school_id", "kind", "created_at", "id"))
    __mapper_args__ = {"version_id_col": lock_version}

    @classmethod
    def review_overdue(cls, now: datetime, every: timedelta) -> ColumnElement[bool]:
        """Not reviewed in lederforum within ``every`` of ``now`` (``processes.deadlines.
        review_overdue`` of one case): reported before it, and never reviewed or not since."""
        return and_(cls.created_at < now - every, or_(cls.last_reviewed_at.is_(None), cls.last_reviewed_at < now - every))


# The weekly overview's stage pages: a stage's open cases in the page's order
# (``engine/read/overview.STAGE_ORDER``: a missed deadline first, then the nearest deadline, then
# the oldest), so the first 25 of a school owner's circle are read in order, not sorted from all
# of the stage's (5,430 of them in «Undersøkes» at 100,000 cases: 10 ms). Open cases only.
Index("ix_cases_open_stage_order", Case.stage_code, Case.deadline_missed.desc(), Case.next_deadline.is_(None),
      Case.next_deadline, Case.created_at, Case.id,
      postgresql_where=Case.status == "open", sqlite_where=Case.status == "open")
# A school leader's case list (Saker, «Under behandling»), newest first: its first page of fifty
# read in order, not the school's 500 open cases at 100,000 gathered and sorted (migration 0034).
# Open cases only: the cases of the school closed this week are found by ``ix_cases_closed``,
# not among all it ever closed.
Index("ix_cases_school_open", Case.school_id, Case.created_at, Case.id,
      postgresql_where=Case.status == "open", sqlite_where=Case.status == "open")
# /metrics' open cases by kind, procedure and stage, on every scrape: from the index alone
# (migration 0044), not by looking up each open case's row (120 ms at 20,000 open on SQLite).
# Status first: SQLite's planner takes a covering index it can search by the status asked for.
Index("ix_cases_open_by_stage", Case.status, Case.kind, Case.procedure, Case.stage_code,
      postgresql_where=Case.status == "open", sqlite_where=Case.status == "open")
# The weekly overview's counts of the open cases (``engine/read/overview._open_counts``): a
# leader's school by stage, and on PostgreSQL every column the counts and the access policy read,
# so a school owner's 5,000 open cases at 100,000 are counted from the index alone (migration 0029).
Index("ix_cases_open_counts", Case.school_id, Case.stage_code, Case.procedure,
      postgresql_include=["county_id", "id", "kind", "owner_notified_at", "deadline_missed", "created_at",
                          "last_reviewed_at"],
      postgresql_where=Case.status == "open", sqlite_where=Case.status == "open")


class CaseTally(Base):
    """Projection: the number of cases by county, version, kind, procedure and status, kept as
    signed rows (+1, -1) the database adds whenever a case row is made, deleted or changes one of
    those (triggers ``cases_tally_*``, migration 0020), so every release and every path that writes
    a case keeps it whole. Adding rows takes no lock another writer waits for (one counter row per
    group would make every report in a county wait for the one before it to commit); the sweepers
    fold the rows into one per group now and then (``engine/write/tally_folding.py``). The process
    list and an auditor's versions count from it instead of from every case ever made."""

    __tablename__ = "case_tallies"
    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int]
    definition_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    procedure: Mapped[str] = mapped_column(String(1))
    status: Mapped[str] = mapped_column(String(20))
    n: Mapped[int]


class TallyDims:
    """A tally's group by what the access policy's roles ask of a case (``access.Dims``), and
    the case's kind: the columns ``StatusTally`` and ``MonthTally`` share."""

    county_id: Mapped[int]
    school_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    procedure: Mapped[str] = mapped_column(String(1))
    notified: Mapped[bool]  # the school owner was told (``Case.owner_notified_at``)


class StatusTally(TallyDims, Base):
    """Projection: the number of cases by the dims the access policy's roles ask of a case
    (``access.Dims``: county, school, procedure, whether the school owner was told), kind and
    status — kept as ``CaseTally`` is (triggers ``cases_status_tally_*``, migration 0025; folded
    by the sweepers), for Saker's tabs: a person's counts are the tallies their roles reach, less
    the few cases outside their circle, plus those their own sets reach (``engine/read/case_counts.py``).
    A table of its own beside ``CaseTally`` (not columns added to it): the release before 0025
    keeps folding that one as it always has while a county upgrades."""

    __tablename__ = "status_tallies"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    n: Mapped[int]


class ReportedTally(TallyDims, Base):
    """Projection: the number of cases each person reported (``CaseParty`` "reporter"), by the
    dims the access policy's roles ask of a case, kind and status — kept by the database as
    ``StatusTally`` is (triggers ``*_reported_tally*``, migration 0036: as a report names its
    reporter, and as a reported case moves to other dims or status; folded by the sweepers).
    Saker's tabs and school filter add a reporter's own cases from it: a teacher who reported
    2,500 cases made them read all 2,500 on every look at the list."""

    __tablename__ = "reported_tallies"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    n: Mapped[int]
    __table_args__ = (Index("ix_reported_tallies_user", "user_id"),)


class ReportedCase(Base):
    """Projection: each case a person reported (``CaseParty`` "reporter"), with the case's status
    and moment of creation, keyed in the case list's order — kept by the database (triggers
    ``*_reported_case*``, migration 0038: as a report names its reporter, as the case closes).
    A reporter's page of their reports of one status is a range of the key read backward
    (``access.visible_parts``), of every status a range of the index below: found among every
    case they reported, a teacher's 2,500 were each read on every look at Saker."""

    __tablename__ = "reported_cases"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    # Their reports of every status in the same order («Alle», the API's list).
    __table_args__ = (Index("ix_reported_cases_person", "user_id", "created_at", "case_id"),)


class MonthTally(TallyDims, Base):
    """Projection: what the weekly overview's figures of the school year count, by month (in
    Norway's time, ``YYYY-MM``) and by the dims the access policy's roles ask of a case
    (``access.Dims``): the deadlines met (``task_completed``) and missed (``deadline_missed``)
    by the month of the event, and the reports (``reported``, with the two answers counted;
    ``reported_unkept``, a case whose answers were not kept) by the month the case was made.
    Signed rows the database adds as the history records such an event and as a case is made,
    deleted or moves to other dims (triggers ``*_month_tally*``, migration 0024), folded by the
    sweepers as ``CaseTally`` is; a viewer's figure is the tallies of their roles less the few
    cases outside their circle, plus those their own sets reach (``engine/read/year_figures.py``)."""

    __tablename__ = "month_tallies"
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    measure: Mapped[str] = mapped_column(String(30))
    kind_answer: Mapped[str | None] = mapped_column(Text)  # the report's answers as JSON text
    ongoing_answer: Mapped[str | None] = mapped_column(Text)
    n: Mapped[int]
    __table_args__ = (Index("ix_month_tallies_month", "month", "county_id"),)


class CaseParty(Base):
    """A person's relation to a case: reporter, or accused (excluded everywhere). An accused
    without an account in kap12 (an agency substitute, a student teacher) is a party without a
    user: named in words in the identification's event (engine/write/parties.py)."""

    __tablename__ = "case_parties"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    relation: Mapped[str] = mapped_column(String(20))
    # Every query asks "the cases this person is accused in" (and "reported"): by person and
    # relation, so a person who reported thousands of cases is not read to find none accused.
    __table_args__ = (UniqueConstraint("case_id", "user_id", "relation"),
                      Index("ix_case_parties_person", "user_id", "relation", "case_id"))


class CaseWork(Base):
    """Projection: a person completed a task in a case (the history's ``task_completed`` events,
    one row per person and case), with the case's school and county and whether the case was
    already notified to the school owner. Written by the database itself, in the same insert as
    each such event (trigger ``history_events_case_work``, migration 0019), so every release and
    every path that records a completion keeps it whole. The access policy's "work done" branch
    reads it (``engine/access.py``)."""

    __tablename__ = "case_work"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    school_id: Mapped[int]
    county_id: Mapped[int]
    notified: Mapped[bool] = mapped_column(Boolean)
    # A person's rows, with what the policy filters them by, read from the index alone: the
    # ranges outside the school owner's counties from the first, outside a leader's schools
    # from the second (``access._work_done``).
    __table_args__ = (Index("ix_case_work_person", "user_id", "notified", "county_id", "school_id", "case_id"),
                      Index("ix_case_work_school", "user_id", "school_id", "case_id"))


class AccessGrant(Base):
    """Read access to one case given to a named employee (a contact teacher carrying out a
    measure, a colleague taking over) for a reason, until an end, in the procedure it was given
    in. Withdrawing sets ``withdrawn_at``; nothing is deleted."""

    __tablename__ = "case_access_grants"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    procedure: Mapped[str] = mapped_column(String(1))
    reason: Mapped[str] = mapped_column(Text)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdraw_reason: Mapped[str | None] = mapped_column(Text)
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class Measure(Base):
    """One measure of a case's action plan (tiltaksplan), as the latest plan states it, with the
    colleague responsible for it (when picked from the staff) and what was recorded about
    carrying it out. Written by the step that completes a plan; a revised plan marks the
    earlier plan's measures as no longer current, and so does the step that closes the case
    (nothing is deleted). The history holds every plan and every record, so these rows can be
    rebuilt from it."""

    __tablename__ = "measures"
    __table_args__ = (Index("ix_measures_responsible", "responsible_id", "current", "case_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    plan_task_id: Mapped[str] = mapped_column(String(36))  # the completed plan step it comes from
    position: Mapped[int] = mapped_column(Integer)  # its row in that plan, from 0
    what: Mapped[str] = mapped_column(Text)
    when_text: Mapped[str] = mapped_column(Text, default="")
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    responsible_text: Mapped[str] = mapped_column(Text, default="")
    current: Mapped[bool] = mapped_column(Boolean, default=True)  # in the latest plan of an open case
    status: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime | None]
    responsible: Mapped[User | None] = relationship(foreign_keys=[responsible_id], lazy="joined")


class OpenTask(Base):
    """Projection: a user task that is ready to be done (DESIGN.md rule 3)."""

    __tablename__ = "open_tasks"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task id
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    form_key: Mapped[str] = mapped_column(String(100))
    lane: Mapped[str | None] = mapped_column(String(100))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    opened_at: Mapped[datetime]
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    roles: Mapped[list["OpenTaskRole"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)
    __table_args__ = (Index("ix_open_tasks_order", "due_at", "opened_at", "id"),)  # soonest deadline first


class OpenTaskRole(Base):
    """A role an open task is open to, with the task's place (its case, school and county), its
    case's procedure, and its place in the task lists' order (``engine/store/task_order.py``;
    opened) copied beside it by the projection: a list of the tasks open to a role at a school or
    in a county is then read from one index, in order, and stops at the page's end
    (``engine/access.py``). Nullable only for rows the release before this one writes during an
    upgrade (``engine/write/task_roles.py`` ``fill_unplaced``)."""

    __tablename__ = "open_task_roles"
    task_id: Mapped[str] = mapped_column(ForeignKey("open_tasks.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[int | None]
    school_id: Mapped[int | None]
    county_id: Mapped[int | None]
    procedure: Mapped[str | None] = mapped_column(String(10))  # for the lists' filter, never for access
    due_order: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    # The case and its procedure last: a list asks of each row whether its case is one the person
    # may not work in (accused, or bypassed in C), and the reach of a person's tasks whether their
    # roles reach its procedure anyway; both read the rows from the index alone (migration 0035).
    __table_args__ = (Index("ix_open_task_roles_school", "role", "school_id", "due_order", "opened_at", "task_id",
                            "case_id", "procedure"),
                      Index("ix_open_task_roles_county", "role", "county_id", "due_order", "opened_at", "task_id",
                            "case_id", "procedure"),
                      # "Has this role a task of this procedure in the county?" (the list's filter;
                      # on PostgreSQL with statistics of the three together, migration 0022).
                      Index("ix_open_task_roles_procedure", "role", "county_id", "procedure"),
                      # Empty but during an upgrade: the rows still to be filled.
                      Index("ix_open_task_roles_unplaced", "task_id", postgresql_where=text("county_id IS NULL"),
                            sqlite_where=text("county_id IS NULL")))


TIMER_ATTEMPTS = 5  # after this many failures a timer is an incident, shown until resolved


class PendingTimer(Base):
    """Projection: a timer event waiting in a case, with the time it falls due (rule 4)."""

    __tablename__ = "pending_timers"
    # The incidents, in the order of their page (``engine.read.incidents``): a county's thousands
    # of waiting timers are not read to find the few that failed, there or in /metrics' count.
    __table_args__ = (Index("ix_pending_timers_incidents", "due_at", "id",
                            postgresql_where=text(f"attempts >= {TIMER_ATTEMPTS}"),
                            sqlite_where=text(f"attempts >= {TIMER_ATTEMPTS}")),
                      # The leases a sweeper holds, for when the next timer may be fired
                      # (``timers.next_due``, every half second on SQLite): the few leased, not
                      # every timer waiting (migration 0043).
                      Index("ix_pending_timers_leased", "claimed_until",
                            postgresql_where=text("claimed_until IS NOT NULL"),
                            sqlite_where=text("claimed_until IS NOT NULL")))
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task id
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[str] = mapped_column(String(60), default="")
    due_at: Mapped[datetime] = mapped_column(index=True)
    # A sweeper that takes the row leases it until claimed_until; a crashed sweeper's lease lapses.
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    @classmethod
    def failed(cls) -> ColumnElement[bool]:
        """An incident (``TIMER_ATTEMPTS`` failures), said as the index ``ix_pending_timers_incidents``
        says it: with the number in the statement's text, so that the plan PostgreSQL keeps for the
        statement prepared (any parameters) knows the index holds its rows."""
        return cls.attempts >= literal_column(str(TIMER_ATTEMPTS), Integer)


class HistoryEvent(Base):
    """Append-only, hash-chained record of everything that happened to a case (rule 5).

    ``chain`` is ``case:<id>`` for a case, ``system`` for deploys and other acts on no case."""

    __tablename__ = "history_events"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    chain: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(60))
    definition_id: Mapped[int | None] = mapped_column(ForeignKey("definition_versions.id"))
    data: Mapped[dict]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # Which history key made ``hash`` an HMAC (its public id); None: plain SHA-256.
    key_id: Mapped[str | None] = mapped_column(String(16))
    __table_args__ = (UniqueConstraint("chain", "seq"),
                      # The access policy's "did a task in this case".
                      Index("ix_history_events_actor_kind", "actor_id", "kind", "case_id"),
                      # The weekly overview's figures of the school year: a school's cases' events
                      # of one kind since a date, and the county's.
                      Index("ix_history_events_case_kind_at", "case_id", "kind", "at"),
                      Index("ix_history_events_kind_at", "kind", "at"))


MAIL_ATTEMPTS = 5  # a notice whose mail failed this often is given up (it stays in the app)


# The weekly overview's figures of the school year, each a small index of the events it counts
# (``counted_events``): their queries read the index alone, never the history rows.
Index("ix_history_events_deadlines", HistoryEvent.case_id, HistoryEvent.at, HistoryEvent.kind,
      postgresql_where=deadline_counted(HistoryEvent), sqlite_where=deadline_counted(HistoryEvent))
Index("ix_history_events_plans", HistoryEvent.case_id, HistoryEvent.at,
      postgresql_where=plan_made(HistoryEvent), sqlite_where=plan_made(HistoryEvent))
# A step done, by its task (migration 0041): the task is found without reading every step ever done.
Index("ix_history_events_completed_task", completed_task_id(HistoryEvent),
      postgresql_where=task_completed(HistoryEvent), sqlite_where=task_completed(HistoryEvent))


class CheckpointHead(Base):
    """Derived: every chain's head as the latest checkpoint recorded it, that is all checkpoints
    folded together (``engine/store/checkpoint_digest.py``), written with each checkpoint. The
    hourly checkpoint reads this instead of every checkpoint ever written (a year of them is a
    few million heads to read and fold, with the system chain's lock held). Never evidence: the
    audit folds the checkpoints themselves, and a head wrong here makes a checkpoint whose
    digest the audit finds does not match."""

    __tablename__ = "checkpoint_heads"
    chain: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class CheckpointFold(Base):
    """One row: the checkpoint (its seq in the system chain) that ``checkpoint_heads`` is folded
    through. A checkpoint written by an older release, which knows no such table, is folded in
    by the next one written."""

    __tablename__ = "checkpoint_folds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    through_seq: Mapped[int] = mapped_column(Integer)


class SystemEventCounty(Base):
    """Derived: a county an event of the system chain is about (its staff list read, one of its
    people taken out of service), so that its auditors read its events from an index, paged, and
    no other county's. The event's own data names the county too, under its hash; this row is
    never evidence. Events about every county (a process or form published) have none."""

    __tablename__ = "system_event_counties"
    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)  # the event's number in the system chain


class Notification(Base):
    """A notice to one person: shown in the app, and mailed when they have an address.

    Written in the same transaction as the case step that caused it (an outbox), mailed
    afterwards, so a mail server that is down never loses or blocks a step. Holds no personal
    data about the pupil: e-mail is not a confidential channel."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    mailed_at: Mapped[datetime | None]
    mail_attempts: Mapped[int] = mapped_column(Integer, default=0)
    mail_error: Mapped[str | None] = mapped_column(Text)  # why the last try failed (kept until it is sent)
    mail_retry_at: Mapped[datetime | None]  # after a refused try: not before this (``outputs.RETRY_AFTER``)
    __table_args__ = (Index("ix_notifications_user_list", "user_id", "id"),  # Varsler, newest first
                      # The unread count on every page: a rektor's years of read notices are not read.
                      Index("ix_notifications_unread", "user_id", "id", postgresql_where=text("read_at IS NULL"),
                            sqlite_where=text("read_at IS NULL")),
                      # The outbox (migration 0044): the notices still to be mailed, in the order
                      # a round takes them, without those given up after MAIL_ATTEMPTS tries.
                      Index("ix_notifications_outbox", "id", "mail_retry_at",
                            postgresql_where=text(f"mailed_at IS NULL AND mail_attempts < {MAIL_ATTEMPTS}"),
                            sqlite_where=text(f"mailed_at IS NULL AND mail_attempts < {MAIL_ATTEMPTS}")))

    @classmethod
    def waiting_for_mail(cls) -> ColumnElement[bool]:
        """A notice still to be mailed (or tried again, up to MAIL_ATTEMPTS times), now or later.
        Said as the index ``ix_notifications_outbox`` says it, the number in the statement's
        text: the notices given up are not read again by every round and every scrape."""
        return cls.mailed_at.is_(None) & (cls.mail_attempts < literal_column(str(MAIL_ATTEMPTS), Integer))

    @classmethod
    def due_for_mail(cls, now: datetime) -> ColumnElement[bool]:
        """A notice to mail now: waiting, and not told to wait after a refused try."""
        return cls.waiting_for_mail() & (cls.mail_retry_at.is_(None) | (cls.mail_retry_at <= now))


class SchoolClosure(Base):
    """Days a school is closed besides weekends and public holidays (school holidays set per
    school year): deadlines counted in working days skip them."""

    __tablename__ = "school_closures"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(200), default="")
    # When it was entered: re-execution counts a closure only in steps after this.
    created_at: Mapped[datetime | None]


class ApiToken(Base):
    """A personal API token. Only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class CaseDocument(Base):
    """A document the law treats as one (meldingsskjema, tiltaksplan, evaluation, …), produced
    once from the recorded step and never changed: a revised plan is a new version."""

    __tablename__ = "case_documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    source_seq: Mapped[int] = mapped_column(Integer)  # the history event it was made from
    title: Mapped[str] = mapped_column(String(300))
    media_type: Mapped[str] = mapped_column(String(100), default="application/pdf")
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    # Noark 5: the systemID used in archive extracts, fixed at creation so re-export is idempotent.
    system_id: Mapped[str] = mapped_column(String(36), unique=True)
    exported_at: Mapped[datetime | None]
    __table_args__ = (UniqueConstraint("case_id", "kind", "version"), UniqueConstraint("case_id", "source_seq", "kind"))


class FormVersion(Base):
    """An immutable published version of one form declaration, keyed by the hash of its
    content. A completed step records the version it was filled in with, so a later change of
    labels or choices never changes how that step reads."""

    __tablename__ = "form_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    declaration: Mapped[dict]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime]
    comment: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (
        UniqueConstraint("key", "version"),
        UniqueConstraint("key", "content_hash"),
    )


class LoginCounter(Base):
    """Log-in attempts per account (``u:<username>``) or per address (``ip:<address>``), shared
    by every web worker: each attempt is counted here, under a row lock, before the password is
    checked, so parallel guesses cannot slip past the count."""

    __tablename__ = "login_counters"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_at: Mapped[datetime]


class WebSession(Base):
    """A logged-in browser. The cookie carries a random token; only its SHA-256 is stored. A
    session ends on log-out, after the idle timeout, when its owner's password changes, or
    when an administrator logs the person out everywhere."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(index=True)  # live sessions, and old ones pruned
    address: Mapped[str] = mapped_column(String(64), default="")
    agent: Mapped[str] = mapped_column(String(200), default="")
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    ended_reason: Mapped[str | None] = mapped_column(String(40))
