"""Log-in through an OpenID Connect provider (Feide, or the county's own): the redirect to
the provider and the way back. The person is matched to a kap12 user by the configured claim
through the external identities an administrator has bound (``kap12 identitet``); roles and
schools come from kap12's own directory. An unknown person gets a page, never an account."""
from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine.read import queries

from . import auth
from .i18n import current_language
from .oidc_client import Pending, Provider, ProviderUnavailable, Refused, new_pending

log = logging.getLogger("kap12.oidc")

bp = Blueprint("oidc", __name__)

SESSION_KEY = "oidc_pending"
# Several tabs may start a log-in at once; keep the newest few, never an unbounded list.
MAX_PENDING = 5


def _provider() -> Provider:
    settings = current_app.extensions["kap12"].settings.oidc
    if settings is None:
        abort(404)
    provider = current_app.extensions.get("kap12.oidc")
    if provider is None or provider.settings != settings:
        provider = current_app.extensions["kap12.oidc"] = Provider(settings)
    return provider


def _callback_url() -> str:
    return url_for("oidc.callback", _external=True)


def _page(status: int, title: str, message: str):
    return render_template("error.html", code=status, title=title, message=message,
                           retry_url=url_for("auth.login")), status


def _unavailable(err: Exception):
    log.warning("identity provider unavailable: %s", err)
    return _page(502, _("Innloggingstjenesten svarer ikke"),
                 _("Innloggingstjenesten kunne ikke nås akkurat nå. Prøv igjen om litt."))


def _refused(err: Refused):
    log.warning("OpenID Connect log-in refused: %s", err.reason)
    return _page(403, _("Innloggingen ble ikke godtatt"), str(err))


@bp.get("/logg-inn/ekstern")
def start():
    provider = _provider()
    pending = new_pending()
    try:
        url = provider.authorization_url(pending, _callback_url(), current_language())
    except ProviderUnavailable as err:
        return _unavailable(err)
    except Refused as err:
        return _refused(err)
    waiting = dict(list(session.get(SESSION_KEY, {}).items())[-(MAX_PENDING - 1):])
    waiting[pending.state] = {"nonce": pending.nonce, "verifier": pending.code_verifier,
                              "next": auth._safe_next(request.args.get("next"))}
    session[SESSION_KEY] = waiting
    return redirect(url)


@bp.get("/logg-inn/ekstern/tilbake")
def callback():
    provider = _provider()
    state = request.args.get("state", "")
    waiting = dict(session.get(SESSION_KEY, {}))
    # Each state is used once: taken out before anything else happens, so a replayed or forged
    # callback finds nothing, whatever happens next.
    entry = waiting.pop(state, None) if state else None
    session[SESSION_KEY] = waiting
    if entry is None:
        log.warning("OpenID Connect callback with an unknown or used state")
        return _page(400, _("Innloggingen kunne ikke fullføres"),
                     _("Denne innloggingen er allerede brukt, eller den ble ikke startet her. "
                       "Start innloggingen på nytt."))
    if request.args.get("error"):
        log.info("provider answered %s", request.args.get("error"))
        return _page(403, _("Innloggingen ble avbrutt"),
                     _("Innloggingstjenesten fullførte ikke innloggingen. Du kan prøve igjen."))
    code = request.args.get("code", "")
    if not code:
        return _page(400, _("Innloggingen kunne ikke fullføres"), _("Start innloggingen på nytt."))
    pending = Pending(state=state, nonce=entry["nonce"], code_verifier=entry["verifier"])
    kap12 = current_app.extensions["kap12"]
    try:
        subject, _claims = provider.identify(pending, code, _callback_url(), kap12.clock.now().timestamp())
    except ProviderUnavailable as err:
        return _unavailable(err)
    except Refused as err:
        return _refused(err)
    user = queries.user_for_identity(kap12, provider.settings.issuer, subject)
    if user is None:
        log.info("OpenID Connect log-in by %s, who is not bound to a kap12 user", subject)
        return _page(403, _("Du har ikke tilgang til kap12"),
                     _("Du er logget inn hos %(provider)s som «%(who)s», men du er ikke registrert i kap12. "
                       "Be administratoren for kap12 i fylket om å koble «%(who)s» til en bruker. "
                       "Ingen konto er opprettet.", provider=provider.settings.name, who=subject))
    auth.log_in(user)
    g.viewer = None  # the next request loads the viewer from the fresh session
    return redirect(entry["next"])
