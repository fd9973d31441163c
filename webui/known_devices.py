"""The browsers where a person has logged in before, as a cookie signed with the app's key: the
log-in throttle counts a try from one of them on its own (``engine.write.login_throttle``), so
no one elsewhere can lock the person out of their own browser.

The cookie holds the browser's random id and the accounts that logged in on it, named as the
throttle counts them (a shared staff-room computer has several, so the last few are kept), each
with a stamp of the password it logged in with. It grants nothing but that: a password is still
asked, and a cookie not signed with this server's key, older than ``MAX_AGE``, for another
account or from before the account's password last changed counts as no cookie — someone who
once knew the old password keeps no bucket of tries of their own, exempt from the account's lock."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Protocol

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from engine.write.login_throttle import account_name

COOKIE = "kap12_kjent"
MAX_AGE = 90 * 24 * 3600  # a term and a summer holiday: a teacher back after the summer is still known
ACCOUNTS_KEPT = 5
_SALT = "kap12 known device"


class User(Protocol):
    """What is read of the account (the engine's user row)."""

    password_hash: str | None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def _stamp(user: User) -> str:
    """A mark of the user's password as it is now, which changes with it: keyed with the app's
    key, so the cookie (signed, not secret) tells nothing of the password's hash."""
    key = current_app.secret_key
    key = key if isinstance(key, bytes) else str(key).encode()
    return hmac.new(key, (_SALT + (user.password_hash or "")).encode(), hashlib.sha256).hexdigest()[:16]


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
    # Entries of an earlier release were the account's name alone: known no longer, until the
    # person next logs in there.
    found["u"] = [entry for entry in found["u"] if isinstance(entry, list) and len(entry) == 2
                  and all(isinstance(part, str) for part in entry)]
    return found


def device_for(username: str, user: User | None) -> str | None:
    """This browser's id, if ``username`` (``user``, the account of that name, if any) has
    logged in on it before with the password it has now."""
    found = _read()
    if found is None or user is None:
        return None
    return found["d"] if [account_name(username), _stamp(user)] in found["u"] else None


def remember(response: Response, username: str, user: User) -> None:
    """After a log-in with the right password: this browser is known for ``username`` too."""
    found = _read() or {"d": secrets.token_urlsafe(12), "u": []}
    name = account_name(username)
    accounts = [entry for entry in found["u"] if entry[0] != name][-(ACCOUNTS_KEPT - 1):] + [[name, _stamp(user)]]
    response.set_cookie(COOKIE, _serializer().dumps({"d": found["d"], "u": accounts}), max_age=MAX_AGE,
                        httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"],
                        path="/logg-inn")
