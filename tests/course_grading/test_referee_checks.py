"""What the kernel's referee checks around a test (course_grading.referee_checks), imported as a
module of this process. This file lies outside the referee's trusted roots: the functions and
classes it defines count as code of the submission, and a snapshot (Libraries) taken in a test
sees the test's later changes as the submission's."""

from __future__ import annotations

import builtins
import collections
import contextlib
import functools
import getpass
import json
import json.encoder
import os
import sys
import threading
import types
import typing
from collections.abc import Callable, Iterator
from fractions import Fraction

import numpy as np
import pytest

from course_grading import referee, referee_checks
from course_grading.referee_checks import (
    Libraries,
    busy_thread,
    is_trusted_file,
    local_dict,
    module_dict,
    stack_files,
)

# the library folders of a kernel's path: pytest puts the checkout on sys.path, which a
# kernel started with `python -I` does not have, so this file counts as the submission's
TRUSTED = tuple(root for root in referee._trusted_roots() if not __file__.startswith(root))
CHECKS = referee_checks.__file__
CALLS: list[str] = []  # what the objects below that must never run recorded


def a_function() -> int:
    return 1


@pytest.fixture
def libraries() -> Libraries:
    """The libraries as they are now: what the test changes afterwards is the submission's."""
    return Libraries(TRUSTED, {})


@pytest.fixture
def calls() -> Iterator[list[str]]:
    """CALLS, empty, for the traps the test makes."""
    CALLS.clear()
    yield CALLS
    CALLS.clear()


# is_trusted_file


@pytest.mark.parametrize("filename", [
    os.path.realpath(json.__file__),
    CHECKS,
    referee.__file__,
    np.__file__,
    "<frozen importlib._bootstrap>",
], ids=repr)
def test_library_files_and_frozen_modules_are_trusted(filename: str) -> None:
    assert is_trusted_file(filename, TRUSTED)


@pytest.mark.parametrize("filename", [
    __file__, "<ipython-input-1-abc>", "<string>", "<test>", "", "json/__init__.py",
], ids=repr)
def test_the_submissions_files_and_pseudo_files_are_not_trusted(filename: str) -> None:
    assert not is_trusted_file(filename, TRUSTED)


def test_a_folder_beside_a_trusted_root_is_not_trusted() -> None:
    assert all(root.endswith("/") for root in TRUSTED)
    outermost = [r for r in TRUSTED if not any(r != o and r.startswith(o) for o in TRUSTED)]
    for root in outermost:  # (a root inside another one has its parent's files beside it)
        assert not is_trusted_file(root.rstrip("/") + "_beside/module.py", TRUSTED), root


def test_a_file_name_that_is_not_a_string_is_not_trusted(calls: list[str]) -> None:
    class LyingName(str):
        def startswith(self, *args: object) -> bool:
            CALLS.append("startswith")
            return True

    for filename in (json.__file__.encode(), None, 1, LyingName(json.__file__)):
        assert not is_trusted_file(filename, TRUSTED), filename
    assert calls == []


# Libraries.tampering: library functions and namespaces


def test_nothing_changed_is_no_tampering(libraries: Libraries) -> None:
    assert libraries.tampering() == ""


def test_a_library_function_replaced_by_the_submissions_code(
        libraries: Libraries, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json, "dumps", lambda *args, **kwargs: "{}")
    assert libraries.tampering() == "json.dumps was replaced by code of the submission"


def test_a_library_function_replaced_by_another_library_callable(
        libraries: Libraries, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json, "dumps", print)
    assert libraries.tampering() == "json.dumps was replaced"


def test_a_library_function_replaced_by_a_wrapper_of_the_submission(
        libraries: Libraries, monkeypatch: pytest.MonkeyPatch) -> None:
    original = json.dumps

    @functools.wraps(original)
    def wrapper(*args: object, **kwargs: object) -> str:
        return original(*args, **kwargs)

    monkeypatch.setattr(json, "dumps", wrapper)
    assert libraries.tampering() == "json.dumps was replaced by code of the submission"


def test_a_library_function_wrapped_by_a_library_is_not_tampering(
        libraries: Libraries, monkeypatch: pytest.MonkeyPatch) -> None:
    """contextlib.contextmanager makes a function of contextlib's code with functools.wraps:
    a library wrapping a library's function (torch's optimisers wrap their step once)."""
    wrapper = contextlib.contextmanager(json.dumps)
    assert referee_checks._wrapped(wrapper) is json.dumps
    monkeypatch.setattr(json, "dumps", wrapper)
    assert libraries.tampering() == ""


def test_wrapped_is_what_a_functools_wraps_function_wraps() -> None:
    @functools.wraps(json.dumps)
    def wrapper() -> None:
        pass

    class NotAFunction:
        __wrapped__ = json.dumps

    assert referee_checks._wrapped(wrapper) is json.dumps
    assert referee_checks._wrapped(a_function) is None
    assert referee_checks._wrapped(print) is None  # a builtin: not a Python function
    assert referee_checks._wrapped(NotAFunction()) is None
    assert referee_checks._wrapped(functools.partial(json.dumps)) is None


def test_a_function_the_kernel_swaps_in_every_cell_may_change(
        libraries: Libraries, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "getpass.getpass" in referee_checks.PER_CELL
    monkeypatch.setattr(getpass, "getpass", print)
    assert libraries.tampering() == ""


def test_a_function_the_kernel_swaps_in_every_cell_is_still_checked_for_submission_code(
        libraries: Libraries, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "")
    assert libraries.tampering() == "getpass.getpass was replaced by code of the submission"


def test_a_submodule_rebound_to_another_module_is_not_tampering(
        libraries: Libraries, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json, "encoder", os)
    assert libraries.tampering() == ""


def test_a_new_library_callable_in_a_library_module_is_not_tampering(
        libraries: Libraries, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json, "extra", print, raising=False)
    assert libraries.tampering() == ""


def test_a_new_function_of_the_submission_in_a_library_module(
        libraries: Libraries, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json, "extra", a_function, raising=False)
    assert libraries.tampering() == "json.extra was replaced by code of the submission"


def test_a_library_classs_method_replaced_by_the_submissions_code(
        libraries: Libraries, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json.JSONEncoder, "default", lambda self, value: None)
    assert libraries.tampering() == \
        "json.encoder.JSONEncoder.default was replaced by code of the submission"


def test_a_name_that_is_not_a_string_in_a_library_module(
        libraries: Libraries, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(vars(json), 1, 2)
    assert libraries.tampering() == "json holds a name that is not a string"


def test_the_volatile_modules_and_the_learners_namespace_are_not_checked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    learner = types.ModuleType("learner_namespace")
    learner.relu = print
    monkeypatch.setitem(sys.modules, learner.__name__, learner)
    libraries = Libraries(TRUSTED, vars(learner))
    unaware = Libraries(TRUSTED, {})  # takes the learner's module for a library's
    with monkeypatch.context() as patch:  # undone at once: pytest itself uses builtins
        patch.setattr(builtins, "abs", lambda value: -1)
        patch.setattr(sys, "getsizeof", lambda value: 0)
        patch.setattr(learner, "relu", lambda value: value)
        found = libraries.tampering(), unaware.tampering()
    assert found == ("", "learner_namespace.relu was replaced by code of the submission")


# Libraries.tampering: new modules and sys.modules


def test_a_new_module_under_a_sealed_package_holding_the_submissions_code(
        libraries: Libraries, monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("json.extra")
    module.helper = a_function
    monkeypatch.setitem(sys.modules, "json.extra", module)
    assert libraries.tampering() == "json.extra.helper is code of the submission"


def test_a_new_module_under_a_sealed_package_holding_library_callables(
        libraries: Libraries, monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("json.extra")
    module.helper, module.number = print, 1
    monkeypatch.setitem(sys.modules, "json.extra", module)
    assert libraries.tampering() == ""


def test_a_new_module_of_a_package_unknown_at_the_seal_is_not_checked(
        libraries: Libraries, monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("learner_package.helpers")
    module.helper = a_function
    monkeypatch.setitem(sys.modules, "learner_package.helpers", module)
    assert libraries.tampering() == ""


def test_a_sys_modules_entry_replaced(libraries: Libraries,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "json", types.ModuleType("json"))
    assert libraries.tampering() == "sys.modules['json'] was replaced"


def test_a_sys_modules_entry_removed(libraries: Libraries,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        patch.delitem(sys.modules, "json")
        found = libraries.tampering()
    assert found == "sys.modules['json'] was replaced"


# Libraries.tampering: classes made after the snapshot


def test_an_ndarray_subclass_of_the_submission(libraries: Libraries) -> None:
    class LyingArray(np.ndarray):
        pass

    assert libraries.tampering() == (
        f"the submission defines {LyingArray.__qualname__}, an array or number type of its "
        "own, which a test could not trust")


def test_a_numpy_scalar_subclass_of_the_submission(libraries: Libraries) -> None:
    class LyingScalar(np.float64):
        pass

    assert "LyingScalar, an array or number type" in libraries.tampering()


def test_a_class_with_an_array_protocol(libraries: Libraries) -> None:
    class ArrayLike:
        def __array_function__(self, *args: object) -> bool:
            return True

    assert "ArrayLike, an array or number type" in libraries.tampering()


def test_a_plain_class_of_the_submission_is_not_tampering(libraries: Libraries) -> None:
    class Plain:
        def method(self) -> int:
            return 1

    assert Plain().method() == 1
    assert libraries.tampering() == ""


def test_a_class_made_before_the_snapshot_is_not_checked() -> None:
    class LyingFloat(float):
        pass

    assert Libraries(TRUSTED, {}).tampering() == ""


@pytest.mark.parametrize("kind", ["namedtuple", "NamedTuple", "dict"])
def test_tuple_and_dict_classes_of_correct_work_are_not_tampering(kind: str) -> None:
    """Correct work may define a namedtuple or a dict subclass: they redefine no comparison."""
    libraries = Libraries(TRUSTED, {})
    if kind == "namedtuple":
        record = collections.namedtuple("Record", "value")
    elif kind == "NamedTuple":
        class Record(typing.NamedTuple):
            value: int
        record = Record
    else:
        class Record(dict):  # type: ignore[no-redef]
            def total(self) -> int:
                return sum(self.values())
        record = Record
    assert record is not None
    assert libraries.tampering() == ""


def test_a_tuple_subclass_that_redefines_equality_is_flagged() -> None:
    libraries = Libraries(TRUSTED, {})

    class LyingPair(tuple):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = tuple.__hash__

    assert "LyingPair, an array or number type" in libraries.tampering()


def test_a_namedtuple_a_library_makes_for_itself_is_not_tampering(libraries: Libraries) -> None:
    pair = collections.namedtuple("Pair", "first second", module="json")
    assert pair(1, 2).first == 1
    assert libraries.tampering() == ""


class Liar:
    """A callable object: what a method of a class can be besides a function."""

    def __call__(self, *args: object) -> bool:
        return True


def hidden_methods() -> dict[str, object]:
    """An ``__eq__`` of code of this file that is not a function reachable by
    referee_checks._function_of (a method, static or class method, property, partial)."""
    method: object = staticmethod(lambda other: True)
    for _ in range(4):
        method = staticmethod(method)
    return {"a callable object": Liar(),
            "functools.partialmethod": functools.partialmethod(lambda self, other, _: True, 0),
            "five static methods deep": method}


@pytest.mark.parametrize("how", sorted(hidden_methods()))
def test_a_number_type_claiming_a_library_module_with_hidden_methods_is_flagged(how: str) -> None:
    libraries = Libraries(TRUSTED, {})
    lying = types.new_class("LyingFloat", (float,), exec_body=lambda namespace: namespace.update(
        {"__module__": "numpy", "__eq__": hidden_methods()[how]}))
    if not lying(1.0) == 2.0:
        pytest.fail("the class does not lie: the test shows nothing")
    assert "LyingFloat, an array or number type" in libraries.tampering()


def test_a_fraction_subclass_of_the_submission_is_flagged() -> None:
    libraries = Libraries(TRUSTED, {})

    class LyingFraction(Fraction):
        def __eq__(self, other: object) -> bool:
            return True

    if not LyingFraction(1) == 0.25:
        pytest.fail("the class does not lie: the test shows nothing")
    assert "LyingFraction, an array or number type" in libraries.tampering()


# Libraries.made_by_submission and library_module


@pytest.fixture(scope="module")
def seen() -> Libraries:
    """A snapshot for the questions that do not depend on when it was taken."""
    return Libraries(TRUSTED, {})


class Methods:
    def method(self) -> int:
        return 1

    @staticmethod
    def static() -> int:
        return 1

    @classmethod
    def klass(cls) -> int:
        return 1

    @property
    def prop(self) -> int:
        return 1


@pytest.mark.parametrize("value", [
    pytest.param(a_function, id="function"),
    pytest.param(lambda: 1, id="lambda"),
    pytest.param(Methods.method, id="method"),
    pytest.param(Methods().method, id="bound method"),
    pytest.param(vars(Methods)["static"], id="staticmethod"),
    pytest.param(vars(Methods)["klass"], id="classmethod"),
    pytest.param(Methods.klass, id="bound classmethod"),
    pytest.param(vars(Methods)["prop"], id="property"),
    pytest.param(functools.partial(a_function), id="partial"),
    pytest.param(functools.partial(functools.partial(a_function), 1), id="partial of partial"),
    pytest.param(Methods, id="class"),
])
def test_functions_and_classes_of_this_file_are_the_submissions(seen: Libraries,
                                                                value: object) -> None:
    assert seen.made_by_submission(value) is True


@pytest.mark.parametrize("value", [
    pytest.param(json.dumps, id="function"),
    pytest.param(json.JSONEncoder, id="class"),
    pytest.param(json.JSONEncoder.default, id="method"),
    pytest.param(json.JSONEncoder().encode, id="bound method"),
    pytest.param(print, id="builtin"),
    pytest.param(np.ndarray, id="C type"),
    pytest.param(np.allclose, id="numpy function"),
    pytest.param(functools.partial(json.dumps), id="partial"),
    pytest.param(functools.partial(Methods().method.__call__), id="partial of a C wrapper"),
    pytest.param(1, id="int"),
    pytest.param("text", id="str"),
    pytest.param(None, id="None"),
    pytest.param(Liar(), id="instance of a class of this file"),
])
def test_libraries_and_plain_values_are_not_the_submissions(seen: Libraries,
                                                            value: object) -> None:
    assert seen.made_by_submission(value) is False


def test_a_class_claiming_a_library_module_is_judged_by_its_methods(seen: Libraries) -> None:
    with_method = types.new_class("Claimed", (), exec_body=lambda namespace: namespace.update(
        {"__module__": "json", "method": a_function}))
    without = types.new_class("Claimed", (), exec_body=lambda namespace: namespace.update(
        {"__module__": "json", "value": 1}))
    assert seen.made_by_submission(with_method) is True
    assert seen.made_by_submission(without) is False


def test_code_under_a_pseudo_file_name_belongs_to_the_module_it_names(seen: Libraries) -> None:
    """Documented limit: a library generates code under "<string>" (dataclasses, namedtuple);
    code of the submission compiled so and claiming a library module is not recognised."""
    for module, expected in (("json", False), (__name__, True), ("no_such_module", True)):
        namespace = {"__name__": module}
        exec(compile("def generated():\n    return 1\n", "<string>", "exec"),  # noqa: S102
             namespace)
        assert seen.made_by_submission(namespace["generated"]) is expected, module


def test_library_module(seen: Libraries, monkeypatch: pytest.MonkeyPatch) -> None:
    learner = types.ModuleType("learner_module")
    learner.__file__ = __file__
    monkeypatch.setitem(sys.modules, "learner_module", learner)
    assert seen.library_module("json")
    assert seen.library_module("sys")  # built in: no file
    assert not seen.library_module(__name__)
    assert not seen.library_module("learner_module")
    assert not seen.library_module("no.such.module")
    assert not seen.library_module(None)


def test_all_classes_finds_a_new_class_and_the_snapshot_knows_the_old_ones(
        seen: Libraries) -> None:
    class New:
        pass

    found = seen.all_classes()
    assert New in found and Methods in found and int in found
    assert id(Methods) in seen.classes and id(New) not in seen.classes


# reading an object never runs its code


class TrapMeta(type):
    """A metaclass that records every look-up or comparison made on its classes."""

    def __getattribute__(cls, name: str) -> object:
        CALLS.append(f"class.__getattribute__({name})")
        return super().__getattribute__(name)

    def __getattr__(cls, name: str) -> object:
        CALLS.append(f"class.__getattr__({name})")
        raise AttributeError(name)

    def __instancecheck__(cls, instance: object) -> bool:
        CALLS.append("__instancecheck__")
        return True

    def __subclasscheck__(cls, subclass: type) -> bool:
        CALLS.append("__subclasscheck__")
        return True

    def __eq__(cls, other: object) -> bool:
        CALLS.append("class.__eq__")
        return True

    def __hash__(cls) -> int:
        CALLS.append("class.__hash__")
        return 0

    def __call__(cls, *args: object) -> object:
        CALLS.append("class.__call__")
        return super().__call__(*args)


class Trap:
    """An object that records every look-up, comparison or call made on it."""

    def __getattribute__(self, name: str) -> object:
        CALLS.append(f"__getattribute__({name})")
        return object.__getattribute__(self, name)

    def __getattr__(self, name: str) -> object:
        CALLS.append(f"__getattr__({name})")
        raise AttributeError(name)

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        CALLS.append("__class__")
        return types.FunctionType

    def __eq__(self, other: object) -> bool:
        CALLS.append("__eq__")
        return True

    def __hash__(self) -> int:
        CALLS.append("__hash__")
        return 0

    def __call__(self, *args: object) -> None:
        CALLS.append("__call__")

    def __bool__(self) -> bool:
        CALLS.append("__bool__")
        return True


class TrapModuleName(str):
    def __eq__(self, other: object) -> bool:
        CALLS.append("name.__eq__")
        return True

    def __hash__(self) -> int:
        CALLS.append("name.__hash__")
        return hash("json")


def test_made_by_submission_runs_no_code_of_the_objects_it_reads(seen: Libraries,
                                                                 calls: list[str]) -> None:
    trapped_class = TrapMeta("Trapped", (), {"method": a_function, "trap": Trap()})
    claiming = TrapMeta("Claiming", (), {"__module__": "json", "trap": Trap(),
                                         "method": a_function})
    function = compile("def generated():\n    return 1\n", "<string>", "exec")
    namespace: dict = {}
    exec(function, namespace)  # noqa: S102
    generated = namespace["generated"]
    generated.__module__ = TrapModuleName("json")
    values = (trapped_class, claiming, Trap(), generated, functools.partial(Trap()),
              staticmethod(Trap()), property(Trap()))  # these read the trap as they are made
    calls.clear()
    answers = [seen.made_by_submission(value) for value in values]
    assert calls == []
    assert answers == [True, True, False, True, False, False, False]


def test_tampering_runs_no_code_of_the_objects_it_reads(
        libraries: Libraries, monkeypatch: pytest.MonkeyPatch, calls: list[str]) -> None:
    module = types.ModuleType("json.trapped")
    module.trap = Trap()
    monkeypatch.setitem(sys.modules, "json.trapped", module)
    monkeypatch.setattr(json, "extra", Trap(), raising=False)
    lying = TrapMeta("LyingTrap", (float,), {"__eq__": lambda self, other: True})
    calls.clear()
    found = libraries.tampering()
    assert calls == []
    assert found == "the submission defines LyingTrap, an array or number type of its own, " \
        "which a test could not trust"
    monkeypatch.setattr(json, "dumps", Trap())
    calls.clear()
    found = libraries.tampering()
    assert calls == []
    assert found == "json.dumps was replaced"
    assert lying is not None


# busy_thread


@contextlib.contextmanager
def running(target: Callable[[threading.Event, threading.Event], None]) -> Iterator[None]:
    """A thread running ``target(started, stop)`` until the block ends."""
    started, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=target, args=(started, stop), daemon=True)
    thread.start()
    try:
        assert started.wait(5)
        yield
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


def spin(started: threading.Event, stop: threading.Event) -> None:
    started.set()
    while not stop.is_set():
        stop.wait(0.005)


def test_a_thread_running_code_of_the_submission_is_busy() -> None:
    with running(spin):
        found = busy_thread(TRUSTED)
    assert found == "a thread started by the submission was running during the test: let " \
        "your threads finish before the tests run"


def test_no_other_thread_is_not_busy() -> None:
    assert busy_thread(TRUSTED) == ""  # this thread's own frames (this file's) do not count


def test_a_thread_running_only_library_code_is_not_busy() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        assert busy_thread(TRUSTED) == ""
    finally:
        stop.set()
        thread.join(5)


# stack_files


def test_stack_files_lists_this_function_first_after_its_own_frames() -> None:
    files = stack_files()
    assert files[:3] == [(CHECKS, "_dump"), (CHECKS, "stack_files"),
                         (__file__, "test_stack_files_lists_this_function_first_after_its_own_"
                                    "frames")]
    assert (__file__, "test_stack_files_lists_this_function_first_after_its_own_frames") \
        not in files[3:]  # the callers: pytest's frames


def test_stack_files_lists_callers_most_recent_first() -> None:
    def inner() -> list[tuple[str, str]]:
        return stack_files()

    assert inner()[2:4] == [(__file__, "inner"),
                            (__file__, "test_stack_files_lists_callers_most_recent_first")]


def test_stack_files_of_another_thread_are_its_own() -> None:
    found: list = []
    thread = threading.Thread(target=lambda: found.extend(stack_files()))
    thread.start()
    thread.join(5)
    assert (__file__, "<lambda>") in found
    assert not any(name.startswith("test_") for _, name in found)


# local_dict and module_dict


def test_local_dict_is_this_threads_dict_of_a_threading_local() -> None:
    local = threading.local()
    local.seed = 42
    assert local_dict(local) == {"seed": 42}
    assert local_dict(local) is local.__dict__
    found: list = []
    thread = threading.Thread(target=lambda: found.append(dict(local_dict(local))))
    thread.start()
    thread.join(5)
    assert found == [{}]


def test_local_dict_of_anything_else_is_empty(calls: list[str]) -> None:
    class TrapLocal(threading.local):
        def __getattribute__(self, name: str) -> object:
            CALLS.append(name)
            return super().__getattribute__(name)

    trap = TrapLocal()
    calls.clear()
    for value in (trap, {"seed": 42}, None, json, Trap()):
        assert local_dict(value) == {}
    assert calls == []


def test_module_dict_is_a_modules_namespace(calls: list[str]) -> None:
    class TrapModule(types.ModuleType):
        def __getattribute__(self, name: str) -> object:
            CALLS.append(name)
            return super().__getattribute__(name)

    trap = TrapModule("trap")
    calls.clear()
    assert module_dict(json) is vars(json)
    assert module_dict(trap) is object.__getattribute__(trap, "__dict__")
    assert calls == []
    with pytest.raises(TypeError):
        module_dict(Trap())
