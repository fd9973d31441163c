"""A colleague picked in a form (stored as a user name) is shown by name, looked up by that name
alone: the pages read the whole directory to find it, once per request."""
from __future__ import annotations

from tests.support.plans import answered
from webui import present


def test_a_picked_colleague_is_shown_by_name_and_looked_up_once(env):
    with env.app.test_request_context():
        named, sent = answered(env.kap12.db.engine, lambda: [present._user_name("ansatt"),
                                                              present._user_name("ansatt"),
                                                              present._user_name("rektor2")])
        assert named == ["Kari Lærer", "Kari Lærer", "Siri Rektor"]
        asked = [statement for statement, _ in sent if statement != "BEGIN"]  # SQLite's
        assert len(asked) == 2 and all("WHERE users.username IN" in statement for statement in asked)
        assert present._user_name("sluttet") == "sluttet"  # no such user: the name as stored
