"""The red-team class (project issue 26): every attack of red_team.py (beside this file), each
followed by a correct submission of the same exercise, graded in ONE run, two at a time
(JOBS=2), against a throwaway PostgreSQL gradebook, as a class would be graded.

Checks that the run finishes with a score for everyone; that no attack scores more than its
honest work is worth (probes that answer right only when blocked, and correct work, exactly full
marks); that the correct submission graded after each attack keeps full marks, so no attack
harmed another kernel; that feedback exists for everyone, without a line of a hidden test and
without the script an output tried to plant; that nothing read back, written or connected to got
past the sandbox; and that after the run no process of a sandbox uid and no kernel socket folder
is left.

Skipped without PostgreSQL or without the sealed sandbox (root, bubblewrap, control groups): a
fork bomb, a daemon that kills every Python process it sees, memory and disk hogs are only safe
to run in it. The leftover checks compare the machine before and after the run: grade nothing
else on it meanwhile.
"""

from __future__ import annotations

import html
import os
import re
import secrets
import signal
import socket
import subprocess
import tempfile
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from course_grading import sandbox
from course_grading.autograde import RunLimits, autograde
from course_grading.postgres import TemporaryPostgres, server_programs
from tests.grading_runs import red_team
from tests.grading_runs.red_team import (
    ATTACKS,
    EX1,
    EX4,
    EXPECTED,
    MARK,
    PROBES,
    READS_BACK,
    RECORDS_FRAMES,
    SCRIPT_OUTPUT,
    THEN_CLEAN,
    hidden_tests,
    mentions,
    squash,
)
from tests.support import make_course

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(server_programs() is None, reason="PostgreSQL not installed"),
    pytest.mark.skipif(not sandbox.can_isolate(),
                       reason="the attacks are only safe in the sealed sandbox (root, bubblewrap "
                              "and control groups)"),
]
# Short limits, as in test_adversarial, but exercise 4 must fit: its set-up cell imports Keras
# (about 10 s per cold kernel here, more with two at once on 2 cores) and it trains 5 epochs of
# 6,000 images. The memory limit is also each process's address space, and a TensorFlow
# kernel maps about 2 GiB (VmPeak of a refereed exercise-4 kernel on this machine: 2,058 MiB):
# 3 GiB keeps exercise 4 gradeable and still stops three children of 1.5 GiB each.
LIMITS = RunLimits(cell_timeout=30, notebook_timeout=120, memory_mb=3072)  # feedback: 60 s
RUN_BUDGET_S = 1500
POSTGRES_SOCKET = ".s.PGSQL.5432"  # PostgreSQL's Unix socket, in the server's folder
CLEANS = sorted(name for name in EXPECTED if name.endswith(THEN_CLEAN))
class Listener:
    """A TCP server on 127.0.0.1 that records who connects (no submission may)."""

    def __enter__(self) -> Listener:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.accepted: list[tuple] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, address = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(address)
            connection.close()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.server.close()


def sandbox_processes() -> dict[int, str]:
    """Processes running as a sandbox uid (``sandbox.UID_BASE`` and up): pid -> ps line."""
    listing = subprocess.run(["ps", "-eo", "uid=,pid=,cmd="], capture_output=True, text=True,
                             check=True).stdout
    found = {}
    for line in listing.splitlines():
        fields = line.split(None, 2)
        if len(fields) >= 2 and fields[0].isdigit() and int(fields[0]) >= sandbox.UID_BASE:
            found[int(fields[1])] = line.strip()
    return found


def kernel_folders() -> set[Path]:
    """The grading kernels' socket folders in the temporary folder."""
    return set(Path(tempfile.gettempdir()).glob("course-kernel-*"))


def new_processes(before: dict[int, str], wait: float = 15.0) -> dict[int, str]:
    """Sandbox processes not there ``before``, once the last kernels had ``wait`` s to end."""
    deadline = time.monotonic() + wait
    while True:
        left = {pid: line for pid, line in sandbox_processes().items() if pid not in before}
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)


def end_escaped(left: dict[int, str]) -> None:
    """Kill the processes of this run's attacks that escaped (their command says red-team)."""
    for pid, line in left.items():
        if "red-team" in line:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    token = secrets.token_hex(6)
    with TemporaryPostgres() as server, Listener() as listener:
        course = make_course(tmp_path_factory.mktemp("red-team"), server.url)
        gradebook_socket = server.folder / POSTGRES_SOCKET
        red_team.build(course, gradebook_socket, listener.port, token)
        assert gradebook_socket.exists()  # the probe aims at the real server
        processes, folders = sandbox_processes(), kernel_folders()
        start = time.monotonic()
        scores = autograde(course, [EX1, EX4], LIMITS, jobs=2)
        seconds = time.monotonic() - start
        left = new_processes(processes)
        result = {"course": course, "scores": {s.student: s for s in scores},
                  "seconds": seconds, "left": left, "folders": kernel_folders() - folders,
                  "accepted": list(listener.accepted), "traces": red_team.traces(course, token)}
    print(f"\nred-team class: {len(scores)} submissions graded in {seconds:.0f} s")
    for s in scores:
        print(f"  {s.student:<52} {s.score:>4g} / {s.max_score:g}  {s.status:<9} "
              f"{s.reason[:80]}")
    try:
        yield result
    finally:
        end_escaped(left)


def graded_notebook(course: Path, student: str) -> Path:
    assignment = EXPECTED[student].assignment
    return course / "autograded" / student / assignment / f"{assignment}.ipynb"


def feedback_page(course: Path, student: str) -> str:
    assignment = EXPECTED[student].assignment
    return (course / "feedback" / student / assignment / f"{assignment}.html").read_text()


def submitted_text(course: Path, student: str) -> str:
    """The code of a submission's notebook as its author wrote it (JSON strings decoded)."""
    folder = course / "submitted" / student / EXPECTED[student].assignment
    texts = []
    for path in folder.glob("*.ipynb"):
        raw = path.read_text(errors="replace")
        try:
            texts += [cell.source for cell in nbformat.reads(raw, as_version=4).cells]
        except Exception:  # noqa: BLE001 - an unreadable notebook: its raw text
            texts.append(raw)
    return "\n".join(texts)


def page_text(page: str) -> str:
    """What a feedback page shows as text: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]*>", "", page))


def output_texts(output: nbformat.NotebookNode) -> list[str]:
    texts = [output.get("text", ""), output.get("ename", ""), output.get("evalue", ""),
             *output.get("traceback", [])]
    for value in output.get("data", {}).values():
        texts.append(value if isinstance(value, str) else "".join(map(str, value))
                     if isinstance(value, list) else str(value))
    return [t if isinstance(t, str) else "".join(t) for t in texts]


def answer_outputs(course: Path, student: str) -> str:
    """Everything the answer cells of a graded submission printed or displayed."""
    notebook = nbformat.read(graded_notebook(course, student), as_version=4)
    return "\n".join(text for cell in notebook.cells if cell.cell_type == "code"
                     and cell.metadata.get("nbgrader", {}).get("solution")
                     for output in cell.outputs for text in output_texts(output))


def quoted_lines(text: str, assignment: str) -> list[str]:
    """The lines of the hidden tests that ``text`` holds."""
    flat = squash(text)
    return [line for line in hidden_tests(assignment).lines if line in flat]


def quoted_strings(text: str, assignment: str) -> list[str]:
    """The string constants of the hidden tests (assert messages ...) that ``text`` holds."""
    flat = squash(text)
    return [s for s in hidden_tests(assignment).strings if squash(s) in flat]


def test_every_attack_is_followed_by_a_clean_submission_in_grading_order() -> None:
    for assignment in (EX1, EX4):
        names = sorted(n for n, a in EXPECTED.items() if a.assignment == assignment)
        for name in (n for n in names if n in ATTACKS):
            assert names[names.index(name) + 1] == name + THEN_CLEAN
    assert len([n for n, a in ATTACKS.items() if a.assignment == EX4]) <= 3  # Keras is slow


def test_every_submission_is_graded_in_one_run(graded) -> None:
    assert sorted(graded["scores"]) == sorted(EXPECTED)
    assert all(s.max_score == 10 for s in graded["scores"].values())


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_an_attack_scores_no_more_than_its_honest_work(graded, student: str) -> None:
    score, allowed = graded["scores"][student], EXPECTED[student]
    if allowed.exact:
        assert score.score == allowed.score, f"{score.status}: {score.reason}"
    else:
        assert score.score <= allowed.score, f"{score.status}: {score.reason}"
    if allowed.reason:
        assert score.reason.strip(), f"{score.status}, without a reason"


@pytest.mark.parametrize("student", CLEANS)
def test_the_correct_submission_after_an_attack_keeps_full_marks(graded, student: str) -> None:
    score = graded["scores"][student]
    assert score.score == 10, f"{score.status}: {score.reason}"


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_feedback_exists_without_hidden_test_lines(graded, student: str) -> None:
    page = feedback_page(graded["course"], student)
    assert "BEGIN HIDDEN TESTS" not in page
    assignment = EXPECTED[student].assignment
    # a line the submission's own cells hold (an attack's `except Exception:`) is its own
    own = squash(submitted_text(graded["course"], student))
    assert [line for line in quoted_lines(page, assignment) if line not in own] == []
    assert [line for line in quoted_lines(page_text(page), assignment) if line not in own] == []


@pytest.mark.parametrize("student", READS_BACK)
def test_hidden_tests_cannot_be_read_back(graded, student: str) -> None:
    """In, _ih, Out, history, linecache, the names the hidden tests bound (looked up in the
    learner's namespace and among live functions), dis and inspect of them: nothing of a hidden
    test in what the answer cells printed, nor in the feedback."""
    course, assignment = graded["course"], EXPECTED[student].assignment
    score = graded["scores"][student]
    assert graded_notebook(course, student).is_file(), \
        f"the attack did not run ({score.status}: {score.reason}): this proves nothing"
    printed = answer_outputs(course, student)
    page = feedback_page(course, student)
    for text in (printed, page, page_text(page)):
        assert MARK not in text  # a hidden test's name was found, and printed after the mark
        assert quoted_lines(text, assignment) == []
    assert quoted_strings(printed, assignment) == []


def test_a_function_called_by_a_test_cannot_read_the_test(graded) -> None:
    """relu, called by the hidden tests, tries to keep what its callers' frames hold and the
    last answer cell prints it: after the seal no frame reaches code of the submission, so
    nothing of a hidden test is printed, nor in the feedback."""
    course = graded["course"]
    printed, page = answer_outputs(course, RECORDS_FRAMES), page_text(
        feedback_page(course, RECORDS_FRAMES))
    names = hidden_tests(EX1).names
    found = (quoted_lines(printed, EX1) + quoted_strings(printed, EX1)
             + quoted_strings(page, EX1)
             + [name for name in names if mentions(printed, name) or mentions(page, name)])
    assert found == []


class Tags(HTMLParser):
    """The event handlers and scripts of a page."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.handlers: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handlers += [name for name, _ in attrs if name.lower().startswith("on")]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def test_an_output_plants_no_script_in_feedback(graded) -> None:
    course = graded["course"]
    page = feedback_page(course, SCRIPT_OUTPUT)
    template = feedback_page(course, SCRIPT_OUTPUT + THEN_CLEAN)  # the same exercise, clean
    assert "<script>document.title" not in page
    scan, own = Tags(page), Tags(template)
    assert set(scan.handlers) <= set(own.handlers)  # none but the template's own
    assert page.count("<script") <= template.count("<script")  # the template's own, no more
    assert not any("document.title" in script for script in scan.scripts)
    # the output may be shown as escaped text (&lt;img ... onerror=...&gt;), never as a tag
    assert "onerror=" not in re.sub(r"&lt;.*?&gt;", "", page.replace("&#34;", '"'))


@pytest.mark.parametrize("student", PROBES)
def test_a_probe_outside_the_sandbox_is_blocked(graded, student: str) -> None:
    printed = answer_outputs(graded["course"], student)
    assert "blocked:" in printed and "LEAK" not in printed, printed[-2000:]


def test_nothing_is_left_outside_the_sandbox(graded) -> None:
    """No file of the write probe or the disk hog where the grader can see it, and no
    connection to the test's own TCP server."""
    assert graded["traces"] == []
    assert graded["accepted"] == []


def test_nothing_outlives_its_kernel(graded) -> None:
    assert graded["left"] == {}, "\n".join(graded["left"].values())
    assert graded["folders"] == set()


def test_the_run_finishes_within_its_budget(graded) -> None:
    assert graded["seconds"] < RUN_BUDGET_S
