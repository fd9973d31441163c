"""What is stored reads again: uploads with a DTD or entities are refused (one such file used to
be stored without its DTD and then break every later deploy, validation and ``kap12 init``);
every accepted corpus diagram, as stored, passes the full analysis again; a stored version that
no longer reads blocks no other deploy; and an administrator can withdraw a version that no
case uses, as a logged act."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.config import PROJECT_ROOT
from engine.errors import Conflict, Denied, DeployRefused, InvalidInput, NotFound
from engine.store import events
from engine.store.models import DefinitionVersion, HistoryEvent
from engine.versions import definitions
from tests.support.diagrams import CORPUS, CORPUS_EXPECTED, diagram, renamed_first_task

BPMN = PROJECT_ROOT / "bpmn"
ENTITY = '<!DOCTYPE d [<!ENTITY x "Hei">]>'


def _renamed(path: Path, prefix: str = "Endret: ") -> bytes:
    """The bundled diagram with its first user task renamed: new content, still valid."""
    return renamed_first_task(path.read_text(encoding="utf-8"), prefix).encode("utf-8")


def _with_entity(path: Path) -> bytes:
    head, rest = _renamed(path, "&x; ").decode("utf-8").split("?>", 1)
    return (head + "?>\n" + ENTITY + rest).encode("utf-8")


def _versions(kap12) -> int:
    with kap12.db.reading() as session:
        return session.scalar(select(func.count()).select_from(DefinitionVersion))


def test_a_diagram_with_an_internal_entity_is_refused_and_later_deploys_still_work(sqlite_kap12):
    before = _versions(sqlite_kap12)
    data = _with_entity(BPMN / "prosedyre_a.bpmn")
    assert b"&x;" in data
    with pytest.raises(DeployRefused) as err:
        sqlite_kap12.deploy([("prosedyre_a.bpmn", data)], actor=None, comment="med entitet")
    [problem] = err.value.problems
    assert "DOCTYPE" in problem and "entiteter" in problem and problem.endswith(".")
    assert _versions(sqlite_kap12) == before
    # Nothing was stored, so every later deploy and kap12 init still reads what is there.
    sqlite_kap12.deploy([("prosedyre_b.bpmn", _renamed(BPMN / "prosedyre_b.bpmn"))], actor=None, comment="ny versjon")
    sqlite_kap12.init()


@pytest.mark.parametrize("name", sorted(n for n, outcome in CORPUS_EXPECTED.items() if isinstance(outcome, list)))
def test_every_accepted_corpus_diagram_reads_again_as_stored(sqlite_kap12, name):
    results = sqlite_kap12.deploy([(name, (CORPUS / name).read_bytes())], actor=None, comment="korpus")
    with sqlite_kap12.db.reading() as session:
        for result in results:
            row = session.scalars(select(DefinitionVersion).where(
                DefinitionVersion.process_id == result.process_id, DefinitionVersion.version == result.version)).one()
            for pid, src in row.sources.items():
                # The full analysis again, on exactly the stored text, beside what else is stored.
                stored = {p: s for r in definitions.latest_versions(session).values() for p, s in r.sources.items()}
                sources, *_ = definitions.analyse([(src["file"], src["xml"].encode("utf-8"))], stored)
                assert sources[pid]["xml"] == src["xml"]  # stored text reads back to itself
    sqlite_kap12.init()  # and the bundled diagrams still deploy beside it


def test_one_broken_stored_version_blocks_no_other_deploy(break_stored_version, sqlite_kap12):
    break_stored_version(sqlite_kap12, "prosedyre_c")
    # Other processes deploy, and kap12 init re-reads everything stored without failing.
    changed = _renamed(BPMN / "prosedyre_b.bpmn")
    results = sqlite_kap12.deploy([("prosedyre_b.bpmn", changed)], actor=None, comment="ny versjon")
    assert any(r.process_id == "prosedyre_b" and r.created for r in results)
    sqlite_kap12.init()


def test_a_process_calling_a_broken_version_uses_the_last_copy_that_reads(break_stored_version, sqlite_kap12):
    with sqlite_kap12.db.reading() as session:
        readable = definitions.latest_version(session, "oppfolging").sources["oppfolging"]["xml"]
    break_stored_version(sqlite_kap12, "oppfolging")
    results = sqlite_kap12.deploy([("prosedyre_a.bpmn", _renamed(BPMN / "prosedyre_a.bpmn"))], actor=None, comment="ny")
    [a] = [r for r in results if r.process_id == "prosedyre_a"]
    with sqlite_kap12.db.reading() as session:
        row = session.scalars(select(DefinitionVersion).where(DefinitionVersion.process_id == "prosedyre_a",
                                                              DefinitionVersion.version == a.version)).one()
        assert row.sources["oppfolging"]["xml"] == readable


def test_a_process_calling_a_version_that_never_read_is_refused_with_a_plain_sentence(break_stored_version, sqlite_kap12):
    break_stored_version(sqlite_kap12, "arshjul")  # nothing else holds a copy of it
    call = '<bpmn:callActivity id="Kall" name="Kall årshjul" calledElement="arshjul"/>'
    shape = '<bpmndi:BPMNShape id="Kall_di" bpmnElement="Kall"><dc:Bounds x="0" y="0" width="36" height="36"/></bpmndi:BPMNShape>'
    with sqlite_kap12.db.writing() as session:  # and the one readable version is gone too
        for row in session.scalars(select(DefinitionVersion).where(DefinitionVersion.process_id == "arshjul")):
            if "&x;" not in row.sources["arshjul"]["xml"]:
                session.delete(row)
    with pytest.raises(DeployRefused) as err:
        sqlite_kap12.deploy([("kaller.bpmn", diagram(extra=call, extra_di=shape))], actor=None, comment="ny")
    assert any("«arshjul»" in p and "kan ikke leses" in p and "trekke tilbake" in p for p in err.value.problems), \
        err.value.problems


# -- withdrawing a version ---------------------------------------------------------------------

def _withdrawals(kap12) -> list[dict]:
    with kap12.db.reading() as session:
        return [e.data for e in session.scalars(select(HistoryEvent).where(
            HistoryEvent.kind == events.VERSION_WITHDRAWN).order_by(HistoryEvent.id))]


def test_an_administrator_withdraws_a_broken_version_no_case_uses(break_stored_version, kap12, demo):
    broken = break_stored_version(kap12, "prosedyre_c")
    admin = demo.users["admin"]
    kap12.withdraw_version(admin, "prosedyre_c", broken.version, "Lagret med en entitet; kan ikke leses.")
    with kap12.db.reading() as session:
        assert definitions.latest_version(session, "prosedyre_c").version == broken.version - 1
    [event] = _withdrawals(kap12)
    assert event == {"process_id": "prosedyre_c", "version": broken.version, "content_hash": broken.content_hash,
                     "reason": "Lagret med en entitet; kan ikke leses."}
    # The number is not given again: the next deploy gets the one after it.
    changed = _renamed(BPMN / "prosedyre_c.bpmn")
    results = kap12.deploy([("prosedyre_c.bpmn", changed)], actor=admin, comment="rettet")
    assert [r.version for r in results if r.process_id == "prosedyre_c"] == [broken.version + 1]


def test_only_an_administrator_may_withdraw(break_stored_version, kap12, demo):
    broken = break_stored_version(kap12, "prosedyre_c")
    for user in ("prosesseier", "rektor", "revisor", "ansatt"):
        with pytest.raises(Denied):
            kap12.withdraw_version(demo.users[user], "prosedyre_c", broken.version, "vil fjerne den")
    with pytest.raises(InvalidInput):
        kap12.withdraw_version(demo.users["admin"], "prosedyre_c", broken.version, "  ")
    with pytest.raises(NotFound):
        kap12.withdraw_version(demo.users["admin"], "prosedyre_c", 99, "finnes ikke")
    assert _withdrawals(kap12) == []
    with kap12.db.reading() as session:
        assert definitions.latest_version(session, "prosedyre_c").version == broken.version


def test_a_version_in_use_cannot_be_withdrawn(flow, kap12, demo):
    case = flow.report()
    with kap12.db.reading() as session:
        used = definitions.latest_version(session, "kap12_sak")
        assert used.id == session.get(type(case), case.id).definition_id
    with pytest.raises(Conflict) as err:
        kap12.withdraw_version(demo.users["admin"], "kap12_sak", used.version, "prøver")
    assert "brukes av 1 sak" in str(err.value)
    assert _withdrawals(kap12) == []
    assert flow.report().id  # the version is still there and still runs


def test_the_spec_cache_never_gives_a_withdrawn_versions_spec_for_the_next(kap12, demo):
    """The spec cache is keyed by the version's id: a withdrawn version's id is never given to the
    next deploy, so a process that had restored the withdrawn spec cannot run the new one with it."""
    admin = demo.users["admin"]

    def deployed(prefix: str) -> DefinitionVersion:
        kap12.deploy([("prosedyre_c.bpmn", _renamed(BPMN / "prosedyre_c.bpmn", prefix))], actor=admin, comment=prefix)
        with kap12.db.reading() as session:
            return definitions.latest_version(session, "prosedyre_c")

    def task_names(version: DefinitionVersion) -> set[str]:
        spec, _subs = kap12.specs.get(version)
        return {getattr(t, "bpmn_name", None) or "" for t in spec.task_specs.values()}

    first = deployed("Først: ")
    assert any(name.startswith("Først: ") for name in task_names(first))
    kap12.withdraw_version(admin, "prosedyre_c", first.version, "feil navn")
    second = deployed("Så: ")
    names = task_names(second)
    assert any(name.startswith("Så: ") for name in names) and not any(n.startswith("Først: ") for n in names)
