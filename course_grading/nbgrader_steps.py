"""The course's own nbgrader steps (preprocessors): autograding that survives bad submissions.

They are switched on in ``nbgrader_config.py`` (``Autograde.autograde_preprocessors`` and
``GenerateFeedback.preprocessors``), so ``make grade`` and a hand-run ``nbgrader autograde``
use them alike:

- :class:`GuardedExecute` runs the notebook in the sandboxed kernel (:mod:`course_grading.sandbox`)
  with a per-cell and a per-notebook time limit; a kernel that dies or hangs ends the run of
  that notebook, and every grade cell not run gets an error (so 0 points, never full marks for
  a cell with no output);
- :class:`StderrToStdout` turns stderr in grade cells into stdout: nbgrader 0.9 gives 0 points
  to a grade cell with *any* stderr output (``nbgrader.utils.determine_grade``), so a warning
  or a log line would zero a correct answer; errors still count as failures;
- :class:`ScoreByErrorOnly` makes a test cell's score depend on its error output alone: nbgrader
  reads an ``execute_result`` of a test cell as its partial score before it looks for an error
  (a thread calling ``sys.displayhook(2)`` would earn a failing test its points);
- :class:`TruncateOutputs` caps every output at ``max_chars`` characters;
- :class:`HideHiddenTestTracebacks` keeps only the last line of a grade cell's traceback in
  feedback: IPython's traceback quotes the source lines around the failing hidden test.

What nbgrader's pages show of a submission (feedback, the Formgrader) is in
:mod:`course_grading.feedback_steps`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from nbgrader.utils import is_grade, is_solution
from traitlets import Bool, Integer, Unicode

from course_grading import sandbox, zygote
from course_grading.referee import KEY_BYTES
from course_grading.refereeing import (
    ANSWER,
    RUN,
    TEST,
    Referee,
    answer_names,
    cell_kind,
    modules_used,
    seal_cell,
)
from course_grading.sandbox import KERNEL_NAME, KERNELS_DIR, REFEREE_KEY, KernelLimits

__all__ = ["GuardedExecute", "HideHiddenTestTracebacks", "ScoreByErrorOnly", "StderrToStdout",
           "TruncateOutputs"]

TRUNCATED = "\n... [output truncated by the grader: {n:,} characters in all] ...\n"


def _error(ename: str, evalue: str) -> NotebookNode:
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def _name_the_time_limit(cell: NotebookNode, seconds: int) -> None:
    """A cell stopped at its time limit says so (the kernel reports a bare interrupt)."""
    for output in cell.get("outputs", []):
        if output.output_type == "error" and output.ename in ("KeyboardInterrupt",
                                                              "CellTimeoutError"):
            output.evalue = f"stopped at the time limit of {seconds} s for this cell"
            output.traceback = [f"{output.ename}: {output.evalue}"]


class GuardedExecute(Execute):
    """nbgrader's Execute in the sandboxed kernel, with a time limit for the whole notebook."""

    notebook_timeout = Integer(
        600, help="Seconds for the whole notebook; cells after it are not run (0 points)."
    ).tag(config=True)
    sandbox = Bool(
        True, help="Run the course-sandbox kernel (course_grading.sandbox) whatever the notebook "
                   "asks for. False: the notebook's own kernel, no limits (for comparisons)."
    ).tag(config=True)
    memory_limit_mb = Integer(
        4096, help="Memory of the whole kernel, and address space of each of its processes (MiB)."
    ).tag(config=True)
    cpu_limit_seconds = Integer(
        0, help="CPU-time limit of the kernel (s); 0: twice notebook_timeout."
    ).tag(config=True)
    file_limit_mb = Integer(
        256, help="What the kernel may write in all (its /tmp), and its largest file (MiB)."
    ).tag(config=True)
    process_limit = Integer(512, help="Processes and threads of the whole kernel.").tag(
        config=True)
    zygote = Unicode(
        "", help="Socket of the grading run's zygote (course_grading.zygote), which forks "
                 "kernels that have their libraries imported; empty: every kernel starts cold."
    ).tag(config=True)

    # nbclient skips cells with this tag; the pre-flight check drops every submitted tag, and
    # no tag skips a cell here either
    skip_cells_with_tag = Unicode("course-grading: no cell is skipped")

    def create_kernel_manager(self) -> Any:
        if not self.sandbox:
            return super().create_kernel_manager()
        self.kernel_name = KERNEL_NAME  # also what overrides a changed kernelspec
        specs = KernelSpecManager(kernel_dirs=[str(KERNELS_DIR)], ensure_native_kernel=False)
        # the kernel has no network: it talks over Unix sockets in a folder of its own, which
        # the sandbox binds in (and no other kernel sees)
        self._socket_dir = tempfile.mkdtemp(prefix="course-kernel-")
        self.km = self.kernel_manager_class(
            kernel_name=KERNEL_NAME, config=self.config, kernel_spec_manager=specs,
            transport="ipc", connection_file=os.path.join(self._socket_dir, "kernel.json"),
        )
        return self.km

    def kernel_limits(self) -> KernelLimits:
        """The limits handed to the sandbox launcher."""
        cpu = self.cpu_limit_seconds or 2 * self.notebook_timeout
        return KernelLimits(self.memory_limit_mb, cpu, self.file_limit_mb, self.process_limit)

    def start_new_kernel(self, **kwargs: Any) -> None:
        if self.sandbox:
            key = os.urandom(KEY_BYTES)  # the referee's, handed to the launcher only
            warm = {zygote.SOCKET_VARIABLE: self.zygote} if self.zygote else {}
            kwargs.setdefault("env", {**os.environ, **self.kernel_limits().to_env(),
                                      REFEREE_KEY: key.hex(), **warm})
            self._referee = Referee(key, self._answers)
        super().start_new_kernel(**kwargs)
        self._launcher = getattr(self.km.provisioner, "pid", None) if self.sandbox else None

    def _assignment_answers(self, resources: Any) -> set[str] | None:
        """The names the answer cells of the assignment's own notebook bind (see Referee)."""
        info = (resources or {}).get("nbgrader", {})
        if not info.get("assignment") or not info.get("notebook"):
            return None
        course = CourseDirectory(config=self.config)
        folder = Path(course.format_path(course.source_directory, ".", info["assignment"]))
        return answer_names(folder / f"{info['notebook']}.ipynb")

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None) -> Any:
        self._cell_timeout = self.timeout
        self._deadline = time.monotonic() + self.notebook_timeout
        self._stopped = ""  # why the remaining cells are not run
        self._launcher: int | None = None
        self._socket_dir = ""
        self._referee: Referee | None = None
        self._answers = self._assignment_answers(resources)
        try:
            return super().preprocess(nb, resources, km)
        finally:
            self.timeout = self._cell_timeout
            self._after_kernel()

    def _cleanup_kernel(self) -> None:
        if self._launcher is not None:  # at once: nothing is left to run in the kernel
            sandbox.stop(self._launcher)
        super()._cleanup_kernel()

    def _after_kernel(self) -> None:
        """Nothing of the kernel may outlive it: check its control groups, remove its sockets."""
        if self._launcher is not None:
            left = sandbox.leftovers(self._launcher)
            if left:
                self.log.error("%d processes of the kernel outlived it; killed", len(left))
        if self._socket_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> Any:
        if cell.cell_type != "code":
            return cell, resources
        remaining = self._deadline - time.monotonic()
        if not self._stopped and remaining <= 0:
            self._stopped = f"the notebook time limit ({self.notebook_timeout} s) was reached"
        if self._stopped:
            cell.outputs = [_error("NotRun", f"not run: {self._stopped}")] if is_grade(cell) \
                else []
            return cell, resources
        self.timeout = max(1, int(min(self._cell_timeout or remaining, remaining)))
        try:
            self._check_assign_resources(resources)
            started = time.monotonic()
            cell = self._execute(cell, index)
            if time.monotonic() - started >= self.timeout:
                _name_the_time_limit(cell, self.timeout)
            return cell, self.resources
        except DeadKernelError:
            self._stopped = "the kernel died (crash, exit, or a resource limit) in an earlier cell"
            cell.outputs.append(_error("DeadKernelError", "the kernel died while running this "
                                       "cell (crash, exit, or a memory/CPU limit)"))
        except CellTimeoutError:
            self._stopped = "the kernel stopped responding in an earlier cell"
            cell.outputs.append(_error("CellTimeoutError", f"no reply within {self.timeout} s "
                                       "and the kernel could not be interrupted"))
        return cell, resources


    def _execute(self, cell: NotebookNode, index: int) -> NotebookNode:
        """Run one cell: an answer as IPython runs it, the assignment's own cells through the
        referee (a sealed request in place of their code, never kept in the input history)."""
        kind = cell_kind(cell)
        referee = self._referee
        if referee is None:  # no sandbox: the notebook's own kernel, as nbgrader runs it
            return self.execute_cell(cell, index, store_history=kind != TEST)
        if kind == RUN and not referee.sealed:  # no student code has run: IPython is intact
            referee.before_seal(cell)
            return self.execute_cell(cell, index, store_history=True)
        if not referee.sealed:  # before any of the submission's code runs
            code, nonce = referee.seal(modules_used(
                [c for c in self.nb.cells if c.cell_type == "code" and cell_kind(c) != ANSWER]))
            scratch = seal_cell(code)
            self.execute_cell(scratch, index, store_history=False)
            if referee.verdict(scratch.outputs, nonce)[0] is None:
                self.log.warning("the kernel's referee did not confirm the seal")
        if kind == ANSWER:
            return self.execute_cell(cell, index, store_history=True)
        source = cell.source
        cell.source, nonce = referee.request(cell, kind)
        try:
            self.execute_cell(cell, index, store_history=False)
        finally:
            cell.source = source
        referee.judge(cell, kind, nonce)
        return cell


class StderrToStdout(NbGraderPreprocessor):
    """Stderr in a grade cell becomes stdout, so that it cannot zero the cell's points."""

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> Any:
        if cell.cell_type == "code" and is_grade(cell):
            for output in cell.outputs:
                if output.output_type == "stream" and output.name == "stderr":
                    output.name = "stdout"
        return cell, resources


def truncate_output(output: NotebookNode, max_chars: int) -> NotebookNode:
    """Cap one output: text keeps its head and a marker; other data is replaced by a marker."""
    def cut(text: str) -> str:
        return text if len(text) <= max_chars else text[:max_chars] + TRUNCATED.format(
            n=len(text))

    if output.output_type == "stream":
        output.text = cut(output.text if isinstance(output.text, str) else "".join(output.text))
    elif output.output_type == "error":
        lines, total = [], 0
        for line in output.traceback:
            total += len(line)
            if total > max_chars:
                lines.append(TRUNCATED.format(n=sum(len(x) for x in output.traceback)))
                break
            lines.append(line)
        output.traceback = lines
        output.evalue = cut(output.evalue)
    elif output.output_type in ("display_data", "execute_result"):
        data = output.get("data", {})
        for mime, value in list(data.items()):
            text = value if isinstance(value, str) else "".join(value) \
                if isinstance(value, list) else str(value)
            if len(text) <= max_chars:
                continue
            if mime == "text/plain":
                data[mime] = cut(text)
            else:
                del data[mime]
                data.setdefault("text/plain", "")
                data["text/plain"] += f"\n[{mime} output of {len(text):,} characters removed " \
                                      "by the grader]"
    return output


class TruncateOutputs(NbGraderPreprocessor):
    """Cap each output of each code cell at ``max_chars`` characters (with a marker)."""

    max_chars = Integer(100_000, help="Largest output kept whole (characters).").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> Any:
        if cell.cell_type == "code":
            cell.outputs = [truncate_output(o, self.max_chars) for o in cell.outputs]
        return cell, resources


class HideHiddenTestTracebacks(NbGraderPreprocessor):
    """In feedback, a grade cell's error shows only its last line, not quoted test source."""

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> Any:
        if cell.cell_type == "code" and is_grade(cell):
            for output in cell.outputs:
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}",
                                        "(details hidden: the failing check may be a hidden test)"]
        return cell, resources


class ScoreByErrorOnly(NbGraderPreprocessor):
    """A test cell's score depends only on whether it has an error output: an
    ``execute_result`` becomes ``display_data`` (nbgrader reads it as a partial score)."""

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> Any:
        if cell.cell_type == "code" and is_grade(cell) and not is_solution(cell):
            for i, output in enumerate(cell.outputs):
                if output.output_type == "execute_result":
                    cell.outputs[i] = NotebookNode(output_type="display_data",
                                                   data=output.get("data", {}),
                                                   metadata=output.get("metadata", {}))
                elif output.output_type == "stream" and output.get("name") != "stdout":
                    output.name = "stdout"  # nbgrader fails a cell with any stderr
        return cell, resources
