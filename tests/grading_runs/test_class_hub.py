"""A term's loop on a class hub, end to end on loopback (course_grading.hub, deploy/jupyterhub/).

JupyterHub starts with an instructor and three students, each a real account of this machine,
and a PostgreSQL gradebook. The instructor releases exercise 1 through the nbgrader exchange;
two students, driven through the hub's REST API and their Jupyter servers' APIs, fetch it and
submit a right and a partly right answer; the third, in Chromium, logs in, fetches it and submits
it blank. The instructor collects, autogrades (two at a time), enters a manual grade and releases
feedback; each student fetches their own feedback only; no student can read another's work, the
solutions or the gradebook. The steps run in file order and share one hub.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sysconfig
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from course_grading.hub import ClassHub, free_port, remove_accounts, runnable_by_all
from course_grading.postgres import server_programs
from tests.grading_runs.partial_submissions import PARTIAL_SUBMISSIONS
from tests.support import REPO, read_notebook

ASSIGNMENT = "01-concepts"
COURSE_ID = "neural-networks-in-python"
INSTRUCTOR = "nnp-teacher"
RIGHT, PARTLY, BLANK = "nnp-ada", "nnp-bob", "nnp-cy"  # BLANK works in the browser
STUDENTS = [RIGHT, PARTLY, BLANK]
PARTIAL = next(p for p in PARTIAL_SUBMISSIONS if p.assignment == ASSIGNMENT)
EXPECTED = {RIGHT: 10.0, PARTLY: PARTIAL.expected_score, BLANK: 0.0}
MANUAL_POINTS = 1.0  # the instructor's partial credit for PARTLY's wrong part 2

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("useradd") is None or os.geteuid() != 0,
                       reason="makes accounts of this machine: root only"),
    pytest.mark.skipif(server_programs() is None, reason="PostgreSQL not installed"),
    pytest.mark.skipif(not (REPO / "node_modules/.bin/configurable-http-proxy").exists(),
                       reason="configurable-http-proxy not installed (make setup)"),
]


def _checkout_is_shared() -> bool:
    """Whether other accounts can read this checkout and its environment (the users' servers
    import course_utils and the packages from them)."""
    packages = Path(sysconfig.get_paths()["purelib"])
    return all(runnable_by_all(path, need_execute=False)
               for path in (packages, REPO / "course_utils"))


@pytest.fixture(scope="module")
def hub():
    if not _checkout_is_shared():
        pytest.skip("this checkout or its environment lies in a folder private to its owner")
    remove_accounts([INSTRUCTOR, *STUDENTS])  # left by an interrupted run
    try:
        with ClassHub(REPO, INSTRUCTOR, STUDENTS, port=free_port()) as class_hub:
            for user in [INSTRUCTOR, *STUDENTS]:
                class_hub.api("POST", f"/users/{user}/server")
            class_hub.tokens = {}
            for user in [INSTRUCTOR, *STUDENTS]:
                _wait_until_ready(class_hub, user)
                class_hub.tokens[user] = class_hub.api(
                    "POST", f"/users/{user}/tokens", {"note": "test"})["token"]
            yield class_hub
    finally:
        remove_accounts([INSTRUCTOR, *STUDENTS])


def _wait_until_ready(hub: ClassHub, user: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.api("GET", f"/users/{user}")["servers"].get("", {}).get("ready"):
            return
        time.sleep(0.5)
    raise AssertionError(f"{user}'s server did not start in {timeout} s:\n{hub.log()[-3000:]}")


def call(hub: ClassHub, user: str, method: str, path: str, body: dict | None = None,
         form: dict | None = None):
    """Call ``user``'s Jupyter server (``/user/<user>`` + ``path``) with that user's token."""
    data = headers = None
    headers = {"Authorization": f"token {hub.tokens[user]}"}
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
    path = urllib.parse.quote(path, safe="/?=&")
    request = urllib.request.Request(f"{hub.url}/user/{user}{path}", data=data, method=method,
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            text = response.read()
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{method} {path} as {user}: {error.code} {error.read()[:500]!r}\n"
                             f"{hub.log()[-3000:]}") from None
    return json.loads(text) if text else None


def as_user(hub: ClassHub, user: str, *args: str, cwd: Path = Path("/"),
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the class's Python as ``user`` (what they would type in a terminal of their server)."""
    variables = [f"{name}={value}" for name, value in hub.python_environment.items()]
    return subprocess.run(["runuser", "-u", user, "--", "env", *variables, _python(hub), *args],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout)


def exchange_action(hub: ClassHub, user: str, action: str) -> list[dict]:
    return call(hub, user, "POST", f"/assignments/{action}",
                form={"course_id": COURSE_ID, "assignment_id": ASSIGNMENT})


def test_instructor_releases_through_the_exchange(hub) -> None:
    result = call(hub, INSTRUCTOR, "POST", f"/formgrader/api/assignment/{ASSIGNMENT}/release")
    assert result["success"], f"release failed: {result}"
    released = hub.exchange / COURSE_ID / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert released.is_file(), f"nothing released at {released}"
    source = released.read_text()
    assert "BEGIN SOLUTION" not in source and "YOUR CODE HERE" in source, \
        "the exchange holds the solutions instead of the student copy"


@pytest.mark.parametrize("student", [RIGHT, PARTLY])
def test_a_student_fetches_answers_and_submits_through_the_api(hub, student) -> None:
    listed = call(hub, student, "GET", f"/assignments?course_id={COURSE_ID}")
    assert any(a["assignment_id"] == ASSIGNMENT and a["status"] == "released"
               for a in listed["value"]), f"{student} does not see the release: {listed}"
    exchange_action(hub, student, "fetch")
    path = f"/api/contents/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    fetched = call(hub, student, "GET", path)
    assert "YOUR CODE HERE" in json.dumps(fetched["content"]), "the fetched copy is not blank"
    answer = read_notebook("solutions", ASSIGNMENT) if student == RIGHT else PARTIAL.notebook()
    call(hub, student, "PUT", path, {"type": "notebook", "format": "json",
                                     "content": json.loads(nbformat.writes(answer))})
    listed = exchange_action(hub, student, "submit")
    assert any(a["status"] == "submitted" for a in listed["value"]), \
        f"{student}'s submission is not listed: {listed}"


def test_a_student_fetches_and_submits_in_the_browser(hub, browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", BLANK)
    page.fill("#password_input", hub.passwords[BLANK])
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{BLANK}/lab**", timeout=60_000)
    page.get_by_role("menuitem", name="Nbgrader").click()
    page.get_by_role("menuitem", name="Assignment List").click()
    page.locator("#released_assignments_list").get_by_text(ASSIGNMENT).wait_for(timeout=30_000)
    page.get_by_role("button", name="Fetch").first.click()
    page.locator("#fetched_assignments_list").get_by_text(ASSIGNMENT).first.wait_for(
        timeout=30_000)
    page.get_by_role("button", name="Submit").first.click()
    page.locator("#submitted_assignments_list").get_by_text(ASSIGNMENT).first.wait_for(
        timeout=30_000)
    assert page.get_by_text("Jupyter news").count() == 0, \
        "JupyterLab asks to fetch news from the internet (announcements should be off)"
    page.screenshot(path=str(REPO / "_build" / "screenshots" / "hub-student-submitted.png"))
    inbound = hub.exchange / COURSE_ID / "inbound"
    assert any(p.name.startswith(f"{BLANK}+{ASSIGNMENT}+") for p in inbound.iterdir()), \
        f"the browser's submission is not in the exchange: {sorted(inbound.iterdir())}"


def run_in_terminal(hub: ClassHub, user: str, line: str, until: str, timeout: float = 60) -> str:
    """Type ``line`` in a new terminal of ``user``'s JupyterLab; what it printed up to ``until``."""
    import asyncio

    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    name = call(hub, user, "POST", "/api/terminals")["name"]
    url = f"{hub.url.replace('http', 'ws', 1)}/user/{user}/terminals/websocket/{name}"

    async def session() -> str:
        socket = await websocket_connect(HTTPRequest(
            url, headers={"Authorization": f"token {hub.tokens[user]}"}))
        socket.write_message(json.dumps(["stdin", line + "\r"]))
        seen = ""
        while until not in seen:
            message = await asyncio.wait_for(socket.read_message(), timeout)
            if message is None:
                break
            kind, *content = json.loads(message)
            if kind == "stdout":
                seen += content[0]
        socket.close()
        return seen

    try:  # in a thread of its own: this one may run the browser tests' event loop
        with ThreadPoolExecutor(1) as thread:
            return thread.submit(lambda: asyncio.run(session())).result()
    finally:
        call(hub, user, "DELETE", f"/api/terminals/{name}")


def test_the_instructors_terminal_runs_the_course_commands(hub) -> None:
    # the book's step: `python -m course_grading ...` typed in a terminal of the instructor's
    # JupyterLab (a login shell's /etc/profile had reset PATH: "python: command not found")
    shown = run_in_terminal(hub, INSTRUCTOR, "python -c 'import course_grading, sys; "
                            "print(\"course-python\", sys.executable)'; echo done-$((40 + 2))",
                            until="done-42")  # the shell's output, not the echo of the line
    assert f"course-python {_python(hub)}" in shown, shown[-2000:]
    assert "command not found" not in shown and "No module named" not in shown, shown[-2000:]


def test_jupyterlab_may_show_the_formgrader_and_its_links_stay_on_the_server(hub) -> None:
    # JupyterLab's Nbgrader -> Formgrader shows /formgrader in a frame of the same server: the
    # hub's default policy (frame-ancestors 'none') left it blank
    request = urllib.request.Request(f"{hub.url}/user/{INSTRUCTOR}/formgrader",
                                     headers={"Authorization": f"token {hub.tokens[INSTRUCTOR]}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        policy = response.headers.get("Content-Security-Policy", "")
        page = response.read().decode()
    assert "frame-ancestors 'self'" in policy and "'none'" not in policy, policy
    links = re.findall(r'(?:href|src)="(/[^"]*)"', page)
    outside = [link for link in links if not link.startswith(f"/user/{INSTRUCTOR}/")
               and not link.startswith("/hub/")]
    assert links and not outside, f"links that leave the instructor's server: {outside[:5]}"


def test_instructor_collects_and_autogrades(hub) -> None:
    result = call(hub, INSTRUCTOR, "POST", f"/formgrader/api/assignment/{ASSIGNMENT}/collect")
    assert result["success"], f"collect failed: {result}"
    for student in STUDENTS:
        submitted = hub.course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert submitted.is_file(), f"{student}'s work was not collected"
    # what the instructor types in a terminal of their server
    grading = as_user(hub, INSTRUCTOR, "-m", "course_grading", "grade", ASSIGNMENT, "--jobs", "2",
                      cwd=hub.course, timeout=300)
    assert grading.returncode == 0, f"grading failed:\n{grading.stdout}\n{grading.stderr}"
    scores = _scores(hub)
    assert scores == EXPECTED, f"scores {scores}, expected {EXPECTED}\n{grading.stdout}"


def test_instructor_enters_a_manual_grade(hub) -> None:
    notebooks = call(hub, INSTRUCTOR, "GET",
                     f"/formgrader/api/submitted_notebooks/{ASSIGNMENT}/{ASSIGNMENT}")
    notebook_id = next(n["id"] for n in notebooks if n["student"] == PARTLY)
    grades = call(hub, INSTRUCTOR, "GET", f"/formgrader/api/grades?submission_id={notebook_id}")
    part_2 = next(g for g in grades if g["name"] == "test-part-2")
    assert part_2["auto_score"] == 0, f"part 2 of {PARTLY} should have failed: {part_2}"
    call(hub, INSTRUCTOR, "PUT", f"/formgrader/api/grade/{part_2['id']}",
         {"manual_score": MANUAL_POINTS, "extra_credit": None})
    assert _scores(hub)[PARTLY] == EXPECTED[PARTLY] + MANUAL_POINTS, "the manual grade is lost"


def test_each_student_fetches_only_their_own_feedback(hub) -> None:
    for action in ("generate_feedback", "release_feedback"):
        result = call(hub, INSTRUCTOR, "POST", f"/formgrader/api/assignment/{ASSIGNMENT}/{action}")
        assert result["success"], f"{action} failed: {result}"
    expected = {**EXPECTED, PARTLY: EXPECTED[PARTLY] + MANUAL_POINTS}
    for student in STUDENTS:
        exchange_action(hub, student, "fetch_feedback")
        folder = call(hub, student, "GET", f"/api/contents/{ASSIGNMENT}/feedback")
        runs = [entry["path"] for entry in folder["content"]]
        assert len(runs) == 1, f"{student} fetched {runs}, not one feedback of their own"
        files = call(hub, student, "GET", f"/api/contents/{runs[0]}")["content"]
        assert [f["name"] for f in files] == [f"{ASSIGNMENT}.html"], f"{student}: {files}"
        html = call(hub, student, "GET", f"/api/contents/{runs[0]}/{ASSIGNMENT}.html")["content"]
        assert f"Score: {expected[student]:.1f} / 10.0" in html.replace("(", "").replace(")", ""), \
            f"{student}'s feedback does not show their score {expected[student]}"
        assert "BEGIN HIDDEN TESTS" not in html, f"{student}'s feedback shows the hidden tests"


def test_no_student_reads_another_s_work_the_solutions_or_the_gradebook(hub) -> None:
    config = (hub.course / "nbgrader_config.py").read_text()
    socket_folder = next(line.split("host=")[1].rstrip("'\"\n")
                         for line in config.splitlines() if "host=" in line)
    notebook = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    attempts = {
        "another student's notebook": Path(f"~{RIGHT}").expanduser() / notebook,
        "the exchange's inbound (list)": hub.exchange / COURSE_ID / "inbound",
        "the exchange's feedback (list)": hub.exchange / COURSE_ID / "feedback",
        "the instructor's solutions": hub.course / "solutions" / notebook,
        "the collected submissions": hub.course / "submitted" / RIGHT / ASSIGNMENT,
        "the gradebook's socket folder": Path(socket_folder),
        "the hub's settings (admin token)": hub.state / "settings.json",
    }
    code = ("import json, os, sys\nout = {}\nfor name, path in json.loads(sys.argv[1]).items():\n"
            "    try:\n        os.listdir(path) if os.path.isdir(path) else open(path).read()\n"
            "        out[name] = 'read'\n    except PermissionError:\n"
            "        out[name] = 'denied'\nprint(json.dumps(out))\n")
    result = as_user(hub, PARTLY, "-c", code, json.dumps({k: str(v) for k, v in attempts.items()}))
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome == {name: "denied" for name in attempts}, f"{PARTLY} could read: {outcome}"
    course = hub.exchange / COURSE_ID
    target = hub.exchange / "moved"  # in the same folder: only the sticky bit stops it
    moved = as_user(hub, PARTLY, "-c", f"import os; os.rename({str(course)!r}, {str(target)!r})")
    assert "PermissionError" in moved.stderr and course.is_dir(), \
        f"{PARTLY} could move the course's folder in the exchange away: {moved.stderr}"


def _python(hub: ClassHub) -> str:
    return json.loads((hub.state / "settings.json").read_text())["python"]


def _scores(hub: ClassHub) -> dict[str, float]:
    notebooks = call(hub, INSTRUCTOR, "GET",
                     f"/formgrader/api/submitted_notebooks/{ASSIGNMENT}/{ASSIGNMENT}")
    return {n["student"]: float(n["score"]) for n in notebooks}
