"""Kontroll av systemkjeden (``/revisjon/system/kontroll``): the auditors and administrators who
read Systemhistorikk check the system chain on request, and the digest the county kept outside
the database; a changed event, a digest no longer found and a mistyped digest are said in plain
words; everyone else is refused."""
from __future__ import annotations

from sqlalchemy import select

from engine.store import history
from engine.store.models import HistoryEvent
from engine.write.demo import report_data
from tests.support.tampering import (
    append_earlier_release_checkpoint,
    rehash_system_chain,
    reword_a_deployment,
    unguard_history,
)
from tests.support.web import login

CHECK = "/revisjon/system/kontroll"


def test_the_auditor_checks_the_system_chain_and_the_digest_kept_outside(fresh_env):
    env = fresh_env
    kept = env.kap12.write_checkpoint()
    auditor = login(env.app, "revisor")
    assert CHECK in auditor.get("/revisjon/system").text
    page = auditor.get(CHECK).text
    assert "Systemkjeden er hel" in page and "ingen endret, fjernet eller satt inn" in page
    assert "Sammendraget i siste kontrollpunkt stemmer med kjedehodene kontrollpunktene viser til." in page
    assert 'id="not-kept"' in page  # what a check without a kept digest cannot see is said
    # Pasted as a copy may come: in capitals, broken over two lines.
    typed = kept.digest[:32].upper() + "\n " + kept.digest[32:]
    found = auditor.get(CHECK, query_string={"sammendrag": typed}).text
    assert "Systemkjeden er hel" in found
    assert f"Kontrollpunkt nr. {kept.seq} fra" in found and "systemkjeden fram til det er ikke skrevet om" in found
    mistyped = auditor.get(CHECK, query_string={"sammendrag": kept.digest[:20]})
    assert mistyped.status_code == 422 and "Et sammendrag er 64 tegn" in mistyped.text
    assert 'aria-invalid="true"' in mistyped.text and "Systemkjeden er" not in mistyped.text
    gone = auditor.get(CHECK, query_string={"sammendrag": "0" * 64}).text
    assert "Systemkjeden er brutt" in gone and f"noe kontrollpunkt med sammendraget {'0' * 64}" in gone
    english = auditor.get(CHECK, headers={"Accept-Language": "en"}).text
    assert "The system chain is intact" in english

    unguard_history(env.kap12)
    with env.kap12.db.writing() as session:  # a published version's comment changed behind kap12's back
        seq = reword_a_deployment(session)
    broken = auditor.get(CHECK).text
    assert "Systemkjeden er brutt" in broken
    assert f"systemkjeden, hendelse nr. {seq}: er endret etter at den ble skrevet" in broken
    with_kept = auditor.get(CHECK, query_string={"sammendrag": kept.digest}).text  # the kept one found, not vouched for
    assert "men systemkjeden har funnene over" in with_kept and "ikke skrevet om" not in with_kept


def test_a_latest_checkpoint_whose_digest_was_rewritten_is_found(fresh_env):
    """The page takes again the digest of the latest checkpoint (and the kept one's) only: a
    forged one there is still a finding."""
    env = fresh_env
    kept = env.kap12.write_checkpoint()
    unguard_history(env.kap12)
    with env.kap12.db.writing() as session:
        checkpoint = session.scalars(select(HistoryEvent).where(HistoryEvent.chain == history.SYSTEM_CHAIN,
                                                                HistoryEvent.seq == kept.seq)).one()
        checkpoint.data = {**checkpoint.data, "digest": "f" * 64}
        rehash_system_chain(session, kept.seq)
    page = login(env.app, "revisor").get(CHECK).text
    assert "Systemkjeden er brutt" in page
    assert f"hendelse nr. {kept.seq}: kontrollpunktets sammendrag stemmer ikke med kjedehodene" in page


def test_a_checkpoint_of_an_earlier_release_is_checked_and_said_to_cover_the_cases_only(fresh_env):
    """Upgraded installations have checkpoints without the system chain's head: the latest may
    be one, and a county may have kept its digest."""
    env = fresh_env
    env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    old = append_earlier_release_checkpoint(env.kap12)
    auditor = login(env.app, "revisor")
    page = auditor.get(CHECK, query_string={"sammendrag": old}).text
    assert "Systemkjeden er hel" in page
    assert "skrevet av en eldre versjon av kap12 og dekker bare sakenes kjeder" in page
    new = env.kap12.write_checkpoint()  # the first of this release after it
    assert "systemkjeden fram til det er ikke skrevet om" in auditor.get(CHECK, query_string={"sammendrag": new.digest}).text
    assert env.kap12.verify_history(kept_digest=old).ok


def test_who_may_check_it(fresh_env):
    env = fresh_env
    assert login(env.app, "admin").get(CHECK).status_code == 200  # they read Systemhistorikk too
    for username in ("rektor", "skoleeier", "ansatt", "prosesseier"):
        assert login(env.app, username).get(CHECK).status_code == 403
    assert env.app.test_client().get(CHECK).status_code == 302  # to the log-in
