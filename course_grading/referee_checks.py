"""What the kernel's referee checks around a test (:mod:`course_grading.referee`).

The libraries as they were when the kernel was sealed, and what the submission changed since
(:class:`Libraries`); threads running code of the submission (:func:`busy_thread`, from
faulthandler's text of every stack: no frame objects); :func:`stack_files` shows a thread's
stack the same way (the tests use it). Everything here reads
objects through C functions and descriptors only (never ``getattr`` on an unknown object,
``isinstance`` or ``==``), so that inspecting a submission's objects never runs its code.
The referee loads this file on its own, inside the sandbox, with builtins of its own.
"""

from __future__ import annotations

import _thread
import faulthandler
import functools
import os
import re
import sys
import types
from operator import is_

__all__ = ["Libraries", "busy_thread", "is_trusted_file", "local_dict", "module_dict",
           "stack_files"]

# module namespaces that change with every cell (IPython's hooks and traps); tests get the
# builtins of the start, and the learner's own namespace is theirs
VOLATILE = frozenset({"sys", "builtins", "__main__"})
# library functions swapped for others as the kernel runs: ipykernel forwards input() to the
# front end; pyplot sets its backend's functions when a first figure is drawn
PER_CELL = frozenset({"getpass.getpass", "matplotlib.pyplot.draw_if_interactive",
                      "matplotlib.pyplot.new_figure_manager", "matplotlib.pyplot.show"})
# types whose subclasses a submission could make lie to a test's comparisons and arithmetic
NUMBER_BASES = frozenset({"int", "float", "complex", "str", "bytes", "tuple", "list", "dict",
                          "Fraction", "Decimal", "Number", "Complex", "Real", "Rational",
                          "Integral"})
ARRAY_BASES = frozenset({"ndarray", "generic", "Tensor"})  # always suspect when subclassed
ARRAY_PROTOCOLS = ("__array_function__", "__array_ufunc__", "__array__", "__array_interface__",
                   "__array_struct__", "__array_priority__", "__torch_function__")
# what such a subclass would have to define to lie (a namedtuple or a dict subclass of correct
# work defines none of these)
LYING_METHODS = frozenset({
    "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__", "__len__",
    "__float__", "__int__", "__index__", "__complex__", "__abs__", "__round__", "__hash__",
    "__neg__", "__pos__", "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
    "__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__",
    "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__contains__", "__getitem__",
    "__iter__", "__getattribute__", "__getattr__", "__instancecheck__", "__subclasscheck__",
    "__class__", *ARRAY_PROTOCOLS})

_type_dict = type.__dict__["__dict__"].__get__
_type_module = type.__dict__["__module__"].__get__
_type_mro = type.__dict__["__mro__"].__get__
_type_name = type.__dict__["__name__"].__get__
_type_qualname = type.__dict__["__qualname__"].__get__
_module_dict = types.ModuleType.__dict__["__dict__"].__get__
_function_code = types.FunctionType.__dict__["__code__"].__get__
_function_module = types.FunctionType.__dict__["__module__"].__get__
_function_dict = types.FunctionType.__dict__["__dict__"].__get__
_method_function = types.MethodType.__dict__["__func__"].__get__
_static_function = staticmethod.__dict__["__func__"].__get__
_class_function = classmethod.__dict__["__func__"].__get__
_property_getter = property.__dict__["fget"].__get__
_partial_function = functools.partial.__dict__["func"].__get__
module_dict = _module_dict
_FRAME_LINE = re.compile(r'^\s+File "(.*)", line \d+ in (.*)$')


def local_dict(tracker: object) -> dict:
    """This thread's attributes of a ``threading.local`` (an exact one: its lookup is C)."""
    return tracker.__dict__ if type(tracker) is _thread._local else {}  # type: ignore[attr-defined]


def is_trusted_file(filename: object, trusted: tuple[str, ...]) -> bool:
    """Code from a library's file (or Python's frozen modules)."""
    return type(filename) is str and (filename.startswith(trusted)
                                      or filename.startswith("<frozen "))


def _function_of(value: object) -> types.FunctionType | None:
    """The function behind a method, static or class method, property, partial ... or None."""
    for _ in range(4):
        kind = type(value)
        if kind is types.FunctionType:
            return value  # type: ignore[return-value]
        if kind is types.MethodType:
            value = _method_function(value)
            continue
        for base, read in ((staticmethod, _static_function), (classmethod, _class_function),
                           (property, _property_getter), (functools.partial, _partial_function)):
            if issubclass(kind, base):
                value = read(value)
                break
        else:
            return None
    return None


class Libraries:
    """The libraries as they were at the seal, and what changed in them since."""

    def __init__(self, trusted: tuple[str, ...], user: dict) -> None:
        self.trusted, self.modules = trusted, sys.modules
        self.at_seal = dict(self.modules)
        self.namespaces: list[tuple[str, dict, dict, list]] = []
        for name, module in list(self.modules.items()):
            if not issubclass(type(module), types.ModuleType) or name in VOLATILE:
                continue
            namespace = _module_dict(module)
            if namespace is user:  # the learner's own
                continue
            self._remember(name, namespace)
            for value in list(namespace.values()):
                if issubclass(type(value), type) and _type_module(value) == name:
                    self._remember(f"{name}.{_type_qualname(value)}", _type_dict(value))
        self.classes = {id(c) for c in self.all_classes()}

    def _remember(self, where: str, namespace: object) -> None:
        before = dict(namespace)
        self.namespaces.append((where, namespace, before, tuple(before.values())))

    def library_module(self, name: object) -> bool:
        """``name`` is a module loaded from a library's file."""
        module = self.modules.get(name) if type(name) is str else None
        if not issubclass(type(module), types.ModuleType):
            return False
        file = _module_dict(module).get("__file__")
        return is_trusted_file(file if type(file) is str else "<frozen builtin>", self.trusted)

    def _foreign(self, code: types.CodeType, owner: object) -> bool:
        """Compiled from the submission: not a library's file, nor code a library generated
        under a pseudo-file name ("<string>") or Cython's relative one for its own module."""
        if is_trusted_file(code.co_filename, self.trusted):
            return False
        return code.co_filename.startswith("/") or not self.library_module(owner)

    def made_by_submission(self, value: object) -> bool:
        """A function of the submission's code, or a class of its making."""
        if issubclass(type(value), type):  # its methods belong to the class's module
            module = _type_module(value)
            return not self.library_module(module) or any(
                self._foreign(_function_code(f), module)
                for f in map(_function_of, list(_type_dict(value).values())) if f is not None)
        function = _function_of(value)
        return function is not None and self._foreign(
            _function_code(function), _function_module(function))

    def all_classes(self) -> list[type]:
        """Every class alive, found from ``object`` down (no code of theirs runs)."""
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

    def _replaced(self, where: str, before: dict, now: object) -> str:
        for attribute, value in list(now.items()):  # type: ignore[attr-defined]
            if type(attribute) is not str:
                return f"{where} holds a name that is not a string"
            old = before.get(attribute)
            if value is old:
                continue
            if self.made_by_submission(value):
                return f"{where}.{attribute} was replaced by code of the submission"
            # a library may wrap its own functions (torch's optimisers wrap step once)
            if callable(old) and attribute in before and f"{where}.{attribute}" not in PER_CELL \
                    and not issubclass(type(value), types.ModuleType) \
                    and not issubclass(type(old), types.ModuleType) \
                    and _wrapped(value) is not old:
                return f"{where}.{attribute} was replaced"
        return ""

    def tampering(self) -> str:
        """What the submission changed that a test relies on ('' if nothing)."""
        for name, module in list(self.at_seal.items()):
            if self.modules.get(name) is not module:
                return f"sys.modules[{name!r}] was replaced"
        for name, module in list(self.modules.items()):
            if name in self.at_seal or type(name) is not str \
                    or name.split(".")[0] not in self.at_seal \
                    or not issubclass(type(module), types.ModuleType):
                continue
            for attribute, value in list(_module_dict(module).items()):
                if callable(value) and self.made_by_submission(value):
                    return f"{name}.{attribute} is code of the submission"
        for where, namespace, before, values in self.namespaces:
            # the same objects in the same order (identity only: no __eq__ of theirs runs)
            if len(namespace) != len(values) or not all(map(is_, namespace.values(), values)):
                found = self._replaced(where, before, namespace)
                if found:
                    return found
        for cls in self.all_classes():
            if id(cls) not in self.classes and self._lying_type(cls):
                return f"the submission defines {_type_qualname(cls)}, an array or number " \
                       "type of its own, which a test could not trust"
        return ""

    def _lying_type(self, cls: type) -> bool:
        """A class made since the seal, not a library's named class, that could lie to a
        test: an array type, or a number or container type that redefines how it compares,
        computes or converts (whatever kind of object its methods are)."""
        module = _type_module(cls)
        home = self.modules.get(module) if type(module) is str else None
        if issubclass(type(home), types.ModuleType) and self.library_module(module) \
                and _module_dict(home).get(_type_name(cls)) is cls \
                and not self.made_by_submission(cls):
            return False  # a library's own class, imported since the seal
        bases = {_type_name(base) for base in _type_mro(cls)[1:]}
        own = _type_dict(cls)
        if bases & ARRAY_BASES or any(name in own for name in ARRAY_PROTOCOLS):
            return True
        return bool(bases & NUMBER_BASES) and any(name in own for name in LYING_METHODS)


def _wrapped(value: object) -> object:
    """What a function made by functools.wraps wraps (None for anything else)."""
    if type(value) is not types.FunctionType:
        return None
    return _function_dict(value).get("__wrapped__")


def _dump(all_threads: bool) -> str:
    """faulthandler's text of the stack(s): file names, no frame objects, no audit events."""
    read, write = os.pipe()
    try:
        faulthandler.dump_traceback(write, all_threads=all_threads)
        os.close(write)
        write = -1
        chunks = []
        while chunk := os.read(read, 65536):
            chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace")
    finally:
        os.close(read)
        if write >= 0:
            os.close(write)


def stack_files() -> list[tuple[str, str]]:
    """(file, function) of the current thread's frames, the most recent first."""
    return [m.groups() for m in map(_FRAME_LINE.match, _dump(False).splitlines()) if m]


def busy_thread(trusted: tuple[str, ...]) -> str:
    """A thread other than this one running code of the submission ('' if none)."""
    current = False
    for line in _dump(True).splitlines():
        if line.startswith(("Thread ", "Current thread ")):
            current = line.startswith("Current thread ")
        elif (match := _FRAME_LINE.match(line)) and not current \
                and not is_trusted_file(match.group(1), trusted):
            return "a thread started by the submission was running during the test: let " \
                   "your threads finish before the tests run"
    return ""
