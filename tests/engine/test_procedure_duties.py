"""The procedures against the law (issue 12): "at once" that nothing holds up, calendars per
timer, a deadline on every duty step, evaluation dates, the § 12-6 date, forms per procedure,
timers acting as the system, and a report that names no accused."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from engine.audit.export import build_export
from engine.errors import InvalidInput
from engine.outputs import documents
from engine.read import queries
from engine.runtime.calendars import add_closure
from engine.store.history import SYSTEM_ACTOR
from engine.versions.example_data import example_data
from engine.write.demo import complete_next, report_data
from engine.write.migration import versions_with_cases
from processes.deadlines import OSLO

# Leaders, the school owner: whoever may work an open task is one of them.
WORKERS = ("avdelingsleder", "rektor", "skoleeier")


@pytest.fixture
def kap12(sqlite_kap12):
    # These walk whole procedures many times over: SQLite is enough (the write path's
    # PostgreSQL behaviour is covered by test_procedures and test_timers).
    return sqlite_kap12


def _task(kap12, case_id, title):
    return next(t for t in kap12.case_tasks(case_id) if t.title == title)


def _history(kap12, case_id, kind):
    return [e for e in kap12.case_history(case_id) if e.kind == kind]


# -- 1 and 2: the school owner is told beside the school's work, never before it --------------
def test_b_investigation_and_hearing_start_without_waiting_for_the_school_owner(flow, kap12, demo):
    case = flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    flow.do("rektor", case.id, "Motta melding")
    assert flow.open_titles(case.id) == [
        "Informere den anklagede og innhente tilsvar (kontradiksjon)", "Undersøke saken", "Varsle skoleeier straks"]
    # The school completes its whole investigation while the owner has not yet acted.
    flow.do("rektor", case.id, "Undersøke saken", trygt_skolemiljo="nei")
    assert "Utarbeide tiltaksplan" in flow.open_titles(case.id)
    flow.do("rektor", case.id, "Varsle skoleeier straks")
    ack = _task(kap12, case.id, "Bekrefte mottatt varsel")
    assert ack.due_at is not None  # the acknowledgement has its own deadline
    assert ack.id in {t.id for t in kap12.tasks_for(demo.users["skoleeier"])}


def test_serious_a_case_notice_runs_beside_the_investigation_with_a_deadline(flow, kap12, demo):
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding", alvorlig_sak=True)
    assert flow.open_titles(case.id) == ["Undersøke saken", "Varsle skoleeier"]
    notice = _task(kap12, case.id, "Varsle skoleeier")
    assert notice.due_at.astimezone(OSLO) == datetime(2026, 11, 30, 16, 0, tzinfo=OSLO)
    kap12.clock.set(datetime(2026, 11, 30, 16, 1, tzinfo=OSLO))
    kap12.sweep_timers()
    [escalated] = _history(kap12, case.id, "escalated")
    assert escalated.data["recipient_role"] == "skoleeier"
    flow.do("rektor", case.id, "Varsle skoleeier")
    done = [e for e in _history(kap12, case.id, "task_completed") if e.data["form"] == "varsle_skoleeier"]
    assert len(done) == 1  # "school owner notified": this event, with when and whom


# -- 3: each timer counts in its own calendar ---------------------------------------------------
def test_at_once_is_not_postponed_by_school_holidays(flow, kap12, demo):
    with kap12.db.writing() as session:
        add_closure(session, demo.schools[flow.NORDLI], date(2026, 12, 1), date(2026, 12, 4), "Planleggingsdager")
    kap12.clock.set(datetime(2026, 11, 30, 17, 0, tzinfo=OSLO))  # Monday evening, the day before
    case = flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    # The county's working days: Tuesday, inside the school's closure.
    assert _task(kap12, case.id, "Motta melding").due_at.astimezone(OSLO) == datetime(2026, 12, 1, 16, 0, tzinfo=OSLO)
    reminder = next(t for t in kap12.case_timers(case.id) if t.kind == "paminnelse")
    assert reminder.due_at.astimezone(OSLO) == datetime(2026, 12, 1, 10, 0, tzinfo=OSLO)
    kap12.clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=OSLO))
    flow.do("rektor", case.id, "Motta melding")
    assert _task(kap12, case.id, "Varsle skoleeier straks").due_at.astimezone(OSLO) == \
        datetime(2026, 12, 1, 16, 0, tzinfo=OSLO)
    # § 12-5: the investigation and the accused's hearing start at once too, so they count the
    # county's working days (Wednesday 2 to Tuesday 8), not the school's (which would skip the
    # closure to Friday 11).
    for title in ("Undersøke saken", "Informere den anklagede og innhente tilsvar (kontradiksjon)"):
        assert _task(kap12, case.id, title).due_at.astimezone(OSLO) == datetime(2026, 12, 8, 16, 0, tzinfo=OSLO), title
    flow.do("rektor", case.id, "Undersøke saken", trygt_skolemiljo="nei")
    assert _task(kap12, case.id, "Utarbeide tiltaksplan").due_at.astimezone(OSLO) == \
        datetime(2026, 12, 8, 16, 0, tzinfo=OSLO)


def test_a_follow_up_counts_the_school_days_and_a_c_follow_up_the_county_days(flow, kap12, demo):
    """The shared follow-up counts in the case's calendar: «snarest» in A skips the school's
    closure; § 12-5's «straks» in C does not."""
    with kap12.db.writing() as session:
        add_closure(session, demo.schools[flow.NORDLI], date(2026, 12, 1), date(2026, 12, 4), "Planleggingsdager")
    a = flow.report()
    flow.do("avdelingsleder", a.id, "Motta og registrere melding")
    assert _task(kap12, a.id, "Undersøke saken").due_at.astimezone(OSLO) == datetime(2026, 12, 11, 16, 0, tzinfo=OSLO)
    c = flow.report(krenker_type="ledelse", krenker_navn="Anne Avdelingsleder", anklaget_bruker="avdelingsleder")
    flow.do("skoleeier", c.id, "Motta melding")
    assert _task(kap12, c.id, "Undersøke saken").due_at.astimezone(OSLO) == datetime(2026, 12, 7, 16, 0, tzinfo=OSLO)


# -- 7: every duty step has a deadline; walking past all of them ------------------------------
DATA = {"Undersøke saken": {"trygt_skolemiljo": "nei"}, "Evaluere tiltakene": {"evaluering_resultat": "trygt"},
        "Identifisere den anklagede": {"anklaget_bruker": "avdelingsleder", "krenker_navn": "Anne Avdelingsleder"}}


def _worker(kap12, demo, task_id) -> str | None:
    return next((u for u in WORKERS if task_id in {t.id for t in kap12.tasks_for(demo.users[u])}), None)


def _walk_past_every_deadline(flow, case_id) -> set[str]:
    """Move the clock past the deadline of every open duty, check each one was recorded as
    missed, then do one step; until the case closes. Returns the duty steps met."""
    kap12, demo = flow.kap12, flow.demo
    met: set[str] = set()
    for _ in range(40):
        tasks = kap12.case_tasks(case_id)
        if not tasks:
            timers = kap12.case_timers(case_id)
            if not timers:
                return met
            kap12.clock.set(timers[0].due_at + timedelta(minutes=1))
            kap12.sweep_timers()
            continue
        for t in tasks:
            assert _worker(kap12, demo, t.id), f"nobody can work «{t.title}»"
        duties = [t for t in tasks if not t.element_id.startswith("Task_forsinket_")]
        for t in duties:
            assert t.due_at is not None, f"«{t.title}» has no deadline"
            met.add(t.element_id)
        latest = max(t.due_at for t in duties) if duties else None
        if latest is not None and kap12.clock.now() <= latest:
            kap12.clock.set(latest + timedelta(minutes=1))
            kap12.sweep_timers()
            missed = {e.data.get("task_id") for e in _history(kap12, case_id, "deadline_missed")}
            for t in duties:
                assert t.id in missed, f"the missed deadline of «{t.title}» was not recorded"
            continue
        task = sorted(kap12.case_tasks(case_id), key=lambda t: (not t.element_id.startswith("Task_forsinket_"),
                                                                 t.opened_at))[0]
        data = dict(DATA.get(task.title, {}))
        if task.form_key == "tiltaksplan":
            data["evalueringsdato"] = flow.plan_date(14)
        flow.do(_worker(kap12, demo, task.id), case_id, task.title, **data)
    raise AssertionError("the case did not close")


@pytest.mark.parametrize("reported, duties", [
    ({"alvorlig_sak": None}, {"Task_motta_melding", "Task_undersokelse", "Task_tiltaksplan", "Task_gjennomforing",
                              "Task_evaluering", "Task_avslutning"}),
    ({"krenker_type": "ansatt", "krenker_navn": "Per Faglærer", "anklaget_bruker": "ansatt2"},
     {"Task_motta_melding", "Task_varsle_skoleeier", "Task_bekreft_varsel", "Task_kontradiksjon",
      "Task_undersokelse", "Task_tiltaksplan", "Task_gjennomforing", "Task_evaluering", "Task_avslutning"}),
    ({"krenker_type": "ledelse", "krenker_navn": None, "anklaget_bruker": None},
     {"Task_identifisere_anklaget", "Task_motta_melding", "Task_kontradiksjon", "Task_undersokelse",
      "Task_tiltaksplan", "Task_gjennomforing", "Task_evaluering", "Task_avslutning"}),
], ids=["A", "B", "C"])
def test_walking_a_procedure_past_every_deadline(flow, kap12, demo, reported, duties):
    reported = {k: v for k, v in reported.items() if k != "alvorlig_sak"}
    case = flow.report(**reported)
    assert _walk_past_every_deadline(flow, case.id) == duties
    assert all(r.ok for r in kap12.verify([case.id]))


def test_evaluation_opens_on_the_plans_date_without_anyone_recording_the_measures(flow, kap12, demo):
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    flow.do("avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="nei")
    flow.do("avdelingsleder", case.id, "Utarbeide tiltaksplan", evalueringsdato="2026-12-14")
    carry_out = _task(kap12, case.id, "Gjennomføre tiltak")
    assert carry_out.due_at.astimezone(OSLO) == datetime(2026, 12, 14, 8, 0, tzinfo=OSLO)
    kap12.clock.set(datetime(2026, 12, 14, 8, 1, tzinfo=OSLO))
    kap12.sweep_timers()
    assert flow.open_titles(case.id) == ["Evaluere tiltakene"]
    assert [e.data["task_id"] for e in _history(kap12, case.id, "deadline_missed")] == [carry_out.id]


# -- 8: evaluation dates ------------------------------------------------------------------------
def test_an_evaluation_date_in_the_past_is_refused(flow, kap12, demo):
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    flow.do("avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="nei")
    with pytest.raises(InvalidInput) as err:
        flow.do("avdelingsleder", case.id, "Utarbeide tiltaksplan", evalueringsdato="2026-11-01")
    assert err.value.errors["evalueringsdato"] == [
        "Datoen 01.11.2026 er passert. Velg i dag (30.11.2026) eller en senere dato."]
    assert flow.open_titles(case.id) == ["Utarbeide tiltaksplan"]  # nothing was stored
    flow.do("avdelingsleder", case.id, "Utarbeide tiltaksplan", evalueringsdato="2026-11-30")


def test_an_evaluation_date_far_ahead_is_accepted_with_a_warning(kap12):
    form = kap12.forms.get("tiltaksplan")
    far = example_data(form, date(2026, 11, 30), evalueringsdato="2027-06-01")
    assert kap12.form_warnings(form, far) and "01.06.2027" in kap12.form_warnings(form, far)[0]
    near = example_data(form, date(2026, 11, 30), evalueringsdato="2026-12-14")
    assert kap12.form_warnings(form, near) == []


# -- 9: the Statsforvalter date ----------------------------------------------------------------
def test_statsforvalter_date_counts_from_when_the_family_took_it_up(flow, kap12, demo):
    case = flow.report()
    with pytest.raises(InvalidInput) as err:  # not a day that has not come yet
        flow.do("avdelingsleder", case.id, "Motta og registrere melding", tatt_opp_dato="2026-12-01")
    assert "tatt_opp_dato" in err.value.errors
    flow.do("avdelingsleder", case.id, "Motta og registrere melding", tatt_opp_dato="2026-11-20")
    assert queries.taken_up_on(kap12.case_history(case.id)) == "2026-11-20"
    exported = build_export(kap12, demo.users["revisor"], case.id)["sak"]
    assert exported["tatt_opp_med_skolen"] == "2026-11-20"
    assert exported["kan_bringes_inn_for_statsforvalteren_fra"] == "2026-11-27"


def test_the_family_going_to_rektor_can_be_recorded_after_the_receipt(flow, kap12, demo):
    """Families often go to rektor once the investigation has started: the date is not only the
    receipt's. The first day recorded counts; recording it again does not move the week."""
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding", tatt_opp_dato=None)
    assert queries.taken_up_on(kap12.case_history(case.id)) is None
    kap12.clock.set(datetime(2026, 12, 3, 9, 0, tzinfo=OSLO))
    flow.do("avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="nei", eleven_sier="nei",
            tatt_opp_dato="2026-12-02")
    assert queries.taken_up_on(kap12.case_history(case.id)) == "2026-12-02"
    flow.do("avdelingsleder", case.id, "Utarbeide tiltaksplan", evalueringsdato="2026-12-14")
    kap12.clock.set(datetime(2026, 12, 14, 9, 0, tzinfo=OSLO))
    kap12.sweep_timers()
    flow.do("avdelingsleder", case.id, "Evaluere tiltakene", evaluering_resultat="trygt", eleven_sier="ja",
            tatt_opp_dato="2026-12-10")
    assert queries.taken_up_on(kap12.case_history(case.id)) == "2026-12-02"
    sak = build_export(kap12, demo.users["revisor"], case.id)["sak"]
    assert sak["kan_bringes_inn_for_statsforvalteren_fra"] == "2026-12-09"


# -- 11: B and C have their own receive forms ---------------------------------------------------
@pytest.mark.parametrize("offender, accused, form_key", [("ansatt", "ansatt2", "motta_melding_b"),
                                                         ("ledelse", "avdelingsleder", "motta_melding_c")])
def test_b_and_c_receive_with_their_own_form(flow, kap12, demo, offender, accused, form_key):
    case = flow.report(krenker_type=offender, krenker_navn="Navn", anklaget_bruker=accused)
    task = _task(kap12, case.id, "Motta melding")
    assert task.form_key == form_key
    form = kap12.forms.get(form_key)
    assert form.title == task.title
    assert "alvorlig_sak" not in {f.name for f in form.fields}
    assert "tatt_opp_dato" in {f.name for f in form.fields}


# -- 12: timers act as the system ----------------------------------------------------------------
def test_a_timer_that_fires_during_someones_step_is_credited_to_the_system(flow, kap12, demo):
    case = flow.report()  # Monday 09:00; the reminder is due at 11:00
    kap12.clock.set(datetime(2026, 11, 30, 11, 30, tzinfo=OSLO))
    kap12.claim(demo.users["avdelingsleder"], _task(kap12, case.id, "Motta og registrere melding").id)
    events = {e.kind: e for e in kap12.case_history(case.id)}
    assert events["task_claimed"].actor == "Anne Avdelingsleder"
    for kind in ("timer_fired", "reminder"):
        assert (events[kind].actor, events[kind].actor_id) == (SYSTEM_ACTOR, None)


# -- 5 (diagram part): a report that names no accused --------------------------------------------
def test_b_without_a_named_accused_starts_with_identifying_them(flow, kap12, demo):
    case = flow.report(krenker_type="ansatt", krenker_navn="En lærer", anklaget_bruker=None)
    # Rektor tells the school owner at once, beside the identifying (nothing holds «straks» up).
    assert sorted(flow.open_titles(case.id)) == ["Identifisere den anklagede", "Varsle skoleeier straks"]
    task = _task(kap12, case.id, "Identifisere den anklagede")
    assert task.due_at is not None and _worker(kap12, demo, task.id) == "rektor"
    with pytest.raises(InvalidInput):
        flow.do("rektor", case.id, "Identifisere den anklagede", anklaget_bruker="finnes_ikke")
    flow.do("rektor", case.id, "Identifisere den anklagede", anklaget_bruker="ansatt2",
       krenker_navn="Per Faglærer")
    assert sorted(flow.open_titles(case.id)) == ["Motta melding", "Varsle skoleeier straks"]
    assert kap12.cases_for(demo.users["ansatt2"]) == []  # the identified accused is excluded at once


# -- the process list: each procedure's diagram counts its own cases ------------------------------
def test_process_list_counts_cases_per_procedure(flow, kap12, demo):
    flow.report()
    flow.report()
    flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    counts = {pid: rows[0].open_cases for pid, rows in versions_with_cases(kap12, demo.users["prosesseier"]).items()}
    assert counts["kap12_sak"] == 3
    assert (counts["prosedyre_a"], counts["prosedyre_b"], counts["prosedyre_c"]) == (2, 1, 0)


def test_rektor_can_carry_an_a_case_through_at_a_school_without_avdelingsleder(kap12, demo):
    """Rektor is responsible for every case (DOMAIN.md): at Sørbakken, which has no
    avdelingsleder, rektor receives, investigates, plans and evaluates an A case. (The follow-up
    went to avdelingsleder alone, and the case stood still after its receipt.)"""
    sorbakken = demo.schools["Sørbakken videregående skole"]
    case = kap12.report(demo.users["ansatt3"], sorbakken, report_data())
    rektor = demo.users["rektor2"]
    done = []
    for data in ({}, {"trygt_skolemiljo": "nei"},
                 {"evalueringsdato": (kap12.clock.now() + timedelta(days=14)).date().isoformat()}):
        done += [t.title for t in kap12.tasks_for(rektor) if t.case_id == case.id][:1]
        complete_next(kap12, rektor, case.id, **data)
    assert done == ["Motta og registrere melding", "Undersøke saken", "Utarbeide tiltaksplan"], done
    # The measures are carried out under the plan, also by rektor.
    assert [t.title for t in kap12.tasks_for(rektor) if t.case_id == case.id] == ["Gjennomføre tiltak"]
    # At Nordli both leaders see the follow-up's tasks, and each is told of them.
    nordli = demo.schools["Nordli videregående skole"]
    other = kap12.report(demo.users["ansatt"], nordli, report_data())
    complete_next(kap12, demo.users["avdelingsleder"], other.id)
    for leader in ("avdelingsleder", "rektor"):
        assert other.id in {t.case_id for t in kap12.tasks_for(demo.users[leader])}
    # Another school's rektor sees none of it.
    assert other.id not in {t.case_id for t in kap12.tasks_for(demo.users["rektor2"])}


def test_the_pupils_own_word_binds_the_outcome(flow, kap12, demo):
    """§ 12-4: when the pupil says the environment is not safe and good, the school puts in
    measures. The investigation cannot conclude «safe», nor an evaluation close the plan, while
    the pupil says it is not; the school may find it unsafe though the pupil says it is safe."""
    case = flow.report()
    flow.do("avdelingsleder", case.id)  # received
    with pytest.raises(InvalidInput) as err:
        flow.do("avdelingsleder", case.id, eleven_sier="nei", trygt_skolemiljo="ja")
    assert list(err.value.errors) == ["trygt_skolemiljo"]
    assert flow.open_titles(case.id) == ["Undersøke saken"]  # nothing saved
    flow.do("avdelingsleder", case.id, eleven_sier="nei", trygt_skolemiljo="nei")
    plan_by = (kap12.clock.now() + timedelta(days=14)).date().isoformat()
    flow.do("avdelingsleder", case.id, evalueringsdato=plan_by)
    kap12.clock.set(kap12.clock.now() + timedelta(days=15))
    kap12.sweep_timers()
    with pytest.raises(InvalidInput) as err:
        flow.do("avdelingsleder", case.id, "Evaluere tiltakene", eleven_sier="nei", evaluering_resultat="trygt")
    assert list(err.value.errors) == ["evaluering_resultat"]
    flow.do("avdelingsleder", case.id, "Evaluere tiltakene", eleven_sier="nei", evaluering_resultat="fortsette",
            evalueringsdato=(kap12.clock.now() + timedelta(days=14)).date().isoformat())
    # The school may see more than the pupil says: «not safe» beside the pupil's «safe» is taken.
    other = flow.report()
    flow.do("avdelingsleder", other.id)
    flow.do("avdelingsleder", other.id, eleven_sier="ja", trygt_skolemiljo="nei")
    assert flow.open_titles(other.id) == ["Utarbeide tiltaksplan"]


def test_measures_kept_though_the_pupil_is_safe_get_a_written_plan(flow, kap12, demo):
    """§ 12-4: whenever the school puts in measures, it makes a written plan. «Safe, but the
    school puts in measures all the same» leads to the plan, not to the closing; it is refused
    beside the pupil's «not safe» as «safe» is; plain «safe» still goes to the closing."""
    case = flow.report()
    flow.do("avdelingsleder", case.id)
    with pytest.raises(InvalidInput) as err:
        flow.do("avdelingsleder", case.id, eleven_sier="nei", trygt_skolemiljo="ja_tiltak")
    assert list(err.value.errors) == ["trygt_skolemiljo"]
    flow.do("avdelingsleder", case.id, eleven_sier="ja", trygt_skolemiljo="ja_tiltak")
    assert flow.open_titles(case.id) == ["Utarbeide tiltaksplan"]
    assert "undersokelse_brev" not in {d.kind for d in documents.ensure_documents(kap12, case.id)}  # no "no plan" letter
    safe = flow.report()
    flow.do("avdelingsleder", safe.id)
    flow.do("avdelingsleder", safe.id, eleven_sier="ja", trygt_skolemiljo="ja")
    assert flow.open_titles(safe.id) == ["Avslutte og dokumentere saken"]
