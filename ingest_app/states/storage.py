"""Where Reflex keeps the UI state between events, and who may read it.

The state holds no token, but it does hold the socket's request headers (the session cookie among
them) and the user's data. The default "disk" state manager pickles it under `.states/`; that
directory is made private to the server's user (0700) before anything is written, so no other
local account can read a file in it, whatever mode Reflex gives the files. Production runs more than
one backend process and uses Redis (`REFLEX_REDIS_URL`), whose storage is the Redis server's.
"""

from __future__ import annotations

import os
from pathlib import Path

from reflex_base.environment import environment


def state_storage_dir() -> Path:
    return Path(environment.REFLEX_STATES_WORKDIR.get())


def make_state_storage_private(path: Path | None = None) -> Path:
    """Create the state directory as 0700 (or narrow an existing one to it)."""
    path = path or state_storage_dir()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path
