"""The kernel's referee (course_grading.referee), driven in this process: its audit hook is
called directly (an audit hook added with sys.addaudithook could never be removed), with
requests sealed by a Sealer of the same key and verdicts collected from a patched
IPython.display.publish_display_data. This file lies outside the referee's trusted roots, so
the code it compiles counts as "code of the submission", and so do its own frames: after the
seal, the hook called from here is called by untrusted code."""

from __future__ import annotations

import _thread
import atexit
import base64
import builtins
import contextlib
import ctypes
import dataclasses
import json
import os
import signal
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import IPython.display
import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from nbformat.v4 import new_output
from traitlets.config import Config

from course_grading import referee, referee_checks
from course_grading.refereeing import Referee

KEY = bytes(range(32))
# the library folders of a kernel's path: pytest puts the checkout on sys.path, which a
# kernel started with `python -I` does not have, so this file counts as the submission's
TRUSTED = tuple(root for root in referee._trusted_roots() if not __file__.startswith(root))
Hook = Callable[[str, tuple], None]


def token_of(code: str) -> str:
    """The token in the code a Sealer hands out (``sys.audit(EVENT, "TOKEN")``)."""
    return code.split('"')[-2]


@dataclasses.dataclass
class Kernel:
    """The referee's hook with what it needs from a kernel: a shell, and the grader's Sealer."""

    hook: Hook
    shell: InteractiveShell
    sealer: referee.Sealer
    published: list[dict]

    def send(self, token: str) -> list[dict]:
        """What the referee publishes when handed ``token``."""
        before = len(self.published)
        self.hook(referee.EVENT, (token,))
        return self.published[before:]

    def ask(self, kind: bytes, source: str = "", pins: tuple[str, ...] = ()) -> dict:
        """The verdict, opened and checked, of a request the referee answers."""
        code, nonce = self.sealer.request(kind, source, pins)
        (data,) = self.send(token_of(code))
        verdict = self.sealer.verdict(data[referee.MIME], nonce)
        assert verdict is not None, "the referee's verdict did not open"
        return verdict

    def seal(self) -> None:
        assert self.ask(referee._SEAL)["ok"] == "1"

    @property
    def session(self) -> object:
        """The referee's session generator (the one that holds the key), from the hook's
        closure."""
        names = self.hook.__code__.co_freevars  # type: ignore[attr-defined]
        return self.hook.__closure__[names.index("session")].cell_contents  # type: ignore


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """What the referee publishes (the hook binds publish_display_data when it is made)."""
    found: list[dict] = []
    monkeypatch.setattr(IPython.display, "publish_display_data",
                        lambda data, *args, **kwargs: found.append(data))
    return found


@contextlib.contextmanager
def new_shell(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Iterator[InteractiveShell]:
    """A new IPython shell (the singleton the referee finds), undone afterwards: its
    sys.modules["__main__"], the names it adds to builtins, its atexit call."""
    monkeypatch.setenv("IPYTHONDIR", str(folder / "ipython"))
    builtin_names = set(vars(builtins))
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=Config({"HistoryManager": {"enabled": False}}))
    try:
        yield shell
    finally:
        shell.cleanup()
        atexit.unregister(shell.atexit_operations)
        InteractiveShell.clear_instance()
        for name in set(vars(builtins)) - builtin_names:
            delattr(builtins, name)


@pytest.fixture
def fresh_shell(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[InteractiveShell]:
    with new_shell(monkeypatch, tmp_path) as shell:
        yield shell


def wait_for_threads(count: int, timeout: float = 5) -> None:
    """Wait until no more than ``count`` threads of _thread's making run (a test's thread ends
    just after it hands back its outcome)."""
    deadline = time.monotonic() + timeout
    while _thread._count() > count and time.monotonic() < deadline:
        time.sleep(0.001)
    assert _thread._count() <= count, "a test's thread is still running"


@pytest.fixture
def kernel(published: list[dict], fresh_shell: InteractiveShell) -> Iterator[Kernel]:
    """A referee as main() makes it, before any request (the shell exists first: the referee
    takes its namespace at the first request), and no test thread left behind."""
    threads = _thread._count()
    hook = referee._referee(KEY, TRUSTED, referee_checks)
    yield Kernel(hook, fresh_shell, referee.Sealer(KEY), published)
    wait_for_threads(threads)


@pytest.fixture
def sealed_kernel(kernel: Kernel) -> Kernel:
    """A referee that has remembered the libraries (the grader seals before any answer)."""
    kernel.seal()
    return kernel


@pytest.fixture(scope="module")
def shared_sealed_kernel(tmp_path_factory: pytest.TempPathFactory) -> Kernel:
    """One sealed referee for the tests that only hand its hook audit events, which change
    nothing in it (a seal takes a snapshot of every library: tenths of a second). Its shell is
    gone: after the first request, the referee holds only the shell's namespace."""
    with pytest.MonkeyPatch.context() as patch:
        published: list[dict] = []
        patch.setattr(IPython.display, "publish_display_data",
                      lambda data, *args, **kwargs: published.append(data))
        with new_shell(patch, tmp_path_factory.mktemp("shared")) as shell:
            hook = referee._referee(KEY, TRUSTED, referee_checks)
            kernel = Kernel(hook, shell, referee.Sealer(KEY), published)
            kernel.seal()
    return kernel


@pytest.fixture
def library_file() -> str:
    """A real file under the trusted roots (json's __init__.py)."""
    path = os.path.realpath(json.__file__)
    assert path.startswith(referee._trusted_roots())
    return path


@pytest.fixture
def usr1_handler() -> Iterator[Callable]:
    """A Python handler for SIGUSR1, the one installed before undone afterwards."""
    def handler(number: int, frame: object) -> None:
        pass

    previous = signal.signal(signal.SIGUSR1, handler)
    try:
        yield handler
    finally:
        signal.signal(signal.SIGUSR1, previous)


# requests and pins


def test_run_request_executes_in_the_learners_namespace(kernel: Kernel) -> None:
    verdict = kernel.ask(referee._RUN, "x = 1\ny = [2]")
    assert verdict["ok"] == "1"
    assert kernel.shell.user_ns["x"] == 1
    assert kernel.shell.user_ns["y"] == [2]


def test_pinned_names_keep_their_objects_when_the_learner_rebinds_them(kernel: Kernel) -> None:
    kernel.ask(referee._RUN, "x = 1\ny = 2", ("x",))
    kernel.seal()
    kernel.shell.user_ns["x"] = 99
    kernel.shell.user_ns["y"] = 98
    verdict = kernel.ask(referee._TEST, "assert x == 1, x\nassert y == 98, y")
    assert verdict["ok"] == "1", verdict


def test_failing_run_request_reports_its_error(kernel: Kernel) -> None:
    verdict = kernel.ask(referee._RUN, "z = 1\nraise KeyError('gone')", ("z",))
    assert (verdict["ok"], verdict["ename"]) == ("0", "KeyError")
    kernel.seal()
    assert kernel.ask(referee._TEST, "assert z == 1")["ok"] == "1"


# tests (the grader seals the kernel before the first answer cell, so before any test)


def test_a_test_before_the_seal_is_refused(kernel: Kernel) -> None:
    verdict = kernel.ask(referee._TEST, "print('ran')\n_ran = 1")
    assert (verdict["ok"], verdict["ename"]) == ("0", "GradingError")
    assert verdict["evalue"] == "a test before the kernel was sealed"
    assert verdict["stdout"] == ""
    kernel.seal()
    assert kernel.ask(referee._TEST, "assert '_ran' not in globals()")["ok"] == "1"


def test_passing_test_gives_ok_and_its_own_printed_output(sealed_kernel: Kernel) -> None:
    verdict = sealed_kernel.ask(referee._TEST, "print('hello', 42)\nprint('a', 'b', sep='-')")
    assert verdict["ok"] == "1"
    assert verdict["stdout"] == "hello 42\na-b\n"
    assert (verdict["ename"], verdict["evalue"]) == ("", "")


def test_failing_assert_gives_not_ok_with_its_error_and_message(sealed_kernel: Kernel) -> None:
    verdict = sealed_kernel.ask(referee._TEST, "print('before')\nassert 1 == 2, 'one is not two'")
    assert verdict["ok"] == "0"
    assert verdict["ename"] == "AssertionError"
    assert verdict["evalue"] == "one is not two"
    assert verdict["stdout"] == "before\n"


def test_names_a_test_defines_stay_out_of_the_learners_namespace(sealed_kernel: Kernel) -> None:
    assert sealed_kernel.ask(referee._TEST, "_secret = 1")["ok"] == "1"
    assert "_secret" not in sealed_kernel.shell.user_ns


def test_names_a_test_defines_are_seen_by_the_next_test(sealed_kernel: Kernel) -> None:
    sealed_kernel.ask(referee._TEST, "_secret = 1")
    assert sealed_kernel.ask(referee._TEST, "assert _secret == 1")["ok"] == "1"


def test_a_learners_global_named_like_a_builtin_does_not_reach_tests(
        sealed_kernel: Kernel) -> None:
    sealed_kernel.shell.user_ns["len"] = lambda value: 0
    assert sealed_kernel.ask(referee._TEST, "assert len([1, 2]) == 2")["ok"] == "1"


def test_tests_run_with_the_builtins_of_the_start(sealed_kernel: Kernel,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:  # undone at once: pytest itself uses builtins
        patch.setattr(builtins, "abs", lambda value: -1)
        verdict = sealed_kernel.ask(referee._TEST, "assert abs(-2) == 2")
    assert verdict["ok"] == "1", verdict


# threads: a run request in the main thread, a test in a thread of its own


def test_a_run_request_runs_in_the_main_thread(kernel: Kernel) -> None:
    assert kernel.ask(referee._RUN, "import threading\nrun_ident = threading.get_ident()")[
        "ok"] == "1"
    assert kernel.shell.user_ns["run_ident"] == threading.get_ident()


def test_a_test_runs_in_a_thread_of_its_own(sealed_kernel: Kernel) -> None:
    sealed_kernel.shell.user_ns["main_ident"] = threading.get_ident()
    source = "import threading\n_ident = threading.get_ident()\nassert _ident != main_ident"
    assert sealed_kernel.ask(referee._TEST, source)["ok"] == "1"
    # the ident was a private name of the tests: the next test sees it, the learner does not
    assert sealed_kernel.ask(referee._TEST, "assert _ident != main_ident")["ok"] == "1"
    assert "_ident" not in sealed_kernel.shell.user_ns


def test_nothing_of_the_referee_is_on_a_tests_stack(sealed_kernel: Kernel) -> None:
    verdict = sealed_kernel.ask(referee._TEST, "from course_grading.referee_checks import "
                                "stack_files\nprint(stack_files())")
    assert verdict["ok"] == "1", verdict
    checks = referee_checks.__file__
    assert eval(verdict["stdout"]) == [  # noqa: S307 - a list of tuples of strings
        (checks, "_dump"), (checks, "stack_files"), ("<test>", "<module>"),
        (referee.__file__, "_run_cell")]


def test_a_test_cannot_install_a_signal_handler(sealed_kernel: Kernel) -> None:
    source = ("import signal\ntry:\n    signal.signal(signal.SIGUSR1, signal.SIG_DFL)\n"
              "except ValueError:\n    pass\n"
              "else:\n    raise AssertionError('a handler was installed')")
    assert sealed_kernel.ask(referee._TEST, source)["ok"] == "1"


def test_a_request_from_another_thread_is_ignored(kernel: Kernel) -> None:
    code, _ = kernel.sealer.request(referee._RUN, "from_thread = 1")
    thread = threading.Thread(target=kernel.hook, args=(referee.EVENT, (token_of(code),)))
    thread.start()
    thread.join(5)
    assert kernel.published == []
    assert "from_thread" not in kernel.shell.user_ns
    assert len(kernel.send(token_of(code))) == 1  # the number was not used up
    assert kernel.shell.user_ns["from_thread"] == 1


def test_a_test_interrupted_by_the_time_limit_ends_with_keyboard_interrupt(
        sealed_kernel: Kernel) -> None:
    """SIGINT (the grader's time limit) reaches the main thread, waiting for the test: the
    referee stops the test's thread where it is (PyThreadState_SetAsyncExc)."""
    sealed_kernel.shell.user_ns["main_ident"] = threading.get_ident()
    source = ("import signal, time\nsignal.pthread_kill(main_ident, signal.SIGINT)\n"
              "for _ in range(500):\n    time.sleep(0.01)\n"
              "raise AssertionError('not interrupted')")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        verdict = sealed_kernel.ask(referee._TEST, source)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert (verdict["ok"], verdict["ename"]) == ("0", "KeyboardInterrupt"), verdict
    assert sealed_kernel.ask(referee._TEST, "pass")["ok"] == "1"


def test_keras_per_thread_settings_reach_a_tests_thread(
        kernel: Kernel, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keras keeps its seeds and settings per thread (GLOBAL_STATE_TRACKER, a threading.local):
    the referee copies the main thread's into the test's. A stand-in module of that name here:
    Keras itself is not imported (nor "keras", which the seal would configure)."""
    state = types.ModuleType("keras.src.backend.common.global_state")
    state.GLOBAL_STATE_TRACKER = threading.local()
    state.GLOBAL_STATE_TRACKER.seed = 42
    if "keras" in sys.modules:  # the seal would configure the real one, the stand-in hide it
        pytest.skip("Keras was imported by another test in this process")
    monkeypatch.setitem(sys.modules, state.__name__, state)
    kernel.seal()
    source = (f"import sys\n_tracker = sys.modules[{state.__name__!r}].GLOBAL_STATE_TRACKER\n"
              "assert _tracker.seed == 42, vars(_tracker)\n_tracker.seed = 7")
    assert kernel.ask(referee._TEST, source)["ok"] == "1"
    assert state.GLOBAL_STATE_TRACKER.seed == 42  # a copy: the test's own changes stay its own


# signal handlers: set aside while the referee works, restored after


def test_python_signal_handlers_are_ignored_while_a_run_request_runs(
        kernel: Kernel, usr1_handler: Callable) -> None:
    source = "import signal\nduring = signal.getsignal(signal.SIGUSR1)"
    assert kernel.ask(referee._RUN, source)["ok"] == "1"
    assert kernel.shell.user_ns["during"] == signal.SIG_IGN
    assert signal.getsignal(signal.SIGUSR1) is usr1_handler


def test_python_signal_handlers_are_ignored_while_a_test_runs(
        sealed_kernel: Kernel, usr1_handler: Callable) -> None:
    source = "import signal\nassert signal.getsignal(signal.SIGUSR1) == signal.SIG_IGN"
    assert sealed_kernel.ask(referee._TEST, source)["ok"] == "1"
    assert signal.getsignal(signal.SIGUSR1) is usr1_handler


def test_signal_handlers_are_restored_when_the_request_raises(
        kernel: Kernel, usr1_handler: Callable) -> None:
    assert kernel.ask(referee._RUN, "raise KeyError('gone')")["ename"] == "KeyError"
    assert signal.getsignal(signal.SIGUSR1) is usr1_handler


def test_sigint_and_handlers_of_c_stay_while_a_request_runs(kernel: Kernel) -> None:
    previous = (signal.signal(signal.SIGINT, signal.default_int_handler),
                signal.signal(signal.SIGUSR2, signal.SIG_DFL))
    try:
        source = ("import signal\nduring = (signal.getsignal(signal.SIGINT), "
                  "signal.getsignal(signal.SIGUSR2))")
        assert kernel.ask(referee._RUN, source)["ok"] == "1"
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGUSR2, previous[1])
    assert kernel.shell.user_ns["during"] == (signal.default_int_handler, signal.SIG_DFL)


# requests the referee ignores


def test_the_same_request_twice_is_answered_once(kernel: Kernel) -> None:
    code, _ = kernel.sealer.request(referee._TEST, "print('once')")
    assert len(kernel.send(token_of(code))) == 1
    assert kernel.send(token_of(code)) == []


def test_an_older_request_after_a_newer_one_is_ignored(kernel: Kernel) -> None:
    older, _ = kernel.sealer.request(referee._TEST, "pass")
    newer, _ = kernel.sealer.request(referee._TEST, "pass")
    assert len(kernel.send(token_of(newer))) == 1
    assert kernel.send(token_of(older)) == []


def test_a_request_with_a_wrong_mac_is_ignored(kernel: Kernel) -> None:
    code, _ = kernel.sealer.request(referee._RUN, "forged = 1")
    raw = bytearray(base64.b64decode(token_of(code)))
    raw[20] ^= 1  # a byte of the MAC (nonce 0-15, MAC 16-47)
    assert kernel.send(base64.b64encode(bytes(raw)).decode()) == []
    assert "forged" not in kernel.shell.user_ns
    assert len(kernel.send(token_of(code))) == 1  # the number was not used up


def test_a_request_with_an_altered_body_is_ignored(kernel: Kernel) -> None:
    code, _ = kernel.sealer.request(referee._RUN, "forged = 1")
    raw = bytearray(base64.b64decode(token_of(code)))
    raw[-1] ^= 1
    assert kernel.send(base64.b64encode(bytes(raw)).decode()) == []
    assert "forged" not in kernel.shell.user_ns


@pytest.mark.parametrize("args", [
    ("abc",),  # incorrect base64 padding
    ("é",),  # not ASCII
    ("!!!",),  # nothing base64 in it
    ("",),
    (base64.b64encode(b"x" * 60).decode(),),  # long enough, no MAC of the key
    (123,),
    (b"bytes",),
    (None,),
    ("a", "b"),
    (),
], ids=repr)
def test_a_malformed_request_gives_no_verdict_and_no_exception(kernel: Kernel,
                                                               args: tuple) -> None:
    kernel.hook(referee.EVENT, args)
    assert kernel.published == []


# verdicts


@pytest.fixture
def signed_verdict(sealed_kernel: Kernel) -> tuple[dict, str]:
    """A verdict the referee published, and its request's nonce."""
    code, nonce = sealed_kernel.sealer.request(referee._TEST, "print('x')")
    (data,) = sealed_kernel.send(token_of(code))
    return dict(data[referee.MIME]), nonce


def test_an_intact_verdict_opens(kernel: Kernel, signed_verdict: tuple[dict, str]) -> None:
    data, nonce = signed_verdict
    assert kernel.sealer.verdict(data, nonce) == {
        "nonce": nonce, "ok": "1", "ename": "", "evalue": "", "stdout": "x\n"}


def test_a_verdict_with_an_altered_body_is_rejected(kernel: Kernel,
                                                    signed_verdict: tuple[dict, str]) -> None:
    data, nonce = signed_verdict
    words = data["body"].split(" ")
    words[1] = base64.b64encode(b"0").decode()
    assert kernel.sealer.verdict({**data, "body": " ".join(words)}, nonce) is None


def test_a_verdict_with_an_altered_mac_is_rejected(kernel: Kernel,
                                                   signed_verdict: tuple[dict, str]) -> None:
    data, nonce = signed_verdict
    mac = data["mac"]
    altered = ("1" if mac[0] == "0" else "0") + mac[1:]
    assert kernel.sealer.verdict({**data, "mac": altered}, nonce) is None
    assert kernel.sealer.verdict({**data, "mac": "not hex"}, nonce) is None


def test_a_verdict_for_another_request_is_rejected(kernel: Kernel,
                                                   signed_verdict: tuple[dict, str]) -> None:
    data, _ = signed_verdict
    assert kernel.sealer.verdict(data, "00" * 16) is None


def test_a_verdict_signed_with_another_key_is_rejected(
        signed_verdict: tuple[dict, str]) -> None:
    data, nonce = signed_verdict
    assert referee.Sealer(bytes(32)).verdict(data, nonce) is None


@pytest.mark.parametrize("data", ["text", None, {"body": "eA=="}, {"mac": "00"}])
def test_a_verdict_that_is_not_one_is_rejected(data: object) -> None:
    assert referee.Sealer(KEY).verdict(data, "00" * 16) is None


def test_the_grader_trusts_one_signed_verdict_and_not_two(
        sealed_kernel: Kernel, signed_verdict: tuple[dict, str]) -> None:
    """The grader's side (refereeing.Referee.verdict) reading what this referee published:
    a second signed verdict for the same request means someone else signed."""
    data, nonce = signed_verdict
    output = new_output("display_data", data={referee.MIME: data})
    noise = new_output("stream", name="stdout", text="noise\n")
    grader = Referee(KEY, None)
    verdict, others = grader.verdict([noise, output], nonce)
    assert verdict is not None and verdict["stdout"] == "x\n"
    assert others == [noise]
    assert grader.verdict([output, noise, output], nonce) == (None, [noise])


# tampering, after the seal


def test_a_library_function_replaced_by_the_submissions_code_fails_tests(
        sealed_kernel: Kernel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json, "dumps", lambda *args, **kwargs: "{}")
    verdict = sealed_kernel.ask(referee._TEST, "pass")
    assert (verdict["ok"], verdict["ename"]) == ("0", "TamperingError")
    assert "json.dumps" in verdict["evalue"]
    assert "code of the submission" in verdict["evalue"]


def test_a_library_function_replaced_by_another_library_function_fails_tests(
        sealed_kernel: Kernel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json, "dumps", print)
    verdict = sealed_kernel.ask(referee._TEST, "pass")
    assert (verdict["ok"], verdict["ename"]) == ("0", "TamperingError")
    assert "json.dumps was replaced" in verdict["evalue"]


def test_a_library_function_replaced_before_the_seal_is_not_tampering(
        kernel: Kernel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json, "dumps", print)
    kernel.seal()
    assert kernel.ask(referee._TEST, "pass")["ok"] == "1"


def test_a_sealed_kernel_passes_tests_when_nothing_changed(sealed_kernel: Kernel) -> None:
    assert sealed_kernel.ask(referee._TEST, "import json\nassert json.loads('1') == 1")["ok"] \
        == "1"


def test_an_ndarray_subclass_of_the_submission_fails_tests(sealed_kernel: Kernel) -> None:
    class LyingArray(np.ndarray):
        pass

    verdict = sealed_kernel.ask(referee._TEST, "pass")
    assert (verdict["ok"], verdict["ename"]) == ("0", "TamperingError")
    assert "LyingArray" in verdict["evalue"]


def test_a_float_subclass_of_the_submission_fails_tests(sealed_kernel: Kernel) -> None:
    class LyingFloat(float):
        def __eq__(self, other: object) -> bool:
            return True

    verdict = sealed_kernel.ask(referee._TEST, "pass")
    assert (verdict["ok"], verdict["ename"]) == ("0", "TamperingError")
    assert "LyingFloat" in verdict["evalue"]


def test_a_class_with_an_array_protocol_fails_tests(sealed_kernel: Kernel) -> None:
    class ArrayLike:
        def __array_function__(self, *args: object) -> bool:
            return True

    verdict = sealed_kernel.ask(referee._TEST, "pass")
    assert (verdict["ok"], verdict["ename"]) == ("0", "TamperingError")
    assert "ArrayLike" in verdict["evalue"]


def test_a_plain_class_of_the_submission_is_not_tampering(sealed_kernel: Kernel) -> None:
    @dataclasses.dataclass
    class Point:
        x: int
        y: int

    assert Point(1, 2).x == 1
    assert sealed_kernel.ask(referee._TEST, "pass")["ok"] == "1"


def test_a_thread_of_the_submission_running_during_a_test_fails_it(
        sealed_kernel: Kernel) -> None:
    kernel = sealed_kernel
    started, stop = threading.Event(), threading.Event()

    def spin() -> None:
        started.set()
        while not stop.is_set():
            stop.wait(0.005)

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        assert started.wait(5)
        verdict = kernel.ask(referee._TEST, "pass")
    finally:
        stop.set()
        thread.join(5)
    assert (verdict["ok"], verdict["ename"]) == ("0", "TamperingError")
    assert "a thread started by the submission" in verdict["evalue"]
    assert kernel.ask(referee._TEST, "pass")["ok"] == "1"  # once it has finished


def test_tampering_during_a_test_fails_that_test(sealed_kernel: Kernel,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The libraries are checked again once the test has run: the learner's function that
    the test called replaced a library function."""
    sealed_kernel.shell.user_ns["relu"] = lambda: monkeypatch.setattr(
        json, "dumps", lambda *args, **kwargs: "{}")
    verdict = sealed_kernel.ask(referee._TEST, "relu()\nprint('ran')")
    assert (verdict["ok"], verdict["ename"]) == ("0", "TamperingError")
    assert verdict["evalue"] == "json.dumps was replaced by code of the submission"
    assert verdict["stdout"] == "ran\n"


def test_a_thread_the_submission_starts_during_a_test_fails_it(sealed_kernel: Kernel) -> None:
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def spin() -> None:
        while not stop.is_set():
            stop.wait(0.005)

    def relu() -> None:
        threads.append(threading.Thread(target=spin, daemon=True))
        threads[0].start()

    sealed_kernel.shell.user_ns["relu"] = relu
    try:
        verdict = sealed_kernel.ask(referee._TEST, "relu()")
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
    assert (verdict["ok"], verdict["ename"]) == ("0", "TamperingError")
    assert "a thread started by the submission" in verdict["evalue"]

# denied events

DENIED_CALLS = [
    ("sys.settrace", ()),
    ("sys.setprofile", ()),
    ("gc.get_objects", (-1,)),
    ("gc.get_referrers", ()),
    ("sys.addaudithook", ()),
    ("sys._current_frames", ()),
    ("ctypes.dlsym", (None, "system")),
    ("ctypes.dlopen", ("libc.so.6",)),
    ("gc.get_referents", ()),
    ("sys._current_exceptions", ()),
    ("sys.monitoring.register_callback", (0, 0, None)),
    ("ctypes.addressof", (None,)),
    ("ctypes.string_at", (0, -1)),
    ("ctypes.PyObj_FromPtr", (0,)),
    ("ctypes.cdata", (0,)),
]


def refusal(hook: Hook, event: str, args: tuple, error: type = RuntimeError) -> str:
    """The message of the ``error`` the hook raised for this event ('' if it let it pass)."""
    try:
        hook(event, args)
    except error as refused:
        return str(refused)
    return ""


def test_denied_events_are_allowed_before_the_seal(kernel: Kernel) -> None:
    assert {event: refusal(kernel.hook, event, args) for event, args in DENIED_CALLS} == {
        event: "" for event, _ in DENIED_CALLS}


def test_denied_events_raise_after_the_seal(shared_sealed_kernel: Kernel) -> None:
    # one kernel for all of them: a seal takes a snapshot of every library
    hook = shared_sealed_kernel.hook
    assert {event: refusal(hook, event, args) for event, args in DENIED_CALLS} == {
        event: f"{event} is not allowed while grading" for event, _ in DENIED_CALLS}


def test_the_denied_events_tested_are_all_denied() -> None:
    assert {event for event, _ in DENIED_CALLS} <= referee.DENIED


def test_an_event_the_referee_does_not_watch_is_allowed_after_the_seal(
        shared_sealed_kernel: Kernel) -> None:
    shared_sealed_kernel.hook("open", ("/etc/hostname", "r", 0))


def test_compiling_other_source_under_a_library_file_name_raises_after_the_seal(
        shared_sealed_kernel: Kernel, library_file: str) -> None:
    with pytest.raises(RuntimeError, match="library's file name"):
        shared_sealed_kernel.hook("compile", (b"x = 1", library_file))
    with pytest.raises(RuntimeError, match="library's file name"):
        shared_sealed_kernel.hook("compile", ("x = 1", library_file.encode()))


def test_compiling_a_library_files_own_content_is_allowed(
        shared_sealed_kernel: Kernel, library_file: str) -> None:
    content = Path(library_file).read_bytes()
    shared_sealed_kernel.hook("compile", (content, library_file))
    shared_sealed_kernel.hook("compile", (content.decode(), library_file))


def test_compiling_under_a_missing_library_file_name_raises(
        shared_sealed_kernel: Kernel, library_file: str) -> None:
    missing = str(Path(library_file).with_name("no_such_module.py"))
    with pytest.raises(RuntimeError, match="library's file name"):
        shared_sealed_kernel.hook("compile", (b"x = 1", missing))


def test_compiling_the_submissions_own_code_is_allowed(shared_sealed_kernel: Kernel) -> None:
    shared_sealed_kernel.hook("compile", (b"x = 1", "<ipython-input-1>"))
    shared_sealed_kernel.hook("compile", (b"x = 1", __file__))


def test_compiling_under_a_library_file_name_is_allowed_before_the_seal(
        kernel: Kernel, library_file: str) -> None:
    kernel.hook("compile", (b"x = 1", library_file))


def test_code_that_claims_a_library_file_raises_after_the_seal(
        shared_sealed_kernel: Kernel, library_file: str) -> None:
    with pytest.raises(RuntimeError, match="claims a library's file"):
        shared_sealed_kernel.hook("code.__new__", (None, library_file, "f", 0, 0, 0, 0, 0, 0))
    shared_sealed_kernel.hook("code.__new__", (None, "<submission>", "f", 0, 0, 0, 0, 0, 0))


def test_a_function_made_from_a_library_code_object_raises_after_the_seal(
        shared_sealed_kernel: Kernel) -> None:
    with pytest.raises(RuntimeError, match="functions from a library's code"):
        shared_sealed_kernel.hook("function.__new__", (json.dumps.__code__,))
    shared_sealed_kernel.hook("function.__new__", (token_of.__code__,))
    shared_sealed_kernel.hook("function.__new__", ("not a code object",))


def test_a_function_made_from_a_library_code_object_is_allowed_before_the_seal(
        kernel: Kernel) -> None:
    kernel.hook("function.__new__", (json.dumps.__code__,))
    kernel.hook("code.__new__", (None, json.__file__, "f", 0, 0, 0, 0, 0, 0))


# frames and ctypes, after the seal


LIBRARY_CALLERS = """
def getframe(hook):
    return hook("sys._getframe", (sys._getframe(0),))


def getframe_of_its_caller(hook):
    return hook("sys._getframe", (sys._getframe(1),))


def tb_frame(hook, traceback, depth):
    if depth > 1:
        return tb_frame(hook, traceback, depth - 1)
    return hook("object.__getattr__", (traceback, "tb_frame"))
"""


@pytest.fixture
def library_callers(library_file: str) -> dict:
    """Functions whose code claims a library's file (json's): trusted callers of the hook."""
    namespace: dict = {"sys": sys}
    exec(compile(LIBRARY_CALLERS, library_file, "exec"), namespace)  # noqa: S102
    return namespace


@pytest.fixture
def traceback() -> object:
    try:
        raise KeyError("x")
    except KeyError as error:
        return error.__traceback__


def a_generator() -> Iterator[int]:
    yield 1


def test_sys_getframe_is_allowed_before_the_seal(kernel: Kernel) -> None:
    kernel.hook("sys._getframe", (sys._getframe(0),))
    kernel.hook("sys._getframe", (sys._getframe(1),))


def test_sys_getframe_from_code_of_the_submission_raises_after_the_seal(
        shared_sealed_kernel: Kernel) -> None:
    frame = sys._getframe(0)  # the hook is not installed: sys._getframe itself still works
    with pytest.raises(ValueError, match="frames of the running code are not readable"):
        shared_sealed_kernel.hook("sys._getframe", (frame,))
    with pytest.raises(ValueError, match="frames of the running code are not readable"):
        shared_sealed_kernel.hook("sys._getframe", ())


def test_sys_getframe_from_a_library_is_allowed_after_the_seal(
        shared_sealed_kernel: Kernel, library_callers: dict) -> None:
    library_callers["getframe"](shared_sealed_kernel.hook)


def test_sys_getframe_of_the_submissions_frame_from_a_library_raises_after_the_seal(
        shared_sealed_kernel: Kernel, library_callers: dict) -> None:
    """A library asked for its caller's frame, which is code of the submission."""
    with pytest.raises(ValueError, match="frames of the running code are not readable"):
        library_callers["getframe_of_its_caller"](shared_sealed_kernel.hook)


def test_tb_frame_is_allowed_before_the_seal(kernel: Kernel, traceback: object) -> None:
    kernel.hook("object.__getattr__", (traceback, "tb_frame"))
    kernel.hook("object.__getattr__", (a_generator(), "gi_frame"))


def test_frame_attributes_read_by_the_submission_raise_after_the_seal(
        shared_sealed_kernel: Kernel, traceback: object) -> None:
    assert referee.FRAME_ATTRIBUTES == {"tb_frame", "gi_frame", "cr_frame", "ag_frame"}
    assert {name: refusal(shared_sealed_kernel.hook, "object.__getattr__", (traceback, name),
                          AttributeError) for name in referee.FRAME_ATTRIBUTES} == {
        name: f"{name} is not readable while grading" for name in referee.FRAME_ATTRIBUTES}


def test_other_attributes_are_readable_after_the_seal(
        shared_sealed_kernel: Kernel, traceback: object) -> None:
    shared_sealed_kernel.hook("object.__getattr__", (traceback, "tb_lineno"))
    shared_sealed_kernel.hook("object.__getattr__", (traceback,))


def test_tb_frame_read_by_a_library_is_allowed_after_the_seal(
        shared_sealed_kernel: Kernel, library_callers: dict, traceback: object) -> None:
    """The referee looks at the four frames nearest to the hook: all a library's here."""
    library_callers["tb_frame"](shared_sealed_kernel.hook, traceback, 4)


def test_tb_frame_read_by_a_library_called_by_the_submission_raises_after_the_seal(
        shared_sealed_kernel: Kernel, library_callers: dict, traceback: object) -> None:
    with pytest.raises(AttributeError, match="tb_frame is not readable while grading"):
        library_callers["tb_frame"](shared_sealed_kernel.hook, traceback, 3)


def test_the_sessions_frame_is_never_readable(kernel: Kernel) -> None:
    with pytest.raises(AttributeError, match="the referee's frame is not readable"):
        kernel.hook("object.__getattr__", (kernel.session, "gi_frame"))
    kernel.seal()
    with pytest.raises(AttributeError, match="the referee's frame is not readable"):
        kernel.hook("object.__getattr__", (kernel.session, "gi_frame"))
    kernel.hook("object.__getattr__", (kernel.session, "gi_running"))


def test_the_sessions_frame_is_not_readable_by_a_library_either(
        shared_sealed_kernel: Kernel, library_file: str) -> None:
    namespace: dict = {}
    source = "def read(hook, session):\n    hook('object.__getattr__', (session, 'gi_frame'))\n"
    exec(compile(source, library_file, "exec"), namespace)  # noqa: S102
    with pytest.raises(AttributeError, match="the referee's frame is not readable"):
        namespace["read"](shared_sealed_kernel.hook, shared_sealed_kernel.session)


def async_exc_address() -> int:
    return ctypes.cast(ctypes.pythonapi.PyThreadState_SetAsyncExc, ctypes.c_void_p).value


def test_ctypes_calls_are_allowed_before_the_seal(kernel: Kernel) -> None:
    kernel.hook("ctypes.call_function", (12345, ()))


def test_a_ctypes_call_of_another_function_raises_after_the_seal(
        shared_sealed_kernel: Kernel) -> None:
    address = ctypes.cast(ctypes.pythonapi.Py_IsInitialized, ctypes.c_void_p).value
    with pytest.raises(RuntimeError, match="ctypes is not allowed while grading"):
        shared_sealed_kernel.hook("ctypes.call_function", (address, ()))
    with pytest.raises(RuntimeError, match="ctypes is not allowed while grading"):
        shared_sealed_kernel.hook("ctypes.call_function", (async_exc_address() + 1, ()))


def test_the_referees_own_ctypes_call_is_allowed_after_the_seal(
        shared_sealed_kernel: Kernel) -> None:
    """PyThreadState_SetAsyncExc: how the referee stops a test at the time limit."""
    shared_sealed_kernel.hook("ctypes.call_function", (async_exc_address(), (1, None)))


# the grader's side, and main()


def test_a_request_token_does_not_hold_the_source_in_clear() -> None:
    source = "assert hidden_answer == 4242, 'secret message'"
    code, nonce = referee.Sealer(KEY).request(referee._TEST, source, ("pinned_name",))
    raw = base64.b64decode(token_of(code))
    assert source.encode() not in raw
    assert b"secret message" not in raw
    assert b"pinned_name" not in raw
    assert raw[:16].hex() == nonce
    assert code == f'__import__("sys").audit("{referee.EVENT}", "{token_of(code)}")'


def test_requests_are_numbered_and_their_nonces_differ() -> None:
    sealer = referee.Sealer(KEY)
    nonces = {sealer.request(referee._TEST, "pass")[1] for _ in range(3)}
    assert len(nonces) == 3
    assert sealer.number == 3


def test_main_exits_when_the_pipe_holds_no_full_key(monkeypatch: pytest.MonkeyPatch) -> None:
    read, write = os.pipe()
    os.write(write, b"abc")
    os.close(write)
    monkeypatch.setenv("COURSE_REFEREE_FD", str(read))
    monkeypatch.setattr(referee, "_referee",
                        lambda *args: pytest.fail("the referee was made without a key"))
    monkeypatch.setattr(referee.sys, "addaudithook",
                        lambda *args: pytest.fail("an audit hook was added without a key"))
    module_builtins = vars(referee)["__builtins__"]
    with pytest.raises(SystemExit, match="^referee: no key$"):
        referee.main()
    assert "COURSE_REFEREE_FD" not in os.environ
    assert vars(referee)["__builtins__"] is module_builtins


def test_the_seal_request_calls_the_one_way_installer() -> None:
    """Before the seal the hook is not installed yet: the seal comes through a builtin that
    main() puts in place and that takes itself away when called."""
    code, _ = referee.Sealer(b"k" * referee.KEY_BYTES).request(referee._SEAL)
    assert code.startswith(f'{referee.INSTALL}("') and "audit" not in code
