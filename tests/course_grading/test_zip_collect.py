"""course_grading.zip_collect without nbgrader: the checks before extracting, the course's naming,
and the transfer into submitted/ (nbgrader's part replaced by a fake that writes its output)."""

from __future__ import annotations

import io
import re
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

import course_grading.__main__ as cli
from course_grading import zip_collect
from course_grading.course import GradingError, load_config
from course_grading.zip_collect import Collected, Collection, collect_zip
from tests.support import REPO

ASSIGNMENT = "01-a"


def make_root(tmp_path: Path) -> Path:
    """A course root with the repository's nbgrader_config.py and one assignment, 01-a."""
    root = tmp_path / "course"
    (root / "solutions" / ASSIGNMENT).mkdir(parents=True)
    (root / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_text("{}")
    shutil.copy2(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    return root


def make_zip(path: Path, entries: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    return path


def fake_nbgrader(monkeypatch: pytest.MonkeyPatch, collected: dict[str, dict[str, str]],
                  returncode: int = 0, stderr: str = "") -> list[tuple[str, ...]]:
    """Replace nbgrader's zip_collect: it writes ``collected`` (student -> file -> text) into
    the submitted folder it is given; returns the calls' arguments."""
    calls = []

    def run(course_root: Path, *args: str, **options) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        option = "--CourseDirectory.submitted_directory="
        submitted = Path(next(a for a in args if a.startswith(option))[len(option):])
        for student, files in collected.items():
            for name, text in files.items():
                (submitted / student / ASSIGNMENT).mkdir(parents=True, exist_ok=True)
                (submitted / student / ASSIGNMENT / name).write_text(text)
        return subprocess.CompletedProcess(["nbgrader", *args], returncode, "", stderr)

    monkeypatch.setattr(zip_collect, "run_nbgrader", run)
    return calls


def nothing_kept(root: Path) -> bool:
    """No zip kept and nothing collected."""
    kept = list((root / "downloaded").rglob("*.zip")) if (root / "downloaded").exists() else []
    return not kept and not (root / "submitted").exists()


def test_the_course_naming_is_a_folder_per_student_named_by_its_id(tmp_path: Path) -> None:
    config = load_config(REPO)
    entries = {"ada_1234/01-a.ipynb": "", "bob.smith@uni-x_whatever/01-a.ipynb": "",
               "class/cy_2/01-a.ipynb": "", "eve_3/notes.txt": "", "readme.pdf": ""}
    collected, skipped, ignored = zip_collect._plan(
        make_zip(tmp_path / "class.zip", entries), config,
        tmp_path / "downloaded" / ASSIGNMENT / "extracted")
    assert collected == ["ada_1234/01-a.ipynb", "bob.smith@uni-x_whatever/01-a.ipynb",
                         "class/cy_2/01-a.ipynb"], f"collected by the course naming: {collected}"
    assert skipped == ["eve_3/notes.txt", "readme.pdf"] and ignored == []


@pytest.mark.parametrize("odd", ["01-a.ipynb", "dee/01-a.ipynb", "fay_4/sub/01-a.ipynb",
                                 "Ada Lovelace_12_assignsubmission_file_/01-a.ipynb"])
def test_a_zip_with_a_notebook_the_naming_does_not_match_is_refused_whole(
        tmp_path: Path, odd: str) -> None:
    entries = {"ada_1234/01-a.ipynb": "", odd: ""}
    with pytest.raises(GradingError, match=r"refused class\.zip whole.*1 of its notebooks.*"
                                           + re.escape(odd) + r".*Moodle's, Canvas's"):
        zip_collect._plan(make_zip(tmp_path / "class.zip", entries), load_config(REPO),
                          tmp_path / "downloaded" / ASSIGNMENT / "extracted")


def test_macos_folders_and_hidden_files_are_ignored(tmp_path: Path) -> None:
    entries = {"ada_1234/01-a.ipynb": "", "__MACOSX/ivy_1001/._01-a.ipynb": "",
               "bob_5/.ipynb_checkpoints/01-a-checkpoint.ipynb": "", "bob_5/01-a.ipynb": ""}
    collected, _, ignored = zip_collect._plan(
        make_zip(tmp_path / "class.zip", entries), load_config(REPO),
        tmp_path / "downloaded" / ASSIGNMENT / "extracted")
    assert collected == ["ada_1234/01-a.ipynb", "bob_5/01-a.ipynb"]
    assert ignored == ["__MACOSX/ivy_1001/._01-a.ipynb",
                       "bob_5/.ipynb_checkpoints/01-a-checkpoint.ipynb"]


LMS_ZIPS = {  # two students' notebooks as each LMS names them, and what else it puts in
    "Moodle": ({"Ada Lovelace_1234_assignsubmission_file_/01-a.ipynb": "1234",
                "Zed Zhou_2002_assignsubmission_file_/01-a.ipynb": "2002",
                "Zed Zhou_2002_assignsubmission_onlinetext_/onlinetext.html": None}),
    "Canvas": ({"lovelaceada_1234_5678_01-a.ipynb": "lovelaceada",
                "zhouzed_late_2002_9999_01-a.ipynb": "zhouzed"}),
    "Blackboard": ({"Exercise 1_ada_attempt_2026-12-01-10-00-00_01-a.ipynb": "ada",
                    "Exercise 1_ada_attempt_2026-12-01-10-00-00.txt": None,
                    "Exercise 1_zed.zhou_attempt_2026-12-02-09-30-00_01-a.ipynb": "zed.zhou"}),
}


@pytest.mark.parametrize("lms", sorted(LMS_ZIPS))
def test_each_lms_pattern_collects_its_zip_by_student_and_notebook(tmp_path: Path,
                                                                   lms: str) -> None:
    entries = LMS_ZIPS[lms]
    config = load_config(REPO)
    config.FileNameCollectorPlugin.named_regexp = zip_collect.LMS_PATTERNS[lms]
    extracted = tmp_path / "downloaded" / ASSIGNMENT / "extracted"
    collected, skipped, _ = zip_collect._plan(make_zip(tmp_path / "class.zip", dict.fromkeys(
        entries, "")), config, extracted)
    assert sorted(collected) == sorted(name for name, student in entries.items() if student)
    assert skipped == [name for name, student in entries.items() if student is None]
    for name in collected:
        match = re.match(zip_collect.LMS_PATTERNS[lms], str(extracted / "class" / name))
        assert (match["student_id"], match["file_id"]) == (entries[name], "01-a.ipynb")


def test_the_instructors_page_gives_each_lms_pattern_as_the_code_has_it() -> None:
    page = (REPO / "book" / "using-the-course.md").read_text()
    for lms, pattern in zip_collect.LMS_PATTERNS.items():
        assert f"r\"{pattern}\"" in page, f"{lms}'s pattern differs on the page"


def test_an_unknown_assignment_a_missing_zip_and_a_non_zip_are_clear_errors(
        tmp_path: Path) -> None:
    root = make_root(tmp_path)
    archive = make_zip(tmp_path / "class.zip", {"ada_1/01-a.ipynb": "{}"})
    with pytest.raises(GradingError, match=r"no assignment '02-b' under solutions/ \(there are: "
                                           r"01-a\)"):
        collect_zip(root, "02-b", archive)
    with pytest.raises(GradingError, match="no zip file at .*missing.zip"):
        collect_zip(root, ASSIGNMENT, tmp_path / "missing.zip")
    (tmp_path / "notes.zip").write_text("not a zip")
    with pytest.raises(GradingError, match="notes.zip is not a zip file"):
        collect_zip(root, ASSIGNMENT, tmp_path / "notes.zip")
    assert nothing_kept(root), "a refused zip must leave the course as it was"


@pytest.mark.parametrize("entry", ["ada_1/../../escape.ipynb", "/etc/ada_1/01-a.ipynb",
                                   "ada_1\\..\\01-a.ipynb", "C:/ada_1/01-a.ipynb"])
def test_an_entry_that_escapes_the_folder_is_refused_before_extracting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry: str) -> None:
    root = make_root(tmp_path)
    calls = fake_nbgrader(monkeypatch, {})
    archive = make_zip(tmp_path / "class.zip", {"ada_1/01-a.ipynb": "{}", entry: "{}"})
    with pytest.raises(GradingError, match="would be written outside the folder"):
        collect_zip(root, ASSIGNMENT, archive)
    assert not calls, "nbgrader must not run on an unsafe zip"
    assert nothing_kept(root), "an unsafe zip must leave the course as it was"


def test_a_link_and_an_unsafe_nested_zip_are_refused(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_root(tmp_path)
    calls = fake_nbgrader(monkeypatch, {})
    link = zipfile.ZipInfo("ada_1/01-a.ipynb")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(tmp_path / "link.zip", "w") as archive:
        archive.writestr(link, "/etc/passwd")
    nested = io.BytesIO()
    with zipfile.ZipFile(nested, "w") as inner:
        inner.writestr("../../escape.ipynb", "{}")
    with zipfile.ZipFile(tmp_path / "nested.zip", "w") as archive:
        archive.writestr("ada_1/01-a.ipynb", "{}")
        archive.writestr("bob_2/work.zip", nested.getvalue())
    for name in ("link.zip", "nested.zip"):
        with pytest.raises(GradingError, match="would be written outside the folder"):
            collect_zip(root, ASSIGNMENT, tmp_path / name)
    assert not calls, "nbgrader must not run on an unsafe zip"
    assert nothing_kept(root), "an unsafe zip must leave the course as it was"


def test_a_zip_without_a_notebook_named_as_expected_says_what_naming_is_expected(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_root(tmp_path)
    calls = fake_nbgrader(monkeypatch, {})
    archive = make_zip(tmp_path / "class.zip", {"01-a.ipynb": "{}", "Ada Lovelace/01-a.ipynb": ""})
    with pytest.raises(GradingError) as error:
        collect_zip(root, ASSIGNMENT, archive)
    message = str(error.value)
    assert "<student id>_<anything>" in message and "ada_1234/01-concepts.ipynb" in message, (
        f"the error must name the expected naming: {message}")
    assert "the zip holds 01-a.ipynb, Ada Lovelace/01-a.ipynb" in message, (
        f"the error must show what the zip holds: {message}")
    assert "\n" not in message, "the error is printed as one line"
    assert not calls and nothing_kept(root), "nothing may run or be kept"


def test_new_submissions_are_collected_and_the_zip_kept_for_nbgrader(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_root(tmp_path)
    calls = fake_nbgrader(monkeypatch, {"ada": {"01-a.ipynb": "ada's"}})
    archive = make_zip(tmp_path / "Class 1.zip", {"ada_1/01-a.ipynb": "ada's", "x.txt": ""})
    collection = collect_zip(root, ASSIGNMENT, archive)
    kept = root / "downloaded" / ASSIGNMENT / "archive" / "Class 1" / "Class 1.zip"
    assert kept.read_bytes() == archive.read_bytes(), "the zip is kept where nbgrader reads it"
    assert calls[0][:3] == ("zip_collect", ASSIGNMENT, "--force"), f"nbgrader call: {calls}"
    assert "--ZipCollectApp.archive_directory=archive/Class 1" in calls[0], (
        f"nbgrader must extract this zip alone: {calls}")
    assert (root / "submitted" / "ada" / ASSIGNMENT / "01-a.ipynb").read_text() == "ada's", (
        "ada's notebook must be in submitted/")
    assert collection == Collection(ASSIGNMENT, kept.parent, (Collected("ada", ("01-a.ipynb",),
                                                                        True),),
                                    ("x.txt",), ("01-a.ipynb",)), f"the outcome: {collection}"


def test_an_existing_submission_is_never_replaced(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_root(tmp_path)
    for student, text in [("ada", "ada's"), ("bob", "bob's first")]:
        (root / "submitted" / student / ASSIGNMENT).mkdir(parents=True)
        (root / "submitted" / student / ASSIGNMENT / "01-a.ipynb").write_text(text)
    fake_nbgrader(monkeypatch, {"ada": {"01-a.ipynb": "ada's"},
                                "bob": {"01-a.ipynb": "bob's second"},
                                "cy": {"01-a.ipynb": "cy's"}})
    archive = make_zip(tmp_path / "late.zip", {f"{s}_1/01-a.ipynb": "" for s in "abc"})
    with pytest.raises(GradingError) as error:
        collect_zip(root, ASSIGNMENT, archive)
    message = str(error.value)
    assert message.startswith("bob already has a submission of 01-a that differs"), message
    assert "move submitted/bob/01-a/ out of submitted/" in message, f"the way out: {message}"
    assert (root / "submitted" / "bob" / ASSIGNMENT / "01-a.ipynb").read_text() == \
        "bob's first", "bob's submission must be kept as it was"
    assert not (root / "submitted" / "cy").exists(), "nothing is collected when one conflicts"
    assert not list((root / "downloaded").rglob("*.zip")), "the refused zip must not be kept"


def test_the_same_zip_twice_collects_nothing_new(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_root(tmp_path)
    fake_nbgrader(monkeypatch, {"ada": {"01-a.ipynb": "ada's"}})
    archive = make_zip(tmp_path / "class.zip", {"ada_1/01-a.ipynb": "ada's"})
    first = collect_zip(root, ASSIGNMENT, archive)
    second = collect_zip(root, ASSIGNMENT, archive)
    assert [c.new for c in first.students + second.students] == [True, False], (
        f"collected again, ada's unchanged submission is not new: {first}, {second}")
    (tmp_path / "other").mkdir()
    other = make_zip(tmp_path / "other" / "class.zip", {"bob_1/01-a.ipynb": "bob's"})
    with pytest.raises(GradingError, match="holds another zip of that name.*rename class.zip"):
        collect_zip(root, ASSIGNMENT, other)


def test_a_failed_nbgrader_run_is_one_line_and_keeps_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_root(tmp_path)
    fake_nbgrader(monkeypatch, {}, returncode=1, stderr=(
        "[ZipCollectApp | INFO] Start collecting files...\n"
        "[ZipCollectApp | ERROR] Duplicate submission file. No timestamps for comparison\n"))
    archive = make_zip(tmp_path / "class.zip", {"ada_1/01-a.ipynb": "{}"})
    with pytest.raises(GradingError) as error:
        collect_zip(root, ASSIGNMENT, archive)
    assert str(error.value) == ("nbgrader zip_collect failed: Duplicate submission file. No "
                                "timestamps for comparison; nothing was collected"), error.value
    assert nothing_kept(root), "a failed run must not keep the zip"
    assert not (root / "downloaded" / ASSIGNMENT / "archive" / "class").exists(), (
        "the zip's own folder in archive/ goes too")


def test_cli_prints_each_students_collection_and_the_next_step(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    archive = tmp_path / "downloaded" / "01-a" / "archive" / "class"
    collection = Collection("01-a", archive, (
        Collected("ada", ("01-a.ipynb",), True),
        Collected("bob", ("01-a.ipynb",), False),
        Collected("cy", ("01-a (1).ipynb",), True)), ("notes.txt",), ("01-a.ipynb",))
    monkeypatch.setattr(cli, "collect_zip", lambda root, assignment, path: collection)
    assert cli.main(["collect-zip", "01-a", "class.zip", "--course-root", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "01-a  ada  01-a.ipynb",
        "01-a  bob  01-a.ipynb  (already collected, unchanged)",
        "01-a  cy   01-a (1).ipynb  (expected 01-a.ipynb)",
        "skipped 1 file(s) not named as the course expects: notes.txt",
        "2 new submission(s) in submitted/; the zip is kept in downloaded/01-a/archive/class/. "
        "Next: make grade ASSIGNMENT=01-a"], "one line per student, then the next step"


def test_cli_collect_zip_takes_an_assignment_and_a_zip(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["collect-zip", "01-a", "--course-root", str(tmp_path)]) == 1, (
        "a missing zip argument is an error")
    assert "collect-zip takes an assignment and a zip file" in capsys.readouterr().err, (
        "the error says what collect-zip takes")
