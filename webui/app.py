"""The Flask app factory. Pages translate HTTP to engine calls and back; no business rules."""
from __future__ import annotations

from flask import Flask, render_template


def create_app(kap12=None, **config) -> Flask:
    from engine.service import Kap12

    app = Flask(__name__)
    app.config.update(config)
    app.extensions["kap12"] = kap12 or Kap12()

    @app.get("/")
    def index():
        return render_template("index.html")

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app
