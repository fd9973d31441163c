"""The masked copy's names: each text is searched only for the names that can be in it, with the
same result as searching it for every known name, longest first — which took minutes for a
county's directory (every name, every text, no pattern cache big enough)."""
from __future__ import annotations

import random
import re

from engine.audit.export import _Masker

NAMES = ["Per Faglærer", "Kari Lærer", "Anne Avdelingsleder", "Anne", "Åse Øvrebø", "Per", "Jonas Berg",
         "Ola Nordmann", "Ola Nordmannsen", "Ærlig Ås"]


def _every_name(names: list[str], keep: set[str], texts: list[str]) -> list[str]:
    """Masking as it was: every known name searched in every text, longest first."""
    known = sorted({n for n in names if len(n) >= 3 and n not in keep}, key=lambda n: (-len(n), n))
    aliases: dict[str, str] = {}

    def alias(name: str) -> str:
        return aliases.setdefault(name, f"[navn {len(aliases) + 1}]")

    out = []
    for text in texts:
        for name in known:
            text = re.sub(re.escape(name), lambda m, n=name: alias(n), text, flags=re.IGNORECASE)
        out.append(text)
    return out


def test_the_names_found_are_those_every_name_would_find():
    rng = random.Random(12)
    words = ["sier", "at", "så", "det", "Superintendent", "ANNE", "per", "og", "nordmannsen", "ærlig ås", "i",
             "friminuttet", "Åse øvrebø,", "kari lærer.", "OLA NORDMANN", "Pernille"]
    texts = [" ".join(rng.choice(words + NAMES) for _ in range(rng.randint(3, 30))) for _ in range(300)]
    for keep in (set(), {"Kari Lærer"}):
        masker = _Masker.build(NAMES, keep)
        assert [masker.text(t) for t in texts] == _every_name(NAMES, keep, texts)


def test_a_large_directory_is_searched_only_for_the_names_in_the_text():
    many = [f"Per Etternavn{i}" for i in range(5000)] + NAMES
    masker = _Masker.build(many, set())
    # As before, a name is found inside a longer one (Per Etternavn1 in Per Etternavn17): the
    # longer is replaced first, so the shorter then finds nothing there.
    assert masker._candidates("Per Faglærer og Kari Lærer snakket med Per Etternavn17.") == [
        "Per Etternavn17", "Per Etternavn1", "Per Faglærer", "Kari Lærer", "Per"]
    assert masker.text("Per Etternavn17 og Per") == "[navn 1] og [navn 2]"
