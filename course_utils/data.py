"""Offline-first dataset loading (introduced in chapter 3, used from chapter 1 on).

``load_dataset(name)`` returns ``(x_train, y_train), (x_test, y_test)`` as NumPy arrays,
the same contract as ``keras.datasets.<name>.load_data()``.

Fashion-MNIST is looked for, in order, in

1. the directory named by the ``COURSE_DATA_DIR`` environment variable,
2. Debian's install location of the ``dataset-fashion-mnist`` package,
3. the Keras cache (``$KERAS_HOME/datasets/fashion-mnist``, ``~/.keras`` by default),
4. a Keras download (learners who are online).

Every file read is checked against the SHA-256 of its *decompressed* IDX bytes: Debian ships
re-compressed copies of the original files, so the gzip bytes differ between sources while the
data do not.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DATA_DIR_ENV",
    "DEBIAN_FASHION_MNIST_DIR",
    "FASHION_MNIST_CLASSES",
    "DatasetCorruptError",
    "DatasetError",
    "DatasetNotFoundError",
    "class_names",
    "fill_keras_cache",
    "load_dataset",
    "read_idx",
]

DATA_DIR_ENV = "COURSE_DATA_DIR"
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
DIGIT_CLASSES = tuple(str(digit) for digit in range(10))

# SHA-256 of the decompressed IDX files of Fashion-MNIST (the order of load_data()).
FASHION_MNIST_FILES: dict[str, str] = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
# SHA-256 of Keras's mnist.npz, the value keras.datasets.mnist checks too.
MNIST_NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

_IDX_DTYPES = {0x08: np.uint8}
Arrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class DatasetError(RuntimeError):
    """Base class of the errors this module raises."""


class DatasetNotFoundError(DatasetError):
    """No source of the dataset could be found (and downloading failed)."""


class DatasetCorruptError(DatasetError):
    """A dataset file exists but its content is not what it should be."""


@dataclass(frozen=True)
class IdxFileSet:
    """The four IDX files of an MNIST-style dataset and their expected SHA-256."""

    expected_sha256: dict[str, str]

    def find(self, directory: Path, stem: str) -> Path | None:
        """Path of ``stem`` in ``directory``, gzip-compressed or not; None if absent."""
        for candidate in (directory / f"{stem}.gz", directory / stem):
            if candidate.is_file():
                return candidate
        return None

    def complete_in(self, directory: Path) -> bool:
        """True when every file of the set is in ``directory``."""
        return all(self.find(directory, stem) for stem in self.expected_sha256)


FASHION_MNIST = IdxFileSet(FASHION_MNIST_FILES)


def class_names(name: str = "fashion_mnist") -> tuple[str, ...]:
    """Human-readable class names of a dataset, indexed by label."""
    if name == "fashion_mnist":
        return FASHION_MNIST_CLASSES
    if name in ("mnist", "digits"):
        return DIGIT_CLASSES
    raise ValueError(_unknown_name_message(name))


def load_dataset(name: str = "fashion_mnist") -> Arrays:
    """Load a dataset as ``(x_train, y_train), (x_test, y_test)`` NumPy arrays.

    ``name`` is ``"fashion_mnist"`` (default, offline), ``"mnist"`` (Keras cache or download)
    or ``"digits"`` (scikit-learn's bundled 8x8 digits, split 80/20, stratified).
    """
    if name == "fashion_mnist":
        return _load_fashion_mnist()
    if name == "mnist":
        return _load_mnist()
    if name == "digits":
        return _load_digits()
    raise ValueError(_unknown_name_message(name))


def fill_keras_cache(name: str = "fashion_mnist") -> Path:
    """Put the local Fashion-MNIST files where ``keras.datasets.fashion_mnist.load_data()`` looks
    before it downloads, so that Keras's own loader works offline (chapter 3); returns that folder.
    """
    if name != "fashion_mnist":
        raise ValueError(f"fill_keras_cache only knows 'fashion_mnist', got {name!r} (Keras "
                         "caches the other datasets itself on their first download)")
    target = _keras_cache_dir() / "fashion-mnist"
    sources = [d for d in _fashion_mnist_dirs() if d != target and FASHION_MNIST.complete_in(d)]
    if not sources:
        if FASHION_MNIST.complete_in(target):
            return target
        raise DatasetNotFoundError(_not_found_message("fashion_mnist"))
    target.mkdir(parents=True, exist_ok=True)
    for stem, sha in FASHION_MNIST_FILES.items():
        source = FASHION_MNIST.find(sources[0], stem)
        assert source is not None  # complete_in said so
        read_idx(source, sha)  # copy only verified data
        destination = target / f"{stem}.gz"  # the name Keras opens, always gzip-compressed
        if destination.is_file() and _holds(destination, sha):
            continue
        partial = destination.with_name(destination.name + ".partial")
        if source.suffix == ".gz":
            shutil.copyfile(source, partial)
        else:
            with source.open("rb") as raw, gzip.open(partial, "wb") as packed:
                shutil.copyfileobj(raw, packed)
        partial.replace(destination)
    return target


def _holds(path: Path, expected_sha256: str) -> bool:
    """Whether ``path`` reads as the IDX file with that SHA-256."""
    try:
        read_idx(path, expected_sha256)
    except DatasetCorruptError:
        return False
    return True


def read_idx(path: Path, expected_sha256: str | None = None) -> np.ndarray:
    """Read one IDX file (optionally gzip-compressed), checking its SHA-256 if given."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:  # BadGzipFile is an OSError
        raise DatasetCorruptError(f"{path}: cannot be read or decompressed ({error}).") from None
    if expected_sha256 is not None:
        actual = hashlib.sha256(raw).hexdigest()
        if actual != expected_sha256:
            raise DatasetCorruptError(
                f"{path}: SHA-256 of its content is {actual}, expected {expected_sha256}. "
                "The file is corrupt or not the original; delete it and install it again."
            )
    return _parse_idx(raw, path)


def _parse_idx(raw: bytes, path: Path) -> np.ndarray:
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DatasetCorruptError(f"{path}: not an unsigned-byte IDX file (bad magic number).")
    n_dims = raw[3]
    header_end = 4 + 4 * n_dims
    if len(raw) < header_end:
        raise DatasetCorruptError(f"{path}: IDX header is truncated.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(n_dims))
    expected_size = int(np.prod(shape)) if shape else 0
    body = np.frombuffer(raw, dtype=_IDX_DTYPES[raw[2]], offset=header_end)
    if body.size != expected_size:
        raise DatasetCorruptError(
            f"{path}: header announces shape {shape} ({expected_size} values) "
            f"but the file holds {body.size}."
        )
    return body.reshape(shape).copy()


def _keras_cache_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser() / "datasets"


def _fashion_mnist_dirs() -> list[Path]:
    """Local directories to search for Fashion-MNIST, in priority order."""
    dirs = []
    if os.environ.get(DATA_DIR_ENV):
        configured = Path(os.environ[DATA_DIR_ENV]).expanduser()
        dirs += [configured, configured / "fashion-mnist"]
    dirs += [DEBIAN_FASHION_MNIST_DIR, _keras_cache_dir() / "fashion-mnist"]
    return dirs


def _load_fashion_mnist() -> Arrays:
    configured = os.environ.get(DATA_DIR_ENV)
    if configured and not any(FASHION_MNIST.complete_in(d) for d in _fashion_mnist_dirs()[:2]):
        folder = Path(configured).expanduser()
        missing = [s for s in FASHION_MNIST_FILES if not FASHION_MNIST.find(folder, s)]
        raise DatasetNotFoundError(
            f"{DATA_DIR_ENV}={configured} is set but that directory lacks {', '.join(missing)} "
            "(.gz or uncompressed). Put the four Fashion-MNIST files there or unset the variable."
        )
    for directory in _fashion_mnist_dirs():
        if FASHION_MNIST.complete_in(directory):
            return _read_idx_set(directory, FASHION_MNIST)
    _download_with_keras("fashion_mnist")
    directory = _keras_cache_dir() / "fashion-mnist"
    if not FASHION_MNIST.complete_in(directory):
        raise DatasetNotFoundError(_not_found_message("fashion_mnist"))
    return _read_idx_set(directory, FASHION_MNIST)


def _read_idx_set(directory: Path, files: IdxFileSet) -> Arrays:
    arrays = [
        read_idx(files.find(directory, stem), sha)  # type: ignore[arg-type]
        for stem, sha in files.expected_sha256.items()
    ]
    x_train, y_train, x_test, y_test = arrays
    for images, labels, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DatasetCorruptError(
                f"{directory}: {split} images {images.shape} and labels {labels.shape} "
                "do not match."
            )
    return (x_train, y_train), (x_test, y_test)


def _load_mnist() -> Arrays:
    path = _keras_cache_dir() / "mnist.npz"
    if not path.is_file():
        _download_with_keras("mnist")
    if not path.is_file():
        raise DatasetNotFoundError(_not_found_message("mnist"))
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != MNIST_NPZ_SHA256:
        raise DatasetCorruptError(
            f"{path}: SHA-256 is {actual}, expected {MNIST_NPZ_SHA256}. "
            "Delete it to download it again."
        )
    with np.load(path, allow_pickle=False) as npz:
        return (npz["x_train"], npz["y_train"]), (npz["x_test"], npz["y_test"])


def _load_digits() -> Arrays:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = digits.images.astype(np.uint8)  # integer intensities 0..16
    labels = digits.target.astype(np.uint8)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=0.2, stratify=labels, random_state=0
    )
    return (x_train, y_train), (x_test, y_test)


def _download_with_keras(name: str) -> None:
    """Let Keras download ``name`` into its cache; turn any network failure into one message."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    loader = {"fashion_mnist": keras.datasets.fashion_mnist, "mnist": keras.datasets.mnist}[name]
    try:
        loader.load_data()
    except Exception as error:  # urllib, SSL, HTTP and hash errors all mean "not available"
        raise DatasetNotFoundError(
            f"{_not_found_message(name)}\nThe download failed with: {type(error).__name__}: {error}"
        ) from None


def _not_found_message(name: str) -> str:
    if name == "fashion_mnist":
        return (
            "Fashion-MNIST was not found on this machine and could not be downloaded.\n"
            "Fix it with one of:\n"
            "  * sudo apt-get install dataset-fashion-mnist   (Debian/Ubuntu, works offline)\n"
            f"  * export {DATA_DIR_ENV}=/path/to/folder   (a folder holding the four "
            "*-ubyte(.gz) files)\n"
            "  * connect to the internet once, so Keras can download it into its cache."
        )
    return (
        f"{name} was not found in the Keras cache ({_keras_cache_dir()}) and could not be "
        "downloaded. Connect to the internet once, or use load_dataset('fashion_mnist'), "
        "which works offline."
    )


def _unknown_name_message(name: str) -> str:
    return f"Unknown dataset {name!r}; choose 'fashion_mnist', 'mnist' or 'digits'."
