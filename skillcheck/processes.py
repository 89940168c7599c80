"""Which process owns a run, and whether it is still alive.

A run records the host name and process id of the process executing it. On the same host a
dead owner means the run was interrupted (``kill -9``, a crash), which is known at once; a
heartbeat is the only sign of life there is across hosts.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def this_host() -> str:
    return socket.gethostname()


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host and is not a zombie.

    A zombie (killed, not yet reaped by its parent) executes nothing any more, so it is
    dead for our purpose although signalling it succeeds.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (not Linux): existence is all we can tell
    # The state follows the command name, which is in parentheses and may hold spaces.
    return stat[stat.rindex(")") + 2 :].split(" ", 1)[0] != "Z"


def owner_dead(host: str, pid: int | None) -> bool:
    """True only when the owner is known to be gone: same host, and no such process."""
    return bool(host) and pid is not None and host == this_host() and not process_alive(pid)
