"""The browsers where a person has logged in before, as a cookie signed with the app's key: the
log-in throttle counts a try from one of them on its own (``engine.write.login_throttle``), so
no one elsewhere can lock the person out of their own browser.

The cookie holds the browser's random id and the accounts that logged in on it, named as the
throttle counts them (a shared staff-room computer has several, so the last few are kept). It
grants nothing but that: a
password is still asked, and a cookie not signed with this server's key, older than
``MAX_AGE`` or for another account counts as no cookie."""
from __future__ import annotations

import secrets

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from engine.write.login_throttle import account_name

COOKIE = "kap12_kjent"
MAX_AGE = 90 * 24 * 3600  # a term and a summer holiday: a teacher back after the summer is still known
ACCOUNTS_KEPT = 5
_SALT = "kap12 known device"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def _read() -> dict | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        found = _serializer().loads(raw, max_age=MAX_AGE)
    except BadSignature:  # forged, another server's key, or too old
        return None
    if not isinstance(found, dict) or not isinstance(found.get("d"), str) or not isinstance(found.get("u"), list):
        return None
    return found


def device_for(username: str) -> str | None:
    """This browser's id, if ``username`` has logged in on it before."""
    found = _read()
    return found["d"] if found is not None and account_name(username) in found["u"] else None


def remember(response: Response, username: str) -> None:
    """After a log-in with the right password: this browser is known for ``username`` too."""
    found = _read() or {"d": secrets.token_urlsafe(12), "u": []}
    accounts = [a for a in found["u"] if a != account_name(username)][-(ACCOUNTS_KEPT - 1):] + [account_name(username)]
    response.set_cookie(COOKIE, _serializer().dumps({"d": found["d"], "u": accounts}), max_age=MAX_AGE,
                        httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"],
                        path="/logg-inn")
