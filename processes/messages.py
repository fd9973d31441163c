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
from collections.abc import Callable, Iterable
from typing import Any

Translator = Callable[[str, dict[str, Any]], "str | None"]

_translator: Translator | None = None


class Message(str):
    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Message:
        # The stored text is bokmål all through: a value that is itself a Message gives its
        # bokmål text here, even when the Message is made while a nynorsk page is shown.
        text = template % {k: bokmal(v) if isinstance(v, str) else v for k, v in params.items()} \
            if params else template
        self = super().__new__(cls, text)
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


class Joined(Message):
    """Sentences or phrases joined by ``separator`` («kan ikke brukes: a; b»), each shown in
    the reader's language: a plain ``"; ".join`` would freeze the parts in bokmål."""
    parts: tuple[str, ...]
    separator: str

    def __new__(cls, parts: Iterable[str], separator: str = "; ") -> Joined:
        parts = tuple(parts)
        self = str.__new__(cls, separator.join(bokmal(p) for p in parts))
        self.template, self.params = "%(parts)s", {}
        self.parts, self.separator = parts, separator
        return self

    def __str__(self) -> str:
        return self.separator.join(str(p) for p in self.parts)

    def __reduce__(self) -> tuple:
        return (Joined, (self.parts, self.separator))


class Clause(Message):
    """A sentence or phrase made part of a longer one («…: koden gjør for mye arbeid», «på
    hendelsen «Frist»»): without its closing full stop and, with ``lower=True``, with a small
    first letter — in the reader's language as in bokmål."""
    sentence: str
    small_first: bool  # not "lower": that would hide str.lower

    def __new__(cls, sentence: str, lower: bool = False) -> Clause:
        self = str.__new__(cls, _clause(bokmal(sentence), lower))
        self.template, self.params, self.sentence, self.small_first = "%(sentence)s", {}, sentence, lower
        return self

    def __str__(self) -> str:
        return _clause(str(self.sentence), self.small_first)

    def __reduce__(self) -> tuple:
        return (Clause, (self.sentence, self.small_first))


def _clause(text: str, lower: bool) -> str:
    text = text.rstrip(".")
    return text[:1].lower() + text[1:] if lower else text


def reason(err: BaseException) -> str:
    """What an exception says, kept a Message when it was raised with one."""
    first = err.args[0] if len(err.args) == 1 else None
    return first if isinstance(first, Message) else str(err)


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
