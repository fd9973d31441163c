"""Configuration by environment, with an embedded default (DESIGN.md rule 8).

This is the one module that reads environment variables (ruff rule TID251 keeps it so); the
rest of kap12 is handed a ``Settings``. README "Configuration" lists every variable."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.mail_address import sender_envelope

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Feide's stable, human-readable identifier for a person ("ola@skole.no"); what a county's
# administrator knows and maps to a kap12 user.
FEIDE_PRINCIPAL_CLAIM = "https://n.feide.no/claims/eduPersonPrincipalName"
_FALSE = {"0", "false", "nei", "no", "off"}


@dataclass(frozen=True)
class OidcSettings:
    """Log-in through an OpenID Connect provider (Feide, or the county's own, e.g. Entra ID)."""

    issuer: str
    client_id: str
    client_secret: str
    scopes: str = "openid"
    # The claim that identifies the person; matched against the external identities table.
    claim: str = FEIDE_PRINCIPAL_CLAIM
    # Where the provider's discovery document is; by default the issuer's well-known address.
    metadata_url: str = ""
    # The provider's name on the log-in button.
    name: str = "Feide"

    @property
    def discovery_url(self) -> str:
        return self.metadata_url or f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OidcSettings | None:
        issuer = (env.get("KAP12_OIDC_ISSUER") or "").strip()
        if not issuer:
            return None
        client_id = (env.get("KAP12_OIDC_CLIENT_ID") or "").strip()
        if not client_id:
            raise ValueError("KAP12_OIDC_ISSUER is set but KAP12_OIDC_CLIENT_ID is not")
        return cls(issuer=issuer, client_id=client_id, client_secret=env.get("KAP12_OIDC_CLIENT_SECRET") or "",
                   scopes=(env.get("KAP12_OIDC_SCOPES") or "openid").strip(),
                   claim=(env.get("KAP12_OIDC_CLAIM") or FEIDE_PRINCIPAL_CLAIM).strip(),
                   metadata_url=(env.get("KAP12_OIDC_METADATA_URL") or "").strip(),
                   name=(env.get("KAP12_OIDC_NAME") or "Feide").strip())


class SettingError(ValueError):
    """A setting in the environment that kap12 cannot use; the message names it and says what it takes."""


def _whole(env: Mapping[str, str], name: str, default: int | None, low: int, high: int) -> int | None:
    """A whole number from ``low`` to ``high``; unset or empty, ``default``. (``int()`` said only
    "invalid literal for int() with base 10: 'abc'", not which of the settings it was.)"""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:  # "²" is a digit too
        raise SettingError(f"{name} må være et helt tall fra {low} til {high}, ikke «{raw}».")
    return int(raw)


def _one_of(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first when unset): a misspelt value fell back to the first unsaid."""
    raw = (env.get(name) or choices[0]).strip().lower()
    if raw not in choices:
        raise SettingError(f"{name} må være {' eller '.join(f'«{c}»' for c in choices)}, ikke «{raw}».")
    return raw


@dataclass(frozen=True)
class MailSettings:
    """Where notification mails go. With no host, each mail is written as an .eml file under
    ``folder`` and logged, so nothing is lost and a developer can read them."""

    host: str | None
    port: int
    user: str | None
    password: str | None
    starttls: bool
    sender: str
    folder: Path

    @classmethod
    def from_env(cls, instance_dir: Path, env: Mapping[str, str] | None = None) -> MailSettings:
        env = os.environ if env is None else env
        return cls(host=env.get("KAP12_SMTP_HOST") or None, port=_whole(env, "KAP12_SMTP_PORT", 25, 1, 65535) or 25,
                   user=env.get("KAP12_SMTP_USER") or None, password=env.get("KAP12_SMTP_PASSWORD") or None,
                   starttls=env.get("KAP12_SMTP_STARTTLS", "") in ("1", "true", "yes"),
                   sender=_sender(env), folder=instance_dir / "mail")


def _sender(env: Mapping[str, str]) -> str:
    """``KAP12_SMTP_FROM``, refused when it is read if kap12 could send no mail from it: a
    setting found wrong only by the sweeper's first round left every mail waiting, and said so
    only in its log."""
    raw = (env.get("KAP12_SMTP_FROM") or "").strip() or "kap12@localhost"  # empty: unset, as the others
    try:
        sender_envelope(raw)
    except ValueError:
        raise SettingError(f"KAP12_SMTP_FROM må være en e-postadresse med bare ASCII-tegn før @, gjerne med et navn "
                           f"foran («Nordli skole <kap12@nordli.kommune.no>»), ikke «{raw}».") from None
    return raw


@dataclass(frozen=True)
class Settings:
    database_url: str
    instance_dir: Path
    bpmn_dir: Path
    base_url: str
    # None: local accounts only.
    oidc: OidcSettings | None = None
    # Local user names and passwords; an administrator switches them off once everyone logs in
    # through OpenID Connect (KAP12_LOCAL_LOGIN=0).
    local_login: bool = True
    # Optional secret that makes each history event's hash an HMAC (README, "Security notes").
    # Empty: plain SHA-256, as before. Old keys stay readable for verification after rotation.
    history_key: str = ""
    history_old_keys: tuple[str, ...] = ()
    # None: read from the environment when mail is first delivered (tests build Settings by hand).
    mail: MailSettings | None = None
    # None: a random key kept in the instance folder (webui.security.secret_key).
    secret_key: str | None = None
    # Reverse proxies in front of the web server whose X-Forwarded-* headers are trusted.
    proxy_hops: int = 0
    # Who pupils, parents and staff contact at the school owner when the school's leadership
    # is bypassed (procedure C): shown on the receipt and in letters.
    owner_contact: str = "skoleeier (sentral skoleledelse i fylkeskommunen)"
    # The county's archive system (Noark 5) that reads kap12's archive extracts, by its product
    # name, as the pages name it (KAP12_ARKIV_NAVN).
    archive_name: str = "Elements"
    # A log-in session ends after this many minutes without a request (KAP12_SESSION_IDLE_MINUTES).
    session_idle_minutes: int = 60
    # With a token, /metrics answers only "Authorization: Bearer <token>"; without, only loopback.
    metrics_token: str = ""
    # gunicorn web processes for `kap12 serve` (None: chosen for the database and the machine).
    web_workers: int | None = None
    # "json": one JSON object per log line; anything else: plain text.
    log_format: str = "text"
    # Where the server's processes keep their metric values (prometheus-client's own setting).
    metrics_dir: Path | None = None

    @property
    def oidc_issuer(self) -> str | None:
        """The log-in service's issuer, when one is set up (None: local accounts only)."""
        return self.oidc.issuer if self.oidc is not None else None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        instance = Path(env.get("KAP12_INSTANCE_DIR") or PROJECT_ROOT / "instance")
        url = env.get("KAP12_DATABASE_URL") or f"sqlite:///{instance / 'kap12.sqlite3'}"
        return cls(
            database_url=url,
            instance_dir=instance,
            bpmn_dir=Path(env.get("KAP12_BPMN_DIR") or PROJECT_ROOT / "bpmn"),
            base_url=env.get("KAP12_BASE_URL", "http://127.0.0.1:5000"),
            oidc=OidcSettings.from_env(env),
            local_login=(env.get("KAP12_LOCAL_LOGIN") or "1").strip().lower() not in _FALSE,
            history_key=env.get("KAP12_HISTORY_KEY", ""),
            history_old_keys=tuple(k.strip() for k in env.get("KAP12_HISTORY_OLD_KEYS", "").split(",") if k.strip()),
            mail=MailSettings.from_env(instance, env),
            secret_key=env.get("KAP12_SECRET_KEY") or None,
            proxy_hops=_whole(env, "KAP12_PROXY_HOPS", 0, 0, 10) or 0,
            owner_contact=env.get("KAP12_SKOLEEIER_KONTAKT") or cls.owner_contact,
            archive_name=(env.get("KAP12_ARKIV_NAVN") or "").strip() or cls.archive_name,
            session_idle_minutes=_whole(env, "KAP12_SESSION_IDLE_MINUTES", 60, 1, 7 * 24 * 60) or 60,
            metrics_token=env.get("KAP12_METRICS_TOKEN", "").strip(),
            web_workers=_whole(env, "KAP12_WEB_WORKERS", None, 1, 256),
            log_format=_one_of(env, "KAP12_LOG_FORMAT", ("text", "json")),
            metrics_dir=Path(env["PROMETHEUS_MULTIPROC_DIR"]) if env.get("PROMETHEUS_MULTIPROC_DIR") else None,
        )

    def mail_settings(self) -> MailSettings:
        return self.mail or MailSettings.from_env(self.instance_dir)
