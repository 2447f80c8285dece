"""A throwaway PostgreSQL server for a gradebook (a class set-up tried locally, tests, benchmarks).

:class:`TemporaryPostgres` makes a database cluster in a temporary folder with Debian's
``postgresql`` programs, serves it on a Unix socket in that folder only (no TCP port), and removes
it all when the ``with`` block ends. Its :attr:`~TemporaryPostgres.url` is what
``c.CourseDirectory.db_url`` takes.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from course_grading.course import GradingError

__all__ = ["TemporaryPostgres", "server_programs"]

# initdb refuses to run as root: as root, the server runs as Debian's postgres system user
SERVER_USER = "postgres"
DATABASE_USER = "grader"


def server_programs() -> Path | None:
    """The folder of initdb and pg_ctl (Debian's newest, else on PATH); None without them."""
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                    key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0)
    if debian:
        return debian[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class TemporaryPostgres:
    """``with TemporaryPostgres() as server:`` a fresh database ``server.url``, gone afterwards."""

    def __init__(self, database: str = "gradebook", clients_group: int | None = None) -> None:
        self.database = database
        self.clients_group = clients_group  # as root: this group's members may connect too
        self.folder: Path | None = None
        self._programs = server_programs()
        if self._programs is None:
            raise GradingError("PostgreSQL's server programs (initdb, pg_ctl) are missing: "
                               "sudo apt-get install postgresql")

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the database, over the cluster's Unix socket."""
        if self.folder is None:
            raise GradingError("the server is not running (use TemporaryPostgres in a with block)")
        return f"postgresql+psycopg://{DATABASE_USER}@/{self.database}?host={self.folder}"

    def __enter__(self) -> TemporaryPostgres:
        self.folder = Path(tempfile.mkdtemp(prefix="course-pg-"))
        try:
            if os.geteuid() == 0:
                account = _server_account()
                group = account.pw_gid if self.clients_group is None else self.clients_group
                os.chown(self.folder, account.pw_uid, group)
                # the socket's folder is the door: the server's account, and the clients' group
                os.chmod(self.folder, 0o700 if self.clients_group is None else 0o750)
            data = self.folder / "data"
            self._run("initdb", "--pgdata", str(data), "--auth", "trust", "--username",
                      DATABASE_USER, "--encoding", "UTF8", "--no-sync")
            options = f"-k {self.folder} -c listen_addresses='' -c fsync=off"
            self._run("pg_ctl", "--pgdata", str(data), "--log", str(self.folder / "server.log"),
                      "--options", options, "--wait", "start")
            self._run("createdb", "--host", str(self.folder), "--username", DATABASE_USER,
                      self.database)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.folder is None:
            return
        if (self.folder / "data" / "postmaster.pid").exists():
            self._run("pg_ctl", "--pgdata", str(self.folder / "data"), "--mode", "immediate",
                      "--wait", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        command = [str(self._programs / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.folder)
        if check and result.returncode != 0:
            raise GradingError(f"{program} failed (exit {result.returncode}): "
                               f"{(result.stderr or result.stdout).strip()[-2000:]}")


def _server_account() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise GradingError(f"as root, PostgreSQL runs as the {SERVER_USER!r} system user, which "
                           "is missing: sudo apt-get install postgresql") from None
