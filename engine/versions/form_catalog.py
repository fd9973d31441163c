"""Form declarations as immutable, content-addressed versions in the database.

The JSON files in processes/forms/ are the bundled default: ``import_bundled`` stores each as a
version when its content is new. A process owner publishes further versions from the web pages.
A completed step records the version it was filled in with (``form_version``), so a later change
of labels, choices or required fields never changes what that step recorded or how it reads."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import DeployRefused
from engine.store.db import Database
from engine.store.models import FormVersion, User
from processes import form_minimum, forms


@dataclass(frozen=True)
class FormVersionInfo:
    key: str
    version: int
    form: forms.Form
    declaration: dict
    content_hash: str
    published_by: str
    published_at: datetime
    comment: str


@dataclass(frozen=True)
class PublishResult:
    key: str
    version: int
    created: bool  # False: this exact content was already a version


def canonical(declaration: dict) -> str:
    return json.dumps(declaration, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_hash(declaration: dict) -> str:
    return hashlib.sha256(canonical(declaration).encode("utf-8")).hexdigest()


def parse(declaration: Mapping[str, Any]) -> forms.Form:
    """The declaration as a Form, or DeployRefused with every problem in plain Norwegian."""
    try:
        return forms.parse_form(declaration)
    except forms.FormDeclarationError as err:
        raise DeployRefused(err.problems) from err


def publishable(declaration: Mapping[str, Any]) -> forms.Form:
    """``parse``, and refuse a version that drops or weakens what the law needs of a bundled
    form (processes/form_minimum.py). Stored versions are read with ``parse`` alone."""
    form = parse(declaration)
    dropped = form_minimum.problems(form)
    if dropped:
        raise DeployRefused(dropped)
    return form


def _next_version(session: Session, key: str) -> int:
    return (session.scalar(select(func.max(FormVersion.version)).where(FormVersion.key == key)) or 0) + 1


def store(session: Session, key: str, declaration: dict, *, actor_id: int | None, now: datetime,
          comment: str) -> PublishResult:
    digest = content_hash(declaration)
    existing = session.scalars(select(FormVersion).where(
        FormVersion.key == key, FormVersion.content_hash == digest)).first()
    if existing is not None:
        return PublishResult(key, existing.version, False)
    number = _next_version(session, key)
    session.add(FormVersion(key=key, version=number, content_hash=digest, declaration=declaration,
                            published_by_id=actor_id, published_at=now, comment=comment))
    session.flush()
    return PublishResult(key, number, True)


def import_bundled(session: Session, folder: Path | str | None, now: datetime) -> list[PublishResult]:
    """Store each bundled declaration as a new version of its key when its content is new
    (the system publishes it); unchanged files change nothing."""
    folder = Path(folder) if folder is not None else forms.FORMS_FOLDER
    forms.load_forms(folder)  # checks every file, and that keys agree with file names
    results = []
    for path in sorted(folder.glob("*.json")):
        declaration = json.loads(path.read_text(encoding="utf-8"))
        results.append(store(session, declaration["key"], declaration, actor_id=None, now=now,
                              comment="Skjemaet som følger med kap12"))
    return results


# Asked at every look at the catalog (each form a step validates): built once, as building it
# cost more than running it.
_NEWEST = select(func.max(FormVersion.id))


class FormCatalog:
    """The published forms, read through a cache that is refreshed only when a version was
    added (one cheap ``max(id)`` query per look-up)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # (max id seen, {key: {version: info}}, {key: latest Form}), replaced as a whole.
        self._state: tuple[int | None, dict, dict] = (-1, {}, {})

    # -- reading --------------------------------------------------------------------------
    def _refresh(self, session: Session | None = None) -> tuple[dict[str, dict[int, FormVersionInfo]], dict[str, forms.Form]]:
        if session is None:
            with self.db.reading() as s:
                return self._refresh(s)
        marker = session.scalar(_NEWEST)
        state = self._state
        if marker == state[0]:
            return state[1], state[2]
        rows = session.execute(select(FormVersion, User.display_name)
                               .outerjoin(User, User.id == FormVersion.published_by_id)
                               .order_by(FormVersion.key, FormVersion.version)).all()
        by_key: dict[str, dict[int, FormVersionInfo]] = {}
        for row, who in rows:
            info = FormVersionInfo(row.key, row.version, forms.parse_form(row.declaration), row.declaration,
                                   row.content_hash, who or "kap12", row.published_at, row.comment)
            by_key.setdefault(row.key, {})[row.version] = info
        latest = {key: versions[max(versions)].form for key, versions in by_key.items()}
        if not by_key:  # not imported yet (a database set up without init): the bundled files
            latest = dict(forms.load_forms())
        self._state = (marker, by_key, latest)
        return by_key, latest

    def all(self, session: Session | None = None) -> dict[str, forms.Form]:
        """The latest version of every form, by key."""
        return self._refresh(session)[1]

    def get(self, key: str, session: Session | None = None) -> forms.Form:
        try:
            return self.all(session)[key]
        except KeyError:
            raise KeyError(f"Ukjent skjema: {key!r}.") from None

    def exists(self, key: str, session: Session | None = None) -> bool:
        return key in self.all(session)

    def latest_version(self, key: str, session: Session | None = None) -> int | None:
        """The number of the latest version of ``key``, or None for a bundled form not yet stored."""
        versions = self._refresh(session)[0].get(key)
        return max(versions) if versions else None

    def latest_with_number(self, key: str, session: Session | None = None) -> tuple[int | None, forms.Form]:
        """The latest version of ``key`` and its number (None: a bundled form not yet stored),
        from one look at the catalog."""
        by_key, latest = self._refresh(session)
        versions = by_key.get(key)
        if versions:
            return max(versions), versions[max(versions)].form
        try:
            return None, latest[key]
        except KeyError:
            raise KeyError(f"Ukjent skjema: {key!r}.") from None

    def get_version(self, key: str, number: int | None, session: Session | None = None) -> forms.Form:
        """Version ``number`` of the form; the latest when ``number`` is None."""
        if number is None:
            return self.get(key, session)
        by_key = self._refresh(session)[0]
        try:
            return by_key[key][int(number)].form
        except (KeyError, ValueError, TypeError):
            raise KeyError(f"Ukjent skjema: {key!r} versjon {number!r}.") from None

    def versions(self, key: str, session: Session | None = None) -> list[FormVersionInfo]:
        """Every version of ``key``, newest first."""
        found = self._refresh(session)[0].get(key, {})
        return [found[n] for n in sorted(found, reverse=True)]

    def current(self, key: str, session: Session | None = None) -> FormVersionInfo | None:
        found = self.versions(key, session)
        return found[0] if found else None
