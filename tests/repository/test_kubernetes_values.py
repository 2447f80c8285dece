"""deploy/kubernetes/values.yaml: only settings the Zero to JupyterHub chart knows, nbgrader
configurations that run and name the course of nbgrader_config.py, placeholders for secrets."""

from __future__ import annotations

import copy
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import yaml
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from course_authoring.benchmark_reports import GENERATED_KEY
from course_authoring.kubernetes_settings import load_settings, unknown_settings
from course_grading.course import load_config
from course_grading.gradebook import db_url
from tests.support import REPO

VALUES = REPO / "deploy" / "kubernetes" / "values.yaml"
SINGLE_MACHINE = REPO / "deploy" / "jupyterhub"  # the class hub on one machine
SECRET_KEYS = {"password", "client_secret", "apiToken"}


@pytest.fixture(scope="module")
def values() -> dict[str, Any]:
    return yaml.safe_load(VALUES.read_text())


@pytest.fixture(scope="module")
def known() -> dict[str, Any]:
    return load_settings()


def extra_files(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return values["singleuser"]["extraFiles"]


def python_files(values: dict[str, Any]) -> dict[str, str]:
    """The Python the values file mounts: extraFiles key -> source."""
    return {key: spec["stringData"] for key, spec in extra_files(values).items()
            if spec["mountPath"].endswith(".py")}


def load_with_stub_exchange(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Config, list]:
    """``folder``'s nbgrader_config.py loaded as nbgrader loads it, with ngshare_exchange replaced
    by a stub that records the URL it is given; (the config, the URLs)."""
    urls: list[str] = []
    stub = types.ModuleType("ngshare_exchange")
    stub.configureExchange = lambda c, url=None: urls.append(url)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ngshare_exchange", stub)
    return PyFileConfigLoader("nbgrader_config.py", path=str(folder)).load_config(), urls


def leaves(tree: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(tree, dict) and tree:
        return [leaf for key, value in tree.items() for leaf in leaves(value, (*path, str(key)))]
    return [(path, tree)]


def test_every_setting_of_the_values_file_is_one_the_chart_knows(values, known) -> None:
    unknown = unknown_settings(values, known)
    assert unknown == [], (f"settings that jupyterhub chart {known['chart']['version']} does not "
                           f"know (deploy/kubernetes/z2jh_settings.json): {unknown}")


def test_the_check_rejects_a_misspelled_setting(values, known) -> None:
    misspelled = copy.deepcopy(values)
    misspelled["singleuser"]["memory"]["limt"] = "4G"
    misspelled["hub"]["config"]["kubeSpawner"] = {"cpu_limit": 1}  # a class name is capitalised
    assert {"hub.config.kubeSpawner", "singleuser.memory.limt"} <= set(
        unknown_settings(misspelled, known)), \
        "the check lets a misspelled key through, so it proves nothing about values.yaml"


def test_the_check_stops_below_a_free_form_setting(known) -> None:
    anything = {"hub": {"config": {"KubeSpawner": {"any": {"depth": 1}}},
                        "services": {"ngshare": {"url": "http://x"}}},
                "singleuser": {"extraFiles": {"any-name": {"mountPath": "/x", "data": {"a": 1}}}}}
    assert unknown_settings(anything, known) == [], \
        "traitlets configuration, services and extraFiles' data take any key"


def test_the_settings_file_says_it_is_generated_and_from_which_chart(known) -> None:
    assert "generated, do not edit by hand" in known[GENERATED_KEY], "not marked as generated"
    chart = known["chart"]
    assert chart["version"].startswith("4."), f"values.yaml is written for chart 4.x: {chart}"
    assert len(chart["commit"]) == 40, f"the settings must name the chart's commit: {chart}"
    assert known["command"].startswith("python -m course_authoring.kubernetes_settings"), \
        "the settings file must say which command wrote it"


def test_secrets_in_the_values_file_are_placeholders(values) -> None:
    secrets = [(path, value) for path, value in leaves(values) if path[-1] in SECRET_KEYS]
    assert secrets, "values.yaml names no secret: the check below would pass for nothing"
    for path, value in secrets:
        assert str(value).startswith("CHANGE-ME"), \
            f"{'.'.join(path)} holds something other than a placeholder; real secrets go in a " \
            "private second values file"


@pytest.mark.parametrize("key", ["nbgrader-config", "course-gradebook"])
def test_each_embedded_nbgrader_configuration_compiles(values, key: str) -> None:
    source = python_files(values)[key]
    compile(source, f"deploy/kubernetes/values.yaml:{key}", "exec")


def test_the_hubs_nbgrader_configuration_names_the_course_and_ngshare(
        values, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "nbgrader_config.py").write_text(python_files(values)["nbgrader-config"])
    config, urls = load_with_stub_exchange(tmp_path, monkeypatch)
    course_id = load_config(REPO).CourseDirectory.course_id
    named = config.CourseDirectory.course_id
    assert named == course_id, f"the hub names course {named!r}, nbgrader_config.py {course_id!r}"
    service = values["hub"]["services"]["ngshare"]["url"]
    assert urls == [f"{service}/services/ngshare"], \
        f"the exchange goes to {urls}, but the hub registers ngshare at {service}"
    assert "root" not in config.CourseDirectory and "db_url" not in config.CourseDirectory, \
        "every nbgrader run reads this file, course_grading's scratch runs too: it must not set " \
        "the course root or the gradebook"


def test_the_instructors_course_folder_takes_the_gradebook_from_the_secret(
        values, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+psycopg://grader:secret@db.example.org:5432/gradebook"
    monkeypatch.setenv("COURSE_GRADEBOOK_URL", url)
    text = (REPO / "nbgrader_config.py").read_text() + python_files(values)["course-gradebook"]
    (tmp_path / "nbgrader_config.py").write_text(text)
    assert db_url(tmp_path) == url, \
        "course_grading does not find the gradebook in a course folder with the appended lines"
    environment = values["hub"]["config"]["KubeSpawner"]["group_overrides"]["01-instructors"][
        "spawner_override"]["environment"]
    assert "secretKeyRef" in environment["COURSE_GRADEBOOK_URL"]["valueFrom"], \
        "instructors' servers must get COURSE_GRADEBOOK_URL from a Kubernetes Secret"
    assert "COURSE_GRADEBOOK_URL" not in values["singleuser"]["extraEnv"], \
        "students' servers must not get the gradebook's URL (it holds the password)"


def test_each_role_reads_its_own_configuration_folder(values) -> None:
    folders = {str(Path(spec["mountPath"]).parent).removesuffix("/labconfig")
               for spec in extra_files(values).values() if spec["mountPath"].endswith(".json")}
    students = values["singleuser"]["extraEnv"]["JUPYTER_CONFIG_PATH"]
    override = values["hub"]["config"]["KubeSpawner"]["group_overrides"]["01-instructors"]
    instructors = override["spawner_override"]["environment"]["JUPYTER_CONFIG_PATH"]
    assert folders == {students, instructors}, \
        f"the files are mounted in {sorted(folders)}, the servers read {students}, {instructors}"
    groups = values["hub"]["config"]["JupyterHub"]["load_groups"]
    assert set(override["groups"]) <= set(groups), \
        f"the instructors' override names groups {override['groups']} that the hub never creates"


@pytest.mark.parametrize("role", ["student", "instructor"])
def test_each_role_gets_the_nbgrader_parts_of_the_single_machine_hub(values, role: str) -> None:
    folder = Path("/etc/jupyter/nn-course") / role
    mounted = {Path(spec["mountPath"]).relative_to(folder): spec["data"]
               for spec in extra_files(values).values()
               if Path(spec["mountPath"]).is_relative_to(folder)}
    single_machine = {path.relative_to(SINGLE_MACHINE / role): json.loads(path.read_text())
                      for path in (SINGLE_MACHINE / role).rglob("*.json")}
    assert mounted == single_machine, \
        f"the {role}s' JupyterLab settings differ from deploy/jupyterhub/{role}/"
