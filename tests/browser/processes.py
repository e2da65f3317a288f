"""Process control for the browser tests' servers: free ports, sessions, stopping.

A Jupyter server runs in a session of its own (so its whole process group can be
signalled) and gets SIGTERM if pytest dies. Its kernels run in sessions of their own
too, so the servers find them by the temporary runtime dir their command lines name
(`pids_mentioning`), and `terminate` ends them: SIGTERM to each (to its group when it
leads one), then SIGKILL to the stragglers.
"""

import contextlib
import os
import signal
import socket
import time
from pathlib import Path


def free_port():
    """Returns a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def die_with_parent():
    """In the child before exec: start a new session, and get SIGTERM if pytest dies.

    The death signal covers a SIGKILL of the test process, which no handler sees.
    """
    os.setsid()
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def pids_mentioning(text):
    """Pids of the processes whose command line contains `text` (Linux /proc)."""
    pids = []
    needle = text.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline:
            pids.append(int(entry.name))
    return pids


def alive(pid):
    """True while `pid` runs (a zombie counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def terminate(pids, grace=5.0):
    """SIGTERMs each pid (and its group when it leads one), then SIGKILLs the stragglers.

    Args:
        pids: the processes to end.
        grace: seconds to wait after each signal.

    Returns:
        The pids still alive after SIGKILL (an empty list when all is well).
    """
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if os.getpgid(pid) == pid and pid != os.getpgrp():
                    os.killpg(pid, sig)
                else:
                    os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(alive(p) for p in pids):
            time.sleep(0.1)
        pids = [p for p in pids if alive(p)]
        if not pids:
            return []
    return pids
