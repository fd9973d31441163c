"""Checking the history: every chain, every event, every chain head and the latest checkpoint.

Verification reads the stored rows as raw values and never trusts them to decode: an event
whose time or data cannot be read, a chain with a gap, an event that was changed, a chain cut
short of the head on its case row, a case with no history at all, a chain that no longer holds
what the latest checkpoint recorded — each is a ``Finding`` that names the case by its case
number (saksnummer), the event by its number, and says what is wrong in plain Norwegian.
Nothing here raises on bad data."""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import cast

from sqlalchemy import Text, select, type_coerce

from engine.store import history
from engine.store.checkpoint_digest import CHECKPOINT_KIND, Heads, digest_of, fold, fold_into, system_head
from engine.store.models import Case, HistoryEvent


@dataclass(frozen=True)
class Finding:
    seq: int | None  # the event it concerns; None: the chain or case as a whole
    what: str


@dataclass
class ChainReport:
    chain: str
    label: str  # "sak 2026-00003", or "systemkjeden"
    case_id: int | None = None
    number: str | None = None
    events: int = 0
    last_seq: int = 0
    last_hash: str = history.GENESIS
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def broken_at(self) -> int | None:
        return self.findings[0].seq if self.findings else None

    @property
    def reason(self) -> str:
        return self.findings[0].what if self.findings else ""

    def lines(self) -> list[str]:
        """One line per finding, each naming the case and the event."""
        out = []
        for f in self.findings:
            where = f", hendelse nr. {f.seq}" if f.seq is not None else ""
            out.append(f"{self.label}{where}: {f.what}")
        return out

    def as_dict(self) -> dict:
        return {"chain": self.chain, "label": self.label, "case_id": self.case_id, "number": self.number,
                "ok": self.ok, "events": self.events, "last_hash": self.last_hash,
                "broken_at": self.broken_at, "reason": self.reason,
                "findings": [{"seq": f.seq, "what": f.what} for f in self.findings]}


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    at: datetime | None
    digest: str
    chains: int
    heads: Heads  # every chain head the checkpoint covers (folded from all checkpoints so far)
    covers_system: bool = False  # records the system chain's head too (checkpoints of this release on)

    def as_dict(self) -> dict:
        return {"seq": self.seq, "at": self.at.isoformat() if self.at else None, "digest": self.digest,
                "chains": self.chains}


@dataclass
class IntegrityReport:
    chains: list[ChainReport]
    checkpoint: Checkpoint | None = None

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.chains)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "checkpoint": self.checkpoint.as_dict() if self.checkpoint else None,
                "chains": [r.as_dict() for r in self.chains]}


# -- reading rows without trusting them ----------------------------------------------------------
@dataclass
class _Row:
    seq: object
    at: datetime | None
    data: object
    unreadable: list[str]
    fields: tuple  # actor_id, actor, kind, definition_id
    prev_hash: object
    hash: object
    key_id: object


def _as_datetime(raw) -> datetime:
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, str):
        value = datetime.fromisoformat(raw)
    else:
        raise ValueError(raw)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _as_data(raw):
    return json.loads(raw) if isinstance(raw, (str, bytes)) else raw


def _rows(session, chain: str) -> Iterable[_Row]:
    # Time and data come out undecoded (a garbled value must be a finding, not an exception).
    query = (select(HistoryEvent.seq, type_coerce(HistoryEvent.at, Text), HistoryEvent.actor_id,
                    HistoryEvent.actor, HistoryEvent.kind, HistoryEvent.definition_id,
                    type_coerce(HistoryEvent.data, Text), HistoryEvent.prev_hash, HistoryEvent.hash,
                    HistoryEvent.key_id)
             .where(HistoryEvent.chain == chain).order_by(HistoryEvent.seq))
    for seq, at_raw, actor_id, actor, kind, definition_id, data_raw, prev, digest, kid in session.execute(query):
        unreadable, at, data = [], None, None
        try:
            at = _as_datetime(at_raw)
        except (ValueError, TypeError, OverflowError):
            unreadable.append("tidspunktet")
        try:
            data = _as_data(data_raw)
        except (ValueError, TypeError):
            unreadable.append("dataene")
        yield _Row(seq, at, data, unreadable, (actor_id, actor, kind, definition_id), prev, digest, kid)


# -- one chain -----------------------------------------------------------------------------------
@dataclass
class _Context:
    keys: history.HistoryKeys
    checkpoints: list[Checkpoint]  # each chain must still hold what these recorded
    keyed_since: datetime | None  # the first checkpoint signed with a key kap12 holds


def _check_events(session, report: ChainReport, ctx: _Context, collect=None) -> None:
    """Every event in order: readable, numbered on, pointing at the one before, its hash right.
    After a finding the check goes on from the event as stored, so every damaged event is named,
    not only the first."""
    prev, expected, keyed_seen = history.GENESIS, 1, False
    recorded = {cp.seq: cp.heads[report.chain] for cp in ctx.checkpoints if report.chain in cp.heads}
    seen_at: dict[int, object] = {}  # seq → stored hash, for the seqs a checkpoint recorded
    wanted = {seq for seq, _ in recorded.values()}
    add = report.findings.append
    for row in _rows(session, report.chain):
        report.events += 1
        if not isinstance(row.seq, int):
            add(Finding(None, f"en hendelse har et ugyldig nummer ({row.seq!r})"))
            continue
        if row.seq != expected:
            missing = f"nr. {expected}" if row.seq == expected + 1 else f"nr. {expected}–{row.seq - 1}"
            add(Finding(row.seq, f"hendelse {missing} mangler (neste er nr. {row.seq})"))
        elif row.prev_hash != prev:
            add(Finding(row.seq, "peker ikke på hendelsen før den (en hendelse er satt inn, fjernet eller byttet)"))
        if row.seq in wanted:
            seen_at[row.seq] = row.hash
        if row.unreadable:
            add(Finding(row.seq, f"kan ikke leses: {' og '.join(row.unreadable)} er ødelagt"))
        else:
            _check_hash(report, ctx, row, keyed_seen)
            if collect is not None:
                collect(row)
        keyed_seen = keyed_seen or bool(row.key_id)
        prev, expected = row.hash, row.seq + 1
    report.last_hash, report.last_seq = prev, expected - 1
    for checkpoint_seq, (seq, digest) in sorted(recorded.items()):
        if seq not in seen_at:
            add(Finding(seq, f"var med i kontrollpunkt nr. {checkpoint_seq}, men finnes ikke lenger"))
        elif seen_at[seq] != digest:
            add(Finding(seq, f"er ikke den hendelsen kontrollpunkt nr. {checkpoint_seq} registrerte "
                             "(historikken er skrevet om etter kontrollpunktet)"))


def _check_hash(report: ChainReport, ctx: _Context, row: _Row, keyed_seen: bool) -> None:
    add = report.findings.append
    key = None
    if row.key_id:
        key = ctx.keys.known.get(row.key_id)
        if key is None:
            add(Finding(row.seq, f"er signert med en historikknøkkel kap12 ikke har nå (nøkkel-id {row.key_id}); "
                                 "sett KAP12_HISTORY_KEY eller KAP12_HISTORY_OLD_KEYS for å kontrollere den"))
            return
    elif ctx.keys.current is not None:
        if keyed_seen:
            add(Finding(row.seq, "er skrevet uten historikknøkkel etter hendelser med nøkkel"))
        elif ctx.keyed_since is not None and row.at is not None and row.at > ctx.keyed_since:
            add(Finding(row.seq, "er skrevet uten historikknøkkel etter at nøkkelen ble tatt i bruk"))
    actor_id, actor, kind, definition_id = row.fields
    try:
        digest = history.event_hash(row.prev_hash, report.chain, row.seq, row.at, actor_id, actor, kind,
                                    definition_id, row.data, key)
    except (ValueError, TypeError, UnicodeError, AttributeError):
        add(Finding(row.seq, "kan ikke leses: en verdi er ødelagt"))
        return
    if digest != row.hash:
        add(Finding(row.seq, "er endret etter at den ble skrevet (hashen stemmer ikke)"))


def _check_head(report: ChainReport, head_seq, head_hash) -> None:
    """The chain against the head on its case row: cut short, grown behind its back, or rewritten."""
    add = report.findings.append
    if not isinstance(head_seq, int) or not isinstance(head_hash, str):
        add(Finding(None, "sakens kjedehode er ødelagt"))
    elif report.events == 0:
        add(Finding(None, f"saken har ingen historikk (saken viser til {head_seq} hendelser)"))
    elif report.last_seq < head_seq:
        add(Finding(None, f"historikken slutter ved hendelse nr. {report.last_seq}, men saken viser til "
                          f"nr. {head_seq}: hendelser er fjernet fra slutten"))
    elif report.last_seq > head_seq:
        add(Finding(None, f"historikken har hendelser etter nr. {head_seq}, som saken viser til som siste"))
    elif report.last_hash != head_hash:
        add(Finding(head_seq, "er ikke den siste hendelsen saken viser til (hashen er ulik)"))


# -- everything ----------------------------------------------------------------------------------
@dataclass
class SystemCheck:
    """The system chain checked: its events, the system head each checkpoint records, and the
    digest of the latest and the kept checkpoint against the chain heads folded through them."""

    chain: ChainReport
    checkpoints: int  # how many were read
    latest: Checkpoint | None
    kept: Checkpoint | None  # the newest whose digest was kept outside the database (when given and found)
    keyed_since: datetime | None  # when a key kap12 holds first signed a checkpoint


def check_system(session, keys: history.HistoryKeys, kept_digest: str | None = None) -> SystemCheck:
    """The system chain alone (the auditors' Systemhistorikk; ``check`` does it first): never
    raises on bad data. Given a digest kept outside the database, that a checkpoint with it is
    still there: a chain cut short at its end, or rewritten since, is only seen that way.

    Every event, link and recorded system head is checked, and every checkpoint's heads folded;
    the digest is taken again for the latest checkpoint and the kept one only. A digest is over
    every chain's head, so taking each checkpoint's cost checkpoints x cases: 4 s for 2,000
    checkpoints at 2,000 cases, hours for two years of them at 100,000. The cases are checked
    against the latest and the kept checkpoint alone, so an earlier digest nobody kept vouches
    for nothing; a forger who changes one must still rewrite every checkpoint after it."""
    wanted = kept_digest.strip().lower() if kept_digest else None
    report = ChainReport(history.SYSTEM_CHAIN, "systemkjeden")
    found: list[_Row] = []

    def collect(row: _Row) -> None:
        if row.fields[2] == CHECKPOINT_KIND and isinstance(row.data, dict):
            found.append(row)

    _check_events(session, report, _Context(keys, [], None), collect)
    keyed_since = next((row.at for row in found if row.key_id and row.key_id in keys.known), None)
    latest, kept = _checkpoints(report, found, wanted)
    if wanted and kept is None:
        report.findings.append(Finding(None, f"det finnes ikke lenger noe kontrollpunkt med sammendraget "
                                             f"{kept_digest.strip() if kept_digest else ''}: systemkjeden er "
                                             "skrevet om"))
    return SystemCheck(report, len(found), latest, kept, keyed_since)


def _checkpoints(report: ChainReport, found: list[_Row], kept_digest: str | None
                 ) -> tuple[Checkpoint | None, Checkpoint | None]:
    """Every checkpoint's heads folded and the system chain's head it records checked against
    the event before it; the digest of the latest checkpoint and of the newest whose digest is
    ``kept_digest`` taken again (``check_system``). The latest and the kept one (None: none is).
    The heads are folded in place and copied for those two alone: a copy for each checkpoint
    was 3.8 MB at 100,000 cases."""
    kept = None
    last: tuple[int, datetime | None, dict, bool] | None = None
    heads: Heads = {}

    def check_digest(seq: int, data: dict) -> str:
        digest = str(data.get("digest", ""))
        if digest_of(heads, data) != digest:
            report.findings.append(Finding(seq, "kontrollpunktets sammendrag stemmer ikke med kjedehodene det lister"))
        return digest

    for row in found:
        seq, at, data = cast(int, row.seq), row.at, cast(dict, row.data)
        try:
            system = system_head(data)
            fold_into(heads, data)  # unchanged when it cannot be read
        except (ValueError, TypeError, KeyError, AttributeError):
            report.findings.append(Finding(seq, "kontrollpunktet kan ikke leses"))
            continue
        strangers = sorted(str(chain) for chain in data["changed"] if history.case_id_of(str(chain)) is None)
        if strangers:  # only cases' chains are ever recorded there: the system chain's head has its own place
            report.findings.append(Finding(seq, f"kontrollpunktet lister kjeder som ikke er saker ({', '.join(strangers)})"))
        if system is not None and system != (seq - 1, row.prev_hash):
            report.findings.append(Finding(seq, "kontrollpunktet viser til en annen hendelse i systemkjeden enn den "
                                                "før det (systemkjeden fram til kontrollpunktet er skrevet om)"))
        if kept_digest and str(data.get("digest", "")) == kept_digest:
            kept = Checkpoint(seq, at, check_digest(seq, data), len(heads), dict(heads), system is not None)
        last = (seq, at, data, system is not None)
    if last is None:
        return None, kept
    seq, at, data, covers_system = last
    if kept is not None and kept.seq == seq:
        return kept, kept
    return Checkpoint(seq, at, check_digest(seq, data), len(heads), dict(heads), covers_system), kept


def check(session, keys: history.HistoryKeys, case_ids: list[int] | None = None,
          kept_digest: str | None = None) -> IntegrityReport:
    """Check the given cases (or every case, every chain and the system chain) against their
    heads and the latest checkpoint — and, given a checkpoint digest kept outside the database,
    that this checkpoint is still there and every chain still holds what it recorded. Never
    raises on bad data: every problem is a finding."""
    system = check_system(session, keys, kept_digest)
    latest, kept = system.latest, system.kept
    hold = [latest] if latest else []
    if kept is not None and kept is not latest:
        hold.insert(0, kept)
    ctx = _Context(keys, hold, system.keyed_since)
    query = select(Case.id, Case.number, Case.chain_seq, Case.chain_hash).order_by(Case.id)
    if case_ids is not None:
        query = query.where(Case.id.in_(case_ids))
    cases = {cid: (number, seq, digest) for cid, number, seq, digest in session.execute(query)}
    wanted = list(case_ids) if case_ids is not None else list(cases)
    if case_ids is None:
        # Chains whose case row is gone, and cases a checkpoint knew that are gone entirely.
        known = set(history.all_chains(session)) | {c for cp in hold for c in cp.heads}
        wanted += sorted({cid for cid in map(history.case_id_of, known) if cid is not None and cid not in cases})
    reports = [_check_case(session, ctx, cid, cases.get(cid)) for cid in wanted]
    if case_ids is None or kept_digest:
        reports.insert(0, system.chain)
    return IntegrityReport(reports, latest)


def _check_case(session, ctx: _Context, case_id: int, row) -> ChainReport:
    chain = history.case_chain(case_id)
    if row is None:
        report = ChainReport(chain, f"sak med id {case_id}", case_id)
    else:
        report = ChainReport(chain, f"sak {row[0]}", case_id, row[0])
    try:
        _check_events(session, report, ctx)
        if row is None and report.events:
            report.findings.append(Finding(None, "historikken finnes, men saken er slettet"))
        elif row is None and any(chain in cp.heads for cp in ctx.checkpoints):
            report.findings.append(Finding(None, "saken og hele historikken er slettet"))
        elif row is None:
            report.findings.append(Finding(None, "saken finnes ikke"))
        else:
            _check_head(report, row[1], row[2])
    except Exception as err:  # noqa: BLE001 - verification reports, it never crashes
        report.findings.append(Finding(None, f"kunne ikke kontrolleres ({type(err).__name__})"))
    return report


def check_case(session, keys: history.HistoryKeys, case_id: int) -> ChainReport:
    """One case's chain, its head and the latest checkpoint's record of it (the auditor's case
    page, its export, re-execution): as ``check`` of that case, which also verified the whole
    system chain and folded every checkpoint ever written into a copy of every chain's head, for
    a report of the system chain that was then dropped. At 100,000 cases that was 0.3 s and
    3.8 MB a checkpoint: a minute for an audit page after ten days of hourly checkpoints, and
    out of memory within the year. The system chain is verified by ``check`` of everything
    (``kap12 verify``)."""
    chain = history.case_chain(case_id)
    latest = _latest_record_of(session, chain)
    ctx = _Context(keys, [latest] if latest else [], _keyed_since(session, keys))
    row = session.execute(select(Case.number, Case.chain_seq, Case.chain_hash).where(Case.id == case_id)).first()
    return _check_case(session, ctx, case_id, tuple(row) if row is not None else None)


_CHECKPOINTS = (select(HistoryEvent.seq).where(HistoryEvent.chain == history.SYSTEM_CHAIN,
                                               HistoryEvent.kind == CHECKPOINT_KIND)
                .order_by(HistoryEvent.seq.desc()))


def _latest_record_of(session, chain: str, batch: int = 20) -> Checkpoint | None:
    """The latest checkpoint, holding only ``chain``'s head as it records it (the newest that
    changed it: the heads at a checkpoint are every checkpoint so far folded together), read
    newest first until found: a chain in use changed at one of the latest few. A checkpoint
    whose data cannot be read is passed over here; ``check`` of everything names it."""
    seqs = list(session.scalars(_CHECKPOINTS))
    for start in range(0, len(seqs), batch):
        rows = session.execute(select(type_coerce(HistoryEvent.data, Text))
                               .where(HistoryEvent.chain == history.SYSTEM_CHAIN,
                                      HistoryEvent.seq.in_(seqs[start:start + batch]))
                               .order_by(HistoryEvent.seq.desc())).scalars()
        for raw in rows:
            try:
                changed = _as_data(raw)["changed"]
                head = fold({}, {"changed": {chain: changed[chain]}}) if chain in changed else None
            except (ValueError, TypeError, KeyError, AttributeError):
                continue
            if head is not None:  # only this chain's head, and neither digest nor time: not needed here
                return Checkpoint(seqs[0], None, "", 0, head)
    return None


def _keyed_since(session, keys: history.HistoryKeys) -> datetime | None:
    """When a key kap12 holds first signed a checkpoint (``check_system``)."""
    if not keys.known:
        return None
    raw = session.scalar(select(type_coerce(HistoryEvent.at, Text))
                         .where(HistoryEvent.chain == history.SYSTEM_CHAIN, HistoryEvent.kind == CHECKPOINT_KIND,
                                HistoryEvent.key_id.in_(sorted(keys.known)))
                         .order_by(HistoryEvent.seq).limit(1))
    try:
        return _as_datetime(raw) if raw is not None else None
    except (ValueError, TypeError, OverflowError):  # garbled: ``check`` of everything names it
        return None
