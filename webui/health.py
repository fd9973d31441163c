"""For load balancers and monitoring: ``/healthz`` (the process answers), ``/readyz`` (the
database answers and its schema is the one this code expects, or newer) and ``/metrics`` (Prometheus).

None of them needs a log-in and none says anything about a case: the probes answer a status
word, the metrics are counts and durations. Who may read ``/metrics``: with
``KAP12_METRICS_TOKEN`` set, whoever sends ``Authorization: Bearer <token>``; without it, only
a client on this machine (loopback) that did not come through a proxy, and no one when kap12 is
configured to stand behind one (``KAP12_PROXY_HOPS``)."""
from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from pathlib import Path

from flask import Blueprint, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from engine.config import Settings
from engine.read import operations
from engine.read.readiness import READY
from engine.runtime.metrics import LATENCY_BUCKETS

bp = Blueprint("health", __name__)
log = logging.getLogger("kap12.web")

REQUEST_SECONDS = Histogram("kap12_http_request_seconds", "Time to answer a request, by route.",
                            ["method", "route", "status"], buckets=LATENCY_BUCKETS)


def kap12():
    return current_app.extensions["kap12"]


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    status = kap12().readiness()
    return {"status": status}, 200 if status == READY else 503


# Any of these says a proxy passed the request on, from wherever its client was: nginx's common
# snippets send X-Real-IP alone, others Via or X-Forwarded-Proto/Host (reviewed: X-Real-IP alone
# was let in as this machine).
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP", "Via", "X-Forwarded-Proto", "X-Forwarded-Host",
                 "X-Forwarded-Port", "X-Client-IP", "True-Client-IP", "CF-Connecting-IP")


def _may_read_metrics() -> bool:
    settings = kap12().settings
    if settings.metrics_token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode("utf-8", "replace"), f"Bearer {settings.metrics_token}".encode())
    if settings.proxy_hops or any(request.headers.get(name) for name in PROXY_HEADERS):
        # Behind a proxy every request comes through this machine's loopback, whoever sent it
        # (one that adds no header, a tunnel or a TCP proxy, is told apart by nothing else).
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def metrics():
    if not _may_read_metrics():
        return Response("Ingen tilgang til målingene.\n", 403, mimetype="text/plain")
    body = generate_latest(_registry(kap12().settings.metrics_dir)) + generate_latest(_database_counts())
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def _registry(metrics_dir: Path | None) -> CollectorRegistry:
    if metrics_dir is None:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # every worker's and sweeper's values, added up
    return registry


def serve_sweeper_metrics(settings: Settings, host: str, port: int) -> None:
    """A sweeper's own metrics (timers fired and how late, steps) on ``host:port``, for a sweeper
    on a machine without web workers, whose ``/metrics`` it cannot join. Counts only, and no
    log-in: bind it to the loopback or a network only the monitoring reaches."""
    start_http_server(port, addr=host, registry=_registry(settings.metrics_dir))


def _database_counts() -> CollectorRegistry:
    counts = operations.counts(kap12().db)
    incidents = GaugeMetricFamily("kap12_open_incidents", "Timers that failed too often and wait for a person.")
    incidents.add_metric([], counts.open_incidents)
    mails = GaugeMetricFamily("kap12_mails_waiting", "Notices waiting to be mailed.")
    mails.add_metric([], counts.mails_waiting)
    cases = GaugeMetricFamily("kap12_open_cases", "Open cases by kind, procedure and stage.",
                              labels=["kind", "procedure", "stage"])
    for kind, procedure, stage, n in counts.open_cases:
        cases.add_metric([kind, procedure, stage], n)
    registry = CollectorRegistry()
    registry.register(_Fixed([incidents, mails, cases]))
    return registry


class _Fixed:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


def start_timer() -> None:
    g.request_started = time.perf_counter()


def observe(response):
    started = g.get("request_started")
    if started is not None:
        route = request.url_rule.rule if request.url_rule is not None else "(ingen)"
        REQUEST_SECONDS.labels(request.method, route, str(response.status_code)).observe(
            time.perf_counter() - started)
    return response
