"""Form declarations for user tasks, and the marshmallow schemas that validate them.

A declaration is data (a JSON file in processes/forms/, later also a database row edited by a
process owner), so a new user task needs no Python. `parse_form` checks the declaration itself;
`schema_for` turns it into a schema that checks what a user submits.

Security: submitted form data are values only. They are stored in the workflow as plain JSON
data and never reach an expression evaluator as code.

Longer than ~400 lines on purpose: the field types, their declaration checks and their
validators are one vocabulary that must change together (a new type is a line in each part).
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from marshmallow import RAISE, Schema, ValidationError, fields
from marshmallow import validate as ma_validate

from processes.deadlines import OSLO
from processes.messages import Joined, Message

FORMS_FOLDER = Path(__file__).with_name("forms")

# "user": a colleague picked from a list (stored as the user name); the page offers the people
# who may be chosen, and the engine checks the choice where it matters (a measure's owner).
TYPES = frozenset(
    {"text", "textarea", "date", "datetime", "choice", "multichoice", "boolean", "integer", "group", "user"}
)
DEFAULT_MAX_LENGTH = {"text": 500, "textarea": 20_000}
USER_MAX_LENGTH = 150

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_KEY = re.compile(r"^[a-z][a-z0-9_-]*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_INTEGER = re.compile(r"^[+-]?\d{1,15}$")
_FIELD_KEYS = frozenset(
    {"name", "label", "type", "required", "required_when", "refused_when", "help", "choices", "fields", "min_items",
     "max_length", "min_date", "max_date", "warn_after_days", "value_from"}
)
# The one relative date a declaration can name for min_date and max_date: the day the form is
# sent, by the engine's clock (so an evaluation date before it is refused, a date of something
# that happened after it is refused).
TODAY = "today"
# The one bound a time field (datetime) can name: the moment the form is sent, so a time when
# something was done (the school owner was told) cannot lie after it was recorded.
NOW = "now"
# The one source a field's value can be taken from instead of what is posted: the person who
# sends the form, as the server knows them from the log-in ("Mottatt av"). Never trusted from input.
FROM_USER = "user"
_FORM_KEYS = frozenset({"key", "title", "intro", "fields", "translations"})
# Languages a declaration may carry its own texts in, beside bokmål (the declaration itself).
TRANSLATION_LANGUAGES = ("nn", "en")

# Forms whose later steps revise what an earlier step of the same form recorded (a revised
# action plan): such a step opens with the earlier answers, so a revision changes what changed.
REVISED_FROM_EARLIER = frozenset({"tiltaksplan"})
# The forms that receive a report, one per procedure: the leadership's (in C the school owner's)
# assessment of it, on record before anything else.
RECEIPT_FORMS = ("motta_melding", "motta_melding_b", "motta_melding_c")

REQUIRED = Message("Feltet må fylles ut.")
UNKNOWN = Message("Ukjent felt.")


# --- Declarations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: str
    required: bool = False
    help: str = ""
    choices: tuple[Choice, ...] = ()
    fields: tuple[Field, ...] = ()
    min_items: int = 0
    max_length: int | None = None
    # Required only when another field of the form has one of these values, e.g. a new
    # evaluation date only when the plan is to continue: ((field, (value, …)), …).
    required_when: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Choices refused when another field has one of some values, e.g. «the pupil's environment is
    # safe» when the pupil says it is not (§ 12-4: then the school puts in measures):
    # ((choice, ((field, (value, …)), …)), …).
    refused_when: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = ()
    # Date fields: "today" refuses dates before (min) or after (max) the day the form is sent;
    # warn_after_days warns (without refusing) about a date further ahead than that.
    min_date: str | None = None
    max_date: str | None = None
    warn_after_days: int | None = None
    # "user": the value is the name of the logged-in person who sends the form, set by the
    # engine; whatever is posted for it is replaced.
    value_from: str | None = None


@dataclass(frozen=True)
class Form:
    key: str
    title: str
    fields: tuple[Field, ...]
    intro: str = ""
    # The form's texts in other languages, as (language, path, text): paths are "title",
    # "intro", "<field>.label", "<field>.help", "<field>.choices.<value>" and, inside a group,
    # "<group>.<field>.label" and so on. Part of the declaration, so of each form version.
    translations: tuple[tuple[str, str, str], ...] = ()


class FormDeclarationError(ValueError):
    """A declaration is malformed; `problems` holds one sentence per problem."""

    def __init__(self, problems: list[str]):
        super().__init__(Joined(problems, separator=" "))
        self.problems = problems


class FormValidationError(ValueError):
    """Submitted data do not fit the form; `errors` maps field names to messages."""

    def __init__(self, errors: dict[str, Any]):
        super().__init__(Message("Skjemaet inneholder feil."))
        self.errors = errors


def _is_text(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _field_named(name: str) -> Message:
    return Message("Feltet «%(name)s»", name=name)


def _field_at(number: int, group: str | None, name: str | None = None) -> Message:
    """Where a field's problems are: by its number until its name is known to be valid, and
    inside a group by the group's name and its number there."""
    if group is None:
        return Message("Felt nr. %(number)s", number=number) if name is None else _field_named(name)
    if name is None:
        return Message("Feltet «%(group)s», felt nr. %(number)s", group=group, number=number)
    return Message("Feltet «%(group)s», felt nr. %(number)s (%(name)s)", group=group, number=number, name=name)


def _unknown_type(where: Message, type_: object) -> Message:
    return Message("%(where)s har ukjent type %(type)s.", where=where, type=repr(type_))


def _parse_field(dct: object, number: int, problems: list[str], group: str | None) -> Field | None:
    nested = group is not None
    where = _field_at(number, group)
    if not isinstance(dct, Mapping):
        problems.append(Message("%(where)s må være et objekt.", where=where))
        return None
    name = dct.get("name")
    if not isinstance(name, str) or not _NAME.match(name) or keyword.iskeyword(name):
        problems.append(Message(
            "%(where)s har ugyldig navn %(name)s: bruk små bokstaver a-z, sifre og _, "
            "start med en bokstav, og ikke et reservert ord i Python.", where=where, name=repr(name)
        ))
        name = str(name)
    else:
        where = _field_at(number, group, name)
    for extra in sorted(set(dct) - _FIELD_KEYS):
        problems.append(Message("%(where)s har ukjent egenskap «%(extra)s».", where=where, extra=extra))
    label, type_ = dct.get("label"), dct.get("type")
    if not _is_text(label):
        problems.append(Message("%(where)s mangler ledetekst (label).", where=where))
    if type_ not in TYPES:
        problems.append(_unknown_type(where, type_))
    if nested and type_ == "group":
        problems.append(Message("%(where)s er en gruppe inne i en gruppe, det støttes ikke.", where=where))
    required = dct.get("required", False)
    if not isinstance(required, bool):
        problems.append(Message("%(where)s: required må være true eller false.", where=where))
    help_ = dct.get("help", "")
    if not isinstance(help_, str):
        problems.append(Message("%(where)s: help må være tekst.", where=where))

    choices: list[Choice] = []
    raw_choices = dct.get("choices")
    if type_ in ("choice", "multichoice"):
        if not isinstance(raw_choices, list) or not raw_choices:
            problems.append(Message("%(where)s er et valgfelt uten alternativer (choices).", where=where))
        else:
            for i, c in enumerate(raw_choices, 1):
                if not (isinstance(c, Mapping) and _is_text(c.get("value"))
                        and _is_text(c.get("label"))):
                    problems.append(Message("%(where)s: alternativ nr. %(number)s må ha value og label.",
                                            where=where, number=i))
                elif c["value"] in {x.value for x in choices}:
                    problems.append(Message("%(where)s: alternativet «%(value)s» står to ganger.",
                                            where=where, value=c["value"]))
                else:
                    choices.append(Choice(c["value"], c["label"]))
    elif raw_choices is not None:
        problems.append(Message("%(where)s: bare valgfelt kan ha alternativer (choices).", where=where))

    sub: tuple[Field, ...] = ()
    if type_ == "group" and not nested:
        raw_sub = dct.get("fields")
        if not isinstance(raw_sub, list) or not raw_sub:
            problems.append(Message("%(where)s er en gruppe uten felt (fields).", where=where))
        else:
            sub = _parse_fields(raw_sub, problems, group=name)
    elif dct.get("fields") is not None and type_ != "group":
        problems.append(Message("%(where)s: bare grupper kan ha felt (fields).", where=where))

    min_items = dct.get("min_items", 0)
    if type_ == "group":
        if not _is_count(min_items):
            problems.append(Message("%(where)s: min_items må være et heltall som ikke er negativt.", where=where))
    elif "min_items" in dct:
        problems.append(Message("%(where)s: bare grupper kan ha min_items.", where=where))

    max_length = dct.get("max_length")
    if type_ in DEFAULT_MAX_LENGTH:
        if max_length is not None and not (_is_count(max_length) and max_length > 0):
            problems.append(Message("%(where)s: max_length må være et positivt heltall.", where=where))
    elif max_length is not None:
        problems.append(Message("%(where)s: bare tekstfelt kan ha max_length.", where=where))

    required_when: tuple[tuple[str, tuple[str, ...]], ...] = ()
    raw_when = dct.get("required_when")
    if raw_when is not None:
        if nested or not isinstance(raw_when, Mapping) or not raw_when:
            problems.append(Message("%(where)s: required_when må være et objekt {felt: verdi eller [verdier]} "
                                    "på et felt utenfor grupper.", where=where))
        else:
            required_when, bad = _answers(raw_when)
            for other in bad:
                problems.append(Message("%(where)s: required_when for «%(other)s» må være en verdi eller en liste.",
                                        where=where, other=other))

    refused_when = _parse_refused_when(dct.get("refused_when"), nested, choices, where, problems)

    for bound in ("min_date", "max_date"):
        if bound in dct and not ((type_ == "date" and dct[bound] == TODAY)
                                 or (bound == "max_date" and type_ == "datetime" and dct[bound] == NOW)):
            problems.append(Message("%(where)s: %(bound)s kan bare være «%(today)s» på datofelt, "
                                    "eller max_date «%(now)s» på tidspunktfelt.",
                                    where=where, bound=bound, today=TODAY, now=NOW))
    value_from = dct.get("value_from")
    if value_from is not None and (value_from != FROM_USER or type_ != "text" or nested):
        problems.append(Message("%(where)s: value_from kan bare være «%(user)s», og bare på tekstfelt utenfor grupper.",
                                where=where, user=FROM_USER))
    warn_after = dct.get("warn_after_days")
    if warn_after is not None and (type_ != "date" or not (_is_count(warn_after) and warn_after > 0)):
        problems.append(Message("%(where)s: warn_after_days må være et positivt heltall, og bare på datofelt.",
                                where=where))

    return Field(
        name=name,
        label=label if isinstance(label, str) else "",
        type=type_ if isinstance(type_, str) else "",
        required=required is True,
        help=help_ if isinstance(help_, str) else "",
        choices=tuple(choices),
        fields=sub,
        min_items=min_items if _is_count(min_items) else 0,
        max_length=max_length if isinstance(max_length, int) else None,
        required_when=required_when,
        refused_when=refused_when,
        min_date=dct.get("min_date") if dct.get("min_date") == TODAY else None,
        max_date=dct.get("max_date") if dct.get("max_date") in (TODAY, NOW) else None,
        value_from=FROM_USER if value_from == FROM_USER else None,
        warn_after_days=warn_after if _is_count(warn_after) and warn_after else None,
    )


def _parse_refused_when(raw: object, nested: bool, choices: list, where: str, problems: list[str]
                        ) -> tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...]:
    """``{choice: {field: value or [values]}}`` on a choice field outside groups."""
    if raw is None:
        return ()
    values = {c.value for c in choices}
    if nested or not isinstance(raw, Mapping) or not raw:
        problems.append(Message("%(where)s: refused_when må være et objekt {alternativ: {felt: verdi eller [verdier]}} "
                                "på et valgfelt utenfor grupper.", where=where))
        return ()
    out = []
    for choice, when in raw.items():
        if choice not in values:
            problems.append(Message("%(where)s: refused_when nevner «%(choice)s», som ikke er et alternativ i feltet.",
                                    where=where, choice=choice))
            continue
        pairs, bad = _answers(when) if isinstance(when, Mapping) and when else ((), [choice])
        if bad:
            problems.append(Message("%(where)s: refused_when for «%(choice)s» må være et objekt {felt: verdi eller "
                                    "[verdier]}.", where=where, choice=choice))
        out.append((str(choice), pairs))
    return tuple(out)


def _answers(raw: Mapping) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], list[str]]:
    """``{field: value or [values]}`` (of ``required_when`` and ``refused_when``) as ((field,
    (value, …)), …), and the fields whose values are neither."""
    pairs, bad = [], []
    for other, values in raw.items():
        values = [values] if isinstance(values, str) else values
        if isinstance(values, list) and values and all(_is_text(v) for v in values):
            pairs.append((str(other), tuple(values)))
        else:
            bad.append(str(other))
    return tuple(pairs), bad


def _parse_fields(raw: list, problems: list[str], group: str | None = None) -> tuple[Field, ...]:
    parsed: list[Field] = []
    seen: set[str] = set()
    for i, raw_field in enumerate(raw, 1):
        f = _parse_field(raw_field, i, problems, group)
        if f is None:
            continue
        if f.name in seen:
            problems.append(
                Message("Feltnavnet «%(name)s» står to ganger i gruppen «%(group)s».", name=f.name, group=group)
                if group else Message("Feltnavnet «%(name)s» står to ganger.", name=f.name))
        seen.add(f.name)
        parsed.append(f)
    return tuple(parsed)


def parse_form(dct: Mapping[str, Any]) -> Form:
    """Check a declaration and build a Form, or raise FormDeclarationError listing every problem."""
    if not isinstance(dct, Mapping):
        raise FormDeclarationError([Message("Skjemaet må være et JSON-objekt.")])
    problems: list[str] = []
    key, title, intro = dct.get("key"), dct.get("title"), dct.get("intro", "")
    if not isinstance(key, str) or not _KEY.match(key):
        problems.append(
            Message("Skjemaet har ugyldig nøkkel %(key)s: bruk små bokstaver a-z, sifre, _ og -.", key=repr(key))
        )
    if not _is_text(title):
        problems.append(Message("Skjemaet mangler tittel (title)."))
    if not isinstance(intro, str):
        problems.append(Message("Innledningen (intro) må være tekst."))
    for extra in sorted(set(dct) - _FORM_KEYS):
        problems.append(Message("Skjemaet har ukjent egenskap «%(extra)s».", extra=extra))
    raw_fields = dct.get("fields")
    parsed: tuple[Field, ...] = ()
    if not isinstance(raw_fields, list) or not raw_fields:
        problems.append(Message("Skjemaet har ingen felt (fields)."))
    else:
        parsed = _parse_fields(raw_fields, problems)
    translations = _parse_translations(dct.get("translations"), parsed, problems)
    names = {f.name for f in parsed}
    for f in parsed:
        for other, _ in f.required_when:
            if other not in names:
                problems.append(Message("%(where)s: required_when viser til «%(other)s», som ikke er i skjemaet.",
                                        where=_field_named(f.name), other=other))
        for _, pairs in f.refused_when:
            for other, _ in pairs:
                if other not in names:
                    problems.append(Message("%(where)s: refused_when viser til «%(other)s», som ikke er i skjemaet.",
                                            where=_field_named(f.name), other=other))
    if problems:
        raise FormDeclarationError(problems)
    return Form(key=str(key), title=str(title), fields=parsed, intro=intro,  # both checked above
                translations=translations)


def _parse_translations(raw: object, parsed: tuple[Field, ...], problems: list[str]) -> tuple:
    """``{"nn": {"title": …, "intro": …, "fields": {name: {"label", "help", "choices": {value: label},
    "fields": {…}}}}}`` → (language, path, text) entries; every name and value must exist."""
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        problems.append(Message("Oversettelsene (translations) må være et objekt med språk som nøkler."))
        return ()
    out: list[tuple[str, str, str]] = []

    def text(lang: str, path: str, value: object) -> None:
        if isinstance(value, str) and _is_text(value):
            out.append((lang, path, value))
        else:
            problems.append(Message("Oversettelsen (%(lang)s) av «%(path)s» må være tekst.", lang=lang, path=path))

    def walk(lang: str, fields_raw: object, known: tuple[Field, ...], prefix: str) -> None:
        if not isinstance(fields_raw, Mapping):
            problems.append(Message("Oversettelsen (%(lang)s): «fields» må være et objekt med feltnavn som nøkler.",
                                    lang=lang))
            return
        by_name = {f.name: f for f in known}
        for name, parts in fields_raw.items():
            f = by_name.get(name)
            if f is None or not isinstance(parts, Mapping):
                problems.append(Message("Oversettelsen (%(lang)s) nevner feltet «%(field)s», som ikke er i skjemaet.",
                                        lang=lang, field=f"{prefix}{name}"))
                continue
            for part, value in parts.items():
                if part in ("label", "help"):
                    text(lang, f"{prefix}{name}.{part}", value)
                elif part == "choices" and isinstance(value, Mapping):
                    values = {c.value for c in f.choices}
                    for choice, label in value.items():
                        if choice not in values:
                            problems.append(Message("Oversettelsen (%(lang)s): feltet «%(field)s» har ikke "
                                                    "alternativet «%(choice)s».",
                                                    lang=lang, field=f"{prefix}{name}", choice=choice))
                        else:
                            text(lang, f"{prefix}{name}.choices.{choice}", label)
                elif part == "fields" and f.type == "group":
                    walk(lang, value, f.fields, f"{prefix}{name}.")
                else:
                    problems.append(Message("Oversettelsen (%(lang)s) av feltet «%(field)s» har ukjent del «%(part)s».",
                                            lang=lang, field=f"{prefix}{name}", part=part))

    for lang, texts in raw.items():
        if lang not in TRANSLATION_LANGUAGES or not isinstance(texts, Mapping):
            problems.append(Message("Oversettelsen «%(lang)s»: bruk «nn» (nynorsk) eller «en» (engelsk) med et objekt.",
                                    lang=lang))
            continue
        for part, value in texts.items():
            if part in ("title", "intro"):
                text(lang, part, value)
            elif part == "fields":
                walk(lang, value, parsed, "")
            else:
                problems.append(Message("Oversettelsen (%(lang)s) har ukjent del «%(part)s».", lang=lang, part=part))
    return tuple(out)


def localised(form: Form, language: str) -> Form:
    """``form`` with its texts in ``language`` where the declaration has them, bokmål elsewhere.
    Names, types and choice values never change, so what is filled in is the same data."""
    texts = {path: value for lang, path, value in form.translations if lang == language}
    if not texts:
        return form

    def field_in(f: Field, prefix: str) -> Field:
        path = f"{prefix}{f.name}"
        return replace(
            f, label=texts.get(f"{path}.label", f.label), help=texts.get(f"{path}.help", f.help),
            choices=tuple(replace(c, label=texts.get(f"{path}.choices.{c.value}", c.label)) for c in f.choices),
            fields=tuple(field_in(sub, f"{path}.") for sub in f.fields))

    return replace(form, title=texts.get("title", form.title), intro=texts.get("intro", form.intro),
                   fields=tuple(field_in(f, "") for f in form.fields))


def untranslated(form: Form, language: str) -> list[str]:
    """The paths of ``form``'s texts (as in ``Form.translations``) that have no ``language``
    version: what a process owner still has to translate for the form to read wholly in it."""
    have = {path for lang, path, _ in form.translations if lang == language}
    paths = ["title"] + (["intro"] if form.intro else [])

    def field_paths(f: Field, prefix: str) -> None:
        path = f"{prefix}{f.name}"
        paths.append(f"{path}.label")
        if f.help:
            paths.append(f"{path}.help")
        paths.extend(f"{path}.choices.{c.value}" for c in f.choices)
        for sub in f.fields:
            field_paths(sub, f"{path}.")

    for f in form.fields:
        field_paths(f, "")
    return [path for path in paths if path not in have]


# --- Loading ------------------------------------------------------------------------------

_loaded: dict[Path, tuple[tuple, dict[str, Form]]] = {}


def load_forms(folder: Path | str | None = None) -> dict[str, Form]:
    """All declarations in `folder` by key; re-read when a file is added, removed or changed."""
    folder = Path(folder) if folder is not None else FORMS_FOLDER
    paths = sorted(folder.glob("*.json"))
    signature = tuple((p.name, (st := p.stat()).st_mtime_ns, st.st_size) for p in paths)
    cached = _loaded.get(folder)
    if cached is not None and cached[0] == signature:
        return cached[1]
    forms: dict[str, Form] = {}
    problems: list[str] = []
    for path in paths:
        try:
            form = parse_form(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as error:
            problems.append(Message("%(file)s: ugyldig JSON (%(error)s).", file=path.name, error=str(error)))
            continue
        except FormDeclarationError as error:
            problems.extend(Message("%(file)s: %(problem)s", file=path.name, problem=p) for p in error.problems)
            continue
        # The file name is how a diagram finds the form, so it must agree with the key.
        if form.key != path.stem:
            problems.append(Message("%(file)s: nøkkelen «%(key)s» er ikke lik filnavnet.", file=path.name,
                                    key=form.key))
        forms[form.key] = form
    if problems:
        raise FormDeclarationError(problems)
    _loaded[folder] = (signature, forms)
    return forms


def get_form(key: str, folder: Path | str | None = None) -> Form:
    """The declared form `key`; KeyError if there is none."""
    try:
        return load_forms(folder)[key]
    except KeyError:
        raise KeyError(Message("Ukjent skjema: %(key)s.", key=repr(key))) from None


def form_exists(key: str, folder: Path | str | None = None) -> bool:
    return key in load_forms(folder)


# --- Schemas ------------------------------------------------------------------------------


class _Blankable:
    """Treat None and blank strings as 'not filled in': an error if required, else a default.

    HTML forms post empty strings for untouched inputs, so blank must mean missing for every type.
    """

    blank_value: Any = None

    def deserialize(
        self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any
    ) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            if self.required:  # type: ignore[attr-defined]
                raise self.make_error("required")  # type: ignore[attr-defined]
            return self.blank_value() if callable(self.blank_value) else self.blank_value
        return super().deserialize(value, attr, data, **kwargs)  # type: ignore[misc]


def _field_kwargs(f: Field, missing: Any = None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"required": f.required, "error_messages": {"required": REQUIRED}}
    if not f.required:
        kwargs["load_default"] = missing
    return kwargs


class _Text(_Blankable, fields.String):
    default_error_messages = {"invalid": Message("Ugyldig tekst.")}

    def __init__(self, *, multiline: bool, **kwargs: Any):
        super().__init__(**kwargs)
        self.multiline = multiline

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        # Browsers post CRLF; store one newline convention so lengths and diffs agree.
        return text.replace("\r\n", "\n") if self.multiline else text


# Dates people type: a school year in this century, give or take. Python takes year 1 and 9999,
# but the databases, time-zone arithmetic and the working-day calendar do not all; the pages'
# own date parameters (webui/bounds.py) keep to the same range.
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2199, 12, 31)
_OUT_OF_RANGE = Message("Velg en dato mellom %(first)s og %(last)s.", first=f"{DATE_MIN:%d.%m.%Y}",
                        last=f"{DATE_MAX:%d.%m.%Y}")


class _Date(_Blankable, fields.Date):
    default_error_messages = {"invalid": Message("Ugyldig dato."), "range": _OUT_OF_RANGE}

    # Form data is stored as JSON: a date stays ISO text, hence the narrower return type.
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:  # type: ignore[override]
        if isinstance(value, date) and not isinstance(value, datetime):
            return value.isoformat()
        # Python accepts '20261127' too; keep the one form that HTML date inputs post.
        if not isinstance(value, str) or not _ISO_DATE.match(value.strip()):
            raise self.make_error("invalid")
        day = super()._deserialize(value.strip(), attr, data, **kwargs)
        if not DATE_MIN <= day <= DATE_MAX:
            raise self.make_error("range")
        return day.isoformat()


class _DateTime(_Blankable, fields.DateTime):
    default_error_messages = {"invalid": Message("Ugyldig dato og klokkeslett."), "range": _OUT_OF_RANGE}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:  # type: ignore[override]
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, str) and _ISO_DATETIME.match(value.strip()):
            # The pattern insists on a time: a bare date must not silently become midnight.
            moment = super()._deserialize(value.strip(), attr, data, **kwargs)
        else:
            raise self.make_error("invalid")
        if not DATE_MIN <= moment.date() <= DATE_MAX:  # before the time-zone shift, which overflows at year 1
            raise self.make_error("range")
        # A datetime-local input posts no offset; it means the school's local time.
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=OSLO)
        return moment.astimezone(OSLO).isoformat()


CHOOSE_ONE = Message("Velg et av alternativene.")


class _Choice(_Blankable, fields.String):
    default_error_messages = {"invalid": CHOOSE_ONE}


class _MultiChoice(_Blankable, fields.Field):
    blank_value = list
    default_error_messages = {"invalid": Message("Velg blant alternativene.")}

    def __init__(self, *, values: tuple[str, ...], **kwargs: Any):
        super().__init__(**kwargs)
        self.values = values

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[str]:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise self.make_error("invalid")
        chosen = list(dict.fromkeys(v for v in value if v.strip()))  # drop blanks and repeats
        if any(v not in self.values for v in chosen):
            raise self.make_error("invalid")
        if self.required and not chosen:
            raise self.make_error("required")
        return chosen


class _Boolean(_Blankable, fields.Boolean):
    """Like a required HTML checkbox, a required boolean is a confirmation that must be given."""

    blank_value = False
    default_error_messages = {"invalid": Message("Ugyldig ja/nei-verdi.")}
    truthy = {True, "1", "true", "True", "on", "ja", "Ja", "yes"}
    falsy = {False, "0", "false", "False", "off", "nei", "Nei", "no"}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        result = super()._deserialize(value, attr, data, **kwargs)
        if self.required and not result:
            raise self.make_error("required")
        return result


class _Integer(_Blankable, fields.Integer):
    default_error_messages = {"invalid": Message("Skriv et heltall.")}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        # marshmallow would turn 1.5 into 1 and True into 1; only whole numbers are accepted,
        # and only as large as JSON consumers can hold exactly (2^53).
        if isinstance(value, str) and _INTEGER.match(value.strip()) and len(value.strip()) < 20:
            value = int(value.strip())
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= 2**53:
            return value
        raise self.make_error("invalid")


class _Group(_Blankable, fields.List):
    blank_value = list
    default_error_messages = {"invalid": Message("Ugyldig liste med rader.")}


class _FormSchema(Schema):
    error_messages = {"unknown": UNKNOWN, "type": Message("Ugyldige skjemadata.")}

    class Meta:
        unknown = RAISE


class _RowSchema(_FormSchema):
    error_messages = {"unknown": UNKNOWN, "type": Message("Ugyldig rad.")}


def _rows_message(n: int) -> str:
    return Message("Legg til minst %(n)s rad.", n=n) if n == 1 else Message("Legg til minst %(n)s rader.", n=n)


def _ma_field(f: Field) -> fields.Field:
    kwargs = _field_kwargs(f)
    if f.type in ("text", "textarea"):
        max_length = f.max_length or DEFAULT_MAX_LENGTH[f.type]
        too_long = Message("Teksten kan ikke være lengre enn %(max)s tegn.", max=max_length)
        length = ma_validate.Length(max=max_length, error=too_long)
        return _Text(multiline=f.type == "textarea", validate=length, **kwargs)
    if f.type == "user":
        return _Text(multiline=False, validate=ma_validate.Length(max=USER_MAX_LENGTH, error=Message("Ugyldig bruker.")),
                     **kwargs)
    if f.type == "date":
        return _Date(**kwargs)
    if f.type == "datetime":
        return _DateTime(**kwargs)
    if f.type == "choice":
        values = [c.value for c in f.choices]
        one_of = ma_validate.OneOf(values, error=CHOOSE_ONE)
        return _Choice(validate=one_of, **kwargs)
    if f.type == "multichoice":
        return _MultiChoice(values=tuple(c.value for c in f.choices), **_field_kwargs(f, list))
    if f.type == "boolean":
        kwargs = _field_kwargs(f, False)
        kwargs["error_messages"] = {"required": Message("Feltet må krysses av.")}
        return _Boolean(**kwargs)
    if f.type == "integer":
        return _Integer(**kwargs)
    if f.type == "group":
        row_fields = {s.name: _ma_field(s) for s in f.fields}
        row_schema = _RowSchema.from_dict(row_fields, name=f"Rad_{f.name}")
        # A required group needs a row; min_items makes a group required even if not marked so.
        minimum = max(f.min_items, 1 if f.required else 0)
        kwargs = _field_kwargs(f, list)
        if minimum:
            kwargs = {"required": True, "error_messages": {"required": _rows_message(minimum)}}
        length = ma_validate.Length(min=minimum, error=_rows_message(minimum))
        return _Group(fields.Nested(row_schema), validate=length, **kwargs)
    raise FormDeclarationError([_unknown_type(_field_named(f.name), f.type)])


@lru_cache(maxsize=256)
def schema_for(form: Form) -> Schema:
    """The marshmallow schema for a form (cached; a Form is immutable)."""
    form_fields = {f.name: _ma_field(f) for f in form.fields}
    return _FormSchema.from_dict(form_fields, name=f"Skjema_{form.key}")()


def _norwegian(day: date) -> str:
    return f"{day:%d.%m.%Y}"


def _norwegian_moment(moment: datetime) -> str:
    return f"{moment.astimezone(OSLO):%d.%m.%Y kl. %H:%M}"


def _date_errors(form: Form, clean: Mapping[str, Any], today: date,
                 now: datetime | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for f in form.fields:
        value = clean.get(f.name)
        if f.type == "datetime" and value and f.max_date == NOW and now is not None:
            moment = datetime.fromisoformat(value)
            # Compared to the minute, as the field is typed: "now" typed at 12:00:40 is not ahead.
            if moment.replace(second=0, microsecond=0) > now.replace(second=0, microsecond=0):
                errors[f.name] = [Message("Tidspunktet %(moment)s er fram i tid. Skriv når det skjedde, "
                                          "senest nå (%(now)s).", moment=_norwegian_moment(moment),
                                          now=_norwegian_moment(now))]
            continue
        if f.type != "date" or not value:
            continue
        day = date.fromisoformat(value)
        if f.min_date == TODAY and day < today:
            errors[f.name] = [Message("Datoen %(day)s er passert. Velg i dag (%(today)s) eller en senere dato.",
                                      day=_norwegian(day), today=_norwegian(today))]
        elif f.max_date == TODAY and day > today:
            errors[f.name] = [Message("Datoen %(day)s er fram i tid. Velg i dag (%(today)s) eller en tidligere dato.",
                                      day=_norwegian(day), today=_norwegian(today))]
    return errors


def carried_over(form: Form, earlier: Mapping[str, Any]) -> dict[str, Any]:
    """The earlier answers a revising step opens with: every field of the form, except dates
    that must lie ahead (a new evaluation date is always chosen anew)."""
    return {f.name: earlier[f.name] for f in form.fields if f.name in earlier and f.min_date != TODAY}


def warnings(form: Form, clean: Mapping[str, Any], today: date) -> list[str]:
    """Plain sentences about accepted values that look wrong, e.g. an evaluation date half a
    year ahead: shown to the user after the form is sent, never refusing it."""
    found: list[str] = []
    for f in form.fields:
        value = clean.get(f.name)
        if f.type == "date" and f.warn_after_days and value:
            day = date.fromisoformat(value)
            if (day - today).days > f.warn_after_days:
                found.append(Message("«%(label)s» er %(day)s, mer enn %(days)s dager fram i tid. Sjekk at datoen er "
                                     "riktig; tiltakene bør evalueres jevnlig.", label=f.label, day=_norwegian(day),
                                     days=f.warn_after_days))
    return found


def with_sender(form: Form, data: Mapping[str, Any], sender: str) -> dict[str, Any]:
    """``data`` with every field the form takes from the log-in set to ``sender`` (the person
    sending it, as the server knows them): a posted value for such a field is replaced."""
    taken = {f.name: sender for f in form.fields if f.value_from == FROM_USER}
    return {**data, **taken} if taken else dict(data)


def _refused(form: Form, clean: Mapping[str, Any]) -> dict[str, list[str]]:
    """The fields whose choice the declaration refuses beside another field's answer, each with
    a sentence naming both answers in the form's own words."""
    by_name = {f.name: f for f in form.fields}
    errors: dict[str, list[str]] = {}
    for f in form.fields:
        for choice, pairs in f.refused_when:
            if clean.get(f.name) != choice:
                continue
            for other, values in pairs:
                if clean.get(other) in values:
                    errors[f.name] = [Message("«%(choice)s» kan ikke velges når svaret på «%(other)s» er «%(answer)s».",
                                              choice=value_text(f, choice), other=by_name[other].label,
                                              answer=value_text(by_name[other], clean.get(other)))]
    return errors


def validate(form: Form, data: Mapping[str, Any], today: date | None = None,
             now: datetime | None = None) -> dict[str, Any]:
    """Clean, JSON-serializable data, or FormValidationError with messages per field. With
    ``today`` (the engine's date), date fields marked min_date/max_date are checked against it;
    with ``now`` (the engine's clock), time fields marked max_date «now» too."""
    if not isinstance(data, Mapping):
        raise FormValidationError({"_schema": [Message("Ugyldige skjemadata.")]})
    try:
        clean = schema_for(form).load(data)
    except ValidationError as error:
        messages = error.messages
        if not isinstance(messages, dict):
            messages = {"_schema": messages}
        raise FormValidationError(messages) from None
    missing = {f.name: [REQUIRED] for f in form.fields if f.required_when and clean.get(f.name) in (None, "", [])
               and any(clean.get(other) in values for other, values in f.required_when)}
    if missing:
        raise FormValidationError(missing)
    refused = _refused(form, clean)
    if refused:
        raise FormValidationError(refused)
    if today is not None:
        errors = _date_errors(form, clean, today, now)
        if errors:
            raise FormValidationError(errors)
    return clean


# --- Values as text -----------------------------------------------------------------------


def value_text(field: Field | None, value: Any, *, yes: str = "Ja", no: str = "Nei",
               format_date: Callable[[str], str] = str) -> str:
    """A stored value as a reader sees it, with the declaration's labels: the case page, the
    documents and the exports all say the same thing about the same answer."""
    if value is None or value == "" or value == []:
        return "–"
    if field is None:
        return str(value)
    if field.type == "boolean":
        return yes if value else no
    if field.type == "choice":
        return next((c.label for c in field.choices if c.value == value), str(value))
    if field.type == "multichoice":
        labels = {c.value: c.label for c in field.choices}
        return ", ".join(labels.get(v, v) for v in value)
    if field.type in ("date", "datetime"):
        return format_date(value)
    if field.type == "group":
        return "\n".join(" – ".join(value_text(f, row.get(f.name), yes=yes, no=no, format_date=format_date)
                                    for f in field.fields) for row in value)
    return str(value)
