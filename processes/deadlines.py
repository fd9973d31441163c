"""Working-day arithmetic for deadlines in BPMN timer expressions.

A working day is Monday to Friday, except Norwegian public holidays and any extra closed dates
a school configures (its school holidays). Working hours are 08:00-16:00 in Europe/Oslo.

Every function takes the current time explicitly: the engine owns the clock, so tests and
replays of history get the same deadlines as the original run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from processes.messages import Message
from processes.roles import SHARPENED

OSLO = ZoneInfo("Europe/Oslo")
DAY_START = time(8, 0)
DAY_END = time(16, 0)

# The calendars a timer may count in (its ``kap12.kalender`` property), with the words the
# modeler and the README use. "straks" duties under § 12-5 count in the county's working days
# (or clock hours): a school's own holidays never postpone them. The shared follow-up
# (investigate, plan, evaluate) is "snarest" in A and "straks" in B and C (§ 12-5: investigation
# and measures start at once), so its timers count in the case's calendar, chosen by procedure.
CALENDARS = {
    "klokke": "klokketimer (alle døgnets timer, alle dager)",
    "fylke": "fylkets arbeidsdager (hverdager utenom helligdager)",
    "skole": "skolens dager (hverdager utenom helligdager og skolens fridager)",
    "sak": "sakens kalender (fylkets arbeidsdager i B og C, skolens dager i A)",
}
CASE_CALENDAR = "sak"
DEFAULT_CALENDAR = "skole"  # what timers without the property counted in before it existed


def case_calendar(procedure: str | None) -> str:
    """The calendar ``sak`` stands for in a case of ``procedure``: the county's working days
    under § 12-5 (B and C), the school's days otherwise."""
    return "fylke" if procedure in SHARPENED else "skole"

_WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    # Older releases of `holidays` counted every Sunday as a Norwegian holiday; ask for the
    # real public holidays only, so the list can also be shown to users.
    return frozenset(holidays.country_holidays("NO", years=year, include_sundays=False))


def public_holidays(year: int) -> frozenset[date]:
    """Norwegian public holidays (helligdager) of a year, without ordinary Sundays."""
    return _public_holidays(year)


@dataclass(frozen=True)
class Calendar:
    """Extra closed dates (school holidays) on top of weekends and public holidays.

    ``clock_hours`` is the calendar of clock time: it has no working days, so the working-day
    helpers refuse it and a timer in it uses ``klokketimer(n)`` or a fixed date."""

    closed: frozenset[date] = frozenset()
    clock_hours: bool = False

    @classmethod
    def from_periods(cls, periods: Iterable[tuple[date, date]]) -> Calendar:
        """Build from inclusive (first, last) date periods, e.g. a school year's holidays."""
        days: set[date] = set()
        for first, last in periods:
            if last < first:
                raise ValueError(Message("Perioden %(first)s–%(last)s slutter før den begynner.",
                                         first=str(first), last=str(last)))
            days.update(first + timedelta(days=i) for i in range((last - first).days + 1))
        return cls(frozenset(days))

    def is_working_day(self, day: date) -> bool:
        if self.clock_hours:
            raise ValueError(Message("Tidsuret regner i klokketimer, ikke arbeidsdager: bruk klokketimer(n) "
                                     "eller dato_kl(dato), eller velg kalenderen fylke eller skole."))
        if day.weekday() >= 5 or day in self.closed:
            return False
        return day not in _public_holidays(day.year)


_OPEN = Calendar()
CLOCK_HOURS = Calendar(clock_hours=True)


def _cal(calendar: Calendar | None) -> Calendar:
    return calendar if calendar is not None else _OPEN


def _local(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("Tidspunktet mangler tidssone (naive datetime).")
    return now.astimezone(OSLO)


def _at(day: date, t: time) -> datetime:
    # Round-trip through UTC so a wall time that does not exist on a DST day is normalised.
    return datetime.combine(day, t, tzinfo=OSLO).astimezone(timezone.utc).astimezone(OSLO)


def is_working_day(day: date, calendar: Calendar | None = None) -> bool:
    """True if `day` is a weekday that is neither a public holiday nor a closed date."""
    return _cal(calendar).is_working_day(day)


def next_working_day(day: date, calendar: Calendar | None = None) -> date:
    """The first working day strictly after `day`."""
    cal = _cal(calendar)
    day += timedelta(days=1)
    while not cal.is_working_day(day):
        day += timedelta(days=1)
    return day


def previous_working_day(day: date, calendar: Calendar | None = None) -> date:
    """The last working day strictly before `day`."""
    cal = _cal(calendar)
    day -= timedelta(days=1)
    while not cal.is_working_day(day):
        day -= timedelta(days=1)
    return day


def working_days_between(a: date, b: date, calendar: Calendar | None = None) -> int:
    """Working days after `a` up to and including `b`; negative when `b` is before `a`.

    With `a` a deadline and `b` today, this is how many working days the deadline is overdue.
    Datetimes are taken as their date in Oslo.
    """
    a, b = _as_local_date(a), _as_local_date(b)
    if b < a:
        return -working_days_between(b, a, calendar)
    cal = _cal(calendar)
    return sum(cal.is_working_day(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))


def _as_local_date(value: date) -> date:
    return _local(value).date() if isinstance(value, datetime) else value


def at_local_time(day: date, hhmm: str = "08:00") -> datetime:
    """`day` at the wall time `hhmm` in Oslo."""
    match = _HHMM.match(hhmm) if isinstance(hhmm, str) else None
    if match is None:
        raise ValueError(Message("Ugyldig klokkeslett %(time)s, bruk TT:MM.", time=repr(hhmm)))
    return _at(day, time(int(match[1]), int(match[2])))


def _start_of_work(local: datetime, cal: Calendar) -> datetime:
    """The first working moment at or after `local`."""
    if cal.is_working_day(local.date()) and local.time() < DAY_END:
        return max(local, _at(local.date(), DAY_START))
    return _at(next_working_day(local.date(), cal), DAY_START)


def add_working_hours(now: datetime, n: float, calendar: Calendar | None = None) -> datetime:
    """`n` working hours after `now`, counting only 08:00-16:00 on working days."""
    if n < 0:
        raise ValueError(Message("Antall arbeidstimer kan ikke være negativt."))
    cal = _cal(calendar)
    cursor = _start_of_work(_local(now), cal)
    remaining = timedelta(hours=n)
    while True:
        available = _at(cursor.date(), DAY_END) - cursor
        if remaining <= available:
            return cursor + remaining
        remaining -= available
        cursor = _at(next_working_day(cursor.date(), cal), DAY_START)


def end_of_working_day(now: datetime, calendar: Calendar | None = None) -> datetime:
    """16:00 today if today is a working day not yet over, else 16:00 the next working day."""
    cal = _cal(calendar)
    local = _local(now)
    if cal.is_working_day(local.date()) and local.time() < DAY_END:
        return _at(local.date(), DAY_END)
    return _at(next_working_day(local.date(), cal), DAY_END)


def add_working_days(now: datetime, n: int, calendar: Calendar | None = None) -> datetime:
    """16:00 on the n-th working day after today's date; n=0 is the end of this working day."""
    if n < 0:
        raise ValueError(Message("Antall arbeidsdager kan ikke være negativt."))
    if n == 0:
        return end_of_working_day(now, calendar)
    day = _local(now).date()
    for _ in range(n):
        day = next_working_day(day, calendar)
    return _at(day, DAY_END)


def working_days_before(day: date, n: int, calendar: Calendar | None = None) -> datetime:
    """08:00 on the n-th working day before `day` (n >= 1)."""
    if n < 1:
        raise ValueError(Message("Antall arbeidsdager før en dato må være minst 1."))
    for _ in range(n):
        day = previous_working_day(day, calendar)
    return _at(day, DAY_START)


def seconds_late(due: datetime, at: datetime) -> int:
    """How late ``at`` is for a deadline ``due``: > 0 late by this much, <= 0 this much before."""
    return int((at - due).total_seconds())


# How late (seconds) a step may be and still have met its deadline: not at all.
LATEST_MET = 0


def deadline_met(late: int) -> bool:
    """The one rule for a deadline: met when the step was done at or before it (the overview
    asks the same of the database with LATEST_MET)."""
    return late <= LATEST_MET


# The leadership reviews every chapter 12 case weekly in its lederforum (the school's plan).
REVIEW_EVERY = timedelta(days=7)


def review_overdue(last_reviewed: datetime | None, reported_at: datetime, now: datetime) -> bool:
    """The one rule for "not reviewed in lederforum for more than 7 days" (the overview and the
    weekly notice): counted from the last review, or from the report when never reviewed."""
    return now - (last_reviewed or reported_at) > REVIEW_EVERY


def school_year_of(now: datetime) -> int:
    """The school year under way at ``now`` (Oslo time), named by the year its August is in:
    a school year runs from 1 August to 31 July."""
    today = _local(now).date()
    return today.year if today.month >= 8 else today.year - 1


def school_year_dates(year: int) -> tuple[date, date]:
    """The first and last day of the school year that begins in August of ``year``."""
    return date(year, 8, 1), date(year + 1, 7, 31)


# § 12-6: the pupil or the parents may bring the case to Statsforvaltaren when they have taken
# it up with rektor and at least a week has passed. The field where the receipt records when
# they took it up, and the date that follows from it.
TAKEN_UP_FIELD = "tatt_opp_dato"
STATSFORVALTER_WAIT = timedelta(days=7)


def statsforvalter_from(taken_up: date | str | None) -> date | None:
    """The first day the family may go to Statsforvaltaren; None while nobody has recorded
    when they took the case up with the school."""
    if not taken_up:
        return None
    day = date.fromisoformat(taken_up) if isinstance(taken_up, str) else taken_up
    return day + STATSFORVALTER_WAIT


# The school's plan: whoever learns that a pupil is not safe reports it at once (umiddelbart).
# Learning of it one day and reporting the next working day is at once in practice (a Friday
# evening, a Monday morning); later than that, the case page says the report was not made at
# once, so the leader can follow it up.
KNOWN_FIELD = "kjent_dato"
REPORTED_AT_ONCE_WITHIN = 1  # working days


def reporting_delay(known: date | str | None, reported: datetime | None) -> int | None:
    """The county's working days from the day the reporter learned of it (the report form's
    «Når fikk du vite om dette?») to the report, or None when either is unknown."""
    if not known or reported is None:
        return None
    day = date.fromisoformat(known) if isinstance(known, str) else known
    return max(working_days_between(day, reported), 0)


def format_local(dt: datetime) -> str:
    """Norwegian display text, e.g. 'fredag 27.11.2026 kl. 16:00'."""
    local = _local(dt)
    return f"{_WEEKDAYS[local.weekday()]} {local:%d.%m.%Y} kl. {local:%H:%M}"


def humanize_delta(seconds: float) -> str:
    """Short Norwegian duration: '45 min', '2 t 15 min', '1 dag', '3 dager 4 t'.

    The sign is ignored; the caller says whether it is over or under the deadline.
    """
    total_minutes = int(abs(seconds)) // 60
    if total_minutes == 0:
        return "under 1 min"
    days, rest = divmod(total_minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        text = f"{days} dag" if days == 1 else f"{days} dager"
        return f"{text} {hours} t" if hours else text
    if hours:
        return f"{hours} t {minutes} min" if minutes else f"{hours} t"
    return f"{minutes} min"


def _parse_date(value: object, func: str) -> date:
    if isinstance(value, datetime):
        return _local(value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(Message("%(func)s: dato må være en dato på formen ÅÅÅÅ-MM-DD, fikk %(value)s.",
                             func=func, value=repr(value)))


# A deadline further away than this is a mistake in a diagram, and counting towards it day by
# day would keep the server busy: helpers are called from diagram code, so their work is bounded.
MAX_WORKING_DAYS = 1000
MAX_WORKING_HOURS = MAX_WORKING_DAYS * 8
MAX_CLOCK_HOURS = MAX_WORKING_DAYS * 24


def _count(value: object, func: str, minimum: int, *, integer: bool, maximum: float) -> float:
    kinds = (int,) if integer else (int, float)
    if (
        isinstance(value, bool)
        or not isinstance(value, kinds)
        or not math.isfinite(value)
        or value < minimum
        or value > maximum
    ):
        params = {"func": func, "minimum": minimum, "maximum": maximum, "value": repr(value)}
        if integer:
            raise ValueError(Message("%(func)s: n må være et heltall fra %(minimum)s til %(maximum)s, "
                                     "fikk %(value)s.", **params))
        raise ValueError(Message("%(func)s: n må være et tall fra %(minimum)s til %(maximum)s, fikk %(value)s.",
                                 **params))
    return value


def expression_helpers(
    now_fn: Callable[[], datetime],
    calendar: Calendar | Callable[[], Calendar | None] | None = None,
) -> dict[str, Callable[..., str]]:
    """Deadline functions for BPMN expressions, returning ISO-8601 strings with UTC offset.

    SpiffWorkflow parses timer values with `datetime.fromisoformat`, so the offset keeps the
    moment unambiguous. Each call reads `now_fn()` then, so the engine's clock is the one used;
    `calendar` may likewise be a function, read at each call (the school of the case at hand).
    """
    calendar_fn = calendar if callable(calendar) else (lambda: calendar)

    def arbeidstimer(n: float) -> str:
        hours = _count(n, "arbeidstimer", 0, integer=False, maximum=MAX_WORKING_HOURS)
        return add_working_hours(now_fn(), hours, calendar_fn()).isoformat()

    def klokketimer(n: float) -> str:
        hours = _count(n, "klokketimer", 0, integer=False, maximum=MAX_CLOCK_HOURS)
        return (now_fn() + timedelta(hours=hours)).isoformat()

    def slutt_arbeidsdag() -> str:
        return end_of_working_day(now_fn(), calendar_fn()).isoformat()

    def arbeidsdager(n: int) -> str:
        days = int(_count(n, "arbeidsdager", 0, integer=True, maximum=MAX_WORKING_DAYS))
        return add_working_days(now_fn(), days, calendar_fn()).isoformat()

    def dato_kl(dato: str | date, kl: str = "08:00") -> str:
        day = _parse_date(dato, "dato_kl")
        try:
            return at_local_time(day, kl).isoformat()
        except ValueError as error:
            # The reason as it was made (a Message stays translatable), not str() in today's language.
            reason = error.args[0] if error.args and isinstance(error.args[0], str) else str(error)
            raise ValueError(Message("dato_kl: %(reason)s", reason=reason)) from None

    def arbeidsdager_for(dato: str | date, n: int) -> str:
        day = _parse_date(dato, "arbeidsdager_for")
        count = int(_count(n, "arbeidsdager_for", 1, integer=True, maximum=MAX_WORKING_DAYS))
        return working_days_before(day, count, calendar_fn()).isoformat()

    return {
        "arbeidstimer": arbeidstimer,
        "klokketimer": klokketimer,
        "slutt_arbeidsdag": slutt_arbeidsdag,
        "arbeidsdager": arbeidsdager,
        "dato_kl": dato_kl,
        "arbeidsdager_for": arbeidsdager_for,
    }
