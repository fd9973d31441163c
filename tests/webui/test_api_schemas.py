"""The API's schemas are made once and shared by a worker's threads (``schemas.kept``)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from webui.api import schemas


def _task(n: int) -> dict:
    field = {"name": f"felt_{n}", "label": f"Felt {n}", "type": "text", "required": n % 2 == 0, "help": "",
             "choices": [{"value": f"v{n}", "label": f"Valg {n}"}], "row_fields": [], "min_items": 0,
             "max_length": n, "required_when": []}
    return {"id": f"task-{n}", "case_id": n, "case_number": f"2026-{n:04d}", "procedure": "A", "school": f"Skole {n}",
            "title": f"Oppgave {n}", "form_key": "mottak", "lane": None, "roles": ["rektor"], "assignee": None,
            "mine": False, "opened_at": datetime(2026, 11, 30, tzinfo=timezone.utc), "due_at": None, "workable": True,
            "form": {"key": f"skjema_{n}", "title": f"Skjema {n}", "intro": "", "form_fields": [field] * (n % 4 + 1)}}


def test_one_kept_instance_per_schema():
    assert schemas.kept(schemas.TaskDetailSchema) is schemas.kept(schemas.TaskDetailSchema)
    assert schemas.kept(schemas.TaskDetailSchema) is not schemas.kept(schemas.TaskSchema)


def test_threads_sharing_a_kept_schema_each_get_their_own_body():
    """Eight threads dump different tasks (with nested forms of different lengths) through the
    one instance at once, each many times: every body is the one its own data makes."""
    expected = {n: schemas.TaskDetailSchema().dump(_task(n)) for n in range(8)}

    def dumps(n: int) -> bool:
        return all(schemas.dump(schemas.TaskDetailSchema, _task(n)) == expected[n] for _ in range(300))

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(dumps, range(8)))
