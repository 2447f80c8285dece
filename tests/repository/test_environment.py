"""pyproject.toml and environment.yml must pin the same packages to the same exact versions."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from tests.support import REPO

EXACT_PIN = re.compile(r"^==[0-9][0-9A-Za-z.+!-]*$")


def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def environment() -> dict:
    return yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))


def pyproject_requirements() -> list[str]:
    project = pyproject()["project"]
    return project["dependencies"] + project["optional-dependencies"]["dev"]


def environment_pip_requirements() -> list[str]:
    pip_sections = [
        entry["pip"] for entry in environment()["dependencies"]
        if isinstance(entry, dict) and "pip" in entry
    ]
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip: section"
    return [line for line in pip_sections[0] if line.strip() not in ("-e .", "-e ./")]


def pins(requirements: list[str]) -> dict[str, str]:
    """{canonical name: specifier} for each requirement line; a duplicate name is an error."""
    result: dict[str, str] = {}
    for line in requirements:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name not in result, f"{name} is listed twice"
        result[name] = str(requirement.specifier)
    return result


def test_pyproject_and_environment_name_the_same_packages():
    assert set(pins(pyproject_requirements())) == set(pins(environment_pip_requirements()))


def test_pyproject_and_environment_pin_the_same_versions():
    assert pins(pyproject_requirements()) == pins(environment_pip_requirements())


@pytest.mark.parametrize(
    ("source", "read"),
    [("pyproject.toml", pyproject_requirements), ("environment.yml", environment_pip_requirements)],
)
def test_every_requirement_is_pinned_exactly(source, read):
    loose = {name: spec for name, spec in pins(read()).items() if not EXACT_PIN.match(spec)}
    assert loose == {}, f"{source} has requirements without an exact == pin"


def test_environment_installs_the_course_package_itself():
    pip_lines = next(e["pip"] for e in environment()["dependencies"] if isinstance(e, dict))
    assert "-e ." in pip_lines


def test_environment_python_satisfies_requires_python():
    conda_python = next(
        entry for entry in environment()["dependencies"]
        if isinstance(entry, str) and re.match(r"python\s*[=<>]", entry)
    )
    version = re.split(r"[=<>]+", conda_python, maxsplit=1)[1].strip()
    assert version in SpecifierSet(pyproject()["project"]["requires-python"])


def test_pins_parser_sees_a_difference():
    # guard against a parser that would make the comparison vacuous
    assert pins(["numpy==2.4.6"]) != pins(["NumPy==2.4.5"])
    assert pins(["scikit_learn==1.0"]) == pins(["scikit-learn==1.0"])
