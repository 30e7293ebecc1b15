"""Alembic environment: runs on a connection handed over by `pytunes.storage.migrate`.

There is no alembic.ini and no URL here on purpose: the bot's own engine (with its SQLite pragmas
and transaction handling) is the only way migrations reach a database.
"""

from __future__ import annotations

from alembic import context

from pytunes.storage.schema import metadata

connection = context.config.attributes.get("connection")
if context.is_offline_mode() or connection is None:
    raise RuntimeError("run migrations through pytunes.storage.migrate (the `pytunes migrate` command)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things in place; batch mode makes generated operations portable.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
