"""Control groups of one kernel (course_grading.cgroups): made, joined, emptied, removed."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from course_grading import cgroups

pytestmark = pytest.mark.skipif(not cgroups.available(), reason="needs root and cgroups")


def test_a_group_caps_the_whole_tree_and_nothing_survives_its_removal() -> None:
    group = cgroups.create(f"test-{os.getpid()}", 256 * 2**20, 20)
    try:
        # a process that joins the group itself, then forks children that allocate memory
        code = ("import os, sys, time\n"
                f"open({str(group.folders[0] / 'cgroup.procs')!r}, 'w').write(str(os.getpid()))\n"
                + "".join(f"open({str(f / 'cgroup.procs')!r}, 'w').write(str(os.getpid()))\n"
                          for f in group.folders[1:])
                + "kids = []\n"
                "for _ in range(3):\n"
                "    pid = os.fork()\n"
                "    if pid == 0:\n"
                "        data = bytearray(120 * 2**20)\n"
                "        data[::4096] = b'x' * len(data[::4096])\n"
                "        time.sleep(60)\n"
                "        os._exit(0)\n"
                "    kids.append(pid)\n"
                "print(' '.join(map(str, kids)), flush=True)\n"
                "time.sleep(60)\n")
        process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                   text=True, start_new_session=True)
        kids = [int(p) for p in process.stdout.readline().split()]
        time.sleep(1.5)
        statuses = [os.path.exists(f"/proc/{pid}") and
                    open(f"/proc/{pid}/stat").read().split()[2] != "Z" for pid in kids]
        assert not all(statuses)  # 3 x 120 MiB does not fit in 256 MiB: one was killed
        assert group.processes()  # the rest are still there
        left = group.remove()
        assert process.pid in left
        process.wait(timeout=10)
        assert not group.processes()
        assert not any(f.exists() for f in group.folders)
    finally:
        group.remove()


def test_removing_a_group_that_is_gone_is_harmless() -> None:
    assert cgroups.group_for("never-made").remove() == set()
