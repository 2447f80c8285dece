"""Seed-to-seed spread of chapter 4's three networks, for the lesson to load (not to time).

What is measured
----------------
Chapter 4 trains the 784-256-128-10 baseline for 10 epochs and the 784-32-10 and 784-64-32-10
variants for 5, each once, with seed 42. One run cannot say how much of a difference between
two networks is the network and how much is the seed. This script repeats each training with
``--seeds`` other seeds, exactly as the lesson does it (Fashion-MNIST scaled to [0, 1] and
flattened, batch size 32, the last 20% of the training images for validation,
``course_utils.train.compile_model``'s defaults), and records per run:

* the validation accuracy after every epoch and the test accuracy at the end;
* which of the 10,000 test images the network classified correctly (``test_correct``: the bits
  of ``numpy.packbits``, base64-encoded), so that the lesson can compare two networks image by
  image (a paired comparison) without re-training anything.

Run it with ``python benchmarks/seed_spread.py`` (several minutes) or ``--quick`` (seconds, a
smoke test: one network, one seed, one epoch on 640 images; its numbers mean nothing).
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

# Importing course_utils sets TensorFlow's log level and the Keras backend before TensorFlow loads.
from course_authoring.benchmark_reports import write_report
from course_utils import data, models, preprocess, repro, train
from course_utils.records import encode_correct

OUTPUT = Path(__file__).with_suffix(".json")
SEEDS = (0, 1, 2, 3, 4)

# name -> (builder, epochs, label form): the lesson's three networks and how it trains them
NETWORKS: dict[str, tuple[Callable[[], Any], int, str]] = {
    "784-256-128-10": (models.baseline_mlp, 10, "one-hot"),
    "784-32-10": (models.small_mlp, 5, "integer"),
    "784-64-32-10": (models.two_hidden_mlp, 5, "one-hot"),
}


def load(samples: int | None) -> dict[str, np.ndarray]:
    """The lesson's arrays (flattened [0, 1] images, integer and one-hot labels), or a subset."""
    (train_images, train_labels), (test_images, test_labels) = data.load_dataset("fashion_mnist")
    if samples is not None:
        train_images, train_labels = train_images[:samples], train_labels[:samples]
        test_images, test_labels = test_images[:samples], test_labels[:samples]
    return {
        "x_train": preprocess.flatten_images(preprocess.scale_images(train_images)),
        "x_test": preprocess.flatten_images(preprocess.scale_images(test_images)),
        "train_labels": train_labels, "test_labels": test_labels,
        "y_train": preprocess.one_hot(train_labels, 10),
    }


def run(name: str, seed: int, arrays: dict[str, np.ndarray], epochs: int | None) -> dict[str, Any]:
    """Train one network with one seed as chapter 4 does; its accuracies and test bits."""
    import keras

    build, lesson_epochs, labels = NETWORKS[name]
    keras.utils.clear_session()  # a fresh graph per run: no retracing warnings, no growing memory
    repro.set_seed(seed)
    model = build()
    sparse = labels == "integer"
    train.compile_model(model, loss="sparse_categorical_crossentropy" if sparse
                        else "categorical_crossentropy")
    targets = arrays["train_labels"] if sparse else arrays["y_train"]
    history = train.fit(model, arrays["x_train"], targets, epochs=epochs or lesson_epochs,
                        batch_size=32, validation_split=0.2, verbose=0)
    predicted = model.predict(arrays["x_test"], verbose=0, batch_size=1024).argmax(axis=1)
    correct = predicted == arrays["test_labels"]
    return {
        "network": name, "seed": seed, "epochs": len(history.history["loss"]),
        "val_accuracy": [round(float(v), 6) for v in history.history["val_accuracy"]],
        "test_accuracy": round(float(correct.mean()), 6),
        "test_correct": encode_correct(correct),
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--quick`` trains one network, 1 seed, 1 epoch, on 640 images."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--quick", action="store_true", help="a smoke test: tiny and fast")
    args = parser.parse_args(argv)
    args.samples, args.epochs = (640, 1) if args.quick else (None, None)
    args.networks = list(NETWORKS)
    if args.quick:  # a smoke test: the same code path for the smallest network only
        args.seeds, args.networks = args.seeds[:1], ["784-32-10"]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Train every network with every seed and write the JSON report."""
    args = parse_args(argv)
    import keras
    import tensorflow as tf

    arrays = load(args.samples)
    runs = []
    for name in args.networks:
        for seed in args.seeds:
            result = run(name, seed, arrays, args.epochs)
            accuracy = result["test_accuracy"]
            print(f"{name:<16} seed {seed}: test accuracy {accuracy:.4f}", flush=True)
            runs.append(result)
    report = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": {"python": platform.python_version(), "tensorflow": tf.__version__,
                    "keras": keras.__version__},
        "settings": {"batch_size": 32, "validation_split": 0.2, "training_images":
                     len(arrays["x_train"]), "test_images": len(arrays["x_test"]),
                     "lesson_seed": 42, "seeds": args.seeds},
        "runs": runs,
    }
    write_report(args.output, report, "benchmarks/seed_spread.py")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
