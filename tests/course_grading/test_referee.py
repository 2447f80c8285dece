"""The kernel's referee (course_grading.referee), driven in this process: its audit hook is
called directly (an audit hook added with sys.addaudithook could never be removed), with
requests sealed by a Sealer of the same key and verdicts collected from a patched
IPython.display.publish_display_data. This file lies outside the referee's trusted roots, so
the code it compiles counts as "code of the submission"."""

from __future__ import annotations

import atexit
import base64
import builtins
import dataclasses
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import IPython.display
import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from course_grading import referee

KEY = bytes(range(32))
Hook = Callable[[str, tuple], None]


def token_of(code: str) -> str:
    """The token in the code a Sealer hands out (``sys.audit(EVENT, "TOKEN")``)."""
    return code.split('"')[5]


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


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """What the referee publishes (the hook binds publish_display_data when it is made)."""
    found: list[dict] = []
    monkeypatch.setattr(IPython.display, "publish_display_data",
                        lambda data, *args, **kwargs: found.append(data))
    return found


@pytest.fixture
def fresh_shell(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[InteractiveShell]:
    """A new IPython shell (the singleton the referee finds), undone afterwards: its
    sys.modules["__main__"], the names it adds to builtins, its atexit call."""
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    builtin_names = set(vars(builtins))
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=Config({"HistoryManager": {"enabled": False}}))
    yield shell
    shell.cleanup()
    atexit.unregister(shell.atexit_operations)
    InteractiveShell.clear_instance()
    for name in set(vars(builtins)) - builtin_names:
        delattr(builtins, name)


@pytest.fixture
def kernel(published: list[dict], fresh_shell: InteractiveShell) -> Kernel:
    """A referee as main() makes it, before any request."""
    hook = referee._referee(KEY, referee._trusted_roots())
    return Kernel(hook, fresh_shell, referee.Sealer(KEY), published)


@pytest.fixture
def sealed_kernel(kernel: Kernel) -> Kernel:
    """A referee that has remembered the libraries (the grader seals before any answer)."""
    kernel.seal()
    return kernel


@pytest.fixture
def library_file() -> str:
    """A real file under the trusted roots (json's __init__.py)."""
    path = os.path.realpath(json.__file__)
    assert path.startswith(referee._trusted_roots())
    return path


# requests and pins


def test_run_request_executes_in_the_learners_namespace(kernel: Kernel) -> None:
    verdict = kernel.ask(referee._RUN, "x = 1\ny = [2]")
    assert verdict["ok"] == "1"
    assert kernel.shell.user_ns["x"] == 1
    assert kernel.shell.user_ns["y"] == [2]


def test_pinned_names_keep_their_objects_when_the_learner_rebinds_them(kernel: Kernel) -> None:
    kernel.ask(referee._RUN, "x = 1\ny = 2", ("x",))
    kernel.shell.user_ns["x"] = 99
    kernel.shell.user_ns["y"] = 98
    verdict = kernel.ask(referee._TEST, "assert x == 1, x\nassert y == 98, y")
    assert verdict["ok"] == "1", verdict


def test_failing_run_request_reports_its_error(kernel: Kernel) -> None:
    verdict = kernel.ask(referee._RUN, "z = 1\nraise KeyError('gone')", ("z",))
    assert (verdict["ok"], verdict["ename"]) == ("0", "KeyError")
    assert kernel.ask(referee._TEST, "assert z == 1")["ok"] == "1"


# tests


def test_passing_test_gives_ok_and_its_own_printed_output(kernel: Kernel) -> None:
    verdict = kernel.ask(referee._TEST, "print('hello', 42)\nprint('a', 'b', sep='-')")
    assert verdict["ok"] == "1"
    assert verdict["stdout"] == "hello 42\na-b\n"
    assert (verdict["ename"], verdict["evalue"]) == ("", "")


def test_failing_assert_gives_not_ok_with_its_error_and_message(kernel: Kernel) -> None:
    verdict = kernel.ask(referee._TEST, "assert 1 == 2, 'one is not two'")
    assert verdict["ok"] == "0"
    assert verdict["ename"] == "AssertionError"
    assert verdict["evalue"] == "one is not two"


def test_names_a_test_defines_stay_out_of_the_learners_namespace(kernel: Kernel) -> None:
    assert kernel.ask(referee._TEST, "_secret = 1")["ok"] == "1"
    assert "_secret" not in kernel.shell.user_ns


def test_names_a_test_defines_are_seen_by_the_next_test(kernel: Kernel) -> None:
    kernel.ask(referee._TEST, "_secret = 1")
    assert kernel.ask(referee._TEST, "assert _secret == 1")["ok"] == "1"


def test_a_learners_global_named_like_a_builtin_does_not_reach_tests(kernel: Kernel) -> None:
    kernel.shell.user_ns["len"] = lambda value: 0
    assert kernel.ask(referee._TEST, "assert len([1, 2]) == 2")["ok"] == "1"


def test_tests_run_with_the_builtins_of_the_start(kernel: Kernel,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:  # undone at once: pytest itself uses builtins
        patch.setattr(builtins, "abs", lambda value: -1)
        verdict = kernel.ask(referee._TEST, "assert abs(-2) == 2")
    assert verdict["ok"] == "1", verdict


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
def signed_verdict(kernel: Kernel) -> tuple[dict, str]:
    """A verdict the referee published, and its request's nonce."""
    code, nonce = kernel.sealer.request(referee._TEST, "print('x')")
    (data,) = kernel.send(token_of(code))
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


def test_an_unsealed_kernel_does_not_check_libraries(
        kernel: Kernel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json, "dumps", lambda *args, **kwargs: "{}")
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


def test_a_thread_of_the_submission_running_during_a_test_fails_it(kernel: Kernel) -> None:
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
]


@pytest.mark.parametrize("event, args", DENIED_CALLS, ids=lambda v: str(v))
def test_a_denied_event_is_allowed_before_the_seal(kernel: Kernel, event: str,
                                                   args: tuple) -> None:
    kernel.hook(event, args)


@pytest.mark.parametrize("event, args", DENIED_CALLS, ids=lambda v: str(v))
def test_a_denied_event_raises_after_the_seal(sealed_kernel: Kernel, event: str,
                                              args: tuple) -> None:
    with pytest.raises(RuntimeError, match="not allowed while grading"):
        sealed_kernel.hook(event, args)


def test_an_event_the_referee_does_not_watch_is_allowed_after_the_seal(
        sealed_kernel: Kernel) -> None:
    sealed_kernel.hook("open", ("/etc/hostname", "r", 0))


def test_compiling_other_source_under_a_library_file_name_raises_after_the_seal(
        sealed_kernel: Kernel, library_file: str) -> None:
    with pytest.raises(RuntimeError, match="library's file name"):
        sealed_kernel.hook("compile", (b"x = 1", library_file))
    with pytest.raises(RuntimeError, match="library's file name"):
        sealed_kernel.hook("compile", ("x = 1", library_file.encode()))


def test_compiling_a_library_files_own_content_is_allowed(sealed_kernel: Kernel,
                                                          library_file: str) -> None:
    content = Path(library_file).read_bytes()
    sealed_kernel.hook("compile", (content, library_file))
    sealed_kernel.hook("compile", (content.decode(), library_file))


def test_compiling_under_a_missing_library_file_name_raises(sealed_kernel: Kernel,
                                                            library_file: str) -> None:
    missing = str(Path(library_file).with_name("no_such_module.py"))
    with pytest.raises(RuntimeError, match="library's file name"):
        sealed_kernel.hook("compile", (b"x = 1", missing))


def test_compiling_the_submissions_own_code_is_allowed(sealed_kernel: Kernel) -> None:
    sealed_kernel.hook("compile", (b"x = 1", "<ipython-input-1>"))
    sealed_kernel.hook("compile", (b"x = 1", __file__))


def test_compiling_under_a_library_file_name_is_allowed_before_the_seal(
        kernel: Kernel, library_file: str) -> None:
    kernel.hook("compile", (b"x = 1", library_file))


def test_code_that_claims_a_library_file_raises_after_the_seal(sealed_kernel: Kernel,
                                                               library_file: str) -> None:
    with pytest.raises(RuntimeError, match="claims a library's file"):
        sealed_kernel.hook("code.__new__", (None, library_file, "f", 0, 0, 0, 0, 0, 0))
    sealed_kernel.hook("code.__new__", (None, "<submission>", "f", 0, 0, 0, 0, 0, 0))


def test_a_function_made_from_a_library_code_object_raises_after_the_seal(
        sealed_kernel: Kernel) -> None:
    with pytest.raises(RuntimeError, match="functions from a library's code"):
        sealed_kernel.hook("function.__new__", (json.dumps.__code__,))
    sealed_kernel.hook("function.__new__", (token_of.__code__,))


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
