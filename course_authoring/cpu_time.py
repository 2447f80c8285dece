"""Run a command and say what CPU time it cost: ``python -m course_authoring.cpu_time CMD ...``.

``make test`` runs pytest through it. Two counts are printed at the end, whatever the command's
exit status (which is passed on): user + system time of the command's own processes, as
``/usr/bin/time`` counts it, and the whole machine's, which also holds what never reaches
``getrusage`` (a sandboxed grading kernel is killed, not waited for, by its launcher).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["children_cpu_seconds", "machine_cpu_seconds", "main"]


def children_cpu_seconds() -> float:
    """User + system seconds of this process's children that have ended and been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_cpu_seconds(stat: Path = Path("/proc/stat")) -> float | None:
    """User + nice + system seconds of every CPU since boot; None where /proc/stat is missing."""
    try:
        first = stat.read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if not first or first[0] != "cpu" or len(first) < 4:
        return None
    return sum(int(field) for field in first[1:4]) / os.sysconf("SC_CLK_TCK")


def summary(children: float, machine: float | None, wall: float) -> str:
    """The line printed at the end."""
    text = f"CPU time: {children / 60:.1f} min (user + system of its processes)"
    if machine is not None:
        text += f", {machine / 60:.1f} min (the whole machine)"
    return text + f"; wall time {wall / 60:.1f} min"


def main(argv: list[str] | None = None) -> int:
    """Run ``argv`` (the command and its arguments); print its CPU time; its exit status."""
    command = list(sys.argv[1:] if argv is None else argv)
    if not command:
        print("usage: python -m course_authoring.cpu_time COMMAND [ARGS ...]", file=sys.stderr)
        return 2
    children, machine, started = children_cpu_seconds(), machine_cpu_seconds(), time.monotonic()
    try:
        status = subprocess.call(command)
    except KeyboardInterrupt:
        status = 130
    machine_after = machine_cpu_seconds()
    print(summary(children_cpu_seconds() - children,
                  None if machine is None or machine_after is None else machine_after - machine,
                  time.monotonic() - started), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
