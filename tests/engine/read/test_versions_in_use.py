"""The auditors' «Prosessversjoner»: each version the cases they may read run on, with how many
of those cases run on it — counted on both databases, and only the cases the reader may see."""
from __future__ import annotations

from engine.read import queries
from engine.store.models import Case


def _counts(kap12, viewer) -> dict[tuple[str, int], int]:
    return {(row.process_id, row.version): row.cases for row in queries.versions_in_use(kap12, viewer)}


def test_each_version_with_the_cases_on_it(flow, kap12, demo):
    first = [flow.report() for _ in range(2)]
    version = flow.deploy_a(rename_motta="Motta meldingen")
    later = flow.report()
    with kap12.db.reading() as session:
        ran_on = {c.id: (c.definition.process_id, c.definition.version)
                  for c in session.query(Case).filter(Case.id.in_([c.id for c in [*first, later]]))}
    assert ran_on[later.id] == ("kap12_sak", version) != ran_on[first[0].id] == ran_on[first[1].id]
    assert _counts(kap12, demo.users["revisor"]) == {ran_on[first[0].id]: 2, ("kap12_sak", version): 1}
    # Rektor at the other school reads none of Nordli's cases: no version is in use for her.
    assert _counts(kap12, demo.users["rektor2"]) == {}


def test_only_the_cases_the_reader_may_see_are_counted(flow, kap12, demo):
    flow.report()
    flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    assert sum(_counts(kap12, demo.users["rektor"]).values()) == 2  # A, and B as rektor
    assert sum(_counts(kap12, demo.users["avdelingsleder"]).values()) == 1  # B is not hers
    assert sum(_counts(kap12, demo.users["ansatt2"]).values()) == 0  # reported nothing, accused in one
