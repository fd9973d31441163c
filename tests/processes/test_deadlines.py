from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from processes.deadlines import (
    CLOCK_HOURS,
    OSLO,
    Calendar,
    add_working_days,
    add_working_hours,
    at_local_time,
    deadline_met,
    end_of_working_day,
    expression_helpers,
    format_local,
    humanize_delta,
    is_working_day,
    next_working_day,
    public_holidays,
    reporting_delay,
    school_year_dates,
    school_year_of,
    seconds_late,
    statsforvalter_from,
    working_days_before,
    working_days_between,
)

UTC = timezone.utc


def oslo(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=OSLO)


def iso(dt: datetime) -> str:
    return dt.isoformat()


# --- Calendar ---------------------------------------------------------------------------


def test_public_holidays_2027_are_the_real_ones_without_plain_sundays():
    assert public_holidays(2027) == {
        date(2027, 1, 1),
        date(2027, 3, 25),  # skjærtorsdag
        date(2027, 3, 26),  # langfredag
        date(2027, 3, 28),  # 1. påskedag
        date(2027, 3, 29),  # 2. påskedag
        date(2027, 5, 1),
        date(2027, 5, 6),  # Kristi himmelfartsdag
        date(2027, 5, 16),  # 1. pinsedag
        date(2027, 5, 17),  # grunnlovsdag and 2. pinsedag
        date(2027, 12, 25),
        date(2027, 12, 26),
    }
    assert date(2027, 1, 3) not in public_holidays(2027)  # an ordinary Sunday


@pytest.mark.parametrize(
    "day, expected",
    [
        (date(2026, 11, 27), True),  # Friday
        (date(2026, 11, 28), False),  # Saturday
        (date(2026, 11, 29), False),  # Sunday
        (date(2027, 3, 24), True),  # Wednesday before Easter
        (date(2027, 3, 25), False),  # skjærtorsdag
        (date(2027, 3, 26), False),  # langfredag
        (date(2027, 3, 29), False),  # 2. påskedag
        (date(2026, 5, 17), False),  # Sunday anyway
        (date(2028, 5, 17), False),  # 17. mai on a Wednesday
        (date(2028, 5, 18), True),
        (date(2026, 12, 24), True),  # julaften is not a public holiday
        (date(2026, 12, 25), False),
        (date(2026, 12, 31), True),
        (date(2027, 1, 1), False),
    ],
)
def test_is_working_day(day, expected):
    assert is_working_day(day) is expected


def test_closed_dates_are_not_working_days():
    autumn_break = Calendar.from_periods([(date(2026, 10, 5), date(2026, 10, 9))])
    assert len(autumn_break.closed) == 5
    assert not is_working_day(date(2026, 10, 7), autumn_break)
    assert is_working_day(date(2026, 10, 7))
    assert next_working_day(date(2026, 10, 2), autumn_break) == date(2026, 10, 12)


def test_calendar_period_must_not_end_before_it_starts():
    with pytest.raises(ValueError):
        Calendar.from_periods([(date(2026, 10, 9), date(2026, 10, 5))])


def test_next_working_day_skips_weekend_and_easter():
    assert next_working_day(date(2026, 11, 27)) == date(2026, 11, 30)
    assert next_working_day(date(2027, 3, 24)) == date(2027, 3, 30)
    assert next_working_day(date(2026, 12, 23)) == date(2026, 12, 24)
    assert next_working_day(date(2026, 12, 24)) == date(2026, 12, 28)


def test_working_days_between_counts_after_a_up_to_b():
    deadline = date(2026, 11, 27)  # Friday
    assert working_days_between(deadline, date(2026, 12, 2)) == 3  # Mon, Tue, Wed
    assert working_days_between(deadline, deadline) == 0
    assert working_days_between(date(2026, 12, 2), deadline) == -3
    assert working_days_between(date(2027, 3, 24), date(2027, 3, 30)) == 1  # over Easter
    # A datetime counts as its date in Oslo: 23:30 UTC on Thursday is already Friday there,
    # so only Monday lies after it (taken as Thursday, the count would be 2).
    late_thursday_utc = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)
    assert working_days_between(late_thursday_utc, date(2026, 11, 30)) == 1


# --- add_working_hours --------------------------------------------------------------------


def test_working_hours_within_a_day():
    assert iso(add_working_hours(oslo(2026, 11, 25, 9, 15), 2.5)) == "2026-11-25T11:45:00+01:00"


def test_working_hours_ending_exactly_at_closing_stay_on_the_day():
    assert iso(add_working_hours(oslo(2026, 11, 25, 14), 2)) == "2026-11-25T16:00:00+01:00"


def test_working_hours_before_opening_count_from_0800():
    assert iso(add_working_hours(oslo(2026, 11, 25, 6, 10), 1)) == "2026-11-25T09:00:00+01:00"


def test_working_hours_after_closing_count_from_next_morning():
    assert iso(add_working_hours(oslo(2026, 11, 25, 17), 1)) == "2026-11-26T09:00:00+01:00"
    assert iso(add_working_hours(oslo(2026, 11, 25, 16), 0)) == "2026-11-26T08:00:00+01:00"


def test_working_hours_over_a_weekend():
    assert iso(add_working_hours(oslo(2026, 11, 27, 15), 3)) == "2026-11-30T10:00:00+01:00"
    assert iso(add_working_hours(oslo(2026, 11, 28, 12), 1)) == "2026-11-30T09:00:00+01:00"


def test_working_hours_over_the_october_dst_change():
    # 25 October 2026 is the last Sunday of October; the Friday before is the 23rd (CEST).
    result = add_working_hours(oslo(2026, 10, 23, 15, 30), 2)
    assert iso(result) == "2026-10-26T09:30:00+01:00"
    assert result.astimezone(UTC) == datetime(2026, 10, 26, 8, 30, tzinfo=UTC)


def test_working_hours_over_easter_and_the_march_dst_change():
    # Easter Sunday 2027 is also the DST change (28 March); Wednesday 24th is CET, Tuesday CEST.
    result = add_working_hours(oslo(2027, 3, 24, 15), 3)
    assert iso(result) == "2027-03-30T10:00:00+02:00"


def test_working_hours_from_another_time_zone():
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)  # 13:00 in Oslo
    assert iso(add_working_hours(now, 1.5)) == "2026-11-25T14:30:00+01:00"


def test_working_hours_over_several_days():
    assert iso(add_working_hours(oslo(2026, 11, 25, 8), 24)) == "2026-11-27T16:00:00+01:00"
    assert iso(add_working_hours(oslo(2026, 11, 25, 8), 24.25)) == "2026-11-30T08:15:00+01:00"


def test_working_hours_skip_closed_dates():
    winter_break = Calendar(frozenset({date(2027, 2, 22), date(2027, 2, 23)}))
    result = add_working_hours(oslo(2027, 2, 19, 15), 2, winter_break)
    assert iso(result) == "2027-02-24T09:00:00+01:00"


def test_working_hours_reject_negative_and_naive():
    with pytest.raises(ValueError):
        add_working_hours(oslo(2026, 11, 25, 9), -1)
    with pytest.raises(ValueError):
        add_working_hours(datetime(2026, 11, 25, 9), 1)


# --- end_of_working_day / add_working_days --------------------------------------------------


def test_end_of_working_day():
    assert iso(end_of_working_day(oslo(2026, 11, 25, 7))) == "2026-11-25T16:00:00+01:00"
    assert iso(end_of_working_day(oslo(2026, 11, 25, 15, 59))) == "2026-11-25T16:00:00+01:00"
    assert iso(end_of_working_day(oslo(2026, 11, 25, 16))) == "2026-11-26T16:00:00+01:00"
    assert iso(end_of_working_day(oslo(2026, 11, 27, 18))) == "2026-11-30T16:00:00+01:00"
    assert iso(end_of_working_day(oslo(2026, 11, 29, 10))) == "2026-11-30T16:00:00+01:00"


def test_add_working_days():
    assert iso(add_working_days(oslo(2026, 11, 25, 10), 1)) == "2026-11-26T16:00:00+01:00"
    assert iso(add_working_days(oslo(2026, 11, 25, 10), 3)) == "2026-11-30T16:00:00+01:00"
    assert iso(add_working_days(oslo(2026, 11, 28, 10), 1)) == "2026-11-30T16:00:00+01:00"
    assert iso(add_working_days(oslo(2026, 11, 25, 10), 0)) == "2026-11-25T16:00:00+01:00"
    # Counted from today's date, even late in the day.
    assert iso(add_working_days(oslo(2026, 11, 25, 22), 1)) == "2026-11-26T16:00:00+01:00"


def test_add_working_days_over_easter_2027():
    assert iso(add_working_days(oslo(2027, 3, 23, 12), 2)) == "2027-03-30T16:00:00+02:00"


def test_add_working_days_over_17_mai_on_a_weekday():
    # 17 May 2028 is a Wednesday.
    assert iso(add_working_days(oslo(2028, 5, 16, 9), 1)) == "2028-05-18T16:00:00+02:00"


def test_add_working_days_over_ascension_and_whitsun_2027():
    # 6 May (Thursday) is Kristi himmelfart; 17 May 2027 is both 2. pinsedag and Grunnlovsdag.
    assert iso(add_working_days(oslo(2027, 5, 5, 9), 1)) == "2027-05-07T16:00:00+02:00"
    assert iso(add_working_days(oslo(2027, 5, 14, 9), 1)) == "2027-05-18T16:00:00+02:00"


def test_add_working_days_over_christmas_and_new_year():
    assert iso(add_working_days(oslo(2026, 12, 23, 9), 2)) == "2026-12-28T16:00:00+01:00"
    assert iso(add_working_days(oslo(2026, 12, 31, 9), 1)) == "2027-01-04T16:00:00+01:00"


def test_add_working_days_over_the_october_dst_change():
    assert iso(add_working_days(oslo(2026, 10, 23, 10), 1)) == "2026-10-26T16:00:00+01:00"


def test_add_working_days_with_school_holiday():
    autumn_break = Calendar.from_periods([(date(2026, 10, 5), date(2026, 10, 9))])
    assert iso(add_working_days(oslo(2026, 10, 2, 9), 1, autumn_break)) == "2026-10-12T16:00:00+02:00"


def test_add_working_days_rejects_negative():
    with pytest.raises(ValueError):
        add_working_days(oslo(2026, 11, 25, 9), -1)


# --- working_days_before / at_local_time -------------------------------------------------


def test_working_days_before():
    assert iso(working_days_before(date(2026, 11, 30), 1)) == "2026-11-27T08:00:00+01:00"
    assert iso(working_days_before(date(2026, 12, 2), 3)) == "2026-11-27T08:00:00+01:00"
    assert iso(working_days_before(date(2027, 3, 30), 1)) == "2027-03-24T08:00:00+01:00"
    with pytest.raises(ValueError):
        working_days_before(date(2026, 12, 2), 0)


def test_at_local_time():
    assert iso(at_local_time(date(2026, 11, 27))) == "2026-11-27T08:00:00+01:00"
    assert iso(at_local_time(date(2026, 7, 1), "12:30")) == "2026-07-01T12:30:00+02:00"
    # 02:30 does not exist on 28 March 2027 (clocks jump 02:00 -> 03:00).
    assert iso(at_local_time(date(2027, 3, 28), "02:30")) == "2027-03-28T03:30:00+02:00"
    for bad in ("8:00", "24:00", "12:60", "noon", 800):
        with pytest.raises(ValueError):
            at_local_time(date(2026, 11, 27), bad)


# --- display ------------------------------------------------------------------------------


def test_format_local():
    assert format_local(oslo(2026, 11, 27, 16)) == "fredag 27.11.2026 kl. 16:00"
    assert format_local(datetime(2026, 7, 5, 6, 5, tzinfo=UTC)) == "søndag 05.07.2026 kl. 08:05"
    assert format_local(datetime(2026, 11, 30, 7, tzinfo=ZoneInfo("America/New_York"))) == (
        "mandag 30.11.2026 kl. 13:00"
    )


@pytest.mark.parametrize(
    "seconds, expected",
    [
        (0, "under 1 min"),
        (59, "under 1 min"),
        (60, "1 min"),
        (45 * 60, "45 min"),
        (2 * 3600, "2 t"),
        (2 * 3600 + 15 * 60, "2 t 15 min"),
        (-(2 * 3600 + 15 * 60 + 30), "2 t 15 min"),
        (86400, "1 dag"),
        (3 * 86400, "3 dager"),
        (3 * 86400 + 4 * 3600 + 59, "3 dager 4 t"),
    ],
)
def test_humanize_delta(seconds, expected):
    assert humanize_delta(seconds) == expected


# --- expression helpers -------------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_expression_helpers_return_iso_strings_with_offset():
    clock = Clock(oslo(2026, 10, 23, 15, 30))
    h = expression_helpers(clock)
    assert set(h) == {"arbeidstimer", "klokketimer", "slutt_arbeidsdag", "arbeidsdager", "dato_kl", "arbeidsdager_for"}
    assert h["klokketimer"](2) == "2026-10-23T17:30:00+02:00"  # the same Friday, after closing
    assert h["arbeidstimer"](2) == "2026-10-26T09:30:00+01:00"
    assert h["arbeidstimer"](0.5) == "2026-10-23T16:00:00+02:00"
    assert h["slutt_arbeidsdag"]() == "2026-10-23T16:00:00+02:00"
    assert h["arbeidsdager"](1) == "2026-10-26T16:00:00+01:00"
    assert h["dato_kl"]("2026-12-01") == "2026-12-01T08:00:00+01:00"
    assert h["dato_kl"](date(2026, 12, 1), "14:00") == "2026-12-01T14:00:00+01:00"
    assert h["arbeidsdager_for"]("2027-03-30", 2) == "2027-03-23T08:00:00+01:00"
    assert datetime.fromisoformat(h["arbeidstimer"](2)) == datetime(2026, 10, 26, 8, 30, tzinfo=UTC)


def test_expression_helpers_read_the_clock_at_call_time():
    clock = Clock(oslo(2026, 11, 25, 9))
    arbeidsdager = expression_helpers(clock)["arbeidsdager"]
    assert arbeidsdager(1) == "2026-11-26T16:00:00+01:00"
    clock.now += timedelta(days=1)
    assert arbeidsdager(1) == "2026-11-27T16:00:00+01:00"


def test_clock_hours_have_no_working_days():
    h = expression_helpers(Clock(oslo(2026, 11, 27, 15)), CLOCK_HOURS)   # a Friday afternoon
    assert h["klokketimer"](3) == "2026-11-27T18:00:00+01:00"          # Friday 18:00, not Monday
    assert h["dato_kl"]("2026-12-01") == "2026-12-01T08:00:00+01:00"
    for name, args in (("arbeidsdager", (1,)), ("slutt_arbeidsdag", ()), ("arbeidstimer", (2,))):
        with pytest.raises(ValueError, match="klokketimer"):
            h[name](*args)


def test_statsforvalter_date_counts_a_week_from_when_the_family_took_it_up():
    assert statsforvalter_from("2026-11-02") == date(2026, 11, 9)
    assert statsforvalter_from(date(2026, 12, 28)) == date(2027, 1, 4)
    assert statsforvalter_from(None) is None


def test_expression_helpers_use_the_calendar():
    closed = Calendar(frozenset({date(2026, 11, 26)}))
    h = expression_helpers(Clock(oslo(2026, 11, 25, 9)), closed)
    assert h["arbeidsdager"](1) == "2026-11-27T16:00:00+01:00"


@pytest.mark.parametrize(
    "name, args",
    [
        ("arbeidstimer", (-1,)),
        ("arbeidstimer", ("2",)),
        ("arbeidstimer", (True,)),
        ("arbeidstimer", (float("nan"),)),
        ("arbeidsdager", (1.5,)),
        ("arbeidsdager", (-2,)),
        ("arbeidsdager", (10**9,)),  # would count day by day for minutes
        ("arbeidstimer", (1e12,)),
        ("arbeidsdager_for", ("2026-11-27", 10**9)),
        ("dato_kl", ("27.11.2026",)),
        ("dato_kl", ("2026-02-30",)),
        ("dato_kl", (20261127,)),
        ("dato_kl", ("2026-11-27", "25:00")),
        ("arbeidsdager_for", ("i morgen", 1)),
        ("arbeidsdager_for", ("2026-11-27", 0)),
    ],
)
def test_expression_helpers_reject_bad_input_naming_the_function(name, args):
    h = expression_helpers(Clock(oslo(2026, 11, 25, 9)))
    with pytest.raises(ValueError, match=f"^{name}:"):
        h[name](*args)


def test_one_rule_for_a_deadline_met_or_missed():
    due = datetime(2026, 11, 30, 16, 0, tzinfo=OSLO)
    assert seconds_late(due, due) == 0 and deadline_met(0)  # on the minute is in time
    assert seconds_late(due, due + timedelta(seconds=1)) == 1 and not deadline_met(1)
    assert seconds_late(due, due - timedelta(hours=2)) == -7200 and deadline_met(-7200)


def test_school_year_begins_in_august_oslo_time():
    assert school_year_of(datetime(2026, 7, 31, 23, 30, tzinfo=OSLO)) == 2025
    assert school_year_of(datetime(2026, 7, 31, 22, 30, tzinfo=timezone.utc)) == 2026  # 00:30 on 1 August in Oslo
    assert school_year_dates(2026) == (date(2026, 8, 1), date(2027, 7, 31))


@pytest.mark.parametrize("known,reported,days", [
    ("2026-11-30", datetime(2026, 11, 30, 15, 0, tzinfo=OSLO), 0),   # the same day
    ("2026-11-27", datetime(2026, 11, 30, 8, 0, tzinfo=OSLO), 1),    # Friday, then Monday morning
    ("2026-11-28", datetime(2026, 11, 30, 8, 0, tzinfo=OSLO), 1),    # a Saturday, then Monday
    ("2026-11-25", datetime(2026, 11, 30, 9, 0, tzinfo=OSLO), 3),    # Wednesday, then Monday
    ("2026-12-23", datetime(2026, 12, 28, 9, 0, tzinfo=OSLO), 2),    # 24th and 28th; the 25th is a public holiday
    ("2026-12-01", datetime(2026, 11, 30, 9, 0, tzinfo=OSLO), 0),    # a day after the report (older data): never negative
])
def test_reporting_delay_counts_the_countys_working_days(known, reported, days):
    assert reporting_delay(known, reported) == days


def test_reporting_delay_is_unknown_without_both_days():
    assert reporting_delay(None, datetime(2026, 11, 30, 9, 0, tzinfo=OSLO)) is None
    assert reporting_delay("2026-11-30", None) is None
