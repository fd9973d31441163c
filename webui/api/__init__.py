"""The JSON API under ``/api/v1``: cases, tasks and definitions for programs, with the same
access policy as the pages (every call goes through ``Kap12`` and ``engine.access``).

Callers authenticate with a personal token (``Authorization: Bearer k12_…``, made on the profile
page) or with the log-in session; a session write also sends the session's CSRF token in the
``X-CSRF-Token`` header. Every error is an RFC 9457 problem (``application/problem+json``), and
the OpenAPI 3.1 document at ``/api/v1/openapi.json`` is generated from the same marshmallow
schemas the views use."""
from __future__ import annotations

from flask import Blueprint

from .. import profile

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.record_once
def _register_profile(state) -> None:
    # The profile page, where people make and revoke their API keys, comes with the API.
    state.app.register_blueprint(profile.bp)


from . import auth, cases, definitions, meta, problems, tasks  # noqa: E402,F401  (views and handlers)
