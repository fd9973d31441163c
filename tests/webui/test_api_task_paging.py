"""``GET /api/v1/tasks`` followed by ``next_cursor`` to the end, as a client with a small
``limit`` does: every task the viewer may work on once, soonest deadline first — also while
tasks are claimed, completed and created between the requests (keyset paging, DESIGN.md rule
10: an OFFSET would skip a task when one already shown goes away, and repeat one when a task
with a sooner deadline arrives). On SQLite and on a real PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine.store import directory
from engine.store.models import User
from engine.versions.example_data import example_data
from engine.write import demo
from processes import forms

LATEST = datetime.max.replace(tzinfo=timezone.utc)  # a task without a deadline comes last




def _api(env, username: str):
    """A client function (method, url, **kwargs) with a personal token of ``username``."""
    with env.kap12.db.writing() as session:
        user = session.get(User, env.demo.users[username].id)
        token = directory.create_api_token(session, user, "paging", env.kap12.clock.now())[1]
    client = env.app.test_client()
    return lambda method, url, **kwargs: client.open(url, method=method,
                                                     headers={"Authorization": f"Bearer {token}"}, **kwargs)


def _follow(call, limit: int, between=lambda page_no, shown: None) -> list[dict]:
    """Every task of every page of ``/api/v1/tasks?limit=limit``, following ``next_cursor``;
    ``between(page_no, shown)`` runs after each page but the last."""
    shown: list[dict] = []
    cursor = None
    for page_no in range(1, 500):
        response = call("GET", f"/api/v1/tasks?limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.text
        assert len(response.json["items"]) <= limit and response.json["limit"] == limit
        shown += response.json["items"]
        cursor = response.json["next_cursor"]
        if cursor is None:
            return shown
        between(page_no, shown)
    raise AssertionError("no last page")


def _key(task: dict) -> tuple:
    due = datetime.fromisoformat(task["due_at"]) if task["due_at"] else LATEST
    return due, datetime.fromisoformat(task["opened_at"]), task["id"]


def _investigations(env, count: int) -> list[int]:
    """``count`` cases reported by Kari whose receipt rektor has done: each waits for "Undersøke
    saken", due a week later (later than any receipt reported today). Two are done at the same
    moment, so the task id decides between them."""
    rektor, made = env.demo.users["rektor"], []
    for n in range(count):
        if n != 1:
            env.clock.advance(timedelta(minutes=5))
        case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data())
        demo.complete_next(env.kap12, rektor, case.id)
        made.append(case.id)
    return made


def _data(env, task: dict, **overrides) -> dict:
    return example_data(forms.get_form(task["form_key"]), env.kap12.clock.now().date(), **overrides)


def test_the_task_list_followed_page_by_page_is_every_workable_task_once_in_order(fresh_env):
    """A client that follows ``next_cursor`` one or two tasks at a time gets exactly the tasks
    the viewer may work on (those of the facade's unpaged list), each once, soonest deadline
    first: receipts due today before the investigations due next week, ties by when the task
    opened and then by its id. The accused's case is on no page."""
    env = fresh_env
    _investigations(env, 3)
    for _ in range(2):
        env.clock.advance(timedelta(minutes=1))
        env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data())  # receipts, due today
    accused = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data(
        krenker_type="ledelse", krenker_navn="Rune Rektor", anklaget_bruker="rektor"))
    call = _api(env, "rektor")
    workable = {t.id for t in env.kap12.tasks_for(env.demo.users["rektor"])}
    assert len(workable) == 5
    for limit in (1, 2):
        shown = _follow(call, limit)
        ids = [t["id"] for t in shown]
        assert len(ids) == len(set(ids)) and set(ids) == workable, limit
        assert [_key(t) for t in shown] == sorted(_key(t) for t in shown)
        assert [t["title"] for t in shown][:2] == ["Motta og registrere melding"] * 2  # today's deadline first
        assert accused.id not in {t["case_id"] for t in shown}
        assert shown == call("GET", "/api/v1/tasks?limit=500").json["items"]  # the same as one page


def test_the_task_list_stays_whole_while_tasks_are_claimed_completed_and_created(fresh_env):
    """Between one-task pages, as other people and the viewer herself work: a task already shown
    is taken by avdelingsleder (it leaves rektor's list) and another is completed; new reports
    bring receipts due today, sooner than the page reached; rektor takes a task further on (it
    moves from her role's tasks to her own). Every task there throughout is shown exactly once,
    the one she took as hers, no task twice, and the pages in one order. An OFFSET page would
    skip one after a shown task left, and repeat one after each receipt arrived."""
    env = fresh_env
    _investigations(env, 7)
    rektor, leader, kari = _api(env, "rektor"), _api(env, "avdelingsleder"), _api(env, "ansatt")
    before = [t["id"] for t in rektor("GET", "/api/v1/tasks?limit=500").json["items"]]
    assert len(before) == 7
    gone: set[str] = set()
    taken_by_her: list[str] = []

    def work_underneath(page_no: int, shown: list[dict]) -> None:
        env.clock.advance(timedelta(minutes=1))
        if page_no == 1:  # another person takes a task already shown
            assert leader("POST", f"/api/v1/tasks/{shown[0]['id']}/claim").status_code == 200
            gone.add(shown[0]["id"])
        elif page_no == 2:  # rektor completes one she has seen; its case's next task opens now
            done = rektor("POST", f"/api/v1/tasks/{shown[1]['id']}/complete", json=_data(
                env, shown[1], trygt_skolemiljo="nei"))
            assert done.status_code == 200, done.text
            gone.add(shown[1]["id"])
        elif page_no == 3:  # she takes one further on: it must still come, once, as hers
            taken_by_her.append(before[-2])
            assert rektor("POST", f"/api/v1/tasks/{before[-2]}/claim").status_code == 200
        elif page_no in (4, 5):  # a new report: its receipt is due today, before every task shown so far
            created = kari("POST", "/api/v1/cases", json={**demo.report_data(kjent_dato="2026-11-30"),
                                                           "school_id": env.nordli})
            assert created.status_code == 201, created.text

    shown = _follow(rektor, 1, work_underneath)
    ids = [t["id"] for t in shown]
    assert len(ids) == len(set(ids)), "a task was shown twice"
    assert set(before) - gone <= set(ids), "a task there throughout was never shown"
    assert [_key(t) for t in shown] == sorted(_key(t) for t in shown)
    assert "Motta og registrere melding" not in {t["title"] for t in shown}  # sooner than the pages reached
    [hers] = [t for t in shown if t["id"] in taken_by_her]
    assert hers["mine"] is True
    # The receipts that came meanwhile are hers to do: a new traversal starts with them.
    assert rektor("GET", "/api/v1/tasks?limit=1").json["items"][0]["title"] == "Motta og registrere melding"
