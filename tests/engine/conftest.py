"""Engine test fixtures: ``flow`` drives cases through the test's engine as the demo school's
people; ``flow_on(kap12, demo)`` does the same on an engine a test or fixture made itself."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import undefer

from engine.service import Kap12
from engine.store.models import Case
from engine.versions.example_data import example_data
from engine.write.demo import DemoDirectory, complete_next, report_data
from processes import forms
from tests.support.diagrams import prosedyre_a


class Flow:
    """Report, complete and look at cases on one engine, as the demo people would."""

    NORDLI = "Nordli videregående skole"

    def __init__(self, kap12: Kap12, demo: DemoDirectory) -> None:
        self.kap12 = kap12
        self.demo = demo

    def report(self, user: str = "ansatt", **overrides) -> Case:
        """A report by ``user`` at Nordli, the demo report with ``overrides``."""
        return self.kap12.report(self.demo.users[user], self.demo.schools[self.NORDLI], report_data(**overrides))

    def open_titles(self, case_id: int) -> list[str]:
        return sorted(t.title for t in self.kap12.case_tasks(case_id))

    def do(self, user: str, case_id: int, title: str | None = None, **data) -> None:
        """Complete the open task (with ``title``, if given) that ``user`` may do on the case."""
        kap12, viewer = self.kap12, self.demo.users[user]
        tasks = [t for t in kap12.tasks_for(viewer) if t.case_id == case_id and (title is None or t.title == title)]
        assert tasks, f"{user} has no task {title or ''} on case {case_id}; open: {self.open_titles(case_id)}"
        if title is None:
            complete_next(kap12, viewer, case_id, **data)
        else:
            task = tasks[0]
            payload = example_data(forms.get_form(task.form_key), kap12.clock.now().date(), **data)
            kap12.complete(viewer, task.id, payload)

    def kinds(self, case_id: int) -> list[str]:
        """The case's history event kinds, without the reads."""
        return [e.kind for e in self.kap12.case_history(case_id) if e.kind != "case_read"]

    def plan_date(self, days: int = 14) -> str:
        return (self.kap12.clock.now() + timedelta(days=days)).date().isoformat()

    def status(self, case_id: int) -> Case | None:
        """The case row, with its stored workflow state (which the models load only when asked)."""
        with self.kap12.db.reading() as session:
            return session.get(Case, case_id, options=[undefer(Case.state)])

    def deploy_a(self, **changes) -> int:
        """Deploy procedure A with ``changes`` (see ``prosedyre_a``) as the process owner; the
        new version of the case process (kap12_sak) that calls it."""
        results = self.kap12.deploy([("prosedyre_a.bpmn", prosedyre_a(**changes))],
                                    actor=self.demo.users["prosesseier"], comment="test")
        [case_version] = [r for r in results if r.process_id == "kap12_sak"]
        assert case_version.created
        return case_version.version


@pytest.fixture
def flow(kap12: Kap12, demo: DemoDirectory) -> Flow:
    return Flow(kap12, demo)


@pytest.fixture(scope="session")
def flow_on() -> type[Flow]:
    """``flow_on(kap12, demo)``: a ``Flow`` on an engine made by the test or a wider fixture."""
    return Flow
