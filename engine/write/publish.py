"""Publishing versions: diagrams (deploy) and form declarations, each stored once by content
and recorded on the system chain, in one transaction. Who may publish is the access policy's
``may_deploy``; what is valid is the versions room's."""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.orm import Session

from engine import access
from engine.errors import Denied, InvalidInput
from engine.store import history
from engine.store.events import DEPLOYED, FORM_PUBLISHED, VERSION_WITHDRAWN
from engine.store.models import DefinitionVersion
from engine.versions import definitions, form_catalog
from engine.write import law_walk
from engine.write.unit_of_work import Actor
from processes.messages import Message

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

R = TypeVar("R")


def _publish(kap12: Kap12, actor: Actor, kind: str, store: Callable[[Session, datetime], Sequence[R]],
             event: Callable[[R], dict | None], viewer: access.Viewer | None = None,
             withdrawing: bool = False) -> list[R]:
    """Store versions and record each new one (``event`` gives its data, None when the content
    was already a version) on the system chain, in one transaction; by ``viewer`` only if they
    publish (or, ``withdrawing``, withdraw) for every county (``access.publishes_versions``,
    ``access.withdraws_versions``: the rules the modeler's pages ask too)."""
    now = kap12.clock.now()
    with kap12.db.writing() as session:
        if viewer is not None and withdrawing and not access.withdraws_versions(session, viewer):
            raise Denied(Message("Prosessene og skjemaene gjelder alle fylkene i installasjonen. Bare den som er "
                                 "administrator i alle fylkene, kan trekke tilbake en versjon."))
        if viewer is not None and not withdrawing and not access.publishes_versions(session, viewer):
            raise Denied(Message("Prosessene og skjemaene gjelder alle fylkene i installasjonen. Bare den som er "
                                 "prosesseier eller administrator i alle fylkene, kan endre dem."))
        results = list(store(session, now))
        for result in results:
            data = event(result)
            if data is not None:
                history.append(session, history.SYSTEM_CHAIN, kind=kind, at=now, actor_id=actor.id,
                               actor=actor.name, data=data)
    return results


def deploy(kap12: Kap12, files: list[tuple[str, bytes]], viewer: access.Viewer | None,
           comment: str) -> list[definitions.DeployResult]:
    """Validate and deploy diagrams (``viewer`` None: kap12 itself, e.g. ``kap12 init``)."""
    if viewer is not None and not access.may_deploy(viewer):
        raise Denied(Message("Bare prosesseiere og administratorer kan publisere diagrammer."))
    actor = Actor(viewer.id, viewer.name) if viewer else Actor.system("kap12")

    def store(session: Session, now: datetime) -> list[definitions.DeployResult]:
        return definitions.deploy(session, files, actor_id=actor.id, comment=comment, now=now,
                                  forms=kap12.forms.all(session), law=law_walk.problems)

    return _publish(kap12, actor, DEPLOYED, store, lambda r: {
        "process_id": r.process_id, "version": r.version, "content_hash": r.content_hash,
        "comment": comment} if r.created else None, viewer)


def publish_form(kap12: Kap12, viewer: access.Viewer, declaration: dict, comment: str) -> form_catalog.PublishResult:
    """Validate and store a new version of a form; the same content again changes nothing."""
    if not access.may_deploy(viewer):
        raise Denied(Message("Bare prosesseiere og administratorer kan endre skjemaer."))
    comment = (comment or "").strip()
    if not comment:
        raise InvalidInput(Message("Skriv en kommentar om hva som er endret."),
                           {"comment": ["Skriv en kommentar om hva som er endret."]})
    form = form_catalog.publishable(declaration)
    declaration = json.loads(form_catalog.canonical(declaration))

    def store(session: Session, now: datetime) -> list[form_catalog.PublishResult]:
        return [form_catalog.store(session, form.key, declaration, actor_id=viewer.id, now=now, comment=comment)]

    [result] = _publish(kap12, Actor(viewer.id, viewer.name), FORM_PUBLISHED, store, lambda r: {
        "key": form.key, "version": r.version, "content_hash": form_catalog.content_hash(declaration),
        "comment": comment} if r.created else None, viewer)
    return result


def import_bundled_forms(kap12: Kap12, folder: Path) -> list[form_catalog.PublishResult]:
    """Store the bundled form declarations whose content is new (idempotent); kap12's own
    files are not recorded as someone's publishing."""
    return _publish(kap12, Actor.system("kap12"), FORM_PUBLISHED,
                    lambda session, now: form_catalog.import_bundled(session, folder, now), lambda r: None)


def withdraw_version(kap12: Kap12, viewer: access.Viewer, process_id: str, number: int, reason: str) -> None:
    """Withdraw a deployed version that no case uses, as a logged act in the system history."""
    if not access.may_withdraw_version(viewer):
        raise Denied(Message("Bare administratorer kan trekke tilbake en versjon."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(Message("Skriv en begrunnelse for hvorfor versjonen trekkes tilbake."))

    def store(session: Session, now: datetime) -> list[DefinitionVersion]:
        return [definitions.withdraw(session, process_id, number)]

    _publish(kap12, Actor(viewer.id, viewer.name), VERSION_WITHDRAWN, store, lambda row: {
        "process_id": process_id, "version": number, "content_hash": row.content_hash, "reason": reason},
        viewer, withdrawing=True)
