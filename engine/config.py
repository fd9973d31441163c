"""Configuration by environment, with an embedded default (DESIGN.md rule 8)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str
    instance_dir: Path
    bpmn_dir: Path
    base_url: str

    @classmethod
    def from_env(cls, env: dict | None = None) -> "Settings":
        env = os.environ if env is None else env
        instance = Path(env.get("KAP12_INSTANCE_DIR") or PROJECT_ROOT / "instance")
        url = env.get("KAP12_DATABASE_URL") or f"sqlite:///{instance / 'kap12.sqlite3'}"
        return cls(
            database_url=url,
            instance_dir=instance,
            bpmn_dir=Path(env.get("KAP12_BPMN_DIR") or PROJECT_ROOT / "bpmn"),
            base_url=env.get("KAP12_BASE_URL", "http://127.0.0.1:5000"),
        )
