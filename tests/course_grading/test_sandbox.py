"""The sandbox launcher's pure parts (course_grading.sandbox); the kernel itself runs in
tests/grading_runs/test_adversarial.py."""

from __future__ import annotations

import json
import os

from course_grading import sandbox


def test_limits_travel_through_the_environment() -> None:
    limits = sandbox.KernelLimits(2048, 120, 64, 100, isolate=False, hide=("/srv/course", "/x"))
    assert sandbox.KernelLimits.from_env(limits.to_env()) == limits


def test_missing_variables_mean_no_limits_and_isolation_on() -> None:
    assert sandbox.KernelLimits.from_env({}) == sandbox.KernelLimits()


def test_hidden_folders_cover_tmp_home_and_the_course_parents_first(tmp_path) -> None:
    course = tmp_path / "course"
    course.mkdir()
    folders = sandbox._hidden_folders(sandbox.KernelLimits(hide=(str(course),)))
    assert "/tmp" in folders
    assert str(course) not in folders or not str(course).startswith("/tmp/")  # covered by /tmp
    assert folders == sorted(folders, key=len)
    assert not any(a != b and sandbox._is_under(b, a) for a in folders for b in folders)


def test_the_kernelspec_runs_the_launcher_isolated() -> None:
    spec = json.loads((sandbox.KERNELS_DIR / sandbox.KERNEL_NAME / "kernel.json").read_text())
    assert spec["argv"][:4] == ["python", "-I", "-m", "course_grading.sandbox"]


def test_the_warning_says_what_is_not_protected() -> None:
    assert "solutions/" in sandbox.isolation_warning()
    assert "gradebook.db" in sandbox.isolation_warning()


def test_the_kernel_keeps_no_secrets_of_the_grader(monkeypatch) -> None:
    environment = {"AWS_SECRET_ACCESS_KEY": "secret", "GITHUB_TOKEN": "secret", "HOME": "/root",
                   "PATH": "/usr/bin", "TF_CPP_MIN_LOG_LEVEL": "2",
                   "COURSE_SANDBOX_MEMORY_MB": "1024"}
    monkeypatch.setattr(os, "environ", environment)  # a copy: the real one is left alone
    sandbox._clean_environment()
    assert sorted(environment) == ["COURSE_SANDBOX_MEMORY_MB", "PATH", "TF_CPP_MIN_LOG_LEVEL"]
