"""course_grading.progress: the line printed per finished submission and its estimate."""

from __future__ import annotations

import io
import math
import re

from course_grading.progress import Progress, clock


def test_clock_writes_minutes_and_hours() -> None:
    assert [clock(s) for s in (0, 59.4, 61, 3599, 3600, 7384)] == \
        ["0:00", "0:59", "1:01", "59:59", "1:00:00", "2:03:04"]


def test_estimate_scales_the_time_so_far_to_what_is_left() -> None:
    progress = Progress(10, None)
    assert math.isnan(progress.left(5.0))  # nothing finished: no estimate yet
    for _ in range(4):
        progress.done("x")
    assert progress.left(20.0) == 30.0  # 5 s each, 6 left


def test_each_finished_submission_prints_a_bar_the_count_and_the_estimate() -> None:
    stream = io.StringIO()
    progress = Progress(4, stream, label="01 ")
    progress.done("ada: graded")
    progress.done("bob: rejected")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"01 \[#{5}\.{15}\] 1/4  \d+:\d\d elapsed, about \d+:\d\d left  "
                        r"ada: graded", lines[0])
    assert lines[1].startswith("01 [##########..........] 2/4")
    assert lines[1].endswith("bob: rejected")


def test_without_a_stream_nothing_is_printed_but_it_still_counts() -> None:
    progress = Progress(2, None)
    progress.done("x")
    assert progress.finished == 1
