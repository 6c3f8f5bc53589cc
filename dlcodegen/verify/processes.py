"""A project's whole process tree, found and stopped: the children it starts (in their own session or process group
too) and theirs. The harness makes itself a child subreaper, so a project's double-forked daemons stay its
descendants; the runner stops the tree at the wall-clock limit, and the harness stops what is left before it exits.
Linux reads /proc; elsewhere only the process group is reached."""

from __future__ import annotations

import ctypes
import os
import signal

_PR_SET_CHILD_SUBREAPER = 36
_ROUNDS = 5  # a tree that forks while it is being stopped is walked again


def become_subreaper() -> bool:
    """Orphans among this process's descendants are re-parented to it (not to init). False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process in /proc (empty where /proc is missing)."""
    parents = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return parents
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()  # after "pid (comm) ": state, ppid, ...
        if len(fields) > 1:
            parents[int(name)] = int(fields[1])
    return parents


def descendants(pid: int) -> list[int]:
    """Every live descendant of `pid` (children first), from /proc."""
    children: dict[int, list[int]] = {}
    for child, parent in _parents().items():
        children.setdefault(parent, []).append(child)
    found, frontier = [], [pid]
    while frontier:
        below = [child for parent in frontier for child in children.get(parent, [])]
        found.extend(below)
        frontier = below
    return found


def _signal(pids: list[int], signum: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


def kill_descendants(pid: int) -> None:
    """SIGKILL every descendant of `pid`, leaving `pid` itself: the tree is frozen first (SIGSTOP) so nothing
    forks or is re-parented away while it is walked."""
    for _ in range(_ROUNDS):
        tree = descendants(pid)
        if not tree:
            return
        _signal(tree, signal.SIGSTOP)
        tree = descendants(pid)
        _signal(tree, signal.SIGKILL)


def kill_tree(pid: int) -> None:
    """SIGKILL `pid`, its process group and every descendant (those first, so none is orphaned to init)."""
    _signal([pid], signal.SIGSTOP)
    kill_descendants(pid)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    _signal([pid], signal.SIGKILL)
