"""Storage foundation: engines, schema and migrations. Holds no feature logic.

`migrate(url)`, the CLI's synchronous entry, lives in `pytunes.storage.migrate` and is not
re-exported: a package attribute of that name would shadow the submodule.
"""

from pytunes.storage import engine as _engine
from pytunes.storage.database import Database
from pytunes.storage.engine import create_engine, normalize_url
from pytunes.storage.migrate import migrate_to_head

# `Database` used to live in `engine`; `from pytunes.storage.engine import Database` keeps working (this
# package runs before any of its modules is imported) until tests/e2e/test_music_restore_faults.py, the
# last such importer, imports it from `pytunes.storage`. `engine` itself imports nothing back.
_engine.Database = Database  # type: ignore[attr-defined]

__all__ = ["Database", "create_engine", "migrate_to_head", "normalize_url"]
