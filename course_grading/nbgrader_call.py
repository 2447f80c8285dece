"""nbgrader's command line, each command in a child process of its own (instructors).

Each command runs in its own process group with an optional time limit, so that one submission
that hangs or crashes nbgrader cannot take a grading run with it. Starting Python and importing
nbgrader costs seconds per process, paid once per submission; :class:`NbgraderRunner` pays it
once per run instead: a server process imports nbgrader, then forks a fresh child per command.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from course_grading.course import GradingError

__all__ = ["NbgraderRunner", "run_nbgrader"]

# jsonschema imports rfc3987_syntax (when installed), which builds a parser at import time that
# nbformat's schema never uses; blocking it saves seconds per process.
BLOCK_SLOW_IMPORTS = "import sys; sys.modules['rfc3987_syntax'] = None; "
SERVER_MAIN = BLOCK_SLOW_IMPORTS + "from course_grading.nbgrader_call import _serve; _serve()"


def _environment() -> dict[str, str]:
    """This environment, with this interpreter's scripts first on PATH (nbgrader runs `alembic`)."""
    scripts = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")])}


def _completed(args: tuple[str, ...], returncode: int, out: str, err: str,
               check: bool) -> subprocess.CompletedProcess[str]:
    result = subprocess.CompletedProcess(["nbgrader", *args], returncode, out, err)
    if check and returncode != 0:
        raise GradingError(f"`nbgrader {' '.join(args)}` failed (exit {returncode}):\n"
                           f"{err[-4000:]}")
    return result


class NbgraderRunner:
    """Runs nbgrader commands, each in a forked child of one server that imported nbgrader.

    Use it as a context manager: ``with NbgraderRunner() as nbgrader: nbgrader.run(root, ...)``.
    """

    def __init__(self) -> None:
        self._server: subprocess.Popen[str] | None = None
        # without fork and pidfds (not Linux) each command starts a Python of its own
        self.forks = hasattr(os, "fork") and hasattr(os, "pidfd_open")

    def __enter__(self) -> NbgraderRunner:
        if not self.forks:
            return self
        self._server = subprocess.Popen(
            [sys.executable, "-c", SERVER_MAIN], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=_environment(), text=True, start_new_session=True)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._server is not None:
            self._server.stdin.close()  # the server exits at the end of its input
            try:
                self._server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self._server.pid, signal.SIGKILL)
                self._server.wait()
            self._server = None

    def run(self, course_root: Path, *args: str, timeout: float | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``nbgrader *args`` in ``course_root``; kill it after ``timeout`` seconds.

        With ``check`` a non-zero exit raises :class:`GradingError` with the end of its log.
        """
        if not self.forks:
            return run_nbgrader(course_root, *args, timeout=timeout, check=check)
        if self._server is None or self._server.poll() is not None:
            raise GradingError("the nbgrader server is not running (use NbgraderRunner in a "
                               "with statement)")
        with tempfile.TemporaryDirectory(prefix="nbgrader-call-") as scratch:
            out, err = Path(scratch) / "stdout", Path(scratch) / "stderr"
            request = {"args": list(args), "cwd": str(course_root), "timeout": timeout,
                       "stdout": str(out), "stderr": str(err)}
            self._server.stdin.write(json.dumps(request) + "\n")
            self._server.stdin.flush()
            reply = self._server.stdout.readline()
            if not reply:
                raise GradingError("the nbgrader server stopped unexpectedly")
            returncode = json.loads(reply)["returncode"]
            text = err.read_text(errors="replace") if err.exists() else ""
            if returncode == -signal.SIGKILL and timeout is not None:
                text += f"\n[killed after {timeout:.0f} s]"
            return _completed(args, returncode,
                              out.read_text(errors="replace") if out.exists() else "", text,
                              check)


def run_nbgrader(course_root: Path, *args: str, timeout: float | None = None,
                 check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run one ``nbgrader *args`` in ``course_root`` in a new process (see NbgraderRunner.run)."""
    command = [sys.executable, "-c", BLOCK_SLOW_IMPORTS + "sys.argv[0] = 'nbgrader'; "
               "from course_grading.gradebook import name_schema_without_alembic; "
               "name_schema_without_alembic(); "
               "from nbgrader.apps.nbgraderapp import main; main()", *args]
    process = subprocess.Popen(command, cwd=course_root, env=_environment(), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)  # its own group, killed as a whole
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        err += f"\n[killed after {timeout:.0f} s]"
        process.returncode = -signal.SIGKILL
    return _completed(args, process.returncode, out, err, check)


def _wait(pid: int, timeout: float | None) -> int:
    """Wait for the child ``pid``; kill its process group after ``timeout`` s; its return code."""
    deadline = None if timeout is None else time.monotonic() + timeout
    pidfd = os.pidfd_open(pid)
    try:
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([pidfd], [], [], left)
            if ready:
                break
            if deadline is not None and time.monotonic() >= deadline:
                os.killpg(pid, signal.SIGKILL)
                break
    finally:
        os.close(pidfd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _run_child(request: dict) -> None:
    """In the forked child: its own session, folder and output files; then nbgrader's main."""
    os.setsid()
    os.chdir(request["cwd"])
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    sys.stdout = sys.__stdout__  # the server pointed it at stderr; fd 1 is now the output file
    code = 1
    try:
        from nbgrader.apps.nbgraderapp import main

        sys.argv = ["nbgrader", *request["args"]]
        main()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported like nbgrader's own crash would be
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _serve() -> None:
    """The server: import nbgrader once, then fork one child per request line on stdin."""
    import nbgrader.apps.nbgraderapp  # noqa: F401 - the import every child shares
    import nbgrader.preprocessors  # noqa: F401

    import course_grading.nbgrader_steps  # noqa: F401 - named in nbgrader_config.py
    from course_grading.gradebook import name_schema_without_alembic

    name_schema_without_alembic()

    replies = sys.stdout
    sys.stdout = sys.stderr  # nothing but replies on the reply channel
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _run_child(request)
        returncode = _wait(pid, request["timeout"])
        replies.write(json.dumps({"returncode": returncode}) + "\n")
        replies.flush()
