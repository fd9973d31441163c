"""What the staff see when the directory changes under them: the one who left is logged out at
once, and the task they had taken is back in the role's list, with the reason in the history."""
from __future__ import annotations

from engine.write import demo, staff_directory
from tests.support.web import login


def test_the_task_of_someone_who_left_is_back_with_the_role_and_the_history_says_why(fresh_env):
    env = fresh_env
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data())
    [task] = [t for t in env.kap12.tasks_for(env.demo.users["rektor"]) if t.case_id == case.id]
    rektor = login(env.app, "rektor")
    env.kap12.claim(env.demo.users["rektor"], task.id)
    leader = login(env.app, "avdelingsleder")
    assert f"/oppgaver/{task.id}" not in leader.get("/oppgaver").text  # taken: not theirs to see

    staff_directory.deactivate(env.kap12, "rektor", "sluttet")

    assert rektor.get("/oppgaver").status_code == 302  # logged out at once
    assert f"/oppgaver/{task.id}" in leader.get("/oppgaver").text
    page = leader.get(f"/saker/{case.id}").text
    assert (f"Oppgaven «{task.title}» gikk tilbake til rollen: Rune Rektor kan ikke lenger gjøre den "
            "(endret i personkatalogen).") in page
