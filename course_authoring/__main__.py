"""The maintainers' command line: ``python -m course_authoring execute|check|colab-cells NB ...``.

``execute`` re-executes each lesson in place, in order, each in a fresh kernel (``make execute``);
``check`` prints what is not clean in each lesson and exits 1 if anything is; ``colab-cells``
writes the Colab set-up cell of ``_config.yml``'s repository first in each notebook.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from course_authoring.colab import repository, write_setup_cell
from course_authoring.lessons import execute_in_place, problems

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run one command over the given lessons; 0 when all went well."""
    parser = argparse.ArgumentParser(prog="python -m course_authoring",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["execute", "check", "colab-cells"])
    parser.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args(argv)
    status = 0
    if args.command == "colab-cells":
        repo = repository()
        for path in args.paths:
            print(f"{path}: {'updated' if write_setup_cell(path, repo) else 'up to date'}")
        return status
    for path in args.paths:
        if args.command == "execute":
            print(f"executing {path} ...", flush=True)
            print(f"  done in {execute_in_place(path):.1f} s", flush=True)
        else:
            for problem in problems(nbformat.read(path, as_version=4)):
                print(f"{path}: {problem}")
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
