"""The sandboxed kernel that runs student code during autograding (instructors).

The kernelspec ``course_grading/kernels/course-sandbox/kernel.json`` runs
``python -I -m course_grading.sandbox -f {connection_file}``. This launcher, in order:

1. when it runs as root and a private mount namespace can be made (``unshare``), hides the
   course root (``solutions/``, ``gradebook.db``, other students' work), ``/tmp``, ``/dev/shm``,
   the grader's home and Jupyter runtime folder behind empty tmpfs mounts; puts back, read-only,
   only the Python environment and the learners' ``course_utils`` package; and copies the
   non-notebook files of the execution folder into a private, writable ``/tmp/work``;
2. applies resource limits (address space, CPU seconds, file size, processes, no core files);
3. as root, drops to the unprivileged user ``nobody``; keeps only the environment variables a
   kernel needs (no tokens or credentials of the grader);
4. ``exec``s ``python -I -m ipykernel_launcher`` (``-I``: neither the working directory nor
   ``PYTHONPATH`` is on ``sys.path``, so a submitted ``numpy/`` folder shadows nothing).

Not root, or no namespaces: steps 1 and 3 are skipped (limits only), with a warning.
The limits come from environment variables set by
:class:`course_grading.nbgrader_steps.GuardedExecute`.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import pwd
import resource
import shutil
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["KERNEL_NAME", "KERNELS_DIR", "KernelLimits", "can_isolate", "isolation_warning", "main"]

KERNEL_NAME = "course-sandbox"
KERNELS_DIR = Path(__file__).resolve().parent / "kernels"
WORK_DIR = "/tmp/work"
USER = "nobody"
ENV_PREFIX = "COURSE_SANDBOX_"

_CLONE_NEWNS = 0x00020000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV = 1, 2, 4
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18


@dataclass(frozen=True)
class KernelLimits:
    """Resource limits of one kernel; 0 means no limit."""

    memory_mb: int = 0
    cpu_seconds: int = 0
    file_mb: int = 0
    processes: int = 0
    isolate: bool = True  # mount namespace + unprivileged user, when possible
    hide: tuple[str, ...] = ()  # extra folders to hide (the course root)

    def to_env(self) -> dict[str, str]:
        """The environment variables that carry these limits to the launcher."""
        return {
            f"{ENV_PREFIX}MEMORY_MB": str(self.memory_mb),
            f"{ENV_PREFIX}CPU_SECONDS": str(self.cpu_seconds),
            f"{ENV_PREFIX}FILE_MB": str(self.file_mb),
            f"{ENV_PREFIX}PROCESSES": str(self.processes),
            f"{ENV_PREFIX}ISOLATE": "1" if self.isolate else "0",
            f"{ENV_PREFIX}HIDE": os.pathsep.join(self.hide),
        }

    @classmethod
    def from_env(cls, env: dict[str, str] | os._Environ[str] = os.environ) -> KernelLimits:
        def number(name: str) -> int:
            return int(env.get(f"{ENV_PREFIX}{name}", "0") or 0)

        hide = env.get(f"{ENV_PREFIX}HIDE", "")
        return cls(number("MEMORY_MB"), number("CPU_SECONDS"), number("FILE_MB"),
                   number("PROCESSES"), env.get(f"{ENV_PREFIX}ISOLATE", "1") == "1",
                   tuple(p for p in hide.split(os.pathsep) if p))


def can_isolate() -> bool:
    """True when this machine lets the launcher hide files and drop privileges (root, unshare)."""
    if os.geteuid() != 0 or not hasattr(os, "fork"):
        return False
    pid = os.fork()
    if pid == 0:  # try in a throw-away child: unshare changes the calling process for good
        os._exit(0 if _libc().unshare(_CLONE_NEWNS) == 0 else 1)
    return os.waitpid(pid, 0)[1] == 0


def isolation_warning() -> str:
    """What is not protected when the kernel cannot be isolated."""
    return ("warning: the grading kernel runs WITHOUT file-system isolation (this needs root and "
            "Linux mount namespaces): student code runs as your user and can read solutions/ "
            "and write gradebook.db. Only the resource limits, the time limits and the static "
            "tampering check apply. Grade untrusted submissions as root in a container or VM.")


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    def encode(text: str | None) -> bytes | None:
        return text.encode() if text is not None else None

    if _libc().mount(encode(source), encode(target), encode(fstype), flags, encode(data)) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {target}: {os.strerror(errno)}")


def _is_under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _hidden_folders(limits: KernelLimits) -> list[str]:
    """Folders replaced by empty tmpfs mounts: parents before children, no duplicates."""
    from jupyter_core.paths import jupyter_runtime_dir

    candidates = ["/tmp", "/var/tmp", "/dev/shm", os.path.expanduser("~"), "/root",
                  jupyter_runtime_dir(), *limits.hide]
    # the course repository that holds this package (an editable install) is hidden too
    package_root = Path(__file__).resolve().parents[1]
    if (package_root / "nbgrader_config.py").exists():
        candidates.append(str(package_root))
    folders: list[str] = []
    for path in sorted({os.path.realpath(p) for p in candidates if p}, key=len):
        if os.path.isdir(path) and path != "/" and not any(_is_under(path, f) for f in folders):
            folders.append(path)
    return folders


def _learner_packages() -> list[str]:
    """Folders of the packages a submission may import besides the environment's own."""
    spec = importlib.util.find_spec("course_utils")
    return list(spec.submodule_search_locations or []) if spec else []


def _copy_tree(src_fd: int, dest: str, uid: int, gid: int) -> None:
    """Copy the files under the directory ``src_fd`` except notebooks (they hold hidden tests)."""
    for root, dirs, files, root_fd in os.fwalk(".", dir_fd=src_fd):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        target = os.path.normpath(os.path.join(dest, root))
        os.makedirs(target, exist_ok=True)
        os.chown(target, uid, gid)
        for name in files:
            if name.endswith(".ipynb"):
                continue
            info = os.stat(name, dir_fd=root_fd, follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode):
                continue
            fd = os.open(name, os.O_RDONLY, dir_fd=root_fd)
            with os.fdopen(fd, "rb") as source, open(os.path.join(target, name), "wb") as out:
                shutil.copyfileobj(source, out)
            os.chown(os.path.join(target, name), uid, gid)


def _isolate(limits: KernelLimits, connection: bytes) -> str:
    """Private mount namespace, hidden folders, a private work folder; returns the new
    connection file's path. Runs as root."""
    user = pwd.getpwnam(USER)
    # the interpreter (a venv and its base Python, which may live in a home folder) and this
    # package stay visible, read-only
    keep = [sys.prefix, sys.base_prefix, *_learner_packages()]
    data_dir = os.environ.get("COURSE_DATA_DIR")
    if data_dir and os.path.isdir(data_dir):
        keep.append(data_dir)
    if _libc().unshare(_CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS) failed")
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    # opened in the new namespace (a bind from the old one fails), before anything is hidden
    keep_fds = {os.path.realpath(p): os.open(p, os.O_PATH | os.O_DIRECTORY) for p in keep}
    cwd_fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
    hidden = _hidden_folders(limits)
    try:
        for folder in hidden:
            mode = "1777" if folder in ("/tmp", "/var/tmp", "/dev/shm") else "0755"
            _mount("tmpfs", folder, "tmpfs", _MS_NOSUID | _MS_NODEV, f"mode={mode},size=256m")
        for path, fd in keep_fds.items():
            if any(_is_under(path, f) for f in hidden):
                os.makedirs(path, exist_ok=True)
                _mount(f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)
                _mount(None, path, None,
                       _MS_BIND | _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
        _copy_tree(cwd_fd, WORK_DIR, user.pw_uid, user.pw_gid)
    finally:
        for fd in [*keep_fds.values(), cwd_fd]:  # an open fd would be a way back out
            os.close(fd)
    os.chdir(WORK_DIR)
    connection_file = os.path.join(WORK_DIR, ".kernel-connection.json")
    with open(connection_file, "wb") as out:
        out.write(connection)
    os.chown(connection_file, user.pw_uid, user.pw_gid)
    os.chmod(connection_file, 0o600)
    return connection_file


def _set_limits(limits: KernelLimits, drop_to_user: bool) -> None:
    def cap(kind: int, value: int, hard_extra: int = 0) -> None:
        if value > 0:
            resource.setrlimit(kind, (value, value + hard_extra))

    cap(resource.RLIMIT_AS, limits.memory_mb * 2**20)
    cap(resource.RLIMIT_CPU, limits.cpu_seconds, hard_extra=5)  # SIGXCPU first, then SIGKILL
    cap(resource.RLIMIT_FSIZE, limits.file_mb * 2**20)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crashing kernel writes no core file
    if drop_to_user:  # the process count is per user: only meaningful for `nobody`
        cap(resource.RLIMIT_NPROC, limits.processes)


# LD_LIBRARY_PATH: where a class hub's copy of Python finds its library (course_grading.hub)
KEPT_VARIABLES = {"PATH", "LANG", "LANGUAGE", "TERM", "TZ", "PYTHONHASHSEED", "MPLBACKEND",
                  "COURSE_DATA_DIR", "LD_LIBRARY_PATH"}
KEPT_PREFIXES = ("LC_", "TF_", "KERAS_", ENV_PREFIX, "JPY_", "OMP_", "MKL_", "OPENBLAS_",
                 "CUDA_", "XLA_", "JAX_", "TORCH_", "PYTORCH_")


def _clean_environment() -> None:
    """Drop the grader's other variables (tokens, credentials) before student code runs."""
    for name in list(os.environ):
        if name not in KEPT_VARIABLES and not name.startswith(KEPT_PREFIXES):
            del os.environ[name]


def _drop_privileges() -> None:
    user = pwd.getpwnam(USER)
    os.setgroups([])
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)


def main(argv: list[str] | None = None) -> None:
    """Launch ipykernel under the sandbox; ``argv`` is the kernelspec's: ``-f FILE [extra...]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    index = argv.index("-f")
    connection_file = argv[index + 1]
    extra = argv[:index] + argv[index + 2:]
    limits = KernelLimits.from_env()
    isolated = limits.isolate and can_isolate()
    if isolated:
        with open(connection_file, "rb") as source:
            connection_file = _isolate(limits, source.read())
        _set_limits(limits, drop_to_user=True)
        _drop_privileges()
    else:
        if limits.isolate:
            print(isolation_warning(), file=sys.stderr)
        _set_limits(limits, drop_to_user=False)
    _clean_environment()
    if isolated:  # caches go to the private /tmp, not to the grader's (hidden) home
        os.environ.update(HOME="/tmp", USER=USER, MPLCONFIGDIR="/tmp/.matplotlib",
                          IPYTHONDIR="/tmp/.ipython", KERAS_HOME="/tmp/.keras")
    command = [sys.executable, "-I", "-m", "ipykernel_launcher", "-f", connection_file,
               "--IPKernelApp.ignore_cwd=True", "--HistoryManager.hist_file=:memory:", *extra]
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
