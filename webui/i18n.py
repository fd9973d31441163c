"""Languages: Norwegian bokmål by default, nynorsk and English on request.

The source language is bokmål: the Norwegian text in the templates and in webui/*.py is the
msgid, so a Norwegian page needs no catalogue at all. Nynorsk and English are in
webui/translations/<nn|en>/LC_MESSAGES/messages.po, compiled to a .mo at start-up (into the instance
folder) whenever the .mo is missing or older than the .po, so there is no build step.

The language is chosen by (1) the ``lang`` cookie that the switch in the footer sets, (2) the
browser's Accept-Language, (3) bokmål.
"""
from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path

import flask_babel
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations
from flask import Blueprint, current_app, g, has_request_context, redirect, request, url_for
from flask.globals import app_ctx
from flask_babel import Babel, force_locale, get_locale
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from processes.messages import use_translator

from .auth import _safe_next

log = logging.getLogger("kap12.web")

DEFAULT = "nb"
LANGUAGES = {"nb": "Bokmål", "nn": "Nynorsk", "en": "English"}
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
SOURCE_DIR = Path(__file__).resolve().parent / "translations"
# Browsers say "no" as often as "nb": both get bokmål; "nn" gets nynorsk.
_NORWEGIAN = ("nb", "no")

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for value, quality in request.accept_languages:  # best first
        primary = value.replace("_", "-").split("-")[0].lower()
        if quality > 0 and primary in _NORWEGIAN:
            return DEFAULT
        if quality > 0 and primary == "nn":
            return "nn"
        if quality > 0 and primary == "en":
            return "en"
    return DEFAULT


# The request's translations and language, on ``g``.
_KEPT, _KEPT_LANGUAGE = "_kap12_translations", "_kap12_language"


def request_kept() -> dict | None:
    """What a request keeps for itself (``g``'s own attributes), or None outside a request.
    Every word on a page asks for the request's translations: through ``g``'s proxy that is
    0.9 µs a time here, and a list of fifty rows asks some 350 times; this is 0.25 µs."""
    return app_ctx._get_current_object().g.__dict__ if has_request_context() else None


def current_language() -> str:
    """The reader's language, found once per request (kept beside the translations, and let go
    with them by ``forced_locale``): every task and stage name on a list asks it."""
    kept = request_kept()
    if kept is not None and _KEPT_LANGUAGE in kept:
        return kept[_KEPT_LANGUAGE]
    locale = get_locale()
    language = locale.language if locale is not None and locale.language in LANGUAGES else DEFAULT
    if kept is not None:
        kept[_KEPT_LANGUAGE] = language
    return language


def translate_message(template: str, params: dict) -> str | None:
    """The engine's and the forms' sentences (processes.messages.Message) in the reader's
    language: their bokmål template is a message id of the catalogue. Outside a request (the
    command line, the sweeper) and on bokmål pages they stay as written."""
    if not has_request_context() or current_language() == DEFAULT:
        return None
    return _(template, **params) if params else _(template)


def compile_catalogues(target: Path) -> Path:
    """Compile every webui/translations/<lang>/LC_MESSAGES/messages.po whose .mo under `target`
    is missing or older than the .po. Returns `target`, the directory Flask-Babel reads."""
    for po in sorted(SOURCE_DIR.glob("*/LC_MESSAGES/messages.po")):
        mo = target / po.relative_to(SOURCE_DIR).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parts[-3])
        partial = mo.with_name(f".{mo.name}.tmp")
        with partial.open("wb") as out:
            write_mo(out, catalog)
        partial.replace(mo)  # atomic: a second worker starting at once never reads half a file
    return target


def _compiled_dir(instance_dir) -> Path:
    for base in ([Path(instance_dir)] if instance_dir else []) + [Path(tempfile.gettempdir()) / "kap12"]:
        try:
            return compile_catalogues(base / "translations")
        except OSError as err:  # a read-only instance folder: fall back to the temp folder
            log.warning("could not compile translations into %s: %s", base, err)
    raise RuntimeError("could not compile the translations anywhere")


def translations() -> NullTranslations:
    """The translations of the request's language, found once per request. Flask-Babel finds its
    context, domain and locale again on every call (some 35 µs here), and a list of fifty rows says
    «Frist:» and its like hundreds of times: a fifth of rendering Mine oppgaver. A switch of
    language inside a request goes through ``forced_locale``, which lets the kept ones go."""
    kept = request_kept()
    if kept is None:
        return flask_babel.get_translations()
    found = kept.get(_KEPT)
    if found is None:
        found = kept[_KEPT] = flask_babel.get_translations()
    return found


@contextmanager
def forced_locale(language: str) -> Iterator[None]:
    """``flask_babel.force_locale`` for kap12's pages: the request's kept translations are let go
    on the way in and out, so ``gettext`` speaks the forced language inside and the page's after."""
    _let_go()
    try:
        with force_locale(language):
            yield
    finally:
        _let_go()


def _let_go() -> None:
    g.pop(_KEPT, None)
    g.pop(_KEPT_LANGUAGE, None)


def gettext(string: str, **variables: object) -> str:
    """``flask_babel.gettext`` through the request's kept translations."""
    text = translations().ugettext(string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables: object) -> LazyString:
    """``flask_babel.lazy_gettext`` (a text translated when shown) through the request's kept
    translations: the procedure and weekday words are shown on every row of a list."""
    return LazyString(gettext, string, **variables)


def ngettext(singular: str, plural: str, num: int, **variables: object) -> str:
    """``flask_babel.ngettext`` through the request's kept translations."""
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


@pass_eval_context
def _template_gettext(eval_ctx: EvalContext, string: str, /, **variables: object) -> str:
    """A template's ``_()`` and ``gettext()``: what Jinja's newstyle gettext does (the text
    escaped-safe in an HTML template, always formatted with the variables, which are escaped),
    in one call instead of three — Jinja's alias looks ``gettext`` up and calls the wrapper,
    which calls the translation: 6 µs a word, and a list of fifty rows says some 400."""
    text = translations().ugettext(string)
    return (Markup(text) if eval_ctx.autoescape else text) % variables


@pass_eval_context
def _template_ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: int, /,
                       **variables: object) -> str:
    """``_template_gettext`` for ``ngettext()``: ``num`` is a variable too, as in Jinja's, unless
    the template gives its own (the texts and the number are positional only, so any name may be
    a variable)."""
    variables.setdefault("num", num)
    text = translations().ungettext(singular, plural, num)
    return (Markup(text) if eval_ctx.autoescape else text) % variables


def init_app(app, instance_dir=None) -> None:
    compiled = _compiled_dir(instance_dir)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/Oslo")
    Babel(app, locale_selector=select_locale, default_translation_directories=str(compiled))
    app.jinja_env.install_gettext_callables(  # as Flask-Babel installs them, through the kept translations
        gettext=lambda text: translations().ugettext(text),
        ngettext=lambda singular, plural, n: translations().ungettext(singular, plural, n),
        pgettext=lambda context, text: translations().upgettext(context, text),
        npgettext=lambda context, singular, plural, n: translations().unpgettext(context, singular, plural, n),
        newstyle=True)
    # The two said on every row of a list, called straight (see ``_template_gettext``).
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(current_language=current_language, languages=LANGUAGES)
    use_translator(translate_message)

    @app.after_request
    def _vary(response):
        # The same address answers in two languages.
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
        return response


@bp.route("/sprak/<lang>", methods=["GET", "POST"])
def switch(lang: str):
    """Set the language cookie and go back to the page the switch was on."""
    if lang not in LANGUAGES:
        return redirect(url_for("tasks.index"))

    back = _safe_next(request.values.get("neste"))
    response = redirect(back)
    response.set_cookie(COOKIE, lang, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True,
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


def in_bokmal(view):
    """For documents that leave the system (PDF and JSON exports, spreadsheets): always in bokmål,
    whatever language the pages are shown in."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        with forced_locale(DEFAULT):
            return view(*args, **kwargs)
    return wrapped
