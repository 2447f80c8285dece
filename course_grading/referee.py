"""The referee: runs a grading kernel's test cells so that the submission cannot steer them.

The grading kernel starts as ``python -I referee.py -f CONNECTION_FILE`` (this file runs on its
own, inside the sandbox, where course_grading is not importable). Before ipykernel and any
student code, it reads a key from a pipe (``COURSE_REFEREE_FD``) and installs an audit hook
(``sys.addaudithook``: Python code cannot remove one). The hook is the referee: the only
reference to it and to the key is the interpreter's list of hooks.

The grader (:class:`course_grading.nbgrader_steps.GuardedExecute`) then sends the assignment's
own cells not as code but as a request, ``sys.audit("course.referee", REQUEST)``, sealed with
the key (encrypted, authenticated, numbered): a test's source never passes through IPython
(input and AST transformers, hooks, ``In``/``_ih``, ``linecache``) and an old request cannot be
replayed. The referee decrypts it, runs it with the compile and exec it kept from the start,
and answers with a verdict signed with the key, which the grader checks: a test passed only if
its code ran to the end without raising, whatever else the kernel printed or displayed.

- ``run``: a locked cell of the assignment, in the learner's namespace; the names it binds that
  no answer cell binds are pinned: tests see these objects, not what a submission rebinds.
- ``seal``: sent before the first answer cell; remembers the libraries as they are (modules,
  their classes, ``sys.modules``, builtins) and from then on refuses what would let code watch
  or steer a test (trace and profile functions, other audit hooks, ``gc``'s object lists,
  other threads' frames, ctypes, code objects that claim a library's file).
- ``test``: a test cell, run with the builtins as they were at the start, in a namespace of its
  own layered over the learner's (what a test defines stays out of the learner's reach); fails
  with ``TamperingError`` when a library function or class was replaced by code of the
  submission, when the submission installed its own array or number types, or while a thread of
  the submission runs.

What it cannot stop is written down in book/using-the-course.md (the threat model).
"""

from __future__ import annotations

import sys

__all__ = ["MIME", "Sealer", "main"]

MIME = "application/vnd.course-referee+json"
EVENT = "course.referee"
KEY_BYTES = 32
VERDICT_FIELDS = ("nonce", "ok", "ename", "evalue", "stdout")  # ok: "1" or "0"
_RUN, _SEAL, _TEST = b"r", b"s", b"t"
# what no code may do once the kernel is sealed (the referee uses none of it)
DENIED = frozenset({"sys.settrace", "sys.setprofile", "sys.addaudithook", "sys._current_frames",
                    "sys._current_exceptions", "gc.get_objects", "gc.get_referrers",
                    "gc.get_referents", "sys.monitoring.register_callback",
                    "ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.cdata",
                    "ctypes.cdata/buffer", "ctypes.addressof", "ctypes.string_at",
                    "ctypes.wstring_at", "ctypes.PyObj_FromPtr", "ctypes.create_string_buffer",
                    "ctypes.create_unicode_buffer"})
# attributes that hand out a frame: from a frame, every caller's variables can be read
FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
WATCHED = DENIED | {EVENT, "compile", "code.__new__", "function.__new__", "sys._getframe",
                    "object.__getattr__", "ctypes.call_function"}
CHECKS = "referee_checks.py"  # beside this file: what the referee checks around a test
INSTALL = "__course_referee__"  # a builtin until the seal: the seal request calls it


class Sealer:
    """Seals requests and opens verdicts with one kernel's key (the grader's side)."""

    def __init__(self, key: bytes) -> None:
        import hmac
        import os

        self._key, self._hmac, self._random = key, hmac, os.urandom
        self.number = 0

    def request(self, kind: bytes, source: str = "", pins: tuple[str, ...] = ()) -> tuple[str, str]:
        """The code that hands the referee this request, and the request's nonce."""
        import base64

        self.number += 1
        nonce = self._random(16)
        plain = kind + self.number.to_bytes(8, "big") + "\0".join(
            [source, *pins]).encode()
        sealed = _xor(plain, _keystream(self._key, nonce, len(plain)))
        mac = self._hmac.digest(self._key, b"request" + nonce + sealed, "sha256")
        token = base64.b64encode(nonce + mac + sealed).decode()
        if kind == _SEAL:
            return f'{INSTALL}("{token}")', nonce.hex()
        return f'__import__("sys").audit("{EVENT}", "{token}")', nonce.hex()

    def verdict(self, data: object, nonce: str) -> dict | None:
        """The verdict in ``data`` if the referee signed it for this request, else None."""
        try:
            body, mac = data["body"], bytes.fromhex(data["mac"])  # type: ignore[index]
            expected = self._hmac.digest(self._key, b"verdict" + body.encode(), "sha256")
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        if not self._hmac.compare_digest(mac, expected):
            return None
        verdict = dict(zip(VERDICT_FIELDS, _unpack(body), strict=True))
        return verdict if verdict["nonce"] == nonce else None


def _unpack(body: str) -> list[str]:
    """The fields of a verdict's body (see publish in _referee)."""
    import binascii

    return [binascii.a2b_base64(word).decode() for word in body.split(" ")]


def _keystream(key: bytes, nonce: bytes, length: int, digest=None) -> bytes:
    """HMAC-SHA-256 in counter mode: the bytes XORed with a request."""
    import hmac

    digest = digest or hmac.digest
    blocks = [digest(key, nonce + i.to_bytes(8, "big"), "sha256")
              for i in range((length + 31) // 32)]
    return b"".join(blocks)[:length]


def _xor(data: bytes, stream: bytes) -> bytes:
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(
        len(data), "big")


def _run_cell(code: object, namespace: dict, outcome: list, done: object,
              local: object, state: dict | None) -> None:
    """A thread's whole work: run a test's code, note how it ended, release ``done``.

    The referee starts it with _thread.start_new_thread, so that nothing of the referee is on
    this thread's stack, and this thread cannot install signal handlers (only the main thread
    can): a submission's code that the test calls finds no way back to the referee."""
    try:
        if state is not None:  # Keras keeps its seeds and settings per thread
            local.__dict__.update(state)  # type: ignore[attr-defined]
        exec(code, namespace)  # noqa: S102 - the assignment's own test
    except BaseException as error:  # noqa: BLE001 - the test failed: that is the verdict
        try:
            outcome.append((type(error).__name__, str(error)[:2000]))
        except BaseException:  # noqa: BLE001 - a message that cannot be read
            outcome.append((type(error).__name__, "(the error's message could not be read)"))
    else:
        outcome.append(None)
    finally:
        done.release()  # type: ignore[attr-defined]


def _session(key: bytes, trusted: tuple[str, ...], sealed: object, checks: object,
             interrupt: object):  # noqa: C901 - a generator: one request at a time
    """The referee's own work, in a generator: while it waits for a request its frame is out
    of every stack. It yields actions to the hook: ("exec", code, namespace), after which it
    is sent how the code ended; ("publish", data); ("done",)."""
    import _hashlib
    import _thread
    import binascii
    import builtins
    import io
    from functools import partial
    from importlib import import_module

    from IPython.core.interactiveshell import InteractiveShell

    hmac_digest, compare = _hashlib.hmac_digest, _hashlib.compare_digest
    a2b, b2a = binascii.a2b_base64, binascii.b2a_base64
    compile_, modules = builtins.compile, sys.modules
    start_thread, new_lock = _thread.start_new_thread, _thread.allocate_lock
    builtins_at_start = dict(builtins.__dict__)
    number, pins, private = 0, {}, {}
    libraries, user = None, None

    def signed(nonce: str, ok: bool, ename: str = "", evalue: str = "",
               stdout: str = "") -> tuple:
        fields = [nonce, "1" if ok else "0", ename, evalue, stdout]
        body = " ".join([b2a(f.encode(), newline=False).decode() for f in fields])
        mac = hmac_digest(key, b"verdict" + body.encode(), "sha256").hex()
        return ("publish", {MIME: {"body": body, "mac": mac}})

    def opened(token: object) -> tuple | None:
        if type(token) is not str:
            return None
        try:
            raw = a2b(token)
        except ValueError:
            return None
        nonce, mac, sealed_text = raw[:16], raw[16:48], raw[48:]
        if len(nonce) != 16 or not compare(
                mac, hmac_digest(key, b"request" + nonce + sealed_text, "sha256")):
            return None
        stream = b"".join([hmac_digest(key, nonce + i.to_bytes(8, "big"), "sha256")
                           for i in range((len(sealed_text) + 31) // 32)])[:len(sealed_text)]
        plain = (int.from_bytes(sealed_text, "big") ^ int.from_bytes(stream, "big")).to_bytes(
            len(sealed_text), "big")
        kind, count, rest = plain[:1], int.from_bytes(plain[1:9], "big"), plain[9:]
        if count <= number:  # an old request, replayed
            return None
        source, *names = rest.decode().split("\0")
        return kind, count, nonce.hex(), source, names

    def keras_state() -> tuple[object, dict | None]:
        """Keras's per-thread settings (seeds, traceback filtering) to copy to a test's thread."""
        module = modules.get("keras.src.backend.common.global_state")
        tracker = dict.get(checks.module_dict(module), "GLOBAL_STATE_TRACKER") \
            if module is not None else None
        state = checks.local_dict(tracker)
        return (tracker, dict(state)) if state else (None, None)

    def seal(names: list) -> None:
        for name in names:  # what the tests will import, imported as the library has it
            if name and name not in modules:
                try:
                    import_module(name)
                except BaseException:  # noqa: BLE001, S112 - an attribute, not a module
                    continue
        keras = modules.get("keras")
        if keras is not None:  # its error handler reads frames, which a test may not
            try:
                keras.config.disable_traceback_filtering()
            except Exception:  # noqa: BLE001, S110 - an older Keras
                pass

    def run_test(source: str) -> tuple[bool, str, str, str]:
        problem = libraries.tampering() or checks.busy_thread(trusted)
        if problem:
            return False, "TamperingError", problem, ""
        printed = io.StringIO()
        test_builtins = {**builtins_at_start, "print": partial(
            builtins_at_start["print"], file=printed)}
        # a learner's global named like a builtin (len = ...) does not reach the test either
        namespace = {**{k: v for k, v in user.items()
                        if type(k) is str and k not in builtins_at_start},
                     **private, **pins, "__builtins__": test_builtins}
        before = dict(namespace)
        outcome: list = []
        done = new_lock()
        done.acquire()
        local, state = keras_state()
        code = compile_(source, "<test>", "exec", dont_inherit=True)
        thread = start_thread(_run_cell, (code, namespace, outcome, done, local, state))
        try:
            done.acquire()
        except KeyboardInterrupt:  # the grader's time limit: stop the test where it is
            interrupt(thread)
            if not done.acquire(timeout=10):
                return False, "KeyboardInterrupt", "interrupted: the time limit was reached", \
                    printed.getvalue()
        for key_, value in namespace.items():
            if key_ != "__builtins__" and before.get(key_, before) is not value:
                private[key_] = value
        for gone in set(private) - set(namespace):
            del private[gone]
        ending = outcome[0] if outcome else ("GradingError", "the test ended without a result")
        problem = libraries.tampering() or checks.busy_thread(trusted)
        if problem:
            return False, "TamperingError", problem, printed.getvalue()
        if ending is not None:
            return False, ending[0], ending[1], printed.getvalue()
        return True, "", "", printed.getvalue()

    token = yield None
    while True:
        request = opened(token)
        if request is None:
            token = yield ("done",)
            continue
        kind, number, nonce, source, names = request
        if user is None:  # the first request comes before any student code: the real shell
            user = InteractiveShell.instance().user_ns
        if kind == _RUN:
            code = compile_(source, "<assignment cell>", "exec", dont_inherit=True)
            ending = yield ("exec", code, user)
            pins.update({n: user[n] for n in names if n in user})
            action = signed(nonce, ending is None, *(ending or ("", "")))
        elif kind == _SEAL:  # names: modules to import first, then "" and names to pin
            cut = names.index("") if "" in names else len(names)
            seal(names[:cut])
            pins.update({n: user[n] for n in names[cut + 1:] if n in user})
            libraries = checks.Libraries(trusted, user)
            sealed.close()  # one way: from now on the hook refuses what a test must not meet
            action = signed(nonce, True)
        elif kind == _TEST and libraries is not None:
            ok, ename, evalue, stdout = run_test(source)
            action = signed(nonce, ok, ename, evalue, stdout[:100_000])
        else:
            action = signed(nonce, False, "GradingError", "a test before the kernel was sealed")
        yield action
        token = yield ("done",)


def _referee(key: bytes, trusted: tuple[str, ...], checks: object):  # noqa: C901
    """The audit hook. It holds nothing that could forge a verdict: the key lives in the
    session generator, whose frame only the referee may read; everything the hook calls is C
    or this file's and referee_checks.py's own code, with builtins of their own."""
    import _signal
    import _thread
    import ctypes
    import io

    from IPython.display import publish_display_data

    main_thread, get_ident = _thread.get_ident(), _thread.get_ident
    getsignal, setsignal, valid_signals = _signal.getsignal, _signal.signal, _signal.valid_signals
    getframe = sys._getframe
    default_int_handler = _signal.default_int_handler
    set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)
    async_address = ctypes.cast(set_async_exc, ctypes.c_void_p).value

    def interrupt(thread: int) -> None:
        set_async_exc(thread, KeyboardInterrupt)

    sealed = io.BytesIO()  # closed at the seal, for good
    session = _session(key, trusted, sealed, checks, interrupt)
    next(session)

    def untrusted_callers(until: object = None, depth: int = 4) -> bool:
        """Code of the submission among the frames calling the hook: down to the frame
        ``until`` (returned by sys._getframe), else the first ``depth`` of them. The hook
        reads its own frame with sys._getframe, whose audit event it lets through (it names
        the hook's own code, which nothing else runs)."""
        frame = getframe(0).f_back  # untrusted_callers -> hook
        while frame is not None and frame.f_code in own_codes:
            frame = frame.f_back
        seen = 0
        while frame is not None and (until is not None or seen < depth):
            if not checks.is_trusted_file(frame.f_code.co_filename, trusted):
                return True
            if frame is until:
                return False
            frame, seen = frame.f_back, seen + 1
        return until is not None  # the frame asked for is not on this thread's stack

    def serve(token: str) -> None:
        """One request, in the main thread, with no Python signal handler able to run."""
        saved = {}
        for number in valid_signals():
            try:
                handler = getsignal(number)
            except (OSError, ValueError):
                continue
            if handler is None or type(handler) is int or handler is default_int_handler:
                continue
            try:
                setsignal(number, 1)  # SIG_IGN while the referee works
            except (OSError, ValueError):
                continue
            saved[number] = handler
        try:
            action = session.send(token)
            while action[0] != "done":
                if action[0] == "exec":
                    try:
                        exec(action[1], action[2])  # noqa: S102 - an assignment's locked cell
                        ending = None
                    except BaseException as error:  # noqa: BLE001 - reported in the verdict
                        ending = (type(error).__name__, str(error)[:2000])
                    action = session.send(ending)
                else:
                    publish_display_data(action[1])
                    action = session.send(None)
        finally:
            for number, handler in saved.items():
                setsignal(number, handler)

    def hook(event: str, args: tuple) -> None:
        if event not in WATCHED:
            return
        if event == "object.__getattr__":
            if len(args) < 2 or args[1] not in FRAME_ATTRIBUTES:
                return
            if args[0] is session:
                raise AttributeError("the referee's frame is not readable")
        if event == EVENT:
            if len(args) == 1 and get_ident() == main_thread:
                serve(args[0])
            return
        if not sealed.closed:
            return
        if event in DENIED:
            raise RuntimeError(f"{event} is not allowed while grading")
        if event == "ctypes.call_function":
            if args and args[0] != async_address:
                raise RuntimeError("ctypes is not allowed while grading")
        elif event == "sys._getframe":
            if args and getattr(args[0], "f_code", None) in own_codes:
                return  # the hook reading its own frame
            if untrusted_callers(until=args[0] if args else None):
                raise ValueError("frames of the running code are not readable while grading")
        elif event == "object.__getattr__":
            if untrusted_callers():
                raise AttributeError(f"{args[1]} is not readable while grading")
        elif event == "compile" and len(args) > 1:
            if compiled_from_library(args):
                raise RuntimeError("compiling code under a library's file name is not allowed")
        elif event == "code.__new__" and len(args) > 1:
            if checks.is_trusted_file(args[1], trusted):
                raise RuntimeError("making code that claims a library's file is not allowed")
        elif event == "function.__new__" and args:
            code = args[0]
            if type(code).__name__ == "code" and checks.is_trusted_file(code.co_filename,
                                                                         trusted):
                raise RuntimeError("making functions from a library's code is not allowed")

    def compiled_from_library(args: tuple) -> bool:
        """compile() under a library file's name, of a source that is not that file's."""
        source, filename = args[0], args[1]
        name = filename.decode() if type(filename) is bytes else filename
        if type(name) is not str or not name.startswith(trusted):
            return False
        try:
            with open(name, "rb") as file:
                text = file.read()
        except OSError:
            return True
        return (source.encode() if type(source) is str else source) != text

    own_codes = frozenset({hook.__code__, untrusted_callers.__code__})
    return hook


def _trusted_roots() -> tuple[str, ...]:
    """Where library code lives: the environment, its base Python, every folder on the path
    at the start (``python -I``: neither the working folder nor PYTHONPATH; a class hub's
    copy of Python reaches the course's packages through a .pth file), course_utils."""
    import importlib.util
    import os

    roots = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.abspath(__file__)),
             *(p for p in sys.path if p and os.path.isdir(p))}
    spec = importlib.util.find_spec("course_utils")
    roots |= set(spec.submodule_search_locations or []) if spec else set()
    return tuple(os.path.realpath(r).rstrip("/") + "/" for r in roots)


def main() -> None:
    """Read the key, install the referee, then run ipykernel (its options in ``sys.argv``)."""
    import os

    fd = int(os.environ.pop("COURSE_REFEREE_FD"))
    with os.fdopen(fd, "rb") as pipe:
        key = pipe.read(KEY_BYTES)
    if len(key) != KEY_BYTES:
        raise SystemExit("referee: no key")
    import builtins
    import importlib.util

    # the referee resolves builtins in a copy no submission can reach or change
    private = dict(builtins.__dict__)
    globals()["__builtins__"] = private
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), CHECKS)
    spec = importlib.util.spec_from_file_location("course_referee_checks", path)
    checks = importlib.util.module_from_spec(spec)
    checks.__dict__["__builtins__"] = private
    spec.loader.exec_module(checks)
    hook = _referee(key, _trusted_roots(), checks)
    del key, checks

    def install(token: str) -> None:
        """The seal: the one way in before the hook exists (the assignment's locked cells run
        before it, as IPython runs them, with no student code yet; TensorFlow's import then
        costs no audit events). It takes itself away, installs the hook, hands it the seal."""
        del builtins.__dict__[INSTALL]
        sys.addaudithook(hook)
        hook(EVENT, (token,))

    builtins.__dict__[INSTALL] = install
    from ipykernel import kernelapp

    sys.argv[0] = "ipykernel_launcher"
    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
