"""course_grading.nbgrader_call: nbgrader commands in forked children of one server process."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from course_grading import nbgrader_call
from course_grading.course import GradingError


@pytest.fixture(scope="module")
def runner():
    with nbgrader_call.NbgraderRunner() as nbgrader:
        yield nbgrader


def test_each_command_runs_in_the_given_folder_and_returns_its_output(runner, tmp_path) -> None:
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'course-in-tmp'\n")
    result = runner.run(tmp_path, "--version")
    assert result.returncode == 0 and "nbgrader version" in result.stdout
    assert runner.run(tmp_path, "--version").stdout == result.stdout  # the server serves again


def test_a_failing_command_raises_with_nbgraders_log(runner, tmp_path) -> None:
    with pytest.raises(GradingError, match=r"`nbgrader autograde no-such-assignment` failed"):
        runner.run(tmp_path, "autograde", "no-such-assignment")
    result = runner.run(tmp_path, "autograde", "no-such-assignment", check=False)
    assert result.returncode != 0 and result.stderr


def test_a_child_past_its_timeout_is_killed_with_its_process_group() -> None:
    pid = os.fork()
    if pid == 0:  # a child that would outlive the test, with a grandchild in its group
        os.setsid()
        if os.fork() == 0:
            time.sleep(60)
        time.sleep(60)
        os._exit(0)
    start = time.monotonic()
    assert nbgrader_call._wait(pid, timeout=0.5) == -9
    assert time.monotonic() - start < 10
    for _ in range(50):  # the orphaned grandchild is reaped by init shortly after
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("a process of the killed group is still alive")


def test_without_a_server_each_command_starts_its_own_process(tmp_path: Path) -> None:
    runner = nbgrader_call.NbgraderRunner()
    runner.forks = False
    with runner:
        assert "nbgrader version" in runner.run(tmp_path, "--version").stdout
    with pytest.raises(GradingError, match="not running"):
        nbgrader_call.NbgraderRunner().run(tmp_path, "--version")
