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
from collections.abc import Callable

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from engine.write.login_throttle import account_name

COOKIE = "kap12_kjent"
MAX_AGE = 90 * 24 * 3600  # a term and a summer holiday: a teacher back after the summer is still known
ACCOUNTS_KEPT = 5
_SALT = "kap12 known device"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def _stamp(password_hash: str | None) -> str:
    """A mark of the account's password as it is now, which changes with it: keyed with the
    app's key, so the cookie (signed, not secret) tells nothing of the password's hash."""
    key = current_app.secret_key
    key = key if isinstance(key, bytes) else str(key).encode()
    return hmac.new(key, (_SALT + (password_hash or "")).encode(), hashlib.sha256).hexdigest()[:16]


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


def device_for(username: str, password_hash: Callable[[], str | None]) -> str | None:
    """This browser's id, if ``username`` has logged in on it before with the password it has
    now. ``password_hash`` reads the account's (None: no such account, or none set); it is asked
    only when the cookie names the account, so that a try the throttle refuses does the same
    work for a name that exists as for one that does not (else the refusals, which are not
    counted, would tell which accounts exist)."""
    found = _read()
    name = account_name(username)
    if found is None or not any(entry[0] == name for entry in found["u"]):
        return None
    hashed = password_hash()
    return found["d"] if hashed is not None and [name, _stamp(hashed)] in found["u"] else None


def remember(response: Response, username: str, password_hash: str | None) -> None:
    """After a log-in with the right password: this browser is known for ``username`` too."""
    found = _read() or {"d": secrets.token_urlsafe(12), "u": []}
    name = account_name(username)
    others = [entry for entry in found["u"] if entry[0] != name][-(ACCOUNTS_KEPT - 1):]
    accounts = [*others, [name, _stamp(password_hash)]]
    response.set_cookie(COOKIE, _serializer().dumps({"d": found["d"], "u": accounts}), max_age=MAX_AGE,
                        httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"],
                        path="/logg-inn")
