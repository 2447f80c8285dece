"""Tests of course_utils.versions: pins read from the installed metadata, mismatches found."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

import numpy as np
import pytest

from course_utils import versions
from tests.support import REPO


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = project["dependencies"] + project["optional-dependencies"]["dev"]
    return dict(re.fullmatch(r"(.+)==(.+)", line).groups() for line in lines)


def test_pinned_versions_are_the_pins_of_pyproject():
    assert versions.pinned_versions() == pyproject_pins(), (
        "the installed course_utils metadata is older than pyproject.toml: run `make setup`"
    )


def test_pinned_versions_include_the_dev_extra():
    assert "pytest" in versions.pinned_versions()


def test_pinned_versions_of_a_missing_distribution_raise():
    with pytest.raises(metadata.PackageNotFoundError):
        versions.pinned_versions("no-such-distribution-for-the-course")


def test_pinned_versions_skip_requirements_without_an_exact_pin(monkeypatch):
    monkeypatch.setattr(versions.metadata, "requires", lambda name: [
        "numpy==2.4.6", "keras>=3", "pytest==9.2.0; extra == \"dev\"", "rich",
    ])
    assert versions.pinned_versions() == {"numpy": "2.4.6", "pytest": "9.2.0"}


def test_installed_version_reads_the_distribution_name():
    assert versions.installed_version("numpy") == np.__version__


def test_installed_version_of_a_missing_package_is_none():
    assert versions.installed_version("no-such-distribution-for-the-course") is None


def test_course_environment_has_no_pin_mismatches():
    assert versions.pin_mismatches() == {}


def test_pin_mismatches_reports_a_wrong_version():
    wrong = {"numpy": "0.0.1", "keras": metadata.version("keras")}
    assert versions.pin_mismatches(wrong) == {"numpy": ("0.0.1", np.__version__)}


def test_pin_mismatches_reports_a_missing_package():
    name = "no-such-distribution-for-the-course"
    assert versions.pin_mismatches({name: "1.0"}) == {name: ("1.0", None)}


def test_main_prints_every_pin_and_succeeds(capsys):
    assert versions.main([]) == 0
    out = capsys.readouterr().out
    assert f"all {len(versions.pinned_versions())} pinned packages match" in out
    assert "tensorflow-cpu" in out


def test_main_fails_and_names_the_package_that_differs(monkeypatch, capsys):
    monkeypatch.setattr(versions, "pinned_versions", lambda: {"numpy": "0.0.1"})
    assert versions.main([]) == 1
    out = capsys.readouterr().out
    assert f"numpy  pinned 0.0.1, installed {np.__version__}  <- differs" in out
    assert "1 of 1 pinned packages differ" in out


def test_a_local_build_meets_a_pin_without_local_label(monkeypatch):
    # torch==2.13.0 is met by the CPU build 2.13.0+cpu (PEP 440), but not by 2.13.1
    monkeypatch.setattr(versions, "installed_version", lambda package: "2.13.0+cpu")
    assert versions.pin_mismatches({"torch": "2.13.0"}) == {}
    monkeypatch.setattr(versions, "installed_version", lambda package: "2.13.1")
    assert versions.pin_mismatches({"torch": "2.13.0"}) == {"torch": ("2.13.0", "2.13.1")}
