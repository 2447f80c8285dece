"""A learner's first minutes in JupyterLab, in a real browser (Debian's Chromium via Playwright).

`make lab`'s server is started headless on a free loopback port, in a scratch copy of the course.
The browser opens the chapter 1 exercise, runs its first cells, types the answer to part 1 into
the editor, runs its visible test, saves, and presses nbgrader's *Validate* toolbar button (the
UI path a learner uses; it calls nbgrader's validate_assignment server extension). Validation must
then report exactly the parts still unanswered.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from course_grading.hub import free_port
from tests.support import REPO, own_jupyter_folders

EXERCISE = "notebooks/01-concepts/01-concepts.ipynb"
TOKEN = "course-test-token"
PART_1_ANSWER = '''def relu(z):
    return np.maximum(z, 0.0)


def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
'''
UNANSWERED_PARTS = 4  # parts 2 to 5
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """JupyterLab serving a scratch copy of the course: (base URL, course root)."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    shutil.copy2(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "jupyter-lab"), "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={TOKEN}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    # as `make lab` starts it: nbgrader's instructor tools off (jupyter/learner/)
    # and with settings, workspaces and runtime folders of its own, none of this machine's
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "JUPYTER_CONFIG_PATH": str(REPO / "jupyter" / "learner"),
           **own_jupyter_folders(tmp_path_factory.mktemp("jupyter"))}
    log = (root / "lab.log").open("w")
    server = subprocess.Popen(command, cwd=root, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            assert server.poll() is None, (root / "lab.log").read_text()[-3000:]
            time.sleep(0.5)
    else:
        pytest.fail("JupyterLab did not start within 60 s")
    yield url, root
    server.terminate()
    server.wait(timeout=20)
    log.close()


def cell_indices() -> dict[str, int]:
    """The position of each nbgrader cell of the exercise, by grade_id."""
    notebook = nbformat.read(REPO / EXERCISE, as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: position
            for position, cell in enumerate(notebook.cells) if "nbgrader" in cell.metadata}


@pytest.fixture(scope="module")
def session(browser, lab) -> dict:
    """Drive the exercise as a learner would; return what the UI showed."""
    url, root = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    console_errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    page.goto(f"{url}/lab/tree/{EXERCISE}?token={TOKEN}")
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)
    cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
    index = cell_indices()
    # The cell that imports NumPy: run it.
    cells.nth(index["imports"]).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    cells.nth(index["imports"]).locator(".jp-InputPrompt").filter(has_text="[1]").wait_for(
        timeout=30_000)
    # Part 1's answer, and below it its visible test.
    assert index["test-part-1"] == index["part-1-relu-sigmoid"] + 1
    cells.nth(index["part-1-relu-sigmoid"]).locator(".cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(PART_1_ANSWER)
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("Shift+Enter")
    test_output = cells.nth(index["test-part-1"]).locator(".jp-OutputArea-output")
    test_output.filter(has_text="Part 1: visible tests passed.").wait_for(timeout=30_000)
    page.keyboard.press("Control+S")
    page.get_by_text("Saving completed").wait_for(timeout=15_000)
    page.locator("[title='Validate Assignment']").first.click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("Validation Results").wait_for(timeout=60_000)
    result = {"validation": dialog.inner_text(), "console_errors": console_errors,
              "test_output": test_output.first.inner_text(),
              "menus": page.locator(".lm-MenuBar-itemLabel").all_inner_texts(),
              "page_text": page.locator("body").inner_text(), "page_html": page.content()}
    page.screenshot(path=root / "validate.png")
    page.close()
    return result


def test_visible_test_passes_for_the_answer_typed_in_the_editor(session) -> None:
    assert "Part 1: visible tests passed." in session["test_output"]


def test_saved_notebook_holds_the_answer(session, lab) -> None:
    _, root = lab
    notebook = nbformat.read(root / EXERCISE, as_version=4)
    sources = [cell.source for cell in notebook.cells]
    assert any("np.maximum(z, 0.0)" in source for source in sources)


def test_validate_button_reports_exactly_the_unanswered_parts(session) -> None:
    report = session["validation"]
    assert report.count("The following cell failed") == UNANSWERED_PARTS
    assert "NotImplementedError" in report
    assert "Part 1: visible tests passed." not in report
    assert "relu(np.array" not in report  # part 1's test did not fail


def test_lab_shows_no_console_errors(session) -> None:
    assert session["console_errors"] == []


def test_learners_lab_has_no_instructor_tools_but_keeps_validate(session, lab) -> None:
    url, _ = lab
    assert "Nbgrader" not in session["menus"]  # the menu that opens the Formgrader
    for tool in ("Formgrader", "Create Assignment", "Error fetching courses"):
        assert tool not in session["page_text"] and tool not in session["page_html"]
    assert "Validate Assignment" in session["page_html"]
    with pytest.raises(urllib.error.HTTPError) as missing:  # the server extension is off too
        urllib.request.urlopen(f"{url}/formgrader?token={TOKEN}", timeout=10)
    assert missing.value.code == 404
