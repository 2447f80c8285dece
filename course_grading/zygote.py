"""Warm grading kernels: one process imports the kernels' libraries once, then forks each kernel.

Every grading kernel imports Keras on TensorFlow before it runs a line of a submission: seconds
of CPU per notebook. :func:`running` starts a zygote for one grading run
(``python -I -m course_grading.zygote``): it imports :data:`PRELOADED` with the environment a
kernel gets, runs no TensorFlow operation and no submitted code, holds no secret, and listens
on a Unix socket in a folder only its user can open. The kernel launcher
(:mod:`course_grading.sandbox`) asks it for each kernel (:func:`request_kernel`); the zygote
forks a *keeper*, which forks the kernel and reports its exit status to the launcher.

The kernel is sealed after the fork, in the child, exactly where a cold kernel would be: the
launcher has already started bubblewrap, with the same file tree, namespaces, uid and control
groups as for a cold kernel, running a placeholder. The kernel process joins that sandbox's
control groups and namespaces (PID, user, mount, network, IPC, UTS, cgroup: what ``bwrap``
made, not a copy), takes the sandbox's uid, drops every capability (also from its bounding set),
sets ``no_new_privs`` and its resource limits, closes every file the zygote had open, and only
then runs the referee and ipykernel. What it shares with the zygote is memory copied on write:
the zygote checks at start that it holds no memory mapped shared and writable. Without the
sandbox (no root) the kernel is forked with the launcher's own limits, as a cold one would be.

Where the zygote cannot serve (no fork, it failed to start, a set-up step failed), the launcher
prints one line and starts a cold kernel.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import runpy
import select
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["KERNEL_MODULES", "SOCKET_VARIABLE", "ZygoteError", "connect", "imported_modules",
           "request_kernel", "running", "wait_for_exit"]

SOCKET_VARIABLE = "COURSE_ZYGOTE_SOCKET"  # to the launchers of one grading run
# what every kernel imports before a notebook's first line runs; the zygote also imports what
# the assignment's own notebooks import (imported_modules)
KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel_launcher")
# imported by a library only to bind a name it never uses: TensorFlow's tensorflow.lite.python.util
# does `from jax import jit as _jit` (inside try/except ImportError) when JAX is installed
UNUSED_IMPORTS = ("jax",)
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
REPLY_TIMEOUT = 300.0  # s: the zygote's import may still be running, on a loaded machine
KEY_FD = 3  # where the kernel finds the referee's key pipe (sandbox.REFEREE_KEY)
# joined in this order (the user namespace last: once in it, root has no say over the others);
# the PID namespace before, by the keeper
NAMESPACES = ("mnt", "net", "ipc", "uts", "cgroup", "user")

_CLONE_NEWPID = 0x20000000
_PR_SET_NO_NEW_PRIVS, _PR_CAPBSET_DROP, _PR_CAP_AMBIENT = 38, 24, 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_CAP_VERSION_3 = 0x20080522


class ZygoteError(RuntimeError):
    """The zygote could not give a kernel; the launcher starts a cold one instead."""


# ---- the grading run's side -------------------------------------------------------------------

def imported_modules(notebooks: list[Path]) -> list[str]:
    """The modules the code cells of ``notebooks`` import (``import a.b``: ``a.b``; ``from a.b
    import c``: ``a.b`` and ``a.b.c``, which may be a name, not a module), with matplotlib's
    inline backend where they import matplotlib."""
    import ast

    import nbformat
    from IPython.core.inputtransformer2 import TransformerManager

    found: set[str] = set()
    for path in notebooks:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            try:  # magics become Python, as IPython runs them
                tree = ast.parse(TransformerManager().transform_cell(cell.source))
            except (SyntaxError, ValueError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    found |= {alias.name for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    # `from a import b`: b may be a module (the zygote tries; a name is skipped)
                    found |= {node.module, *(f"{node.module}.{alias.name}"
                                             for alias in node.names if alias.name != "*")}
    if any(name.split(".")[0] == "matplotlib" for name in found):
        found.add("matplotlib_inline.backend_inline")
    return sorted(found)


@contextlib.contextmanager
def running(environment: dict[str, str], modules: list[str]) -> Iterator[str | None]:
    """A zygote that imported ``modules`` for the kernels started inside the ``with`` block:
    its socket path (None where it cannot run). ``environment`` is the one a kernel gets
    (:func:`course_grading.sandbox.kernel_environment`)."""
    if not (hasattr(os, "fork") and hasattr(os, "pidfd_open")):
        print("note: grading kernels start cold here (no fork or pidfd on this system)",
              file=sys.stderr)
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="course-zygote-") as folder:
        os.chmod(folder, 0o700)
        path = os.path.join(folder, "socket")
        home = os.path.join(folder, "home")  # the libraries' caches while the zygote imports
        os.mkdir(home, 0o700)
        env = {**environment, "HOME": home, "MPLCONFIGDIR": os.path.join(home, ".matplotlib"),
               "KERAS_HOME": os.path.join(home, ".keras"),
               # what ipykernel sets before a cold kernel's first import of matplotlib
               "MPLBACKEND": environment.get("MPLBACKEND") or INLINE_BACKEND}
        process = subprocess.Popen(
            [sys.executable, "-I", "-m", "course_grading.zygote", path, *modules],
            stdin=subprocess.PIPE, env=env, cwd=folder, start_new_session=True)
        try:
            yield path
        finally:
            process.stdin.close()  # the zygote ends when its input does
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# ---- the launcher's side ----------------------------------------------------------------------

def connect(path: str) -> socket.socket:
    """A connection to the zygote listening at ``path``; ZygoteError when there is none."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(path)
    except OSError as error:
        connection.close()
        raise ZygoteError(f"no warm kernel ({error})") from None
    return connection


def request_kernel(connection: socket.socket, request: dict,
                   fds: list[int]) -> tuple[socket.socket, int]:
    """Ask the zygote on ``connection`` for a kernel; the connection (its exit status comes on
    it: :func:`wait_for_exit`) and the kernel's PID. Raises ZygoteError when none comes."""
    try:
        socket.send_fds(connection, [json.dumps(request).encode() + b"\n"], fds)
        reply = _read_message(connection, REPLY_TIMEOUT)
    except (OSError, ValueError) as error:
        connection.close()
        raise ZygoteError(f"no warm kernel ({error})") from None
    if "pid" not in reply:
        connection.close()
        raise ZygoteError(f"no warm kernel: {reply.get('error', 'the zygote ended')}")
    return connection, int(reply["pid"])


def wait_for_exit(connection: socket.socket) -> int:
    """The kernel's exit code, once it has ended (-9 when its keeper ended first)."""
    try:
        return int(_read_message(connection, None).get("exit", -signal.SIGKILL))
    except (OSError, ValueError):
        return -signal.SIGKILL
    finally:
        connection.close()


def _read_message(connection: socket.socket, timeout: float | None) -> dict:
    """One JSON line from ``connection``; {} when it closed first."""
    connection.settimeout(timeout)
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(4096)
        if not chunk:
            return {}
        data += chunk
    return json.loads(data)


# ---- the zygote -------------------------------------------------------------------------------

def _shared_writable_memory() -> list[str]:
    """Mappings that a forked child would share with the zygote and its other children."""
    with open("/proc/self/maps") as maps:
        return [line.strip() for line in maps
                if len(fields := line.split()) > 1 and fields[1][1] == "w" and fields[1][3] == "s"]


def _preload(modules: list[str]) -> None:
    import importlib

    import course_grading.sandbox  # noqa: F401 - the kernel sets its limits with it, once sealed

    # what a library imports only to bind a name nothing uses is left out while it loads (a
    # notebook that imports it itself still gets it); a kernel that asks for it later imports it
    skipped = [name for name in UNUSED_IMPORTS if name not in sys.modules
               and not any(m == name or m.startswith(f"{name}.") for m in modules)]
    sys.modules.update(dict.fromkeys(skipped))  # None: "not installed" for `try: import`
    try:
        for name in [*KERNEL_MODULES, *modules]:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001, S112 - the kernel will meet the same error itself
                continue
    finally:
        for name in skipped:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]


def serve(path: str, modules: list[str]) -> None:
    """Listen at ``path``, import ``modules``, then fork a keeper per request until standard
    input ends."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)  # at once: launchers wait in the queue while the libraries import
    os.chmod(path, 0o600)
    listener.listen(64)
    _preload(modules)
    shared = _shared_writable_memory()
    if shared:
        print("course_grading.zygote: not serving, memory would be shared between kernels: "
              + "; ".join(shared), file=sys.stderr)
        return
    while True:
        ready, _, _ = select.select([listener, sys.stdin], [], [], 1.0)
        _reap()
        if sys.stdin in ready and not os.read(sys.stdin.fileno(), 1024):
            return
        if listener in ready:
            connection, _ = listener.accept()
            _serve_one(listener, connection)


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _serve_one(listener: socket.socket, connection: socket.socket) -> None:
    """Fork a keeper for one launcher's request (only from a process of the zygote's own uid)."""
    fds: list[int] = []
    try:
        credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                            ctypes.sizeof(ctypes.c_int) * 3)
        peer_pid, peer_uid, _ = (int.from_bytes(credentials[i:i + 4], sys.byteorder)
                                 for i in (0, 4, 8))
        connection.settimeout(10)
        message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 8)
        if peer_uid != os.getuid() or not message.endswith(b"\n"):
            return
        request = json.loads(message)
        if os.fork() == 0:
            listener.close()
            _keep(connection, request, fds, peer_pid)
    except (OSError, ValueError):
        pass
    finally:
        for fd in fds:
            os.close(fd)
        connection.close()


def _send(connection: socket.socket, message: dict) -> None:
    with contextlib.suppress(OSError):
        connection.sendall(json.dumps(message).encode() + b"\n")


def _keep(connection: socket.socket, request: dict, fds: list[int], launcher: int) -> None:
    """The keeper: fork the kernel (into the sandbox's PID namespace), report its PID, then its
    exit status; kill it if the launcher ends first. (It stays the kernel's parent: an orphan
    would go to the machine's init, and the sandbox could not end until that reaped it.)"""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        launcher_fd = os.pidfd_open(launcher)
        if request.get("sandbox_pid"):
            with open(f"/proc/{int(request['sandbox_pid'])}/ns/pid") as namespace:
                _setns(namespace.fileno(), _CLONE_NEWPID)
        status_read, status_write = os.pipe()
        kernel = os.fork()
        if kernel == 0:
            os.close(status_read)
            _become_kernel(request, fds, status_write)
        os.close(status_write)
        with os.fdopen(status_read, "rb") as status:
            said = status.read().decode(errors="replace")
        if said != "ok":
            _send(connection, {"error": said or "the kernel ended while it was set up"})
            with contextlib.suppress(ProcessLookupError):
                os.kill(kernel, signal.SIGKILL)
            os.waitpid(kernel, 0)
            return
        _send(connection, {"pid": kernel})
        kernel_fd = os.pidfd_open(kernel)
        ready, _, _ = select.select([kernel_fd, launcher_fd, connection], [], [])
        if kernel_fd not in ready:  # the launcher is gone: so is the kernel
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(kernel_fd, signal.SIGKILL)
        _, status_code = os.waitpid(kernel, 0)
        _send(connection, {"exit": os.waitstatus_to_exitcode(status_code)})
        code = 0
    except BaseException as error:  # noqa: BLE001 - the launcher hears of it, the zygote lives
        _send(connection, {"error": f"{type(error).__name__}: {error}"})
    finally:
        os._exit(code)


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _setns(fd: int, kind: int = 0) -> None:
    _check(_libc().setns(fd, kind), "setns")


def _drop_capabilities() -> None:
    """No capability left, not even in the bounding or ambient set; no new ones by exec."""
    libc = _libc()
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for capability in range(last + 1):
        _check(libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0), "drop a capability")
    _check(libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "ambient")
    header = (ctypes.c_uint32 * 2)(_CAP_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    _check(libc.capset(header, data), "capset")
    _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def _status_fields() -> dict[str, str]:
    with open("/proc/self/status") as status:
        return dict(line.rstrip("\n").split(":\t", 1) for line in status if ":\t" in line)


def _join_sandbox(request: dict) -> None:
    """Become a process of the launcher's sandbox: its groups, namespaces, uid; no privilege."""
    from course_grading import cgroups

    sandbox_pid, uid = int(request["sandbox_pid"]), int(request["uid"])
    cgroups.group_for(request["group"]).join(0)  # 0: this process (its PID is the sandbox's)
    namespaces = [os.open(f"/proc/{sandbox_pid}/ns/{name}", os.O_RDONLY) for name in NAMESPACES]
    os.setgroups([])
    for fd in namespaces:
        _setns(fd)
        os.close(fd)
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    _drop_capabilities()
    fields = _status_fields()
    privileges = [fields[f"Cap{kind}"] for kind in ("Inh", "Prm", "Eff", "Bnd", "Amb")]
    if any(int(value, 16) for value in privileges) or fields["NoNewPrivs"].strip() != "1":
        raise OSError(f"the kernel kept privileges: {privileges}")


def _become_kernel(request: dict, fds: list[int], status_write: int) -> None:
    """The kernel process: sealed like a cold one, then the referee or ipykernel runs."""
    code = 1
    try:
        os.setsid()
        # out of the way of the descriptors the kernel gets (0-2, KEY_FD)
        status_write = _move_up(status_write)
        fds = [_move_up(fd) for fd in fds]
        stdio, key = fds[:3], fds[3:]
        if request.get("sandbox_pid"):
            _join_sandbox(request)
            null = os.open(os.devnull, os.O_RDWR)
            stdio = [null, null, null]
        os.chdir(request["cwd"])
        for target, fd in enumerate(stdio):
            os.dup2(fd, target)
        if key:
            os.dup2(key[0], KEY_FD)
        os.closerange(KEY_FD + 1 if key else 3, status_write)
        os.closerange(status_write + 1, os.sysconf("SC_OPEN_MAX"))
        _set_limits(request["limits"], bool(request.get("sandbox_pid")))
        _fresh_process_state(request["environment"])
        os.write(status_write, b"ok")
        os.close(status_write)
        sys.argv = list(request["argv"])
        _run_main(request["main"])
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException as error:  # noqa: BLE001 - said to the keeper, or lost with the kernel
        with contextlib.suppress(OSError):
            os.write(status_write, f"{type(error).__name__}: {error}".encode())
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _move_up(fd: int) -> int:
    import fcntl

    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 64)
    os.close(fd)
    return moved


def _set_limits(limits: dict, per_uid: bool) -> None:
    from course_grading.sandbox import KernelLimits, set_limits

    set_limits(KernelLimits(**limits), per_uid)


def _fresh_process_state(environment: dict[str, str]) -> None:
    """What a newly started kernel would have: its environment, its own random seeds, caches
    under its own HOME, and no course_grading module (not importable in a sandbox)."""
    os.environ.clear()
    os.environ.update(environment)
    import random

    import matplotlib
    import numpy

    random.seed()
    numpy.random.seed()  # noqa: NPY002 - the legacy global state a notebook may draw from
    for cached in ("get_configdir", "get_cachedir"):
        with contextlib.suppress(AttributeError):
            getattr(matplotlib, cached).cache_clear()
    for name in [n for n in sys.modules if n == "course_grading" or
                 n.startswith("course_grading.")]:
        del sys.modules[name]


def _run_main(main: str) -> None:
    """Run the kernel's program: a script's path, or ``-m module``, as its ``__main__``."""
    if main.startswith("-m "):
        runpy.run_module(main[3:], run_name="__main__", alter_sys=True)
    else:
        runpy.run_path(main, run_name="__main__")


def main() -> None:
    """``python -I -m course_grading.zygote SOCKET [MODULE...]``: serve until input ends."""
    if len(sys.argv) < 2:
        raise SystemExit("usage: python -I -m course_grading.zygote SOCKET [MODULE...]")
    serve(sys.argv[1], sys.argv[2:])


if __name__ == "__main__":
    main()
