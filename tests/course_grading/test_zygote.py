"""Tests of course_grading.zygote: warm kernels that are sealed like cold ones and share nothing.

The kernels are started as the grader starts them (course_grading.sandbox.grading_kernel: the
course-sandbox kernelspec, the zygote's socket in the launcher's environment). Tests that need
the sealed sandbox (root, bubblewrap, control groups) are skipped elsewhere; those that start a
process are slow (make test only).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from course_grading import sandbox, zygote
from course_grading.sandbox import KernelLimits

SEALED = pytest.mark.skipif(not sandbox.can_isolate(),
                            reason="needs the sealed sandbox (root, bubblewrap, control groups)")
LIMITS = KernelLimits(memory_mb=4096, cpu_seconds=120, file_mb=64, processes=256)  # the grader's
UNSEALED = KernelLimits(memory_mb=0, cpu_seconds=120, isolate=False)

# what a kernel reports of itself; sorted lists so that two kernels' reports compare
REPORT = """
import json, os, socket, sys
status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines()
              if ":\\t" in line)
try:
    import course_grading
    grading = True
except ImportError:
    grading = False
print(json.dumps({
    "uid": os.getuid(), "pid": os.getpid(), "cwd": os.getcwd(), "root": sorted(os.listdir("/")),
    "host": socket.gethostname(), "environment": sorted(os.environ),
    "capabilities": {k: status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapAmb")},
    "bounding": status["CapBnd"].strip(), "no_new_privs": status["NoNewPrivs"].strip(),
    "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    "networks": sorted(name for _, name in socket.if_nameindex()),
    "course_grading": grading, "numpy_loaded": "numpy" in sys.modules}))
"""


def run_in_kernel(code: str, socket_path: str | None,
                  limits: KernelLimits = LIMITS) -> tuple[str, str]:
    """Start a grading kernel (warm when ``socket_path`` is given), run ``code``; its stdout
    and the name and value of the error it raised, if any."""
    out: list[str] = []
    error: list[str] = []

    def collect(message: dict) -> None:
        content = message["content"]
        if message["msg_type"] == "stream" and content["name"] == "stdout":
            out.append(content["text"])
        elif message["msg_type"] == "error":
            error.append(f"{content['ename']}: {content['evalue']}")

    with sandbox.grading_kernel(limits, socket_path, timeout=120) as client:
        client.execute_interactive(code, timeout=120, output_hook=collect)
    return "".join(out), "".join(error)


def report(socket_path: str | None, limits: KernelLimits = LIMITS) -> dict:
    out, error = run_in_kernel(REPORT, socket_path, limits)
    assert not error, error
    return json.loads(out)


@pytest.fixture(scope="module")
def warm() -> Iterator[str]:
    """A zygote that imported NumPy, with the environment a sealed kernel gets."""
    with zygote.running(sandbox.kernel_environment(os.environ), ["numpy"]) as path:
        assert path is not None
        yield path


def notebook(tmp_path: Path, *sources: str) -> Path:
    path = tmp_path / "source.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s)
                                                   for s in sources]), path)
    return path


def test_the_zygote_imports_what_the_notebooks_import(tmp_path) -> None:
    path = notebook(tmp_path, "import numpy as np\nimport keras.layers\n%matplotlib inline",
                    "from matplotlib import pyplot as plt\nfrom . import nothing",
                    "def f():\n    import json")
    assert zygote.imported_modules([path]) == [
        "json", "keras.layers", "matplotlib", "matplotlib.pyplot",
        "matplotlib_inline.backend_inline", "numpy"]


PRELOAD = """
import sys
from course_grading import zygote
zygote._preload(sys.argv[1:])
import uses_jax
print(uses_jax.jit is not None, "jax" in sys.modules, end=" ")
import jax  # what a kernel imports itself
print(jax.jit is not None)
"""


@pytest.mark.slow
@pytest.mark.parametrize(("modules", "expected"), [
    (["uses_jax"], "False False True"),  # left out while the library loads, importable later
    (["uses_jax", "jax.numpy"], "True True True"),  # a notebook that imports it gets it
])
def test_the_zygote_leaves_out_what_a_library_imports_and_never_uses(
        tmp_path, modules: list[str], expected: str) -> None:
    (tmp_path / "uses_jax.py").write_text(
        "try:\n    from jax import jit\nexcept ImportError:\n    jit = None\n")
    result = subprocess.run([sys.executable, "-c", PRELOAD, *modules], capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(tmp_path)}, check=True)
    assert result.stdout.strip() == expected


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root, to act as another user")
def test_another_user_cannot_reach_the_zygote(warm) -> None:
    child = os.fork()
    if child == 0:
        code = 1
        try:
            os.setgid(65534)
            os.setuid(65534)
            zygote.connect(warm)
        except zygote.ZygoteError as error:
            code = 0 if "Permission denied" in str(error) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.slow
@SEALED
def test_a_warm_kernel_is_sealed_like_a_cold_one(warm) -> None:
    cold, hot = report(None), report(warm)
    assert not cold["numpy_loaded"] and hot["numpy_loaded"]
    assert hot["uid"] >= sandbox.UID_BASE and cold["uid"] >= sandbox.UID_BASE
    for key in ("cwd", "root", "host", "environment", "capabilities", "networks",
                "course_grading", "no_new_privs"):
        assert hot[key] == cold[key], key
    assert set(hot["capabilities"].values()) == {"0000000000000000"}
    assert hot["bounding"] == "0000000000000000"  # stricter than bwrap's own
    # its own PID namespace: the sandbox's first process (its parent) and the kernel
    assert hot["pid"] == cold["pid"] == 2 and hot["processes"] == cold["processes"]


@pytest.mark.slow
@pytest.mark.parametrize("limits", [
    pytest.param(LIMITS, marks=SEALED, id="sealed"), pytest.param(UNSEALED, id="unsealed")])
def test_nothing_passes_from_one_warm_kernel_to_the_next(warm, limits) -> None:
    # an unsealed kernel shares the user's /tmp, as a cold one does: only a sealed one writes
    sealed = limits.isolate
    out, error = run_in_kernel(textwrap.dedent(f"""
        import builtins, os, sys, tempfile, numpy
        if {sealed}:
            open(os.path.join(tempfile.gettempdir(), "left-by-the-first"), "w").write("x")
        os.environ["LEFT_BY_THE_FIRST"] = "1"
        numpy.mean = lambda *args, **kwargs: 42
        numpy.left_by_the_first = builtins.left_by_the_first = 1
        sys.modules["left_by_the_first"] = numpy
        print(numpy.mean([1, 2, 3]), numpy.random.randint(1 << 30))
        """), warm, limits)
    assert not error and out.split()[0] == "42"
    first_draw = out.split()[1]
    out, error = run_in_kernel(textwrap.dedent("""
        import builtins, os, sys, tempfile, numpy
        print(os.path.exists(os.path.join(tempfile.gettempdir(), "left-by-the-first")),
              "LEFT_BY_THE_FIRST" in os.environ, numpy.mean([1, 2, 3]),
              hasattr(numpy, "left_by_the_first"), hasattr(builtins, "left_by_the_first"),
              "left_by_the_first" in sys.modules, numpy.random.randint(1 << 30))
        """), warm, limits)
    assert not error
    *seen, draw = out.split()
    assert seen == ["False", "False", "2.0", "False", "False", "False"]
    assert draw != first_draw  # each kernel seeds its own random numbers


@pytest.mark.slow
@SEALED
def test_a_warm_kernel_cannot_see_the_zygote_or_signal_it(warm) -> None:
    (zygote_pid,) = [int(p) for p in os.listdir("/proc") if p.isdigit()
                     and warm.encode() in Path(f"/proc/{p}/cmdline").read_bytes()]
    out, error = run_in_kernel(textwrap.dedent(f"""
        import os, signal, socket
        outcomes = []
        for attempt in (lambda: os.kill({zygote_pid}, signal.SIGKILL),
                        lambda: socket.socket(socket.AF_UNIX).connect({warm!r}),
                        lambda: os.kill(1, signal.SIGKILL)):
            try:
                attempt()
                outcomes.append("done")
            except OSError as error:
                outcomes.append(type(error).__name__)
        print(*outcomes)
        """), warm)
    assert not error
    assert out.split()[:2] == ["ProcessLookupError", "FileNotFoundError"]
    os.kill(zygote_pid, 0)  # still there
    assert report(warm)["numpy_loaded"]  # and still serving


@pytest.mark.slow
@SEALED
def test_each_warm_kernel_has_its_own_limits(warm) -> None:
    small = KernelLimits(memory_mb=1200, cpu_seconds=60, file_mb=8, processes=64)
    out, error = run_in_kernel("block = bytearray(1500 * 2**20)", warm, small)
    assert error.startswith("MemoryError")
    out, error = run_in_kernel("open('/tmp/big', 'wb').write(bytes(16 * 2**20))", warm, small)
    assert error.startswith("OSError")  # the file-size limit, the capped /tmp
    out, error = run_in_kernel("block = bytearray(800 * 2**20); print(len(block))", warm)
    assert not error and out.strip() == str(800 * 2**20)


@pytest.mark.slow
@SEALED
def test_a_kernel_that_forks_and_starts_threads_is_served_and_cleaned_up(warm) -> None:
    out, error = run_in_kernel(textwrap.dedent("""
        import os, threading, time
        threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
        if os.fork() == 0:
            time.sleep(600)
            os._exit(0)
        print(os.getuid())  # the sandbox's uid, the same number on the machine
        """), warm)
    assert not error
    uid = int(out)
    assert uid >= sandbox.UID_BASE
    processes = subprocess.run(["ps", "-eo", "uid=,stat="], capture_output=True,
                               text=True).stdout.splitlines()
    # a process of this kernel's uid still running (an ended one waits a moment for init to reap);
    # kernels of other tests running beside this one have uids of their own
    assert not [line for line in processes
                if int(line.split()[0]) == uid and "Z" not in line.split()[1]]


@pytest.mark.slow
def test_without_its_zygote_a_kernel_starts_cold_and_says_so(tmp_path, capfd) -> None:
    missing = str(tmp_path / "no-zygote")
    out, error = run_in_kernel("import sys; print('numpy' in sys.modules)", missing, UNSEALED)
    assert not error and out.strip() == "False"
    assert "this kernel starts cold" in capfd.readouterr().err


TRAIN = """
import hashlib, numpy as np, keras
keras.utils.set_random_seed(7)
x = np.random.default_rng(0).normal(size=(256, 784)).astype("float32")
y = np.random.default_rng(1).integers(0, 10, size=256)
model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(64, activation="relu"),
                          keras.layers.Dense(10, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy")
model.fit(x, y, epochs=2, batch_size=32, verbose=0)
print(hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest())
"""


@pytest.mark.slow
def test_warm_and_cold_kernels_train_to_the_same_weights() -> None:
    limits = LIMITS if sandbox.can_isolate() else UNSEALED
    with zygote.running(sandbox.kernel_environment(os.environ), ["numpy", "keras"]) as path:
        warm_out, warm_error = run_in_kernel(TRAIN, path, limits)
    cold_out, cold_error = run_in_kernel(TRAIN, None, limits)
    assert not warm_error and not cold_error
    assert len(warm_out.strip()) == 64 and warm_out == cold_out


@pytest.mark.slow
def test_the_zygote_refuses_to_serve_with_memory_shared_between_kernels(tmp_path) -> None:
    script = textwrap.dedent(f"""
        import mmap, sys
        shared = mmap.mmap(-1, 4096)  # anonymous, shared, writable: every fork would share it
        from course_grading import zygote
        zygote.serve({str(tmp_path / 'socket')!r}, [])
        """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL)
    assert "not serving, memory would be shared between kernels" in result.stderr
    with pytest.raises(zygote.ZygoteError):
        zygote.connect(str(tmp_path / "socket"))
