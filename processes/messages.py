"""Sentences for users from below the web layer (the engine's errors, the forms' validation), in
bokmål, translatable where they are shown.

A ``Message`` is the bokmål sentence itself (a ``str``: compared, logged, written to JSON and to
the history as bokmål), remembering its template and values. ``str(message)`` gives it in the
reader's language when the web layer has installed a translator (``use_translator``): its
catalogue (webui/translations) has the templates as message ids, gathered with
``pybabel extract -k Message``. Without a translator, or for a template the catalogue lacks, it
stays bokmål.

Templates name their values as ``%(name)s``, like the web layer's own messages. A Message is
final text: ``format`` returns it unchanged, so marshmallow, which formats every error message
it is given, keeps it a Message.
"""
from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

Translator = Callable[[str, dict[str, Any]], "str | None"]

_translator: Translator | None = None


class Message(str):
    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Message:
        self = super().__new__(cls, template % params if params else template)
        self.template, self.params = template, params
        return self

    def __str__(self) -> str:
        if _translator is not None:
            translated = _translator(self.template, self.params)
            if translated is not None:
                return translated
        return str.__str__(self)

    def __html__(self) -> str:  # how Jinja shows it: translated, then escaped
        return html.escape(str(self), quote=True)

    def format(self, *args: Any, **kwargs: Any) -> Message:
        return self

    def __reduce__(self) -> tuple:
        return (_rebuild, (self.template, self.params))


def _rebuild(template: str, params: dict[str, Any]) -> Message:
    return Message(template, **params)


def use_translator(translator: Translator | None) -> Translator | None:
    """Install the function that gives a template (with its values) in the reader's language
    (None: keep the bokmål text); the web layer installs one at start-up. Returns the one it
    replaces."""
    global _translator
    previous, _translator = _translator, translator
    return previous



def bokmal(text: object) -> str:
    """The bokmål text of a Message (what is stored and logged), whatever the reader's language."""
    return str.__str__(text) if isinstance(text, str) else str(text)
