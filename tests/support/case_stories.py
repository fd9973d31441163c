"""Cases at Nordli that the access policy's circles tell apart, and the viewers who see them
differently: for tests that a list or a count is what each viewer may see."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from engine import access
from engine.store.models import Case


def stories(flow, kap12, demo) -> None:
    """Cases of every kind a viewer's circle must tell apart: A closed and A told the owner, B
    and C, a case moved from A to B, and a report by another teacher granted to the demo's."""
    closed = flow.report()
    flow.do("avdelingsleder", closed.id, "Motta og registrere melding")
    flow.do("avdelingsleder", closed.id, "Undersøke saken", trygt_skolemiljo="ja")
    flow.do("avdelingsleder", closed.id, "Avslutte og dokumentere saken")
    serious = flow.report()
    flow.do("avdelingsleder", serious.id, "Motta og registrere melding", alvorlig_sak=True)
    flow.do("rektor", serious.id, "Varsle skoleeier")
    flow.report(krenker_type="ansatt", anklaget_bruker="ansatt2")
    flow.report(krenker_type="ledelse", anklaget_bruker="rektor")
    moved = flow.report()
    kap12.reclassify(demo.users["rektor"], moved.id, "ansatt", "Det var en lærer.", accused="ansatt2")
    granted = flow.report(user="ansatt2")
    kap12.grant_access(demo.users["rektor"], granted.id, "ansatt", "Kontaktlærer",
                       (kap12.clock.now() + timedelta(days=30)).date().isoformat())


def viewers(demo) -> dict[str, access.Viewer]:
    """The demo's people, and leaders who also audit the county."""
    found = {name: demo.users[name] for name in ("rektor", "avdelingsleder", "skoleeier", "ansatt", "ansatt2",
                                                   "rektor2", "revisor")}
    audits = ("revisor", None, demo.county_id)
    for name in ("skoleeier", "rektor", "avdelingsleder"):
        found[f"{name}+revisor"] = replace(demo.users[name], grants=(*demo.users[name].grants, audits))
    return found


def outside_their_own_reports(flow, kap12, demo) -> tuple[Case, Case]:
    """A report whose reporter is then named the accused, and a leader's report that became a
    C case of her school (the leadership bypassed): both counted in their reporters' tallies,
    neither seen by them."""
    accused_later = flow.report(user="ansatt2")
    kap12.reclassify(demo.users["rektor"], accused_later.id, "ansatt", "Det gjaldt læreren selv.", accused="ansatt2")
    bypassed = flow.report(user="avdelingsleder")
    kap12.reclassify(demo.users["avdelingsleder"], bypassed.id, "ledelse", "Det gjelder rektor.", "rektor")
    return accused_later, bypassed
