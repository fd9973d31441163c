"""Varsler: the in-app notices page and the unread count in the header."""
from __future__ import annotations

from engine.write.demo import report_data
from tests.support.web import login, token


def test_new_task_shows_as_an_unread_notice_and_can_be_marked_read(env):
    school = env.demo.schools["Nordli videregående skole"]
    case = env.kap12.report(env.demo.users["ansatt"], school, report_data(berorte_elever="Hemmelig Navn"))
    client = login(env.app, "avdelingsleder")
    page = client.get("/oppgaver").text
    assert 'class="badge-count"' in page
    notices = client.get("/varsler").text
    assert f"Ny oppgave i sak {case.number}: Motta og registrere melding" in notices
    assert "Hemmelig Navn" not in notices
    client.post("/varsler/lest", data={"_csrf": token(client, "/varsler")})
    assert 'class="badge-count"' not in client.get("/oppgaver").text


def test_accused_gets_no_notice(env):
    school = env.demo.schools["Nordli videregående skole"]
    case = env.kap12.report(env.demo.users["ansatt"], school,
                            report_data(krenker_type="ledelse", anklaget_bruker="rektor"))
    client = login(env.app, "rektor")  # the accused leader: bypassed, and told nothing
    assert f"sak {case.number}" not in client.get("/varsler").text


def test_marking_read_needs_csrf(env):
    client = login(env.app, "rektor")
    assert client.post("/varsler/lest").status_code in (400, 403)


def _unread(env, username: str, n: int) -> None:
    """Exactly ``n`` unread notices for the person (others' tests leave theirs)."""
    from engine.store.models import Notification
    env.kap12.mark_notices_read(env.demo.users[username])
    with env.kap12.db.writing() as session:
        session.add_all([Notification(user_id=env.demo.users[username].id, kind="test", subject=f"Varsel {i}",
                                      body="", created_at=env.kap12.clock.now()) for i in range(n)])


def test_the_header_counts_unread_notices_up_to_99_and_then_says_more(env):
    """Counted on every page, so only as far as shown: a school owner told of every serious case
    in the county has thousands."""
    _unread(env, "rektor", 99)
    _unread(env, "skoleeier", 100)
    rektor = login(env.app, "rektor").get("/oppgaver").text
    owner = login(env.app, "skoleeier").get("/oppgaver").text
    assert 'aria-label="99 uleste">99</span>' in rektor
    assert 'aria-label="over 99 uleste">99+</span>' in owner
