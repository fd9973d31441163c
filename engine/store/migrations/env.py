"""Alembic environment: run against the connection kap12 hands over (Database.upgrade), or
against sqlalchemy.url when run from the alembic command line."""
import warnings

from alembic import context
from sqlalchemy import engine_from_config, exc, pool

from engine.store.models import Base

config = context.config
target_metadata = Base.metadata

# A batch operation on SQLite (a table copied to change a column) reads the tables the altered one
# refers to, and SQLAlchemy cannot read the expression index ix_cases_open_stage_order on the
# cases: it says so, in the middle of `make run`'s output. The copy is of the altered table alone,
# which that index is not on.
warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index",
                        category=exc.SAWarning)


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section) or {},
                                prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata,
                          render_as_batch=conn.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()


run()
