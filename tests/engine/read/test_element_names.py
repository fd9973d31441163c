"""Task, timer and process names in nynorsk and English: the kap12.navn.<language> properties of
each diagram version, read at deploy, refused in a language kap12 does not speak."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import DeployRefused
from engine.read.element_names import name_table
from engine.versions.definitions import latest_version

PROSEDYRE_A = Path(__file__).resolve().parents[3] / "bpmn" / "prosedyre_a.bpmn"


@pytest.fixture(scope="module")
def engine(new_kap12, tmp_path_factory):
    folder = tmp_path_factory.mktemp("names")
    engine = new_kap12(f"sqlite:///{folder}/kap12.sqlite3", folder)
    yield engine
    engine.close()


def test_the_bundled_diagrams_name_their_tasks_timers_and_processes_in_nynorsk_and_english(engine):
    nn, en = name_table(engine.db, "nn"), name_table(engine.db, "en")
    assert nn["Varsle skoleeier"] == "Varsle skuleeigaren" and en["Varsle skoleeier"] == "Notify the school owner"
    assert nn["Frist: samme arbeidsdag"] == "Frist: same arbeidsdag" and nn["Undersøke saken"] == "Undersøkje saka"
    assert nn["Prosedyre A – elev krenker elev (§ 12-4)"] == "Prosedyre A – elev krenkjer elev (§ 12-4)"
    assert name_table(engine.db, "nb") == {}
    with engine.db.reading() as session:
        meta = latest_version(session, "prosedyre_a").meta["prosedyre_a"]
    assert meta["names"] == {"nn": "Prosedyre A – elev krenkjer elev (§ 12-4)",
                             "en": "Procedure A – a pupil harms a pupil (§ 12-4)"}
    assert meta["elements"]["Task_motta_melding"]["names"]["nn"] == "Ta imot og registrere melding"


def test_a_new_version_renames_and_the_older_keeps_its_words(engine):
    text = PROSEDYRE_A.read_text(encoding="utf-8").replace(
        'value="Ta imot og registrere melding"', 'value="Ta imot meldinga og registrer ho"')
    with engine.db.reading() as session:
        before = latest_version(session, "prosedyre_a")
        older_id, older_meta = before.id, before.meta
    engine.deploy([("prosedyre_a.bpmn", text.encode("utf-8"))], actor=None, comment="nytt namn på nynorsk")
    assert name_table(engine.db, "nn")["Motta og registrere melding"] == "Ta imot meldinga og registrer ho"
    with engine.db.reading() as session:
        newest = latest_version(session, "prosedyre_a")
        assert newest.id != older_id
        assert newest.meta["prosedyre_a"]["elements"]["Task_motta_melding"]["names"]["nn"] == \
            "Ta imot meldinga og registrer ho"
    assert older_meta["prosedyre_a"]["elements"]["Task_motta_melding"]["names"]["nn"] == \
        "Ta imot og registrere melding"


def test_a_name_in_an_unknown_language_is_refused_with_a_sentence(engine):
    text = PROSEDYRE_A.read_text(encoding="utf-8").replace('name="kap12.navn.en"', 'name="kap12.navn.de"', 1)
    with pytest.raises(DeployRefused) as err:
        engine.deploy([("prosedyre_a.bpmn", text.encode("utf-8"))], actor=None, comment="tysk")
    assert any("kap12.navn.de" in p and "kap12.navn.nn" in p for p in err.value.problems), err.value.problems
