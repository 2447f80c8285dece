"""binder/ is what Binder (repo2docker) builds the learners' image from: pins, scripts, image."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from packaging.specifiers import SpecifierSet

from tests.repository.test_environment import pins, pyproject
from tests.support import REPO

BINDER = REPO / "binder"
CPU_TORCH_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"


def binder_environment() -> dict:
    return yaml.safe_load((BINDER / "environment.yml").read_text(encoding="utf-8"))


def binder_pip_lines() -> list[str]:
    return next(e["pip"] for e in binder_environment()["dependencies"] if isinstance(e, dict))


def test_binder_pins_the_runtime_dependencies_of_pyproject_and_no_test_tools():
    requirements = [line for line in binder_pip_lines() if not line.startswith("-")]
    assert pins(requirements) == pins(pyproject()["project"]["dependencies"])


def test_binder_takes_pytorch_from_the_cpu_index():
    assert CPU_TORCH_INDEX in binder_pip_lines()


def test_binder_python_satisfies_requires_python():
    python = next(d for d in binder_environment()["dependencies"]
                  if isinstance(d, str) and d.startswith("python="))
    assert python.split("=", 1)[1] in SpecifierSet(pyproject()["project"]["requires-python"])


def test_binder_scripts_are_executable_bash():
    for name in ("postBuild", "start"):
        script = BINDER / name
        assert os.access(script, os.X_OK), f"binder/{name} is not executable"
        subprocess.run(["bash", "-n", str(script)], check=True)


def test_start_gives_the_session_the_learners_jupyter_configuration():
    shown = subprocess.run(
        [str(BINDER / "start"), sys.executable, "-c",
         "import os; print(os.environ['JUPYTER_CONFIG_PATH'])"],
        env={**os.environ, "REPO_DIR": str(REPO), "JUPYTER_CONFIG_PATH": "/elsewhere"},
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert shown.split(":") == [str(REPO / "jupyter" / "learner"), "/elsewhere"]
    assert (REPO / "jupyter" / "learner" / "jupyter_server_config.json").is_file()


def test_repo2docker_builds_the_image_from_binder(tmp_path: Path):
    """repo2docker prints the Dockerfile it would build; no Docker and no network needed."""
    repo2docker = shutil.which("repo2docker", path=str(Path(sys.executable).parent))
    assert repo2docker, "jupyter-repo2docker is a dev dependency: run make setup"
    dockerfile = subprocess.run(
        [repo2docker, "--no-build", "--no-run", "--debug", str(REPO)],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )
    text = dockerfile.stdout + dockerfile.stderr
    assert '--file "binder/environment.yml"' in text
    assert "RUN ./binder/postBuild" in text
    assert 'R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in text
