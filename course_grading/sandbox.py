"""The sealed sandbox that runs one grading kernel, and nothing else (instructors).

The kernelspec ``course_grading/kernels/course-sandbox/kernel.json`` runs
``python -I -m course_grading.sandbox -f {connection_file}``. When the grader is root, bubblewrap
(``bwrap``, Debian's ``bubblewrap``; the sandbox under Flatpak) is installed and control groups
can be made (:func:`can_isolate`), this launcher:

1. makes a memory and a pids control group for the kernel (:mod:`course_grading.cgroups`):
   limits for its whole process tree, however many processes it forks;
2. in a private mount namespace, mounts what the kernel may see (the Python environment, the
   learners' ``course_utils``, the dataset folder, the kernel's socket folder) under a staging
   folder that any user can traverse (the environment may live under a private ``/root``);
3. starts ``bwrap`` as a uid of the kernel's own (``UID_BASE`` + the launcher's PID: no other
   live kernel has it) in new user, PID, network, IPC, UTS and cgroup namespaces, in a new
   session, dying with the launcher: the file tree is an empty root with ``/usr`` and those
   folders read-only, a size-capped ``/tmp`` and nothing else (no ``/home``, ``/run``, other
   checkouts, the course's ``solutions/`` or gradebook); no network at all (the grader talks to
   the kernel over Unix sockets in the socket folder, jupyter_client's ``ipc`` transport);
   the environment holds only ``KEPT_VARIABLES``. When the grading run has a zygote
   (:mod:`course_grading.zygote`, its socket in ``COURSE_ZYGOTE_SOCKET``), bwrap runs a
   placeholder instead, and the zygote forks a kernel with its libraries imported that joins
   this sandbox; without one, or when it fails, the kernel starts cold in bwrap (one line says so);
4. when the kernel ends (at the end of grading the grader stops it at once, :func:`stop`:
   SIGTERM to the launcher, no graceful shutdown), kills whatever is left in its control groups
   and removes them. The
   PID namespace already ends every process the kernel started when the kernel ends; the grader
   checks it again afterwards (:func:`leftovers`).

Without root, bwrap or control groups, only per-process resource limits apply, with a warning.
The limits come from environment variables set by
:class:`course_grading.nbgrader_steps.GuardedExecute`.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import fcntl
import importlib.util
import json
import os
import resource
import select
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_grading import cgroups, zygote

__all__ = ["KERNEL_NAME", "KERNELS_DIR", "KernelLimits", "can_isolate", "grading_kernel",
           "isolation_warning", "leftovers", "main", "set_limits", "stop"]

KERNEL_NAME = "course-sandbox"
KERNELS_DIR = Path(__file__).resolve().parent / "kernels"
WORK_DIR = "/tmp/work"
UID_BASE = 1_500_000_000  # + the launcher's PID: a uid no account and no other kernel has
ENV_PREFIX = "COURSE_SANDBOX_"
REFEREE_KEY = f"{ENV_PREFIX}REFEREE_KEY"  # to the launcher only; the kernel reads it from a pipe
REFEREE = str(Path(__file__).resolve().parent / "referee.py")
REFEREE_FILES = [REFEREE, str(Path(__file__).resolve().parent / "referee_checks.py")]
STAGE = "/tmp"  # in the launcher's own mount namespace only: the staging folder of the binds

_CLONE_NEWNS = 0x00020000
_MS_NOSUID, _MS_NODEV, _MS_BIND, _MS_REC, _MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18


@dataclass(frozen=True)
class KernelLimits:
    """Resource limits of one kernel; 0 means no limit."""

    memory_mb: int = 0  # the whole kernel (control group) and each process (address space)
    cpu_seconds: int = 0  # each process
    file_mb: int = 0  # the kernel's writable /tmp in all, and each file
    processes: int = 0  # processes and threads of the whole kernel
    isolate: bool = True  # the sealed sandbox, when this machine allows it

    def to_env(self) -> dict[str, str]:
        """The environment variables that carry these limits to the launcher."""
        return {
            f"{ENV_PREFIX}MEMORY_MB": str(self.memory_mb),
            f"{ENV_PREFIX}CPU_SECONDS": str(self.cpu_seconds),
            f"{ENV_PREFIX}FILE_MB": str(self.file_mb),
            f"{ENV_PREFIX}PROCESSES": str(self.processes),
            f"{ENV_PREFIX}ISOLATE": "1" if self.isolate else "0",
        }

    @classmethod
    def from_env(cls, env: dict[str, str] | os._Environ[str] = os.environ) -> KernelLimits:
        def number(name: str) -> int:
            return int(env.get(f"{ENV_PREFIX}{name}", "0") or 0)

        return cls(number("MEMORY_MB"), number("CPU_SECONDS"), number("FILE_MB"),
                   number("PROCESSES"), env.get(f"{ENV_PREFIX}ISOLATE", "1") == "1")


def can_isolate() -> bool:
    """True when kernels can be sealed here: root, bubblewrap and control groups."""
    return (os.geteuid() == 0 and shutil.which("bwrap") is not None and hasattr(os, "fork")
            and cgroups.available())


def isolation_warning() -> str:
    """What is not protected when the kernel cannot be sealed."""
    return ("warning: the grading kernel runs WITHOUT its sandbox (this needs root, bubblewrap "
            "and Linux control groups): student code runs as your user and can read solutions/ "
            "and write gradebook.db, reach the network and other kernels. Only per-process "
            "resource limits and the time limits apply. Grade untrusted submissions as root "
            "on a machine with `apt-get install bubblewrap`.")


@contextlib.contextmanager
def grading_kernel(limits: KernelLimits, zygote_socket: str | None = None,
                   timeout: float = 300) -> Iterator[Any]:
    """A kernel started as the grader starts one (from the zygote at ``zygote_socket``, else
    cold), ready for code: its jupyter_client client. Stopped and cleaned up afterwards."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    folder = tempfile.mkdtemp(prefix="course-kernel-")
    specs = KernelSpecManager(kernel_dirs=[str(KERNELS_DIR)], ensure_native_kernel=False)
    manager = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs, transport="ipc",
                            connection_file=os.path.join(folder, "kernel.json"))
    env = {key: value for key, value in os.environ.items() if key != zygote.SOCKET_VARIABLE}
    env |= limits.to_env() | ({zygote.SOCKET_VARIABLE: zygote_socket} if zygote_socket else {})
    manager.start_kernel(env=env)
    client = manager.client()
    try:
        client.start_channels()
        client.wait_for_ready(timeout=timeout)
        yield client
    finally:
        client.stop_channels()
        launcher = manager.provisioner.pid if manager.provisioner else None
        if launcher:
            stop(launcher)
        manager.shutdown_kernel(now=True)
        manager.cleanup_resources()
        if launcher:
            leftovers(launcher)
        shutil.rmtree(folder, ignore_errors=True)


def group_name(launcher_pid: int) -> str:
    """The control groups' name of the kernel started by the launcher ``launcher_pid``."""
    return f"kernel-{launcher_pid}"


def stop(launcher_pid: int, timeout: float = 5.0) -> None:
    """Stop a kernel at once (no graceful shutdown: no atexit hook of the submission runs):
    its launcher kills the sandbox, removes its groups and exits; wait for that."""
    try:
        pidfd = os.pidfd_open(launcher_pid)
    except ProcessLookupError:
        return
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGTERM)
        select.select([pidfd], [], [], timeout)  # readable once the launcher has exited
    except ProcessLookupError:
        pass
    finally:
        os.close(pidfd)


def leftovers(launcher_pid: int) -> set[int]:
    """After a kernel: kill what is left of it and remove its groups; the PIDs that were left."""
    return cgroups.group_for(group_name(launcher_pid)).remove() if cgroups.available() else set()


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    def encode(text: str | None) -> bytes | None:
        return text.encode() if text is not None else None

    if _libc().mount(encode(source), encode(target), encode(fstype), flags, encode(data)) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {target}: {os.strerror(errno)}")


def _learner_packages() -> list[str]:
    """Folders of the packages a submission may import besides the environment's own."""
    spec = importlib.util.find_spec("course_utils")
    return list(spec.submodule_search_locations or []) if spec else []


def visible_folders() -> list[str]:
    """What the kernel sees read-only besides ``/usr``: the environment, course_utils, data."""
    keep = [sys.prefix, sys.base_prefix, *_learner_packages()]
    data_dir = os.environ.get("COURSE_DATA_DIR")
    if data_dir and os.path.isdir(data_dir):
        keep.append(data_dir)
    found: list[str] = []
    for path in sorted({os.path.realpath(p) for p in keep}, key=len):
        if not path.startswith("/usr/") and not any(
                path == f or path.startswith(f + "/") for f in found):
            found.append(path)
    return found


# LD_LIBRARY_PATH: where a class hub's copy of Python finds its library (course_grading.hub)
KEPT_VARIABLES = {"PATH", "LANG", "LANGUAGE", "TERM", "TZ", "PYTHONHASHSEED", "MPLBACKEND",
                  "COURSE_DATA_DIR", "LD_LIBRARY_PATH"}
KEPT_PREFIXES = ("LC_", "TF_", "KERAS_", "OMP_", "MKL_", "OPENBLAS_", "CUDA_", "XLA_", "JAX_",
                 "TORCH_", "PYTORCH_")
# the system files a Python process reads; none holds anything of the machine's users
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
                "/etc/alternatives", "/etc/mime.types", "/etc/nsswitch.conf")


def kernel_environment(environ: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    """The kernel's environment: the kept variables of ``environ`` and the sandbox's own."""
    kept = {k: v for k, v in environ.items()
            if k in KEPT_VARIABLES or k.startswith(KEPT_PREFIXES)}
    # caches go to the kernel's private /tmp
    return {**kept, "HOME": "/tmp", "USER": "grader", "MPLCONFIGDIR": "/tmp/.matplotlib",
            "IPYTHONDIR": "/tmp/.ipython", "KERAS_HOME": "/tmp/.keras"}


def bwrap_arguments(uid: int, binds: list[tuple[str, str, bool]], limits: KernelLimits,
                    environment: dict[str, str]) -> list[str]:
    """bwrap's options: ``binds`` are (staged source, path in the sandbox, writable)."""
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
            "--uid", str(uid), "--gid", str(uid), "--hostname", "grading",
            "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = f"/{name}"
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in SYSTEM_FILES:
        args += ["--ro-bind-try", path, path]
    if limits.file_mb:
        args += ["--size", str(limits.file_mb * 2**20)]
    args += ["--perms", "1777", "--tmpfs", "/tmp", "--dir", WORK_DIR, "--chdir", WORK_DIR]
    for source, target, writable in binds:
        args += ["--bind" if writable else "--ro-bind", source, target]
    args += ["--remount-ro", "/", "--clearenv"]  # nothing writable but /tmp and the sockets
    for key, value in sorted(environment.items()):
        args += ["--setenv", key, value]
    return args


def _stage(paths: list[str], socket_dir: str) -> list[tuple[str, str, bool]]:
    """In a private mount namespace: bind each folder or file of ``paths`` and the socket
    folder under STAGE; the binds for bwrap (all read-only but the socket folder)."""
    if _libc().unshare(_CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS) failed")
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    # opened before STAGE is covered (the socket folder may be under it)
    fds = [(path, os.open(path, os.O_PATH)) for path in [*paths, socket_dir]]
    try:
        _mount("tmpfs", STAGE, "tmpfs", _MS_NOSUID | _MS_NODEV, "mode=0755,size=1m")
        binds = []
        for index, (path, fd) in enumerate(fds):
            staged = f"{STAGE}/{index}"
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.mkdir(staged, 0o755)
            else:
                os.close(os.open(staged, os.O_CREAT | os.O_WRONLY, 0o644))
            _mount(f"/proc/self/fd/{fd}", staged, None, _MS_BIND | _MS_REC)
            binds.append((staged, path, path == socket_dir))
    finally:
        for _, fd in fds:
            os.close(fd)
    return binds


def set_limits(limits: KernelLimits, per_uid: bool) -> None:
    """Apply ``limits`` to this process; the process count only where the uid is the kernel's."""
    def cap(kind: int, value: int, hard_extra: int = 0) -> None:
        if value > 0:
            resource.setrlimit(kind, (value, value + hard_extra))

    cap(resource.RLIMIT_AS, limits.memory_mb * 2**20)
    cap(resource.RLIMIT_CPU, limits.cpu_seconds, hard_extra=5)  # SIGXCPU first, then SIGKILL
    cap(resource.RLIMIT_FSIZE, limits.file_mb * 2**20)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crashing kernel writes no core file
    if per_uid:  # the process count is per user: it means something only for the kernel's uid
        cap(resource.RLIMIT_NPROC, limits.processes)


def _kernel_arguments(connection_file: str, extra: list[str]) -> list[str]:
    return ["-f", connection_file, "--IPKernelApp.ignore_cwd=True",
            "--HistoryManager.hist_file=:memory:", *extra]


def _kernel_command(connection_file: str, extra: list[str], refereed: bool) -> list[str]:
    start = [REFEREE] if refereed else ["-m", "ipykernel_launcher"]
    return [sys.executable, "-I", *start, *_kernel_arguments(connection_file, extra)]


def _warm_request(limits: KernelLimits, connection_file: str, extra: list[str], refereed: bool,
                  environment: dict[str, str], cwd: str) -> dict:
    """What the zygote needs to fork this kernel (course_grading.zygote); no sandbox yet."""
    if refereed:
        environment = {**environment, "COURSE_REFEREE_FD": str(zygote.KEY_FD)}
    return {"main": REFEREE if refereed else "-m ipykernel_launcher",
            "argv": [REFEREE if refereed else "ipykernel_launcher",
                     *_kernel_arguments(connection_file, extra)],
            "environment": environment, "cwd": cwd, "limits": dataclasses.asdict(limits),
            "sandbox_pid": 0}


def _key_pipe() -> int | None:
    """The referee's key (from the grader) in a pipe the kernel inherits; None without a key."""
    key = os.environ.pop(REFEREE_KEY, "")
    if not key:
        return None
    read, write = os.pipe()
    os.write(write, bytes.fromhex(key))
    os.close(write)
    os.set_inheritable(read, True)
    return read


def _start_bwrap(uid: int, group: cgroups.KernelGroup, limits: KernelLimits,
                 command: list[str], passed: dict[int, int]) -> int:
    """Fork the process that execs ``command`` (bwrap) in the kernel's groups, as its uid and with
    its limits, with /dev/null for output and ``passed`` (target fd: fd) as its only files."""
    child = os.fork()
    if child == 0:
        try:
            group.join(os.getpid())
            # nothing the kernel prints reaches the grader's log except through the kernel
            # protocol (a forged error line there could end up as a submission's reason)
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            moved = {target: fcntl.fcntl(fd, fcntl.F_DUPFD, 64) for target, fd in passed.items()}
            for target, fd in moved.items():
                os.dup2(fd, target)  # inheritable, unlike fd
            os.closerange(max(passed, default=2) + 1, os.sysconf("SC_OPEN_MAX"))
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            set_limits(limits, per_uid=True)
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    return child


def _read_info(fd: int) -> dict:
    """bwrap's --info-fd report (the sandbox's first process, as this PID namespace sees it)."""
    data = b""
    while chunk := os.read(fd, 4096):
        data += chunk
        try:
            return json.loads(data)
        except ValueError:
            continue
    raise zygote.ZygoteError("bubblewrap did not start the sandbox")


# the sandbox's first process (PID 1) when the kernel comes from the zygote: says it is ready,
# then reaps every process of the sandbox whose parent ended, as bwrap's own would
PLACEHOLDER = """import os, time
os.write(3, b"ready\\n")
os.close(3)
while True:
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(0.2)
"""


def _run_sealed_warm(connection: socket.socket, uid: int, group: cgroups.KernelGroup,
                     binds: list[tuple[str, str, bool]], limits: KernelLimits,
                     request: dict, key: int | None) -> int:
    """The sandbox with a placeholder, then a kernel from the zygote that joins it."""
    ready_read, ready_write = os.pipe()
    info_read, info_write = os.pipe()
    command = bwrap_arguments(uid, binds, limits, request["environment"]) + [
        "--as-pid-1", "--info-fd", "4", "--", sys.executable, "-I", "-S", "-c", PLACEHOLDER]
    child = _start_bwrap(uid, group, limits, command, {3: ready_write, 4: info_write})
    os.close(ready_write)
    os.close(info_write)
    signal.signal(signal.SIGTERM, lambda *_: os.kill(child, signal.SIGKILL))
    try:
        info = _read_info(info_read)
        if os.read(ready_read, 16) != b"ready\n":
            raise zygote.ZygoteError("the sandbox's placeholder did not start")
        null = os.open(os.devnull, os.O_RDWR)
        connection, _ = zygote.request_kernel(connection, {
            **request, "sandbox_pid": int(info["child-pid"]), "uid": uid,
            "environment": {**request["environment"], "PWD": WORK_DIR},  # as bwrap --chdir sets
            "group": group_name(os.getpid()), "cwd": WORK_DIR},
            [null, null, null, *([key] if key is not None else [])])
    except zygote.ZygoteError:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        raise
    finally:
        os.close(info_read)
        os.close(ready_read)
    code = zygote.wait_for_exit(connection)  # the kernel ended, or SIGTERM ended the sandbox
    os.kill(child, signal.SIGKILL)  # bwrap, and with the PID namespace all that is left
    os.waitpid(child, 0)
    return code


def _run_sealed(limits: KernelLimits, connection_file: str, extra: list[str]) -> int:
    """Run the kernel in its control groups and bwrap; clean up; its exit status."""
    with open(connection_file) as file:
        if json.load(file).get("transport") != "ipc":
            raise SystemExit("course-sandbox: the kernel has no network; start it with "
                             "transport='ipc' and its connection file in a folder of its own")
    launcher = os.getpid()
    uid = UID_BASE + launcher
    group = cgroups.create(group_name(launcher), limits.memory_mb * 2**20, limits.processes)
    socket_dir = os.path.dirname(os.path.abspath(connection_file))
    os.chown(socket_dir, uid, uid)
    os.chmod(socket_dir, 0o700)
    os.chown(connection_file, uid, uid)
    os.chmod(connection_file, 0o600)
    pipe = _key_pipe()
    environment = kernel_environment(os.environ)
    connection = _connect_to_zygote()  # before the staging folder covers the zygote's socket
    binds = _stage([*visible_folders(), *REFEREE_FILES], socket_dir)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts reach the kernel as messages
    if connection is not None:
        request = _warm_request(limits, connection_file, extra, pipe is not None, environment,
                                WORK_DIR)
        try:
            code = _run_sealed_warm(connection, uid, group, binds, limits, request, pipe)
            group.remove()
            return code
        except zygote.ZygoteError as error:
            print(f"note: {error}; this kernel starts cold", file=sys.stderr)
    if pipe is not None:
        environment["COURSE_REFEREE_FD"] = str(pipe)
    command = bwrap_arguments(uid, binds, limits, environment) + [
        "--", *_kernel_command(connection_file, extra, pipe is not None)]
    child = _start_bwrap(uid, group, limits, command, {} if pipe is None else {pipe: pipe})
    signal.signal(signal.SIGTERM, lambda *_: os.kill(child, signal.SIGKILL))
    _, status = os.waitpid(child, 0)
    group.remove()
    return os.waitstatus_to_exitcode(status)


def _connect_to_zygote() -> socket.socket | None:
    """A connection to the grading run's zygote, if it has one and it answers (else a note)."""
    path = os.environ.get(zygote.SOCKET_VARIABLE)
    if not path:
        return None
    try:
        return zygote.connect(path)
    except zygote.ZygoteError as error:
        print(f"note: {error}; this kernel starts cold", file=sys.stderr)
        return None


def _run_warm(connection: socket.socket, request: dict, fds: list[int]) -> int:
    """A kernel from the zygote, without a sandbox; its exit status."""
    connection, kernel = zygote.request_kernel(connection, request, fds)
    signal.signal(signal.SIGTERM, lambda *_: os.kill(kernel, signal.SIGKILL))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts reach the kernel as messages
    return zygote.wait_for_exit(connection)


def main(argv: list[str] | None = None) -> None:
    """Launch ipykernel in the sandbox; ``argv`` is the kernelspec's: ``-f FILE [extra...]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    index = argv.index("-f")
    connection_file = argv[index + 1]
    extra = argv[:index] + argv[index + 2:]
    limits = KernelLimits.from_env()
    if limits.isolate and can_isolate():
        sys.exit(_run_sealed(limits, connection_file, extra))
    if limits.isolate:
        print(isolation_warning(), file=sys.stderr)
    pipe = _key_pipe()
    environment = {k: v for k, v in os.environ.items()
                   if k in KEPT_VARIABLES or k.startswith((*KEPT_PREFIXES, ENV_PREFIX, "JPY_"))}
    connection = _connect_to_zygote()
    if connection is not None:
        request = _warm_request(limits, connection_file, extra, pipe is not None, environment,
                                os.getcwd())
        try:
            key = [] if pipe is None else [pipe]
            sys.exit(_run_warm(connection, request, [0, 1, 2, *key]))
        except zygote.ZygoteError as error:
            print(f"note: {error}; this kernel starts cold", file=sys.stderr)
    set_limits(limits, per_uid=False)
    if pipe is not None:
        environment["COURSE_REFEREE_FD"] = str(pipe)
    os.execve(sys.executable, _kernel_command(connection_file, extra, pipe is not None),
              environment)


if __name__ == "__main__":
    main()
