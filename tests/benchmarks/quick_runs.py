"""Run several benchmark scripts' ``--quick`` smoke tests in ONE process (imports paid once).

``python -m tests.benchmarks.quick_runs OUT SCRIPT [ARGS...] [-- SCRIPT [ARGS...]]...``: each
script under benchmarks/ is loaded as a module and its ``main`` called with ``--quick --output
OUT/<script>.json`` and its ARGS; what it printed goes to OUT/<script>.out, its exit status (or the
traceback of what it raised) to OUT/<script>.status. One failing script does not stop the others.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
import traceback
from pathlib import Path
from types import ModuleType

from tests.support import REPO


def load_script(script: str) -> ModuleType:
    """``benchmarks/<script>`` imported as a module (its ``main`` not called)."""
    spec = importlib.util.spec_from_file_location(f"benchmarks_{Path(script).stem}",
                                                  REPO / "benchmarks" / script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an imported module is (dataclasses look it up)
    spec.loader.exec_module(module)
    return module


def run(script: str, arguments: list[str], out: Path) -> None:
    """Call ``benchmarks/<script>``'s main with ``--quick``; record its output and status."""
    name = Path(script).stem
    printed = io.StringIO()
    try:
        module = load_script(script)
        with contextlib.redirect_stdout(printed):
            code = module.main(["--quick", "--output", str(out / f"{name}.json"), *arguments])
        status = str(code or 0)
    except BaseException:  # noqa: BLE001 - SystemExit too: reported, and the next script runs
        status = traceback.format_exc()
    (out / f"{name}.out").write_text(printed.getvalue())
    (out / f"{name}.status").write_text(status)
    import keras  # noqa: PLC0415 - loaded by the scripts; reset between them

    keras.backend.clear_session()


def main(argv: list[str]) -> None:
    out, rest = Path(argv[0]), argv[1:]
    sys.path.insert(0, str(REPO / "benchmarks"))  # as when a script runs by itself
    while rest:
        end = rest.index("--") if "--" in rest else len(rest)
        run(rest[0], rest[1:end], out)
        rest = rest[end + 1:]


if __name__ == "__main__":
    main(sys.argv[1:])
