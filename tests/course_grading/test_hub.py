"""Unit tests of course_grading.hub and deploy/jupyterhub/jupyterhub_config.py (no hub is started;
tests/grading_runs/test_class_hub.py runs a whole term's loop)."""

from __future__ import annotations

import json
import os
import socket
import stat
import tempfile
from pathlib import Path

import pytest
from traitlets.config.loader import PyFileConfigLoader

from course_grading import hub
from course_grading.course import GradingError
from tests.support import REPO

DEPLOY = hub.deploy_folder(REPO)

SETTINGS = {
    "state": "/srv/class", "port": 8000, "hub_port": 8001, "proxy_api_port": 8002,
    "proxy": "/srv/proxy", "python": "/srv/class/python/env/bin/python",
    "instructor": "teacher", "students": ["ada", "bob"], "course": "/home/teacher/course",
    "exchange": "/srv/class/exchange", "course_id": "a-course", "admin_token": "t" * 64,
    "python_environment": {"LD_LIBRARY_PATH": "/srv/class/python/base/lib"},
}


@pytest.fixture()
def hub_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps(SETTINGS))
    monkeypatch.setenv("COURSE_HUB_SETTINGS", str(settings))
    return PyFileConfigLoader("jupyterhub_config.py", path=str(DEPLOY)).load_config()


class FakeSpawner:
    def __init__(self, name: str, config) -> None:
        self.user = type("User", (), {"name": name})()
        self.environment = dict(config.Spawner.environment)
        self.cmd = list(config.Spawner.cmd)
        self.notebook_dir = ""


def test_the_hub_listens_on_loopback_only(hub_config) -> None:
    assert hub_config.JupyterHub.bind_url == "http://127.0.0.1:8000"
    assert hub_config.JupyterHub.hub_ip == "127.0.0.1", "the hub's API must not leave the machine"
    assert hub_config.Spawner.ip == "127.0.0.1", "users' servers must not leave the machine"
    assert hub_config.ConfigurableHTTPProxy.api_url == "http://127.0.0.1:8002"


def test_only_the_class_logs_in_and_only_the_instructor_is_admin(hub_config) -> None:
    assert hub_config.Authenticator.allowed_users == {"teacher", "ada", "bob"}
    assert hub_config.Authenticator.admin_users == {"teacher"}


def test_every_server_runs_the_class_python_with_what_it_needs(hub_config) -> None:
    assert hub_config.Spawner.cmd == [SETTINGS["python"], "-m", "jupyterhub.singleuser"]
    environment = hub_config.Spawner.environment
    assert environment["PATH"].startswith("/srv/class/python/env/bin:"), environment["PATH"]
    assert environment["LD_LIBRARY_PATH"] == "/srv/class/python/base/lib"
    assert environment["COURSE_EXCHANGE"] == "/srv/class/exchange"


def test_the_instructor_starts_in_the_course_and_students_in_their_home(hub_config) -> None:
    teacher, student = FakeSpawner("teacher", hub_config), FakeSpawner("ada", hub_config)
    hub_config.Spawner.pre_spawn_hook(teacher)
    hub_config.Spawner.pre_spawn_hook(student)
    assert teacher.environment["JUPYTER_CONFIG_PATH"] == "/srv/class/jupyter/instructor"
    assert student.environment["JUPYTER_CONFIG_PATH"] == "/srv/class/jupyter/student"
    assert teacher.notebook_dir == "/home/teacher/course" and student.notebook_dir == ""
    assert teacher.cmd[:4] == ["/bin/sh", "-c", 'cd "$0" && exec "$@"', "/home/teacher/course"], \
        "nbgrader reads the course's config from the folder its server starts in"
    assert teacher.cmd[4:] == student.cmd, "the instructor runs the same server program"


def test_students_have_the_assignments_panel_and_not_the_formgrader() -> None:
    student = json.loads((DEPLOY / "student/jupyter_server_config.json").read_text())
    extensions = student["ServerApp"]["jpserver_extensions"]
    assert extensions["nbgrader.server_extensions.formgrader"] is False
    assert extensions["nbgrader.server_extensions.assignment_list"] is True
    teacher = json.loads((DEPLOY / "instructor/jupyter_server_config.json").read_text())
    assert teacher["ServerApp"]["jpserver_extensions"]["nbgrader.server_extensions.formgrader"]


def test_the_hub_needs_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(GradingError, match="runs as root"):
        hub.ClassHub(Path("."), "teacher", ["ada"])
    assert hub.main(["--students", "ada"]) == 1, "the command line reports it as an error"


def test_the_instructor_is_not_a_student(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    with pytest.raises(GradingError, match="both the instructor and a student"):
        hub.ClassHub(Path("."), "ada", ["ada", "bob"])


def test_runnable_by_all_needs_every_folder_above_searchable() -> None:
    with tempfile.TemporaryDirectory() as scratch:  # pytest's own tmp_path is private (0700)
        _checkrunnable_by_all(Path(scratch))


def _checkrunnable_by_all(tmp_path: Path) -> None:
    private, shared = tmp_path / "private", tmp_path / "shared"
    for folder in (private, shared):
        (folder / "bin").mkdir(parents=True)
        (folder / "bin" / "python").write_text("")
        (folder / "bin" / "python").chmod(0o755)
    tmp_path.chmod(0o755)
    private.chmod(0o700)
    assert hub.runnable_by_all(shared / "bin" / "python"), "an open path is usable"
    assert not hub.runnable_by_all(private / "bin" / "python"), "a 0700 folder above blocks it"
    (shared / "bin" / "python").chmod(0o744)
    assert not hub.runnable_by_all(shared / "bin" / "python"), "others may not execute it"
    assert hub.runnable_by_all(shared / "bin" / "python", need_execute=False)
    assert not hub.runnable_by_all(tmp_path / "missing")


def test_console_scripts_are_started_by_the_class_python(tmp_path: Path) -> None:
    scripts, target = tmp_path / "scripts", tmp_path / "env" / "bin"
    scripts.mkdir()
    target.mkdir(parents=True)
    (scripts / "nbgrader").write_text("#!/private/python3.11\nimport nbgrader\n")
    (scripts / "tool").write_bytes(b"\x7fELF binary")
    (scripts / "run.sh").write_text("#!/bin/sh\necho hi\n")
    hub._copy_scripts(scripts, target / "python")
    assert (target / "nbgrader").read_text() == f"#!{target / 'python'}\nimport nbgrader\n"
    assert (target / "nbgrader").stat().st_mode & stat.S_IXOTH, "everyone may run it"
    assert not (target / "tool").exists() and not (target / "run.sh").exists(), \
        "only Python scripts are copied"


def test_free_port_is_free_on_loopback() -> None:
    port = hub.free_port()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


def test_system_accounts_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    class_hub = hub.ClassHub(Path("."), "root", ["ada"])
    with pytest.raises(GradingError, match="system account"):
        class_hub._ensure_account("root")
