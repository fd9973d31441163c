"""Valid example data for a form declaration. Deploy-time checks run a diagram's expressions on
it; the demo county and the tests fill in forms with it. Not part of the vocabulary: no form
declaration or diagram refers to it."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from engine.runtime.clock import active_clock
from processes.deadlines import OSLO
from processes.forms import NOW, Field, Form

_EXAMPLE_TEXT = "Eksempeltekst."


def example_data(form: Form, today: date | None = None, **overrides: Any) -> dict[str, Any]:
    """Valid data for ``form``: the first choice, today's date, one row per group. For the demo
    school, tests and deploy-time checks of expressions that read form values. Today is the
    engine's (the clock kap12 runs on, which tests set), not the machine's: a date field that may
    not lie ahead is checked against the engine's day."""
    today = today or active_clock().now().astimezone(OSLO).date()

    def value(f: Field) -> Any:
        if f.type == "group":
            return [{sub.name: value(sub) for sub in f.fields} for _ in range(max(f.min_items, 1))]
        if f.type == "datetime" and f.max_date == NOW:
            # A time that may not lie ahead: the start of the day, never after the moment it is sent.
            return datetime.combine(today, time(0), OSLO).isoformat()
        return {
            "text": _EXAMPLE_TEXT, "textarea": _EXAMPLE_TEXT, "date": today.isoformat(),
            "datetime": f"{today.isoformat()}T09:00:00+01:00", "boolean": f.required, "integer": 1,
            "choice": f.choices[0].value if f.choices else None,
            "multichoice": [f.choices[0].value] if f.choices else [],
            "user": None,  # nobody picked: a person is named by the test or the demo that needs one
        }[f.type]

    data = {f.name: value(f) for f in form.fields}
    data.update(overrides)
    return data
