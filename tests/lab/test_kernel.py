"""The learners' kernel: importing Keras shows no TensorFlow start-up messages on stderr.

JupyterLab starts the ``python3`` kernel of the course's environment, whose kernel spec (written
by ``make setup``) sets ``TF_CPP_MIN_LOG_LEVEL`` and ``TF_ENABLE_ONEDNN_OPTS``. The kernel is
started here with those variables removed from the environment, as a JupyterLab started outside
``make lab`` would start it, and a cell imports Keras before anything of the course.
"""

from __future__ import annotations

import os

import pytest
from jupyter_client.manager import start_new_kernel

from tests.support import own_jupyter_folders

pytestmark = pytest.mark.slow


def run(client, *cells: str) -> dict[str, str]:
    """Execute ``cells`` one after the other; the text the kernel wrote to each stream.

    Output written by C++ code reaches the kernel's stream messages through a thread that
    watches the process's file descriptors, possibly after the cell is done: the text of every
    stream message counts, whichever cell it is attributed to.
    """
    streams = {"stdout": "", "stderr": ""}
    for code in cells:
        message_id = client.execute(code)
        while True:
            message = client.get_iopub_msg(timeout=120)
            if message["msg_type"] == "stream":
                streams[message["content"]["name"]] += message["content"]["text"]
            if (message["parent_header"].get("msg_id") == message_id
                    and message["msg_type"] == "status"
                    and message["content"]["execution_state"] == "idle"):
                break
    return streams


def test_importing_keras_first_writes_nothing_to_stderr(tmp_path) -> None:
    # without PYTEST_CURRENT_TEST too: with it, ipykernel does not forward what C++ code writes
    # to the process's stderr into the notebook, as it does in JupyterLab
    env = {key: value for key, value in os.environ.items()
           if key not in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")
           and not key.startswith("PYTEST_")} | own_jupyter_folders(tmp_path)
    manager, client = start_new_kernel(kernel_name="python3", env=env)
    try:
        streams = run(client, "import keras\nimport tensorflow as tf\n"
                              "print(float(tf.reduce_sum(tf.ones(3))))",
                      "import time\ntime.sleep(1)")  # time for late stderr to arrive
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert streams["stdout"].strip() == "3.0"
    assert streams["stderr"] == ""
