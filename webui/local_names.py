"""Names from the diagrams (tasks, timers, processes) and where a case stands, in the reader's
language: the bokmål name is what the case stored, the version's ``kap12.navn.<language>`` is
what the page shows (engine/read/element_names.py). Bokmål pages, and documents made in bokmål,
show the stored name unchanged."""
from __future__ import annotations

from flask import current_app

from engine.read.element_names import name_table
from processes.stages import CLOSED_STAGE, MORE_PREFIX, STAGE_SEPARATOR, WAITING_PREFIX

from .i18n import DEFAULT, current_language, ngettext, request_kept
from .i18n import gettext as _


def _table() -> dict[str, str]:
    kept = request_kept()
    if kept is None:
        return {}
    language = current_language()
    if language == DEFAULT:
        return {}
    cache = kept.setdefault("element_names", {})
    if language not in cache:  # once per request and language: the pages name many tasks
        cache[language] = name_table(current_app.extensions["kap12"].db, language)
    return cache[language]


def local_name(name: str | None) -> str:
    """A task, timer or process name as the reader's language has it, else as stored."""
    name = name or ""
    return _table().get(name.strip(), name) if name else name


def stage_text(stage: str | None) -> str:
    """Where a case stands («Undersøke saken; Varsle skoleeier», «Venter: Evalueringsdato»,
    «Avsluttet») in the reader's language."""
    stage = stage or ""
    if stage == CLOSED_STAGE:
        return _("Avsluttet")
    if stage.startswith(WAITING_PREFIX):
        return _("Venter: %(name)s", name=local_name(stage[len(WAITING_PREFIX):]))
    return STAGE_SEPARATOR.join(_stage_part(part) for part in stage.split(STAGE_SEPARATOR))


def _stage_part(part: str) -> str:
    """An open task's name, or (the last part, when they did not all fit) how many more."""
    count = part[len(MORE_PREFIX):]
    if part.startswith(MORE_PREFIX) and count.isdigit():
        return ngettext("og %(num)d oppgave til", "og %(num)d oppgaver til", int(count))
    return local_name(part)
