"""course_authoring.cpu_time: a command's CPU time, printed whatever its exit status."""

from __future__ import annotations

import sys

from course_authoring import cpu_time

BUSY = "import sys, time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"


def test_the_command_runs_and_its_status_is_passed_on(capsys) -> None:
    assert cpu_time.main([sys.executable, "-c", BUSY + "sys.exit(3)"]) == 3
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("CPU time: ") and "(user + system of its processes)" in line
    assert "(the whole machine)" in line and "wall time" in line


def test_children_time_counts_what_the_command_spent() -> None:
    before = cpu_time.children_cpu_seconds()
    cpu_time.main([sys.executable, "-c", BUSY])
    assert cpu_time.children_cpu_seconds() - before >= 0.3


def test_machine_time_reads_the_first_line_of_proc_stat(tmp_path) -> None:
    stat = tmp_path / "stat"
    stat.write_text("cpu  300 100 200 9000 0 0 0 0 0 0\ncpu0 1 2 3 4\n")
    hz = cpu_time.os.sysconf("SC_CLK_TCK")
    assert cpu_time.machine_cpu_seconds(stat) == 600 / hz
    assert cpu_time.machine_cpu_seconds(tmp_path / "missing") is None


def test_without_a_command_it_says_how_to_call_it(capsys) -> None:
    assert cpu_time.main([]) == 2
    assert "usage" in capsys.readouterr().err


def test_the_summary_without_the_machine_count() -> None:
    assert cpu_time.summary(90, None, 600) == \
        "CPU time: 1.5 min (user + system of its processes); wall time 10.0 min"
