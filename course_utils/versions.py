"""Installed package versions compared with the course's pins (chapter 2).

``pyproject.toml`` pins every package the course needs to an exact version. pip copies those
requirements into the metadata of the installed ``course_utils`` package, so they can be read back
with ``importlib.metadata`` from any folder, without finding ``pyproject.toml``, and without
importing (slowly) the packages themselves.

``python -m course_utils.versions`` prints one line per pinned package and exits with status 1
when an installed version differs from its pin: run it after ``make setup`` or
``conda env create -f environment.yml``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping
from importlib import metadata

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = ["COURSE_DISTRIBUTION", "installed_version", "pin_mismatches", "pinned_versions"]

COURSE_DISTRIBUTION = "course_utils"

# "name==version" followed by nothing, or by an environment marker ("; extra == 'dev'").
_EXACT_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;,]+)\s*(;.*)?$")


def pinned_versions(distribution: str = COURSE_DISTRIBUTION) -> dict[str, str]:
    """``{package: version}`` for every exact ``==`` pin that ``distribution`` declares.

    Optional extras (the course's ``dev`` tools) are included. Raises
    ``importlib.metadata.PackageNotFoundError`` when ``distribution`` is not installed.
    """
    pins = {}
    for line in metadata.requires(distribution) or []:
        match = _EXACT_PIN.match(line)
        if match:
            pins[match.group(1)] = match.group(2)
    return pins


def installed_version(package: str) -> str | None:
    """The installed version of the distribution ``package`` (a pip name), or None."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def pin_mismatches(pins: Mapping[str, str] | None = None) -> dict[str, tuple[str, str | None]]:
    """``{package: (pinned, installed)}`` for each pin not met; empty when all match.

    ``installed`` is None for a package that is not installed. ``pins`` defaults to
    ``pinned_versions()``.
    """
    pins = pinned_versions() if pins is None else pins
    found = {package: (pinned, installed_version(package)) for package, pinned in pins.items()}
    return {package: pair for package, pair in found.items() if not _satisfies(*pair)}


def _satisfies(pinned: str, installed: str | None) -> bool:
    """PEP 440 ``==``: a pin without a local label accepts local builds (2.13.0 -> 2.13.0+cpu)."""
    if installed is None:
        return False
    try:
        return Version(installed) in SpecifierSet(f"=={pinned}")
    except InvalidVersion:
        return installed == pinned


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    try:
        pins = pinned_versions()
    except metadata.PackageNotFoundError:
        print(f"{COURSE_DISTRIBUTION} is not installed in {sys.prefix}: run `make setup`",
              file=sys.stderr)
        return 1
    mismatches = pin_mismatches(pins)
    width = max(map(len, pins), default=0)
    for package, pinned in pins.items():
        if package in mismatches:
            installed = mismatches[package][1] or "not installed"
            print(f"{package:<{width}}  pinned {pinned}, installed {installed}  <- differs")
        else:
            print(f"{package:<{width}}  {pinned}")
    if mismatches:
        print(f"{len(mismatches)} of {len(pins)} pinned packages differ: "
              "reinstall with `make setup` (or recreate the conda environment)")
        return 1
    print(f"all {len(pins)} pinned packages match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
