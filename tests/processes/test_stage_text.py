"""Where a case stands, as its row keeps it: the open tasks' titles, whole, and how many more
when they do not all fit (processes/stages.open_tasks_stage)."""
from __future__ import annotations

from processes.stages import MORE_PREFIX, STAGE_ROOM, STAGE_SEPARATOR, open_tasks_stage, waiting_stage

# A yearly cycle's open tasks: together longer than the row's room.
CYCLE = [f"Gjennomføre {n}. temadag om mobbing og krenkelser for trinnet" for n in range(1, 10)]


def test_titles_that_fit_are_all_shown_sorted_and_once():
    assert open_tasks_stage(["Varsle skoleeier", "Motta melding", "Varsle skoleeier"]) == \
        "Motta melding; Varsle skoleeier"


def test_titles_that_do_not_fit_are_shown_whole_and_then_how_many_more():
    stage = open_tasks_stage(CYCLE)
    assert len(STAGE_SEPARATOR.join(CYCLE)) > STAGE_ROOM >= len(stage)
    *shown, more = stage.split(STAGE_SEPARATOR)
    assert shown == sorted(CYCLE)[:len(shown)] and len(shown) >= 4  # whole titles, never one cut
    assert more == f"{MORE_PREFIX}{len(CYCLE) - len(shown)}"
    # As many as fit: one more whole title would not.
    assert len(STAGE_SEPARATOR.join([*sorted(CYCLE)[:len(shown) + 1], f"{MORE_PREFIX}{len(CYCLE) - len(shown) - 1}"])) \
        > STAGE_ROOM


def test_a_first_title_too_long_for_the_room_is_cut_between_words():
    long_title = "Lage aktivitetsplan " + "og følge opp " * 30
    stage = open_tasks_stage([long_title, "Motta melding om krenkelse"], room=80)
    start, more = stage.split(STAGE_SEPARATOR)
    assert len(stage) <= 80 and more == f"{MORE_PREFIX}1"
    assert start.endswith("…") and long_title.startswith(start[:-1]) and long_title[len(start) - 1] == " "


def test_a_waiting_case_names_its_next_timer():
    assert waiting_stage("Evalueringsdato") == "Venter: Evalueringsdato"
