"""Chapter 6's repeated and long training runs, recorded so that the page can load them.

What is recorded
----------------
Chapter 6 trains one network per technique on its page. The runs that repeat a technique with
other settings, and the final model on all 54,000 training images, would take the page over its
time budget, so this script trains them exactly as the page would and records:

* ``l2_strength``: the chapter 4 network with an L2 penalty λ of 0, 0.001 and 0.01, each with
  seeds 42 and 7, on the small setting; the validation cross-entropy after every epoch;
* ``learning_rate_sweep``: the same network with Adam at learning rates 1e-5, 1e-3 and 1e-1,
  seed 42; the training and validation loss after every epoch;
* ``random_search``: the four trials of section 7 (drawn as the page draws them), each with
  early stopping on the validation loss; the kept epoch and its validation loss and accuracy;
* ``final_model``: section 9's recipe with seed 42 on the full training split; its history, the
  kept epoch, its validation and test accuracy, which test images it classifies correctly
  (``numpy.packbits`` bits, base64-encoded, for paired comparisons) and its training time.

The runs of seed 42 with λ = 0 and 0.01, and with the rate 1e-3, are also trained live on the page;
its hidden checks compare them with this record, so a record from another version of the code
shows up as a failing check. Run it with ``python benchmarks/regularization_runs.py`` (about five
minutes on two cores) or ``--quick`` (a smoke test: a few runs of two epochs on a few hundred
images).
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
from course_utils.records import encode_correct

OUTPUT = Path(__file__).with_suffix(".json")
SMALL_TRAIN, SMALL_VAL, SMALL_EPOCHS, SMALL_BATCH = 1000, 2000, 20, 32
METRICS = ["accuracy", "categorical_crossentropy"]  # the cross-entropy without penalty terms
L2_STRENGTHS, L2_SEEDS = (0.0, 1e-3, 1e-2), (42, 7)
LEARNING_RATES = (1e-5, 1e-3, 1e-1)
SEARCH_SEED, SEARCH_TRIALS, SEARCH_PATIENCE = 6, 4, 4
FINAL_EPOCHS, FINAL_BATCH, FINAL_LEARNING_RATE, FINAL_PATIENCE = 20, 256, 1e-3, 5


def load(quick: bool) -> dict[str, np.ndarray]:
    """Chapter 6's splits and its small setting (flattened [0, 1] images, one-hot labels)."""
    (train_images, train_labels), (test_images, test_labels) = data.load_dataset("fashion_mnist")
    x_all = preprocess.flatten_images(preprocess.scale_images(train_images))
    y_all = preprocess.one_hot(train_labels, 10)
    train_idx, val_idx = preprocess.stratified_split(train_labels, validation_fraction=0.1,
                                                     seed=42)
    if quick:
        train_idx, val_idx, test_images, test_labels = (
            train_idx[:600], val_idx[:400], test_images[:300], test_labels[:300])
    small_train, small_val = (300, 200) if quick else (SMALL_TRAIN, SMALL_VAL)
    x_train, y_train = x_all[train_idx], y_all[train_idx]
    x_val, y_val = x_all[val_idx], y_all[val_idx]
    return {"x_train": x_train, "y_train": y_train, "x_val": x_val, "y_val": y_val,
            "x_small": x_train[:small_train], "y_small": y_train[:small_train],
            "x_val_small": x_val[:small_val], "y_val_small": y_val[:small_val],
            "x_test": preprocess.flatten_images(preprocess.scale_images(test_images)),
            "y_test": preprocess.one_hot(test_labels, 10), "test_labels": test_labels}


def rounded(values: Sequence[float]) -> list[float]:
    """Floats as the JSON stores them: six decimals."""
    return [round(float(value), 6) for value in values]


def fit_small(arrays: dict[str, np.ndarray], epochs: int, seed: int, *, l2: float = 0.0,
              dropout: float = 0.0, learning_rate: float | None = None,
              batch_size: int = SMALL_BATCH, callbacks: Sequence[Any] = ()) -> dict[str, list]:
    """One run of the chapter 4 network on the small setting, as chapter 6 trains it."""
    import keras

    keras.utils.clear_session()
    repro.set_seed(seed)
    model = models.mlp(l2=l2, dropout=dropout, name="small")
    optimizer = "adam" if learning_rate is None else keras.optimizers.Adam(learning_rate)
    train.compile_model(model, optimizer=optimizer, metrics=METRICS, jit_compile=False)
    history = train.fit(model, arrays["x_small"], arrays["y_small"], epochs=epochs,
                        batch_size=batch_size, verbose=0, callbacks=list(callbacks),
                        validation_data=(arrays["x_val_small"], arrays["y_val_small"]))
    return history.history


def l2_strength(arrays: dict[str, np.ndarray], epochs: int, strengths: Sequence[float],
                seeds: Sequence[int]) -> list[dict[str, Any]]:
    """The validation cross-entropy per epoch for each λ and seed (section 2)."""
    return [{"l2": l2, "seed": seed,
             "val_categorical_crossentropy": rounded(
                 fit_small(arrays, epochs, seed, l2=l2)["val_categorical_crossentropy"])}
            for seed in seeds for l2 in strengths]


def learning_rate_sweep(arrays: dict[str, np.ndarray], epochs: int,
                        rates: Sequence[float]) -> list[dict[str, Any]]:
    """The training and validation loss per epoch at each learning rate (section 7)."""
    runs = []
    for rate in rates:
        logs = fit_small(arrays, epochs, 42, learning_rate=rate)
        runs.append({"learning_rate": rate, "loss": rounded(logs["loss"]),
                     "val_loss": rounded(logs["val_loss"])})
    return runs


def draw_trials(seed: int = SEARCH_SEED, n: int = SEARCH_TRIALS) -> list[dict[str, Any]]:
    """Section 7's random search: each trial's learning rate, batch size and dropout rate."""
    rng = np.random.default_rng(seed)
    return [{"learning_rate": float(10 ** rng.uniform(-3.5, -2.0)),
             "batch_size": int(rng.choice([32, 64, 128])),
             "dropout": float(np.round(rng.uniform(0.0, 0.5), 2))} for _ in range(n)]


def run_trial(arrays: dict[str, np.ndarray], trial: dict[str, Any], epochs: int) -> dict[str, Any]:
    """Train one trial with early stopping on the validation loss; score its kept epoch."""
    import keras

    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=SEARCH_PATIENCE,
                                            restore_best_weights=True)
    logs = fit_small(arrays, epochs, 42, dropout=trial["dropout"],
                     learning_rate=trial["learning_rate"], batch_size=trial["batch_size"],
                     callbacks=[stopper])
    best = int(np.argmin(logs["val_loss"]))  # the epoch whose weights were kept
    return {**trial, "epochs": len(logs["val_loss"]), "val_loss": round(logs["val_loss"][best], 6),
            "val_accuracy": round(logs["val_accuracy"][best], 6)}


def final_model(arrays: dict[str, np.ndarray], epochs: int) -> dict[str, Any]:
    """Section 9's recipe, seed 42, on the full training split: history, scores, test bits."""
    import keras

    keras.utils.clear_session()
    repro.set_seed(42)
    model = models.mlp((256, 128), batch_norm=True, dropout=0.3, name="final")
    steps = epochs * int(np.ceil(len(arrays["x_train"]) / FINAL_BATCH))
    schedule = keras.optimizers.schedules.CosineDecay(FINAL_LEARNING_RATE, decay_steps=steps)
    train.compile_model(model, optimizer=keras.optimizers.Adam(schedule), jit_compile=False)
    stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=FINAL_PATIENCE,
                                             restore_best_weights=True)
    timer = train.EpochTimer()
    start = time.perf_counter()
    history = train.fit(model, arrays["x_train"], arrays["y_train"], epochs=epochs,
                        batch_size=FINAL_BATCH, validation_data=(arrays["x_val"], arrays["y_val"]),
                        verbose=0, callbacks=[stopping, timer])
    seconds = time.perf_counter() - start
    _, val_accuracy = model.evaluate(arrays["x_val"], arrays["y_val"], verbose=0)
    test_loss, test_accuracy = model.evaluate(arrays["x_test"], arrays["y_test"], verbose=0)
    predicted = model.predict(arrays["x_test"], verbose=0, batch_size=1024).argmax(axis=1)
    return {
        "seed": 42, "steps": steps, "parameters": model.count_params(),
        "history": {key: rounded(values) for key, values in history.history.items()},
        "kept_epoch": int(np.argmin(history.history["val_loss"])) + 1,
        "val_accuracy": round(float(val_accuracy), 6),
        "test_accuracy": round(float(test_accuracy), 6), "test_loss": round(float(test_loss), 6),
        "test_correct": encode_correct(predicted == arrays["test_labels"]),
        "training_seconds": round(seconds, 2),
        "median_epoch_seconds": round(float(np.median(timer.seconds[1:] or timer.seconds)), 3),
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--quick`` is a smoke test whose numbers mean nothing."""
    parser = quick_parser(__doc__.splitlines()[0], OUTPUT)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Train every recorded run and write the JSON report."""
    args = parse_args(argv)
    arrays = load(args.quick)
    small_epochs, final_epochs = (2, 2) if args.quick else (SMALL_EPOCHS, FINAL_EPOCHS)
    # --quick: one run of each kind (two for λ), to check that the report is complete
    strengths = (0.0, 1e-2) if args.quick else L2_STRENGTHS
    seeds, rates = (L2_SEEDS[:1], LEARNING_RATES[:1]) if args.quick else (L2_SEEDS, LEARNING_RATES)
    trials = draw_trials()[:1] if args.quick else draw_trials()
    report: dict[str, Any] = {
        **report_header(args.quick),
        "settings": {"small_training_images": len(arrays["x_small"]),
                     "small_validation_images": len(arrays["x_val_small"]),
                     "small_epochs": small_epochs, "small_batch_size": SMALL_BATCH,
                     "final_epochs": final_epochs, "final_batch_size": FINAL_BATCH,
                     "training_images": len(arrays["x_train"]),
                     "validation_images": len(arrays["x_val"]),
                     "test_images": len(arrays["x_test"])},
    }
    report["l2_strength"] = l2_strength(arrays, small_epochs, strengths, seeds)
    print("L2 strength: done", flush=True)
    report["learning_rate_sweep"] = learning_rate_sweep(arrays, small_epochs, rates)
    print("learning-rate sweep: done", flush=True)
    report["random_search"] = [run_trial(arrays, trial, small_epochs) for trial in trials]
    print("random search: done", flush=True)
    report["final_model"] = final_model(arrays, final_epochs)
    print(f"final model: test accuracy {report['final_model']['test_accuracy']:.4f}", flush=True)
    write_report(args.output, report, "benchmarks/regularization_runs.py")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
