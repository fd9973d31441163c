"""Log lines: plain text for a person at a terminal, or one JSON object per line when
``KAP12_LOG_FORMAT=json`` (for a log collector). The same for kap12's own loggers and gunicorn's."""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has; anything else was passed with extra= and is kept as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                "pid": record.process}
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: int, log_format: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def gunicorn_config(level: int, log_format: str) -> dict | None:
    """gunicorn's logging as JSON lines too (None: gunicorn's own text format)."""
    if log_format != "json":
        return None
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"json": {"()": "webui.logs.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"level": logging.getLevelName(level), "handlers": ["console"]},
        "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
                    "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False}},
    }


def say(text: str, log_format: str) -> None:
    """A line to the operator on stderr (``kap12 serve``'s "running on …"): as it is at a
    terminal, as one JSON object among the log's when they are JSON (a collector read the plain
    first line of every start as a broken record)."""
    if log_format != "json":
        print(text, file=sys.stderr, flush=True)
        return
    record = logging.LogRecord("kap12.web", logging.INFO, __file__, 0, text, None, None)
    print(JsonFormatter().format(record), file=sys.stderr, flush=True)
