"""Back to an older schema and up again, as a county upgrading from that version would."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from engine.store.db import MIGRATIONS


def upgrade_from(kap12, revision: str) -> None:
    """Downgrade ``kap12``'s database to ``revision`` (data kept where the schema allows), then
    upgrade it to the newest, through the migrations themselves."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with kap12.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
    kap12.db.upgrade()
