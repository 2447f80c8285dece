"""Control groups that cap one grading kernel's whole process tree (instructors).

A kernel's memory and process limits must hold for everything it starts, not per process: a
submission that forks three children must not get three times the memory. Each sandboxed
kernel (:mod:`course_grading.sandbox`) therefore runs in a memory and a pids control group of its
own, made under the grader's own groups (``/proc/self/cgroup``), and removed after the kernel,
with whatever is still in them killed. Linux's cgroup v1 (one folder per controller) and v2 (one
unified folder) are both handled; creating groups needs root.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["KernelGroup", "available", "create", "group_for"]

ROOT = Path("/sys/fs/cgroup")
PARENT = "course-grading"  # the folder, under the grader's own group, that holds the kernels'
CONTROLLERS = ("memory", "pids")


def _own_paths() -> dict[str, str]:
    """The grader's group per controller ('' for cgroup v2's unified hierarchy)."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path.lstrip("/")
    return paths


def _parents() -> list[Path] | None:
    """The folders under which kernels' groups are made, or None without usable cgroups."""
    own = _own_paths()
    if all((ROOT / c).is_dir() and c in own for c in CONTROLLERS):  # cgroup v1
        return [ROOT / c / own[c] / PARENT for c in CONTROLLERS]
    if (ROOT / "cgroup.controllers").is_file() and "" in own:  # cgroup v2
        return [ROOT / own[""] / PARENT]
    return None


@dataclass(frozen=True)
class KernelGroup:
    """The control groups of one kernel: one folder per controller (one with cgroup v2)."""

    folders: tuple[Path, ...]

    def join(self, pid: int) -> None:
        """Move the process ``pid`` (and so all it will start) into the groups."""
        for folder in self.folders:
            (folder / "cgroup.procs").write_text(str(pid))

    def processes(self) -> set[int]:
        """The processes in the groups now."""
        found: set[int] = set()
        for folder in self.folders:
            try:
                found |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
            except FileNotFoundError:
                continue
        return found

    def remove(self, wait: float = 5.0) -> set[int]:
        """Kill whatever is left in the groups, then remove them; return the PIDs that were left."""
        left = self.processes()
        deadline = time.monotonic() + wait
        while (alive := self.processes()) and time.monotonic() < deadline:
            for pid in alive:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)
        for folder in self.folders:
            try:
                folder.rmdir()
            except FileNotFoundError:
                pass
        return left

    def peak_memory_mb(self) -> float | None:
        """The most memory the group held at once, where the kernel reports it."""
        for folder in self.folders:
            for name in ("memory.max_usage_in_bytes", "memory.peak"):
                if (folder / name).is_file():
                    return int((folder / name).read_text()) / 2**20
        return None


def available() -> bool:
    """True when this process can make kernels' control groups (root, cgroup v1 or v2)."""
    if os.geteuid() != 0:
        return False
    parents = _parents()
    if parents is None:
        return False
    try:
        for parent in parents:
            _make_parent(parent)
    except OSError:
        return False
    return True


def _make_parent(parent: Path) -> None:
    parent.mkdir(exist_ok=True)
    if not (parent / "cgroup.subtree_control").is_file():  # cgroup v1: nothing to switch on
        return
    # cgroup v2: the controllers must be enabled for the parent's children, and on the way
    enabled = set((parent.parent / "cgroup.subtree_control").read_text().split())
    if not set(CONTROLLERS) <= enabled:
        (parent.parent / "cgroup.subtree_control").write_text(
            " ".join(f"+{c}" for c in CONTROLLERS))
    (parent / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in CONTROLLERS))


def group_for(name: str) -> KernelGroup:
    """The groups called ``name`` (made or not)."""
    parents = _parents() or []
    return KernelGroup(tuple(parent / name for parent in parents))


def create(name: str, memory_bytes: int, processes: int) -> KernelGroup:
    """Make the groups ``name`` with these limits (0: no limit); raises OSError if it cannot."""
    group = group_for(name)
    if not group.folders:
        raise OSError("no usable control groups on this machine")
    for folder in group.folders:
        _make_parent(folder.parent)
        folder.mkdir(exist_ok=True)
        limits: dict[str, int] = {}
        if memory_bytes:
            limits |= {"memory.limit_in_bytes": memory_bytes,  # v1
                       "memory.memsw.limit_in_bytes": memory_bytes,  # v1 with swap accounting
                       "memory.max": memory_bytes, "memory.swap.max": 0}  # v2
        if processes:
            limits["pids.max"] = processes
        for key, value in limits.items():
            if (folder / key).is_file():
                (folder / key).write_text(str(value))
    return group
