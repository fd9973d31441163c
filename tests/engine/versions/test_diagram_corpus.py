"""Diagrams as other tools write them, and files that are not diagrams at all: each one
either deploys or is refused with plain Norwegian sentences naming what is wrong; nothing
crashes, and a refused file stores nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.errors import DeployRefused
from engine.store.models import DefinitionVersion
from engine.versions.diagram_check import MAX_FILE_BYTES
from tests.support.diagrams import CORPUS, CORPUS_EXPECTED


def _count(kap12) -> int:
    with kap12.db.reading() as session:
        return session.scalar(select(func.count()).select_from(DefinitionVersion))


def _plain(problem: str) -> None:
    assert isinstance(problem, str) and problem.endswith(".")
    assert "Traceback" not in problem and "object at 0x" not in problem
    assert len(problem) < 600, problem


def _outcome(kap12, name: str, data: bytes):
    before = _count(kap12)
    try:
        results = kap12.deploy([(name, data)], actor=None, comment="korpus")
    except DeployRefused as err:
        assert _count(kap12) == before, "a refused file must store nothing"
        assert err.problems
        for problem in err.problems:
            _plain(problem)
        return err.problems
    return sorted(r.process_id for r in results if r.created)


def test_every_corpus_file_is_listed():
    assert sorted(p.name for p in CORPUS.iterdir() if p.suffix in (".bpmn", ".xml")) == sorted(CORPUS_EXPECTED)


@pytest.mark.parametrize("name", sorted(CORPUS_EXPECTED))
def test_corpus_file(sqlite_kap12, name):
    outcome = _outcome(sqlite_kap12, name, (CORPUS / name).read_bytes())
    expected = CORPUS_EXPECTED[name]
    if isinstance(expected, list):
        assert outcome == expected, outcome
    else:
        assert all(isinstance(p, str) for p in outcome) and outcome and isinstance(outcome[0], str)
        assert any(expected in p for p in outcome), outcome


def test_entities_are_never_expanded(sqlite_kap12):
    problems = _outcome(sqlite_kap12, "x.bpmn", (CORPUS / "entity_expansion.bpmn").read_bytes())
    assert not any("root:" in p or "lollol" in p for p in problems), problems


def test_an_oversized_file_is_refused(sqlite_kap12):
    padding = b"<!-- " + b"x" * (MAX_FILE_BYTES + 10) + b" -->"
    data = (CORPUS / "signavio.bpmn").read_bytes().replace(b"</bpmn:definitions>", padding + b"</bpmn:definitions>")
    [problem] = _outcome(sqlite_kap12, "stor.bpmn", data)
    assert "for stor" in problem


@pytest.mark.parametrize("data", [
    b"",
    b"\xff\xfe<\x00?\x00",
    '<?xml version="1.0" encoding="klingon"?><bpmn:definitions/>'.encode(),
    (CORPUS / "signavio.bpmn").read_text(encoding="utf-8").encode("utf-16"),
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
], ids=["empty", "half-utf16", "unknown-encoding", "utf16", "png"])
def test_files_that_are_not_readable_xml(sqlite_kap12, data):
    outcome = _outcome(sqlite_kap12, "rar.bpmn", data)
    assert outcome == ["korpus_signavio"] or (outcome and all(isinstance(p, str) for p in outcome))
