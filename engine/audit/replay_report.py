"""What a re-execution found: divergences, the frames the replay page draws, the events."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.audit import integrity


@dataclass(frozen=True)
class Divergence:
    """Where re-execution and the record disagree, in words, with both sides."""

    seq: int | None  # the event at which it shows; None: in the stored state after the last event
    what: str
    recorded: Any = None
    replayed: Any = None

    def as_dict(self) -> dict:
        return {"seq": self.seq, "what": self.what, "recorded": self.recorded, "replayed": self.replayed}


@dataclass
class Frame:
    """The case after one step of re-execution."""

    completed: dict[str, list[str]] = field(default_factory=dict)  # process id -> element ids done so far
    active: dict[str, list[str]] = field(default_factory=dict)  # process id -> element ids open now
    flows: dict[str, list[str]] = field(default_factory=dict)  # process id -> sequence flows taken so far
    data: dict = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)  # keys of ``data`` new or different since the frame before
    removed: list[str] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)
    timers: list[dict] = field(default_factory=list)
    completed_case: bool = False

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class EventView:
    seq: int
    at: datetime
    kind: str
    actor: str
    actor_id: int | None
    data: dict
    frame: int  # index into ReplayReport.frames: the case as it stood after this event
    replayed: bool  # False: after a divergence, re-execution stopped before this event


@dataclass
class ReplayReport:
    case_id: int
    number: str
    definition_id: int
    definition: str
    chain: integrity.ChainReport
    divergences: list[Divergence] = field(default_factory=list)
    steps: int = 0
    events: list[EventView] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    error: str = ""  # re-execution could not run at all (e.g. an unknown event kind)

    @property
    def verified(self) -> bool:
        return not self.divergences and not self.error

    @property
    def ok(self) -> bool:
        """Both checks: the hash chain holds and re-execution reproduces the stored case."""
        return self.verified and self.chain.ok

    def summary(self) -> str:
        if self.verified:
            return f"Verifisert: {self.steps} steg gjenskapt, samme tilstand som lagret."
        if self.error:
            return f"Kunne ikke gjenskapes: {self.error}"
        first = self.divergences[0]
        where = f"ved hendelse nr. {first.seq}" if first.seq is not None else "i den lagrede tilstanden"
        return f"Avvik {where}: {first.what}"

    def as_dict(self, *, frames: bool = False) -> dict:
        out = {"case_id": self.case_id, "number": self.number, "definition_id": self.definition_id,
               "definition": self.definition, "verified": self.verified, "steps": self.steps,
               "summary": self.summary(), "error": self.error,
               "divergences": [d.as_dict() for d in self.divergences],
               "chain": {"ok": self.chain.ok, "events": self.chain.events, "final_hash": self.chain.last_hash,
                         "broken_at": self.chain.broken_at, "reason": self.chain.reason}}
        if frames:
            out["frames"] = [f.as_dict() for f in self.frames]
        return out
