"""Helpers for driving cases through the engine in tests."""
from __future__ import annotations

from datetime import timedelta

from engine.demo import complete_next, report_data
from engine.versions.example_data import example_data

NORDLI = "Nordli videregående skole"


def report(kap12, demo, user="ansatt", **overrides):
    return kap12.report(demo.users[user], demo.schools[NORDLI], report_data(**overrides))


def open_titles(kap12, case_id) -> list[str]:
    return sorted(t.title for t in kap12.case_tasks(case_id))


def do(kap12, demo, user, case_id, title=None, **data):
    """Complete the open task (with ``title``, if given) that ``user`` may do on the case."""
    viewer = demo.users[user]
    tasks = [t for t in kap12.tasks_for(viewer) if t.case_id == case_id and (title is None or t.title == title)]
    assert tasks, f"{user} has no task {title or ''} on case {case_id}; open: {open_titles(kap12, case_id)}"
    if title is None:
        complete_next(kap12, viewer, case_id, **data)
    else:
        from processes import forms

        task = tasks[0]
        payload = example_data(forms.get_form(task.form_key), kap12.clock.now().date(), **data)
        kap12.complete(viewer, task.id, payload)


def kinds(kap12, case_id) -> list[str]:
    return [e.kind for e in kap12.case_history(case_id) if e.kind != "case_read"]


def plan_date(kap12, days=14) -> str:
    return (kap12.clock.now() + timedelta(days=days)).date().isoformat()


def status(kap12, case_id):
    with kap12.db.reading() as session:
        from engine.store.models import Case

        return session.get(Case, case_id)
