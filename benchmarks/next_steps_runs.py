"""Chapter 8's long training runs, recorded so that the page can load them.

What is recorded
----------------
* ``cnn``: section 2's small CNN (two blocks of ``Conv2D`` → ``BatchNormalization`` → ReLU →
  ``MaxPooling2D``, 32 and 64 filters), seed 42, trained for 3 epochs on the 54,000-image training
  split with Adam and a cosine schedule from 0.002, batch size 64, without XLA; its history, the
  seconds of each epoch, which of the 6,000 validation images it classifies correctly
  (``numpy.packbits`` bits, base64-encoded) and its predicted class for each of the 10,000 test
  images (bytes, base64-encoded).
* ``augmentation``: section 4's fair from-scratch network (no batch normalization, dropout 0.3)
  on the 300 labelled images of the five target classes, 15 epochs, with and without
  ``RandomFlip("horizontal")`` and ``RandomTranslation(0.1, 0.1)`` in front, seeds 42, 0 and 1;
  which of the 1,000 target validation images each run classifies correctly.

The page trains the network of seed 42 without augmentation live, as the fair opponent of its
transfer-learning section; its hidden checks compare it with this record, so a record from another
version of the code shows up as a failing check. Run it with ``python
benchmarks/next_steps_runs.py`` (about four minutes on two cores) or ``--quick`` (a smoke test).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

# Importing course_utils sets TensorFlow's log level and the Keras backend before TensorFlow loads.
from course_authoring.benchmark_reports import quick_parser, report_header, write_report
from course_utils import data, models, preprocess, repro, train
from course_utils.records import encode_correct, encode_labels

OUTPUT = Path(__file__).with_suffix(".json")
FILTERS = (32, 64)
CNN_EPOCHS, CNN_BATCH, CNN_LEARNING_RATE = 3, 64, 2e-3
SOURCE_CLASSES, TARGET_CLASSES = np.arange(5), np.arange(5, 10)
N_FEW, N_TARGET_VAL, FEW_EPOCHS, FEW_BATCH = 300, 1000, 15, 32
AUGMENTATION_SEEDS = (42, 0, 1)


def load(quick: bool) -> dict[str, np.ndarray]:
    """Chapter 8's splits ([0, 1] images with one channel, one-hot labels) and its target task."""
    (train_images, train_labels), (test_images, test_labels) = data.load_dataset("fashion_mnist")
    x_all = preprocess.scale_images(train_images)[..., np.newaxis]
    y_all = preprocess.one_hot(train_labels, 10)
    train_idx, val_idx = preprocess.stratified_split(train_labels, validation_fraction=0.1,
                                                     seed=42)
    labels_train, labels_val = train_labels[train_idx], train_labels[val_idx]
    target = np.isin(labels_train, TARGET_CLASSES)
    target_val = np.isin(labels_val, TARGET_CLASSES)
    arrays = {
        "x_train": x_all[train_idx], "y_train": y_all[train_idx],
        "x_val": x_all[val_idx], "y_val": y_all[val_idx], "val_labels": labels_val,
        "x_test": preprocess.scale_images(test_images)[..., np.newaxis], "test_labels": test_labels,
        "x_few": x_all[train_idx][target][:N_FEW],
        "y_few": preprocess.one_hot(labels_train[target][:N_FEW] - 5, 5),
        "x_target_val": x_all[val_idx][target_val][:N_TARGET_VAL],
        "target_val_labels": labels_val[target_val][:N_TARGET_VAL] - 5,
    }
    if quick:
        for key, n in [("x_train", 640), ("y_train", 640), ("x_val", 300), ("y_val", 300),
                       ("val_labels", 300), ("x_test", 200), ("test_labels", 200)]:
            arrays[key] = arrays[key][:n]
    return arrays


def train_cnn(arrays: dict[str, np.ndarray], epochs: int) -> dict[str, Any]:
    """Section 2's CNN, seed 42: history, epoch times, validation bits and test predictions."""
    import keras

    keras.utils.clear_session()
    repro.set_seed(42)
    cnn = models.small_cnn(FILTERS, dropout=0.0)
    steps = epochs * int(np.ceil(len(arrays["x_train"]) / CNN_BATCH))
    schedule = keras.optimizers.schedules.CosineDecay(CNN_LEARNING_RATE, decay_steps=steps)
    train.compile_model(cnn, optimizer=keras.optimizers.Adam(schedule), jit_compile=False)
    timer = train.EpochTimer()
    start = time.perf_counter()
    history = train.fit(cnn, arrays["x_train"], arrays["y_train"], epochs=epochs,
                        batch_size=CNN_BATCH, validation_data=(arrays["x_val"], arrays["y_val"]),
                        verbose=0, callbacks=[timer])
    seconds = time.perf_counter() - start
    val_predicted = cnn.predict(arrays["x_val"], verbose=0, batch_size=1000).argmax(axis=1)
    test_predicted = cnn.predict(arrays["x_test"], verbose=0, batch_size=1000).argmax(axis=1)
    return {
        "seed": 42, "steps": steps, "parameters": cnn.count_params(),
        "history": {key: [round(float(v), 6) for v in values]
                    for key, values in history.history.items()},
        "epoch_seconds": [round(s, 2) for s in timer.seconds],
        "training_seconds": round(seconds, 2),
        "val_correct": encode_correct(val_predicted == arrays["val_labels"]),
        "test_predictions": encode_labels(test_predicted),
        "test_accuracy": round(float(np.mean(test_predicted == arrays["test_labels"])), 6),
    }


def augmentation_run(arrays: dict[str, np.ndarray], seed: int, augmented: bool,
                     epochs: int) -> dict[str, Any]:
    """The fair from-scratch network on the 300 target images, with or without augmentation."""
    import keras

    keras.utils.clear_session()
    repro.set_seed(seed)
    network = models.small_cnn(FILTERS, n_outputs=5, batch_norm=False, dropout=0.3)
    if augmented:
        network = keras.Sequential([keras.Input(shape=(28, 28, 1)),
                                    keras.layers.RandomFlip("horizontal"),
                                    keras.layers.RandomTranslation(0.1, 0.1), network])
    train.compile_model(network, jit_compile=False)
    y_target_val = preprocess.one_hot(arrays["target_val_labels"], 5)
    train.fit(network, arrays["x_few"], arrays["y_few"], epochs=epochs, batch_size=FEW_BATCH,
              validation_data=(arrays["x_target_val"], y_target_val), verbose=0)
    predicted = keras.ops.convert_to_numpy(network(arrays["x_target_val"], training=False))
    correct = predicted.argmax(axis=1) == arrays["target_val_labels"]
    return {"seed": seed, "augmented": augmented, "val_accuracy": round(float(correct.mean()), 6),
            "val_correct": encode_correct(correct)}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--quick`` is a smoke test whose numbers mean nothing."""
    parser = quick_parser(__doc__.splitlines()[0], OUTPUT)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Train every recorded run and write the JSON report."""
    args = parse_args(argv)
    arrays = load(args.quick)
    cnn_epochs, few_epochs = (1, 2) if args.quick else (CNN_EPOCHS, FEW_EPOCHS)
    seeds = AUGMENTATION_SEEDS[:1] if args.quick else AUGMENTATION_SEEDS
    report: dict[str, Any] = {
        **report_header(args.quick),
        "settings": {"cnn_epochs": cnn_epochs, "cnn_batch_size": CNN_BATCH,
                     "cnn_learning_rate": CNN_LEARNING_RATE, "filters": list(FILTERS),
                     "training_images": len(arrays["x_train"]),
                     "validation_images": len(arrays["x_val"]),
                     "test_images": len(arrays["x_test"]), "few_images": len(arrays["x_few"]),
                     "target_validation_images": len(arrays["x_target_val"]),
                     "few_epochs": few_epochs, "few_batch_size": FEW_BATCH},
    }
    report["cnn"] = train_cnn(arrays, cnn_epochs)
    print(f"CNN: test accuracy {report['cnn']['test_accuracy']:.4f}", flush=True)
    report["augmentation"] = [augmentation_run(arrays, seed, augmented, few_epochs)
                              for seed in seeds for augmented in (True, False)]
    print("augmentation: done", flush=True)
    write_report(args.output, report, "benchmarks/next_steps_runs.py")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
