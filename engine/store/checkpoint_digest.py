"""What a checkpoint in the system chain records: the head (last event number and hash) of
every case's history chain, as a digest a county can keep outside the database.

A checkpoint event stores only the heads that changed since the checkpoint before it, so the
heads at any checkpoint are all checkpoints so far folded together; its ``digest`` is taken
over all of them, so one line of text stands for every chain at that moment.

It also records the system chain's own head just before it (``system``): the people, roles and
process versions recorded there are then covered by the digest kept outside too. Without it, a
forger with the database (and the history key) could rewrite who was given a role and recompute
the system chain, and every kept digest would still be found. Checkpoints of earlier releases
have no ``system``; their digest is over the case chains alone (``digest_of``)."""
from __future__ import annotations

import hashlib

from engine.store.events import CHECKPOINT
from engine.store.history import canonical

CHECKPOINT_KIND = CHECKPOINT

Heads = dict[str, tuple[int, str]]  # chain → (seq, hash) of its last event


def _sorted_heads(heads: Heads) -> list[list[object]]:
    return sorted([chain, seq, digest] for chain, (seq, digest) in heads.items())


def heads_digest(heads: Heads) -> str:
    """The digest of an earlier release's checkpoint: the case chains' heads, as a JSON list."""
    return hashlib.sha256(canonical(_sorted_heads(heads))).hexdigest()


def cases_and_system_digest(heads: Heads, system: tuple[int, str]) -> str:
    """The digest of this release's checkpoint: a JSON object of the case chains' heads and the
    system chain's. An object's text never equals a list's, so no checkpoint of this release can
    be passed off as an earlier release's with the same digest (whose system head nobody checks)
    by moving the system head in among the case chains'."""
    return hashlib.sha256(canonical({"cases": _sorted_heads(heads), "system": list(system)})).hexdigest()


def system_head(data: dict) -> tuple[int, str] | None:
    """The system chain's head a checkpoint's data records (None: a checkpoint of an earlier
    release). Raises on data of the wrong shape."""
    if "system" not in data:
        return None
    seq, digest = data["system"]
    if not isinstance(seq, int) or not isinstance(digest, str):
        raise ValueError("bad head for the system chain")
    return seq, digest


def digest_of(heads: Heads, data: dict) -> str:
    """The digest a checkpoint with this data must carry, ``heads`` being every case chain's head
    folded through it: over those, and the system chain's head when the checkpoint records it."""
    system = system_head(data)
    return heads_digest(heads) if system is None else cases_and_system_digest(heads, system)


def fold(heads: Heads, data: dict) -> Heads:
    """The heads after one more checkpoint event's data. Raises on data of the wrong shape."""
    return fold_into(dict(heads), data)


def fold_into(heads: Heads, data: dict) -> Heads:
    """``fold``, changing ``heads`` itself: folding a year of hourly checkpoints by copying the
    heads at each (100,000 chains) took the sweeper 25 s an hour with the system lock held. On
    data of the wrong shape it raises with ``heads`` unchanged."""
    changed = {}
    for chain, head in data["changed"].items():
        seq, digest = head
        if not isinstance(seq, int) or not isinstance(digest, str):
            raise ValueError(f"bad head for {chain}")
        changed[str(chain)] = (seq, digest)
    heads.update(changed)
    return heads


def checkpoint_data(before: Heads, now: Heads, previous_seq: int | None, system: tuple[int, str]) -> dict:
    """The data of a new checkpoint event, given the case chains' heads folded so far and the
    heads now, and the system chain's head (its last event, which the checkpoint follows)."""
    changed = {chain: [seq, digest] for chain, (seq, digest) in sorted(now.items()) if before.get(chain) != (seq, digest)}
    merged = {**before, **now}
    data = {"chains": len(merged), "events": sum(seq for seq, _ in merged.values()), "changed": changed,
            "previous": previous_seq, "system": list(system)}
    return {"digest": digest_of(merged, data), **data}
