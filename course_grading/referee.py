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
# what a submission's code may not do once the kernel is sealed
DENIED = frozenset({"sys.settrace", "sys.setprofile", "sys.addaudithook", "sys._current_frames",
                    "sys._current_exceptions", "gc.get_objects", "gc.get_referrers",
                    "gc.get_referents", "sys.monitoring.register_callback",
                    "ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.cdata",
                    "ctypes.cdata/buffer", "ctypes.call_function", "ctypes.addressof",
                    "ctypes.string_at", "ctypes.wstring_at", "ctypes.PyObj_FromPtr",
                    "ctypes.create_string_buffer", "ctypes.create_unicode_buffer"})
WATCHED = DENIED | {EVENT, "compile", "code.__new__", "function.__new__"}
VOLATILE = frozenset({"sys", "builtins", "__main__"})
# library functions swapped for others as the kernel runs: ipykernel forwards input() to the
# front end; pyplot sets its backend's functions when a first figure is drawn
PER_CELL = frozenset({"getpass.getpass", "matplotlib.pyplot.draw_if_interactive",
                      "matplotlib.pyplot.new_figure_manager", "matplotlib.pyplot.show"})
# types whose subclasses in a submission could lie to a test's comparisons
LYING_BASES = ("int", "float", "complex", "str", "bytes", "tuple", "list", "dict")
ARRAY_PROTOCOLS = ("__array_function__", "__array_ufunc__", "__array__", "__array_interface__",
                   "__array_struct__", "__array_priority__", "__torch_function__")


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


def _referee(key: bytes, trusted: tuple[str, ...]):  # noqa: C901 - one closure holds the state
    """The audit hook. Everything it calls is bound here, before any student code runs: C
    functions and types, which a submission cannot change, and this module's own builtins."""
    import _hashlib
    import binascii
    import builtins
    import threading
    from importlib import import_module

    hmac_digest, compare = _hashlib.hmac_digest, _hashlib.compare_digest
    a2b, b2a = binascii.a2b_base64, binascii.b2a_base64
    compile_, exec_ = builtins.compile, builtins.exec
    get_ident, current_frames, modules = threading.get_ident, sys._current_frames, sys.modules
    module_type, code_type = type(sys), type(_referee.__code__)
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.display import publish_display_data

    builtins_at_start = dict(builtins.__dict__)
    state = {"number": 0, "sealed": False, "inside": None, "shell": None}
    pins: dict = {}
    private: dict = {}
    snapshot: dict = {"modules": {}, "classes": set(), "namespaces": []}

    def is_trusted_file(filename: str) -> bool:
        return filename.startswith(trusted) or filename.startswith("<frozen ")

    def library_module(name: object) -> bool:
        module = modules.get(name) if isinstance(name, str) else None
        return isinstance(module, module_type) and is_trusted_file(
            str(getattr(module, "__file__", None) or "<frozen builtin>"))

    def code_of(value: object) -> object:
        """The code object behind a function, method, property, partial ... or None."""
        for _ in range(4):
            if isinstance(value, type):
                return None
            for attribute in ("__func__", "fget", "func"):
                inner = getattr(value, attribute, None)
                if inner is not None:
                    value = inner
                    break
            else:
                break
        code = getattr(value, "__code__", None)
        return code if type(code) is code_type else None

    def foreign(code: object, owner: object) -> bool:
        """Code compiled from the submission: not from a library file, nor generated by a
        library under a pseudo-file name (dataclasses, namedtuple) for a library module."""
        filename = code.co_filename  # type: ignore[attr-defined]
        if is_trusted_file(filename):
            return False
        # a pseudo-file name ("<string>") or a relative one (Cython's "x.pyx") belongs to
        # the module the function says it is from, when that is a library's
        return filename.startswith("/") or not library_module(owner)

    def made_by_submission(value: object) -> bool:
        """A function of the submission's code, or a class of its making."""
        if isinstance(value, type):
            module = getattr(value, "__module__", None)
            return not library_module(module) or any(
                foreign(code, module) for code in [code_of(v) for v in list(
                    value.__dict__.values())] if code is not None)
        code = code_of(value)
        return code is not None and foreign(code, getattr(value, "__module__", None))

    def publish(nonce: str, ok: bool, ename: str = "", evalue: str = "",
                stdout: str = "") -> None:
        fields = [nonce, "1" if ok else "0", ename, evalue, stdout]
        body = " ".join([b2a(f.encode(), newline=False).decode() for f in fields])
        mac = hmac_digest(key, b"verdict" + body.encode(), "sha256").hex()
        publish_display_data({MIME: {"body": body, "mac": mac}})

    def open_request(token: str) -> tuple | None:
        raw = a2b(token)
        nonce, mac, sealed = raw[:16], raw[16:48], raw[48:]
        if len(nonce) != 16 or not compare(
                mac, hmac_digest(key, b"request" + nonce + sealed, "sha256")):
            return None
        stream = b"".join([hmac_digest(key, nonce + i.to_bytes(8, "big"), "sha256")
                           for i in range((len(sealed) + 31) // 32)])[:len(sealed)]
        plain = (int.from_bytes(sealed, "big") ^ int.from_bytes(stream, "big")).to_bytes(
            len(sealed), "big")
        kind, number, rest = plain[:1], int.from_bytes(plain[1:9], "big"), plain[9:]
        if number <= state["number"]:  # an old request, replayed
            return None
        state["number"] = number
        source, *names = rest.decode().split("\0")
        return kind, nonce.hex(), source, names

    def user_namespace() -> dict:
        if state["shell"] is None:  # the first request comes before any student code
            state["shell"] = InteractiveShell.instance()
        return state["shell"].user_ns

    def all_classes() -> list:
        found, todo, seen = [], [object], set()
        while todo:
            try:
                subclasses = type.__subclasses__(todo.pop())
            except TypeError:
                continue
            for sub in subclasses:
                if id(sub) not in seen:
                    seen.add(id(sub))
                    found.append(sub)
                    todo.append(sub)
        return found

    def preload(names: list) -> None:
        """Import what can be imported of ``names`` (dotted names; most are attributes)."""
        for name in names:
            if name and name not in modules:
                try:
                    import_module(name)
                except BaseException:  # noqa: BLE001, S112 - an attribute, not a module
                    continue

    def take_snapshot() -> None:
        """The libraries as they are before the submission's code runs."""
        snapshot["modules"] = dict(modules)
        user = user_namespace()
        for name, module in list(modules.items()):
            namespace = getattr(module, "__dict__", None)
            # sys and builtins change with every cell (IPython's hooks and traps); tests get
            # the builtins of the start, and the learner's own namespace is theirs
            if not isinstance(namespace, dict) or namespace is user or name in VOLATILE:
                continue
            snapshot["namespaces"].append((name, namespace, dict(namespace)))
            for value in list(namespace.values()):
                if isinstance(value, type) and getattr(value, "__module__", None) == name:
                    snapshot["namespaces"].append(
                        (f"{name}.{value.__qualname__}", value, dict(value.__dict__)))
        snapshot["classes"] = {id(c) for c in all_classes()}

    def replaced(where: str, before: dict, now: object) -> str:
        for attribute, value in list(now.items()):  # type: ignore[attr-defined]
            old = before.get(attribute)
            if value is old:
                continue
            if made_by_submission(value):
                return f"{where}.{attribute} was replaced by code of the submission"
            # a library may wrap its own functions (torch's optimisers wrap step once)
            if callable(old) and not isinstance(value, module_type) \
                    and not isinstance(old, module_type) and attribute in before \
                    and getattr(value, "__wrapped__", None) is not old \
                    and f"{where}.{attribute}" not in PER_CELL:
                return f"{where}.{attribute} was replaced"
        return ""

    def tampering() -> str:
        """What the submission changed that a test relies on ('' if nothing)."""
        for name, module in list(snapshot["modules"].items()):
            if modules.get(name) is not module:
                return f"sys.modules[{name!r}] was replaced"
        for name, module in list(modules.items()):
            namespace = getattr(module, "__dict__", None)
            if name in snapshot["modules"] or name.split(".")[0] not in snapshot["modules"] \
                    or not isinstance(namespace, dict):
                continue
            for attribute, value in list(namespace.items()):
                if callable(value) and made_by_submission(value):
                    return f"{name}.{attribute} is code of the submission"
        for where, owner, before in snapshot["namespaces"]:
            found = replaced(where, before, owner if isinstance(owner, dict) else owner.__dict__)
            if found:
                return found
        for cls in all_classes():
            if id(cls) in snapshot["classes"] or not made_by_submission(cls):
                continue
            bases = {base.__name__ for base in cls.__mro__[1:]}
            if bases & {*LYING_BASES, "ndarray", "generic", "Tensor"} or any(
                    protocol in cls.__dict__ for protocol in ARRAY_PROTOCOLS):
                return f"the submission defines {cls.__qualname__}, an array or number type " \
                       "of its own, which a test could not trust"
        return ""

    def busy_threads() -> str:
        """A thread other than this one running code of the submission ('' if none)."""
        state["inside"] = get_ident()
        try:
            frames = current_frames()
        finally:
            state["inside"] = None
        for ident, frame in frames.items():
            while ident != get_ident() and frame is not None:
                if not is_trusted_file(frame.f_code.co_filename):
                    return "a thread started by the submission was running during the test: " \
                           "let your threads finish before the tests run"
                frame = frame.f_back
        return ""

    def problems() -> str:
        return (tampering() if state["sealed"] else "") or busy_threads()

    def run(nonce: str, source: str, names: list) -> None:
        namespace = user_namespace()
        try:
            exec_(compile_(source, "<assignment cell>", "exec", dont_inherit=True), namespace)
        except BaseException as error:  # noqa: BLE001 - reported in the verdict
            publish(nonce, False, type(error).__name__, str(error)[:2000])
            return
        finally:
            pins.update({n: namespace[n] for n in names if n in namespace})
        publish(nonce, True)

    def test(nonce: str, source: str) -> None:
        printed: list = []

        def test_print(*values: object, sep: str | None = " ", end: str | None = "\n",
                       file: object = None, flush: bool = False) -> None:
            if file is not None:
                return print(*values, sep=sep, end=end, file=file, flush=flush)
            printed.append((" " if sep is None else sep).join([str(v) for v in values])
                           + ("\n" if end is None else end))

        problem = problems()
        if problem:
            publish(nonce, False, "TamperingError", problem)
            return
        # a learner's global named like a builtin (len = ...) does not reach the test either
        user = {k: v for k, v in user_namespace().items() if k not in builtins_at_start}
        namespace = {**user, **private, **pins,
                     "__builtins__": {**builtins_at_start, "print": test_print}}
        before = dict(namespace)
        ok, ename, evalue = True, "", ""
        try:
            exec_(compile_(source, "<test>", "exec", dont_inherit=True), namespace)
        except BaseException as error:  # noqa: BLE001 - the test failed: that is the verdict
            ok, ename, evalue = False, type(error).__name__, str(error)[:2000]
        finally:
            private.update({k: v for k, v in namespace.items()
                            if k != "__builtins__" and before.get(k, private) is not v})
            for gone in set(private) - set(namespace):
                del private[gone]
        problem = problems()
        if problem:
            ok, ename, evalue = False, "TamperingError", problem
        publish(nonce, ok, ename, evalue, "".join(printed)[:100_000])

    def compiled_from_library(args: tuple) -> bool:
        """compile() under a library file's name, of a source that is not that file's."""
        source, filename = args[0], args[1]
        name = filename.decode() if isinstance(filename, bytes) else filename
        if not isinstance(name, str) or not name.startswith(trusted):
            return False
        try:
            with open(name, "rb") as file:
                text = file.read()
        except OSError:
            return True
        return (source.encode() if isinstance(source, str) else source) != text

    def hook(event: str, args: tuple) -> None:
        if event not in WATCHED:
            return
        if event == EVENT:
            try:
                opened = open_request(args[0]) if len(args) == 1 and isinstance(
                    args[0], str) else None
            except ValueError:  # not base64, not text: not a request of the grader's
                opened = None
            if opened is not None:
                kind, nonce, source, names = opened
                if kind == _RUN:
                    run(nonce, source, names)
                elif kind == _SEAL:
                    preload(names)
                    take_snapshot()
                    state["sealed"] = True
                    publish(nonce, True)
                elif kind == _TEST:
                    test(nonce, source)
            return
        if not state["sealed"] or state["inside"] == get_ident():
            return
        if event in DENIED:
            raise RuntimeError(f"{event} is not allowed while grading")
        if event == "compile" and len(args) > 1 and compiled_from_library(args):
            raise RuntimeError("compiling code under a library's file name is not allowed")
        if event == "code.__new__" and len(args) > 1 and isinstance(args[1], str) \
                and is_trusted_file(args[1]):
            raise RuntimeError("making code that claims a library's file is not allowed")
        if event == "function.__new__" and args and is_trusted_file(
                str(getattr(args[0], "co_filename", ""))):
            raise RuntimeError("making functions from a library's code is not allowed")

    return hook


def _trusted_roots() -> tuple[str, ...]:
    """Where library code lives: the environment, its base Python, course_utils."""
    import importlib.util
    import os

    roots = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.abspath(__file__))}
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

    # the referee's closures resolve builtins in a copy no submission can reach or change
    globals()["__builtins__"] = dict(builtins.__dict__)
    sys.addaudithook(_referee(key, _trusted_roots()))
    del key
    from ipykernel import kernelapp

    sys.argv[0] = "ipykernel_launcher"
    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
