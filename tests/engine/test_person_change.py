"""A person's change as the system chain keeps it (``engine/store/person_change.py``): the words
of a role given or taken are read back the way they were written, for the pages to say them in
the reader's language, and words of another shape are left as they stand."""
from __future__ import annotations

import pytest

from engine.store.person_change import at_school, in_county, role_place


@pytest.mark.parametrize("role, place", [("rektor", "Nordli skole"), ("skoleeier", "Innlandet fylkeskommune (demo)"),
                                         ("ansatt", "Skole i Vik"), ("ansatt", "i")])
def test_a_role_and_its_place_are_read_back_as_written(role, place):
    assert role_place(at_school(role, place)) == (role, True, place)
    assert role_place(in_county(role, place)) == (role, False, place)


@pytest.mark.parametrize("words", ["", "rektor", "rektor ved", "rektor ved ", "rektor på Nordli", "ny", 5, None,
                                   ["rektor", "ved", "Nordli"]])
def test_words_of_another_shape_are_not_read_as_a_role(words):
    assert role_place(words) is None
