"""The sandbox launcher's pure parts (course_grading.sandbox); sealed kernels run in
tests/course_grading/test_sealed_kernel.py and tests/grading_runs/."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from course_grading import sandbox


def test_limits_travel_through_the_environment() -> None:
    limits = sandbox.KernelLimits(2048, 120, 64, 100, isolate=False)
    assert sandbox.KernelLimits.from_env(limits.to_env()) == limits


def test_missing_variables_mean_no_limits_and_isolation_on() -> None:
    assert sandbox.KernelLimits.from_env({}) == sandbox.KernelLimits()


def test_the_kernelspec_runs_the_launcher_and_interrupts_by_message() -> None:
    spec = json.loads((sandbox.KERNELS_DIR / sandbox.KERNEL_NAME / "kernel.json").read_text())
    assert spec["argv"][:4] == ["python", "-I", "-m", "course_grading.sandbox"]
    assert spec["interrupt_mode"] == "message"  # a signal would stop at the launcher


def test_the_warning_says_what_is_not_protected() -> None:
    assert "solutions/" in sandbox.isolation_warning()
    assert "gradebook.db" in sandbox.isolation_warning()
    assert "bubblewrap" in sandbox.isolation_warning()


def test_the_kernel_keeps_no_secrets_of_the_grader() -> None:
    environment = {"AWS_SECRET_ACCESS_KEY": "secret", "GITHUB_TOKEN": "secret", "HOME": "/root",
                   "PATH": "/usr/bin", "TF_CPP_MIN_LOG_LEVEL": "2", "JPY_PARENT_PID": "7",
                   "COURSE_SANDBOX_MEMORY_MB": "1024"}
    kept = sandbox.kernel_environment(environment)
    assert {"AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "JPY_PARENT_PID",
            "COURSE_SANDBOX_MEMORY_MB"}.isdisjoint(kept)
    assert kept["HOME"] == "/tmp" and kept["TF_CPP_MIN_LOG_LEVEL"] == "2"


def test_the_kernel_sees_the_environment_but_no_course_folder() -> None:
    folders = sandbox.visible_folders()
    assert any(f.endswith("course_utils") for f in folders)
    assert not any(f.endswith(("course_grading", "solutions")) for f in folders)
    assert not any(a != b and b.startswith(a + "/") for a in folders for b in folders)


def test_bwrap_gets_every_namespace_a_capped_tmp_and_a_clean_environment() -> None:
    args = sandbox.bwrap_arguments(
        1_500_000_123, [("/tmp/0", "/opt/env", False), ("/tmp/1", "/run/sockets", True)],
        sandbox.KernelLimits(file_mb=64), {"HOME": "/tmp"})
    text = " ".join(args)
    assert args[0] == "bwrap" and "--unshare-all" in args and "--die-with-parent" in args
    assert "--new-session" in args and "--share-net" not in args
    assert "--uid 1500000123 --gid 1500000123" in text
    assert f"--size {64 * 2**20} --perms 1777 --tmpfs /tmp" in text
    assert "--ro-bind /tmp/0 /opt/env" in text and "--bind /tmp/1 /run/sockets" in text
    assert "--clearenv --setenv HOME /tmp" in text
    assert "/home" not in args and "/run" not in args and "/proc/self" not in text


LAUNCHER = """
import signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: (open(sys.argv[1], "w").write("cleaned up"), sys.exit(0)))
print("ready", flush=True)
time.sleep(60)
"""


def test_stop_asks_the_launcher_to_clean_up_and_waits_for_it(tmp_path) -> None:
    marker = tmp_path / "marker"
    launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(marker)],
                                stdout=subprocess.PIPE, text=True)
    try:
        assert launcher.stdout.readline() == "ready\n"
        started = time.monotonic()
        sandbox.stop(launcher.pid)
        assert time.monotonic() - started < 4  # it returned when the launcher ended
        assert launcher.wait(timeout=1) == 0
        assert marker.read_text() == "cleaned up"
    finally:
        launcher.kill()
        launcher.wait()


def test_stop_of_a_launcher_already_gone_returns() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    sandbox.stop(gone.pid)


def test_a_warm_kernel_is_asked_for_with_the_cold_kernels_program_and_environment() -> None:
    limits = sandbox.KernelLimits(100, 10, 5, 20)
    request = sandbox._warm_request(limits, "/s/kernel.json", ["--x"], True,
                                    {"PATH": "/usr/bin"}, "/tmp/work")
    cold = sandbox._kernel_command("/s/kernel.json", ["--x"], True)
    assert cold[:3] == [sys.executable, "-I", sandbox.REFEREE]
    assert request["main"] == sandbox.REFEREE and request["argv"] == cold[2:]
    assert request["environment"] == {"PATH": "/usr/bin", "COURSE_REFEREE_FD": "3"}
    assert sandbox.KernelLimits(**request["limits"]) == limits and request["cwd"] == "/tmp/work"
    plain = sandbox._warm_request(limits, "/s/kernel.json", [], False, {}, "/w")
    assert plain["main"] == "-m ipykernel_launcher" and plain["environment"] == {}
