"""A class on one machine: JupyterHub, an instructor, students, the nbgrader exchange (instructors).

``with ClassHub(course_root, "teacher", ["ada", "bob"]) as hub:`` makes (as root) the machine
accounts that are missing, a Python every account may run that sees the course environment, a
shared exchange folder, a PostgreSQL gradebook that only the instructor's group can reach, and a
copy of the course in the instructor's home (``~/course``); then starts JupyterHub with the
course root's ``deploy/jupyterhub/jupyterhub_config.py`` on ``http://127.0.0.1:<port>``.
Leaving the block stops the hub, the users' servers and the database, and removes the state
folder; accounts and homes stay (:func:`remove_accounts` is for tests).
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType

from course_grading.course import CONFIG_FILE, GradingError, folder, load_config
from course_grading.postgres import TemporaryPostgres

__all__ = ["ClassHub", "deploy_folder", "free_port", "proxy_program", "remove_accounts",
           "runnable_by_all", "user_python"]

COURSE_FOLDER = "course"  # the instructor's copy of the course, in their home
# what follows it in the copy's nbgrader_config.py is rewritten at each start
HUB_SETTINGS_MARKER = "# --- The class hub's gradebook and exchange (course_grading.hub) ---"
START_TIMEOUT = 60  # seconds for the hub to answer
FIRST_USER_ID = 1000  # Debian's accounts of people start here; below are the system's


def deploy_folder(course_root: Path) -> Path:
    """The hub's configuration and the roles' Jupyter settings, in the course root."""
    return Path(course_root) / "deploy" / "jupyterhub"


def proxy_program(course_root: Path) -> Path:
    """configurable-http-proxy, as ``make setup`` installs it (npm ci) in the course root."""
    return Path(course_root) / "node_modules" / ".bin" / "configurable-http-proxy"


class ClassHub:
    """JupyterHub for one instructor and ``students`` on this machine (root only; see above)."""

    def __init__(self, course_root: Path, instructor: str, students: list[str],
                 port: int = 8000) -> None:
        if os.geteuid() != 0:
            raise GradingError("the class hub runs as root: it makes accounts and starts each "
                               "user's server as that user (sudo make hub)")
        if instructor in students:
            raise GradingError(f"{instructor!r} cannot be both the instructor and a student")
        self.course_root = Path(course_root).resolve()
        self.instructor = instructor
        self.students = list(students)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.passwords: dict[str, str] = {}  # of the accounts made now; others keep theirs
        self.admin_token = secrets.token_hex(32)
        self.python_environment: dict[str, str] = {}  # what the users' Python needs to run
        self.state: Path | None = None
        self._resources = ExitStack()  # what leaving the block stops: the database
        self._hub: subprocess.Popen | None = None

    @property
    def exchange(self) -> Path:
        return self._state() / "exchange"

    @property
    def course(self) -> Path:
        """The instructor's course folder (their copy of the course root)."""
        return Path(pwd.getpwnam(self.instructor).pw_dir) / COURSE_FOLDER

    def __enter__(self) -> ClassHub:
        try:
            self.state = Path(tempfile.mkdtemp(prefix="course-hub-"))
            self.state.chmod(0o755)  # every user's server reaches the exchange and the Python in it
            for name in [self.instructor, *self.students]:
                self._ensure_account(name)
            python, self.python_environment = user_python(self.state / "python")
            self._make_exchange()
            self._copy_role_configs()
            instructor_group = pwd.getpwnam(self.instructor).pw_gid
            self._check_group_is_private(instructor_group)
            database = TemporaryPostgres(clients_group=instructor_group)
            self._resources.enter_context(database)
            self._copy_course(database.url)
            self._start_hub(python)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._hub is not None and self._hub.poll() is None:
            self._hub.send_signal(signal.SIGTERM)  # the hub stops the proxy and every server
            try:
                self._hub.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._hub.kill()
                self._hub.wait()
        self._hub = None
        self._resources.close()
        if self.state is not None:
            shutil.rmtree(self.state, ignore_errors=True)
            self.state = None

    def api(self, method: str, path: str, body: dict | None = None) -> dict | list | None:
        """Call the hub's REST API (``/hub/api`` + ``path``) with the course's admin token."""
        request = urllib.request.Request(
            f"{self.url}/hub/api{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.admin_token}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None

    def _state(self) -> Path:
        if self.state is None:
            raise GradingError("the class hub is not running (use ClassHub in a with block)")
        return self.state

    def _ensure_account(self, name: str) -> None:
        try:
            account = pwd.getpwnam(name)
        except KeyError:
            account = None
        if account is not None:
            if account.pw_uid < FIRST_USER_ID:
                raise GradingError(f"{name!r} is a system account (uid {account.pw_uid}): "
                                   "choose a person's account or a new name")
            return  # an existing account keeps its password and home
        _run("useradd", "--create-home", "--shell", "/bin/bash", name)
        home = Path(pwd.getpwnam(name).pw_dir)
        home.chmod(0o700)  # nobody else reads a user's work
        password = secrets.token_urlsafe(12)
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
        self.passwords[name] = password

    def _make_exchange(self) -> None:
        """The exchange, with the course's folder in it made for the instructor now: nobody may
        make it first, nor (the sticky bit) rename or remove it. nbgrader sets the permissions of
        what the instructor makes in it (students may write into ``inbound/`` but not list it)."""
        self.exchange.mkdir()
        self.exchange.chmod(0o1777)  # nbgrader wants everyone to write in its root
        course = self.exchange / load_config(self.course_root).CourseDirectory.course_id
        course.mkdir(mode=0o755)
        account = pwd.getpwnam(self.instructor)
        os.chown(course, account.pw_uid, account.pw_gid)

    def _check_group_is_private(self, gid: int) -> None:
        group = grp.getgrgid(gid)
        students = [s for s in self.students
                    if s in group.gr_mem or pwd.getpwnam(s).pw_gid == gid]
        if students:
            raise GradingError(f"the gradebook is open to the group {group.gr_name!r} of "
                               f"{self.instructor!r}, and students are in it: {students}")

    def _copy_role_configs(self) -> None:
        for role in ("instructor", "student"):
            shutil.copytree(deploy_folder(self.course_root) / role,
                            self._state() / "jupyter" / role)
        for path in (self._state() / "jupyter").rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)

    def _copy_course(self, db_url: str) -> None:
        """The course's configuration, solutions and student copies in ``~instructor/course``
        (kept from an earlier run), with this hub's gradebook and exchange in its config."""
        course = self.course
        account = pwd.getpwnam(self.instructor)
        if not course.exists():
            config = load_config(self.course_root)
            course.mkdir()
            for kind in ("source", "release"):
                source = folder(self.course_root, kind, config)
                shutil.copytree(source, course / source.name)
            shutil.copy2(self.course_root / CONFIG_FILE, course / CONFIG_FILE)
            for path in [course, *course.rglob("*")]:
                os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)
        config_file = course / CONFIG_FILE
        text = config_file.read_text().split(HUB_SETTINGS_MARKER)[0].rstrip("\n")
        config_file.write_text(f"{text}\n\n{HUB_SETTINGS_MARKER}\n"
                               f"c.CourseDirectory.db_url = {db_url!r}\n"
                               f"c.Exchange.root = {str(self.exchange)!r}\n")
        os.chown(config_file, account.pw_uid, account.pw_gid)

    def _start_hub(self, python: Path) -> None:
        proxy = proxy_program(self.course_root)
        if not proxy.exists():
            raise GradingError("configurable-http-proxy is missing: make setup (npm ci)")
        config = load_config(self.course_root)
        hub_port, proxy_api_port = free_port(), free_port()
        settings = {
            "state": str(self._state()), "port": self.port, "hub_port": hub_port,
            "proxy_api_port": proxy_api_port, "proxy": str(proxy), "python": str(python),
            "instructor": self.instructor, "students": self.students,
            "course": str(self.course), "exchange": str(self.exchange),
            "course_id": config.CourseDirectory.course_id, "admin_token": self.admin_token,
            "python_environment": self.python_environment,
        }
        settings_file = self._state() / "settings.json"
        settings_file.write_text(json.dumps(settings, indent=1))
        settings_file.chmod(0o600)  # it holds the admin token
        log = open(self._state() / "jupyterhub.log", "wb")
        environment = {**os.environ, "COURSE_HUB_SETTINGS": str(settings_file)}
        self._hub = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f",
             str(deploy_folder(self.course_root) / "jupyterhub_config.py")],
            cwd=self._state(), env=environment, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._hub.poll() is not None:
                raise GradingError(f"JupyterHub stopped (exit {self._hub.returncode}): "
                                   f"{self.log()[-2000:]}")
            try:
                self.api("GET", "/")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        raise GradingError(f"JupyterHub did not answer in {START_TIMEOUT} s: {self.log()[-2000:]}")

    def log(self) -> str:
        """What JupyterHub (and the users' servers) printed so far."""
        path = self._state() / "jupyterhub.log"
        return path.read_text(errors="replace") if path.exists() else ""


def user_python(folder: Path) -> tuple[Path, dict[str, str]]:
    """A Python every account may run, with the course environment's packages, and the
    environment variables it needs: this one when everyone may run it, else a virtual
    environment of a copy of its interpreter and standard library in ``folder``."""
    running = Path(sys.executable)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    if runnable_by_all(running.resolve()) and runnable_by_all(stdlib, need_execute=False):
        return running, {}
    base = folder / "base"
    shutil.copytree(sys.base_prefix, base, symlinks=True, ignore=shutil.ignore_patterns(
        "site-packages", "test", "tests", "idle_test", "config-*", "include", "share", "pkgconfig"))
    environment = folder / "env"
    interpreter = base / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    subprocess.run([str(interpreter), "-m", "venv", "--without-pip", str(environment)],
                   check=True)
    site_packages = Path(sysconfig.get_paths()["purelib"])
    if not runnable_by_all(site_packages, need_execute=False):
        raise GradingError(f"the course environment {site_packages} is private to its owner")
    (Path(sysconfig.get_paths(vars={"base": str(environment), "platbase": str(environment)})
          ["purelib"]) / "course-environment.pth").write_text(
        f"import site; site.addsitedir({str(site_packages)!r})\n")
    # Jupyter's files of the course environment (JupyterLab, its extensions, nbgrader's server
    # extensions, nbconvert's templates); its kernel is this Python's own, made below.
    for kind in ("share", "etc"):
        (environment / kind / "jupyter").mkdir(parents=True, exist_ok=True)
        for entry in (Path(sys.prefix) / kind / "jupyter").iterdir():
            if entry.name != "kernels":
                (environment / kind / "jupyter" / entry.name).symlink_to(entry)
    python = environment / "bin" / "python"
    _copy_scripts(Path(sys.prefix) / "bin", python)
    # the interpreter finds its shared library through a folder only its owner may enter
    variables = {"LD_LIBRARY_PATH": str(base / "lib")}
    subprocess.run([str(python), "-m", "ipykernel", "install", "--prefix", str(environment),
                    "--name", "python3", "--display-name", "Python 3 (ipykernel)",
                    "--env", "TF_CPP_MIN_LOG_LEVEL", "2",
                    "--env", "TF_ENABLE_ONEDNN_OPTS", "0"], check=True, capture_output=True,
                   env={**os.environ, **variables})
    return python, variables


def _copy_scripts(scripts: Path, python: Path) -> None:
    """The environment's console scripts (jupyter, nbgrader, alembic...) next to ``python``,
    each started by it."""
    for script in scripts.iterdir():
        target = python.parent / script.name
        if target.exists() or not script.is_file():
            continue
        with open(script, "rb") as file:
            first = file.readline()
        if first.startswith(b"#!") and b"python" in first:
            target.write_bytes(b"#!" + bytes(python) + b"\n" + script.read_bytes()[len(first):])
            target.chmod(0o755)


def runnable_by_all(path: Path, need_execute: bool = True) -> bool:
    """Whether every account reaches ``path`` (each folder above it searchable by others)."""
    if not path.exists():
        return False
    mode = path.stat().st_mode
    if need_execute and not mode & stat.S_IXOTH:
        return False
    if not need_execute and not mode & stat.S_IROTH:
        return False
    return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def remove_accounts(names: list[str]) -> None:
    """Delete these accounts, their homes and their processes (for tests; never the caller's)."""
    for name in names:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
        _run("userdel", "--remove", name, check=False)


def _run(*command: str, check: bool = True) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise GradingError(f"{command[0]} failed: {(result.stderr or result.stdout).strip()}")


def main(argv: list[str] | None = None) -> int:
    """``python -m course_grading.hub``: start the class hub, say how to log in, stop on Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m course_grading.hub",
                                     description=main.__doc__.splitlines()[0])
    parser.add_argument("--instructor", default="instructor", help="the instructor's account")
    parser.add_argument("--students", nargs="+", required=True, help="the students' accounts")
    parser.add_argument("--port", type=int, default=8000, help="the hub's port on 127.0.0.1")
    parser.add_argument("--course-root", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    try:
        with ClassHub(args.course_root, args.instructor, args.students, args.port) as hub:
            print(f"JupyterHub: {hub.url}  (instructor {hub.instructor}: the Formgrader, "
                  f"course in {hub.course}; students: {', '.join(hub.students)})")
            for name, password in hub.passwords.items():
                print(f"  new account {name}, password {password}")
            print("Ctrl-C stops the hub, every server and the gradebook (accounts stay).",
                  flush=True)
            stops = {signal.SIGINT, signal.SIGTERM}
            signal.pthread_sigmask(signal.SIG_BLOCK, stops)  # after the hub started: ours only
            signal.sigwait(stops)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)
    except GradingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
