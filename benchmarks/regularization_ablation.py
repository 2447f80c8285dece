"""Chapter 6's final recipe and the recipe with one piece taken away, over several seeds.

What is measured
----------------
Chapter 6, section 9, trains its final model once, with seed 42: the 784-256-128-10 network with
``Dense(use_bias=False) → BatchNormalization → ReLU → Dropout(0.3)`` in each hidden layer, Adam
with a cosine learning-rate schedule, batch size 256, early stopping on the validation loss
(patience 5, best weights restored), on the 54,000-image training split; the 6,000-image
validation split decides. One run per variant cannot say whether taking a piece away costs
anything, so this script trains the recipe and each variant with ``--seeds`` seeds, exactly as
the lesson does, and records per run:

* the validation loss and accuracy after every epoch, and the epoch whose weights were kept;
* the validation accuracy of the kept weights, and which of the 6,000 validation images they
  classify correctly (``val_correct``: ``numpy.packbits`` bits, base64-encoded), so that the
  lesson can compare two variants of the same seed image by image (a paired comparison).

Only the validation split is used: these runs are choices, and choices never see the test set.
Run it with ``python benchmarks/regularization_ablation.py`` (about a quarter of an hour on two
cores) or ``--quick`` (a smoke test: two variants, one seed, two epochs on 2,000 images).
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

# Importing course_utils sets TensorFlow's log level and the Keras backend before TensorFlow loads.
from course_authoring.benchmark_reports import write_report
from course_utils import data, models, preprocess, repro, train
from course_utils.records import encode_correct

OUTPUT = Path(__file__).with_suffix(".json")
SEEDS = (0, 1, 2)
EPOCHS, BATCH_SIZE, LEARNING_RATE, PATIENCE = 20, 256, 1e-3, 5

# variant -> (batch normalization, dropout rate, cosine schedule)
VARIANTS: dict[str, tuple[bool, float, bool]] = {
    "final recipe": (True, 0.3, True),
    "without dropout": (True, 0.0, True),
    "without batch normalization": (False, 0.3, True),
    "constant learning rate": (True, 0.3, False),
    "neither BN nor dropout": (False, 0.0, True),
}


def load(samples: int | None) -> dict[str, np.ndarray]:
    """Chapter 6's training and validation splits (flattened [0, 1] images, one-hot labels)."""
    (train_images, train_labels), _ = data.load_dataset("fashion_mnist")
    x_all = preprocess.flatten_images(preprocess.scale_images(train_images))
    y_all = preprocess.one_hot(train_labels, 10)
    train_idx, val_idx = preprocess.stratified_split(train_labels, validation_fraction=0.1,
                                                     seed=42)
    if samples is not None:
        train_idx, val_idx = train_idx[:samples], val_idx[:samples // 2]
    return {"x_train": x_all[train_idx], "y_train": y_all[train_idx],
            "x_val": x_all[val_idx], "y_val": y_all[val_idx],
            "val_labels": train_labels[val_idx]}


def run(variant: str, seed: int, arrays: dict[str, np.ndarray], epochs: int) -> dict[str, Any]:
    """Train one variant with one seed as chapter 6 trains its final model."""
    import keras

    batch_norm, dropout, cosine = VARIANTS[variant]
    keras.utils.clear_session()
    repro.set_seed(seed)
    model = models.mlp((256, 128), batch_norm=batch_norm, dropout=dropout, name="variant")
    steps = epochs * int(np.ceil(len(arrays["x_train"]) / BATCH_SIZE))
    rate = (keras.optimizers.schedules.CosineDecay(LEARNING_RATE, decay_steps=steps)
            if cosine else LEARNING_RATE)
    train.compile_model(model, optimizer=keras.optimizers.Adam(rate), jit_compile=False)
    stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=PATIENCE,
                                             restore_best_weights=True)
    history = train.fit(model, arrays["x_train"], arrays["y_train"], epochs=epochs,
                        batch_size=BATCH_SIZE, validation_data=(arrays["x_val"], arrays["y_val"]),
                        verbose=0, callbacks=[stopping])
    predicted = model.predict(arrays["x_val"], verbose=0, batch_size=1024).argmax(axis=1)
    correct = predicted == arrays["val_labels"]
    return {
        "variant": variant, "seed": seed, "epochs": len(history.history["loss"]),
        "kept_epoch": int(np.argmin(history.history["val_loss"])) + 1,
        "val_loss": [round(float(v), 6) for v in history.history["val_loss"]],
        "val_accuracy": [round(float(v), 6) for v in history.history["val_accuracy"]],
        "kept_val_accuracy": round(float(correct.mean()), 6),
        "val_correct": encode_correct(correct),
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--quick`` is a smoke test whose numbers mean nothing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--quick", action="store_true", help="a smoke test: tiny and fast")
    args = parser.parse_args(argv)
    args.samples, args.epochs, args.variants = None, EPOCHS, list(VARIANTS)
    if args.quick:
        args.samples, args.epochs = 2000, 2
        args.seeds, args.variants = args.seeds[:1], args.variants[:2]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Train every variant with every seed and write the JSON report."""
    args = parse_args(argv)
    import keras
    import tensorflow as tf

    arrays = load(args.samples)
    runs = []
    for seed in args.seeds:
        for variant in args.variants:
            result = run(variant, seed, arrays, args.epochs)
            print(f"seed {seed} {variant:<28} kept epoch {result['kept_epoch']:>2} of "
                  f"{result['epochs']:>2}: validation accuracy {result['kept_val_accuracy']:.4f}",
                  flush=True)
            runs.append(result)
    report = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": {"python": platform.python_version(), "tensorflow": tf.__version__,
                    "keras": keras.__version__},
        "settings": {"epochs": args.epochs, "batch_size": BATCH_SIZE,
                     "learning_rate": LEARNING_RATE, "patience": PATIENCE,
                     "training_images": len(arrays["x_train"]),
                     "validation_images": len(arrays["x_val"]), "seeds": args.seeds,
                     "variants": {name: dict(zip(("batch_norm", "dropout", "cosine"), recipe))
                                  for name, recipe in VARIANTS.items() if name in args.variants}},
        "runs": runs,
    }
    write_report(args.output, report, "benchmarks/regularization_ablation.py")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
