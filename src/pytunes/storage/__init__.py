"""Storage foundation: engines, schema and migrations. Holds no feature logic.

`migrate(url)`, the CLI's synchronous entry, lives in `pytunes.storage.migrate` and is not
re-exported: a package attribute of that name would shadow the submodule.
"""

from pytunes.storage.database import Database
from pytunes.storage.engine import create_engine, normalize_url
from pytunes.storage.migrate import migrate_to_head

__all__ = ["Database", "create_engine", "migrate_to_head", "normalize_url"]
