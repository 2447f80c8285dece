"""Tests of course_utils.data: IDX parsing, hash checks, the loader's search order, errors."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import urllib.error
from pathlib import Path

import keras
import numpy as np
import pytest

from course_utils import data
from course_utils.data import DatasetCorruptError, DatasetNotFoundError

STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array: magic 0x00 0x00 0x08 ndim, big-endian sizes, data."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(size).to_bytes(4, "big") for size in array.shape)
    return header + array.tobytes()


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Write ``array`` as IDX, gzip-compressed when ``path`` ends in .gz."""
    raw = idx_bytes(array)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)
    return path


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


# --- a tiny synthetic Fashion-MNIST ------------------------------------------------------------

RNG = np.random.default_rng(0)
SYNTHETIC = {
    "train-images-idx3-ubyte": RNG.integers(0, 256, size=(6, 4, 3), dtype=np.uint8),
    "train-labels-idx1-ubyte": np.array([0, 1, 2, 3, 4, 5], dtype=np.uint8),
    "t10k-images-idx3-ubyte": RNG.integers(0, 256, size=(4, 4, 3), dtype=np.uint8),
    "t10k-labels-idx1-ubyte": np.array([9, 8, 7, 6], dtype=np.uint8),
}


def write_synthetic_set(directory: Path, compressed: bool = True, stems=STEMS) -> Path:
    for stem in stems:
        write_idx(directory / (f"{stem}.gz" if compressed else stem), SYNTHETIC[stem])
    return directory


@pytest.fixture
def synthetic_hashes(monkeypatch):
    """Make the loader expect the SHA-256 of the synthetic files (both module-level tables)."""
    files = {stem: sha256(idx_bytes(SYNTHETIC[stem])) for stem in STEMS}
    monkeypatch.setattr(data, "FASHION_MNIST_FILES", files)
    monkeypatch.setattr(data, "FASHION_MNIST", data.IdxFileSet(files))
    return files


@pytest.fixture
def sources(tmp_path, monkeypatch, synthetic_hashes):
    """Three empty candidate folders; COURSE_DATA_DIR unset; any Keras download fails."""
    dirs = {
        "course": tmp_path / "course-data",
        "debian": tmp_path / "debian" / "fashion-mnist",
        "keras_home": tmp_path / "keras-home",
    }
    dirs["keras"] = dirs["keras_home"] / "datasets" / "fashion-mnist"
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIR", dirs["debian"])
    monkeypatch.setenv("KERAS_HOME", str(dirs["keras_home"]))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    return dirs


@pytest.fixture
def reads(monkeypatch):
    """Record the path of every IDX file the loader reads (it still reads them)."""
    seen: list[Path] = []
    original = data.read_idx

    def spy(path, expected_sha256=None):
        seen.append(Path(path))
        return original(path, expected_sha256)

    monkeypatch.setattr(data, "read_idx", spy)
    return seen


def assert_synthetic(arrays) -> None:
    (x_train, y_train), (x_test, y_test) = arrays
    np.testing.assert_array_equal(x_train, SYNTHETIC["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(y_train, SYNTHETIC["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(x_test, SYNTHETIC["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(y_test, SYNTHETIC["t10k-labels-idx1-ubyte"])


# --- read_idx -----------------------------------------------------------------------------------


def test_read_idx_reads_gzip_compressed_images(tmp_path):
    images = RNG.integers(0, 256, size=(3, 5, 2), dtype=np.uint8)
    result = data.read_idx(write_idx(tmp_path / "images-idx3-ubyte.gz", images))
    assert result.dtype == np.uint8
    np.testing.assert_array_equal(result, images)


def test_read_idx_reads_uncompressed_labels(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    result = data.read_idx(write_idx(tmp_path / "labels-idx1-ubyte", labels))
    np.testing.assert_array_equal(result, labels)


def test_read_idx_accepts_matching_sha256(tmp_path):
    labels = np.array([7, 7, 0], dtype=np.uint8)
    path = write_idx(tmp_path / "labels-idx1-ubyte.gz", labels)
    np.testing.assert_array_equal(data.read_idx(path, sha256(idx_bytes(labels))), labels)


def test_read_idx_sha256_is_of_decompressed_bytes_not_gzip_bytes(tmp_path):
    labels = np.array([1, 2], dtype=np.uint8)
    path = write_idx(tmp_path / "labels-idx1-ubyte.gz", labels)
    with pytest.raises(DatasetCorruptError):
        data.read_idx(path, sha256(path.read_bytes()))


def test_read_idx_sha256_mismatch_raises_naming_the_file(tmp_path):
    path = write_idx(tmp_path / "labels-idx1-ubyte.gz", np.array([1, 2], dtype=np.uint8))
    with pytest.raises(DatasetCorruptError, match=re.escape(str(path))):
        data.read_idx(path, "0" * 64)


def test_read_idx_bad_magic_raises_naming_the_file(tmp_path):
    path = tmp_path / "not-idx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(16))
    with pytest.raises(DatasetCorruptError, match=re.escape(str(path))):
        data.read_idx(path)


def test_read_idx_non_uint8_type_code_is_rejected(tmp_path):
    path = tmp_path / "floats-idx1-ubyte"
    path.write_bytes(bytes([0, 0, 0x0D, 1]) + (1).to_bytes(4, "big") + bytes(4))
    with pytest.raises(DatasetCorruptError, match=re.escape(str(path))):
        data.read_idx(path)


def test_read_idx_truncated_header_raises_naming_the_file(tmp_path):
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 0x08, 3]) + (10).to_bytes(4, "big"))  # 1 of 3 sizes
    with pytest.raises(DatasetCorruptError, match=re.escape(str(path))):
        data.read_idx(path)


def test_read_idx_too_few_values_for_the_header_raises(tmp_path):
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((2, 3, 3), dtype=np.uint8))[:-1])
    with pytest.raises(DatasetCorruptError, match=re.escape(str(path))):
        data.read_idx(path)


def test_read_idx_more_values_than_the_header_raises(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.zeros(4, dtype=np.uint8)) + b"\x00")
    with pytest.raises(DatasetCorruptError, match=re.escape(str(path))):
        data.read_idx(path)


def test_read_idx_file_that_is_not_gzip_raises_naming_the_file(tmp_path):
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(idx_bytes(np.zeros(4, dtype=np.uint8)))  # raw bytes under a .gz name
    with pytest.raises(DatasetCorruptError, match=re.escape(str(path))):
        data.read_idx(path)


def test_read_idx_truncated_gzip_raises_naming_the_file(tmp_path):
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8)))[:-12])
    with pytest.raises(DatasetCorruptError, match=re.escape(str(path))):
        data.read_idx(path)


def test_read_idx_corrupt_deflate_stream_raises_naming_the_file(tmp_path):
    compressed = bytearray(gzip.compress(idx_bytes(np.arange(256, dtype=np.uint8).repeat(8))))
    compressed[15] ^= 0xFF  # inside the deflate stream, after the 10-byte gzip header
    compressed[20] ^= 0xFF
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(bytes(compressed))
    with pytest.raises(DatasetCorruptError, match=re.escape(str(path))):
        data.read_idx(path)


def test_read_idx_decompression_error_has_no_chained_traceback(tmp_path):
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(DatasetCorruptError) as info:
        data.read_idx(path)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__ is True


def test_read_idx_corrupt_error_is_a_dataset_error(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"nonsense")
    with pytest.raises(data.DatasetError):
        data.read_idx(path)


# --- search order -------------------------------------------------------------------------------


def test_loader_reads_the_synthetic_arrays_from_course_data_dir(sources, monkeypatch):
    write_synthetic_set(sources["course"])
    monkeypatch.setenv(data.DATA_DIR_ENV, str(sources["course"]))
    assert_synthetic(data.load_dataset("fashion_mnist"))


def test_loader_prefers_course_data_dir_over_debian_and_keras_cache(sources, reads, monkeypatch):
    for key in ("course", "debian", "keras"):
        write_synthetic_set(sources[key])
    monkeypatch.setenv(data.DATA_DIR_ENV, str(sources["course"]))
    data.load_dataset("fashion_mnist")
    assert {path.parent for path in reads} == {sources["course"]}


def test_loader_finds_fashion_mnist_subfolder_of_course_data_dir(sources, reads, monkeypatch):
    write_synthetic_set(sources["course"] / "fashion-mnist")
    write_synthetic_set(sources["debian"])
    monkeypatch.setenv(data.DATA_DIR_ENV, str(sources["course"]))
    assert_synthetic(data.load_dataset("fashion_mnist"))
    assert {path.parent for path in reads} == {sources["course"] / "fashion-mnist"}


def test_loader_prefers_debian_dir_over_keras_cache(sources, reads):
    write_synthetic_set(sources["debian"])
    write_synthetic_set(sources["keras"])
    assert_synthetic(data.load_dataset("fashion_mnist"))
    assert {path.parent for path in reads} == {sources["debian"]}


def test_loader_falls_back_to_keras_cache(sources, reads):
    write_synthetic_set(sources["keras"])
    assert_synthetic(data.load_dataset("fashion_mnist"))
    assert {path.parent for path in reads} == {sources["keras"]}


def test_loader_skips_an_incomplete_debian_dir(sources, reads):
    write_synthetic_set(sources["debian"], stems=STEMS[:3])
    write_synthetic_set(sources["keras"])
    data.load_dataset("fashion_mnist")
    assert {path.parent for path in reads} == {sources["keras"]}


def test_loader_reads_uncompressed_files(sources, reads):
    write_synthetic_set(sources["debian"], compressed=False)
    assert_synthetic(data.load_dataset("fashion_mnist"))
    assert {path.name for path in reads} == set(STEMS)


def test_loader_corrupt_file_in_first_source_raises_naming_it(sources, monkeypatch):
    write_synthetic_set(sources["course"])
    bad = write_idx(sources["course"] / "t10k-labels-idx1-ubyte.gz", np.array([0, 0, 0, 0]))
    write_synthetic_set(sources["debian"])
    monkeypatch.setenv(data.DATA_DIR_ENV, str(sources["course"]))
    with pytest.raises(DatasetCorruptError, match=re.escape(str(bad))):
        data.load_dataset("fashion_mnist")


def test_incomplete_course_data_dir_raises_not_found_naming_the_missing_file(
    sources, monkeypatch
):
    write_synthetic_set(sources["course"], stems=STEMS[:3])
    write_synthetic_set(sources["debian"])  # a complete fallback must not hide the mistake
    monkeypatch.setenv(data.DATA_DIR_ENV, str(sources["course"]))
    with pytest.raises(DatasetNotFoundError) as info:
        data.load_dataset("fashion_mnist")
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte" in message
    assert "train-images-idx3-ubyte" not in message
    assert data.DATA_DIR_ENV in message


def test_course_data_dir_with_tilde_is_expanded(sources, reads, monkeypatch):
    monkeypatch.setenv("HOME", str(sources["course"].parent))
    write_synthetic_set(sources["course"])
    monkeypatch.setenv(data.DATA_DIR_ENV, f"~/{sources['course'].name}")
    assert_synthetic(data.load_dataset("fashion_mnist"))
    assert {path.parent for path in reads} == {sources["course"]}


def test_incomplete_course_data_dir_with_tilde_names_only_the_missing_file(sources, monkeypatch):
    monkeypatch.setenv("HOME", str(sources["course"].parent))
    write_synthetic_set(sources["course"], stems=STEMS[1:])
    monkeypatch.setenv(data.DATA_DIR_ENV, f"~/{sources['course'].name}")
    with pytest.raises(DatasetNotFoundError) as info:
        data.load_dataset("fashion_mnist")
    assert "train-images-idx3-ubyte" in str(info.value)
    assert "t10k-labels-idx1-ubyte" not in str(info.value)


def test_nothing_found_and_download_failing_raises_one_clear_message(sources):
    with pytest.raises(DatasetNotFoundError) as info:
        data.load_dataset("fashion_mnist")
    message = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert data.DATA_DIR_ENV in message


def test_failed_download_error_has_no_chained_traceback(sources):
    with pytest.raises(DatasetNotFoundError) as info:
        data.load_dataset("fashion_mnist")
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__ is True


def test_loader_reads_what_a_successful_download_put_in_the_keras_cache(sources, monkeypatch):
    def download(*args, **kwargs):
        write_synthetic_set(sources["keras"])

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", download)
    assert_synthetic(data.load_dataset("fashion_mnist"))


def test_download_that_leaves_no_files_raises_not_found(sources, monkeypatch):
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", lambda: None)
    with pytest.raises(DatasetNotFoundError, match="apt-get install dataset-fashion-mnist"):
        data.load_dataset("fashion_mnist")


# --- mnist, digits, names -----------------------------------------------------------------------


def test_mnist_with_wrong_sha256_in_keras_cache_raises_naming_the_file(sources):
    path = sources["keras_home"] / "datasets" / "mnist.npz"
    path.parent.mkdir(parents=True)
    np.savez(path, x_train=np.zeros((1, 28, 28), np.uint8))
    with pytest.raises(DatasetCorruptError, match=re.escape(str(path))):
        data.load_dataset("mnist")


def test_mnist_missing_and_download_failing_raises_not_found_without_chain(sources):
    with pytest.raises(DatasetNotFoundError) as info:
        data.load_dataset("mnist")
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__ is True


def test_load_dataset_unknown_name_raises_value_error():
    with pytest.raises(ValueError, match="cifar10"):
        data.load_dataset("cifar10")


def test_digits_follows_the_keras_contract():
    (x_train, y_train), (x_test, y_test) = data.load_dataset("digits")
    assert x_train.shape[1:] == x_test.shape[1:] == (8, 8)
    assert x_train.dtype == y_train.dtype == x_test.dtype == y_test.dtype == np.uint8
    assert (len(x_train), len(x_test)) == (len(y_train), len(y_test))
    assert len(x_train) + len(x_test) == 1797
    assert set(np.unique(y_train)) == set(np.unique(y_test)) == set(range(10))


def test_real_fashion_mnist_from_the_debian_directory(monkeypatch):
    directory = data.DEBIAN_FASHION_MNIST_DIR
    if not data.FASHION_MNIST.complete_in(directory):
        if os.environ.get("CI"):
            pytest.fail(f"CI must have dataset-fashion-mnist installed in {directory}")
        pytest.skip(f"dataset-fashion-mnist is not installed in {directory}")
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    (x_train, y_train), (x_test, y_test) = data.load_dataset("fashion_mnist")
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert x_train.dtype == y_train.dtype == x_test.dtype == y_test.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10


def test_class_names_of_fashion_mnist():
    names = data.class_names("fashion_mnist")
    assert len(names) == 10
    assert (names[0], names[9]) == ("T-shirt/top", "Ankle boot")


@pytest.mark.parametrize("name", ["mnist", "digits"])
def test_class_names_of_digit_datasets_are_the_digits(name):
    assert data.class_names(name) == tuple("0123456789")


def test_class_names_unknown_name_raises_value_error():
    with pytest.raises(ValueError):
        data.class_names("imagenet")


# --- fill_keras_cache ---------------------------------------------------------------------------


@pytest.mark.parametrize("compressed", [True, False])
def test_fill_keras_cache_puts_gzip_files_where_keras_looks(sources, compressed):
    write_synthetic_set(sources["debian"], compressed=compressed)
    assert data.fill_keras_cache() == sources["keras"]
    assert sorted(p.name for p in sources["keras"].iterdir()) == sorted(f"{s}.gz" for s in STEMS)
    for stem in STEMS:  # Keras opens them with gzip
        assert gzip.decompress((sources["keras"] / f"{stem}.gz").read_bytes()) == \
            idx_bytes(SYNTHETIC[stem])


def test_fill_keras_cache_replaces_a_corrupt_cached_file_and_keeps_good_ones(sources):
    write_synthetic_set(sources["debian"])
    write_synthetic_set(sources["keras"])
    (sources["keras"] / f"{STEMS[0]}.gz").write_bytes(b"not gzip")
    good = sources["keras"] / f"{STEMS[1]}.gz"
    before = good.stat().st_mtime_ns
    data.fill_keras_cache()
    assert_synthetic(data.load_dataset())
    assert good.stat().st_mtime_ns == before
    assert not list(sources["keras"].glob("*.partial"))


def test_fill_keras_cache_refuses_a_corrupt_source(sources):
    write_synthetic_set(sources["debian"])
    write_idx(sources["debian"] / f"{STEMS[2]}.gz", SYNTHETIC[STEMS[3]])  # wrong content
    with pytest.raises(data.DatasetCorruptError, match=STEMS[2]):
        data.fill_keras_cache()


def test_fill_keras_cache_with_nothing_local_says_what_to_install(sources):
    with pytest.raises(data.DatasetNotFoundError, match="dataset-fashion-mnist"):
        data.fill_keras_cache()


def test_fill_keras_cache_accepts_an_already_filled_cache(sources):
    write_synthetic_set(sources["keras"])
    assert data.fill_keras_cache() == sources["keras"]


def test_fill_keras_cache_knows_only_fashion_mnist():
    with pytest.raises(ValueError, match="only knows 'fashion_mnist'"):
        data.fill_keras_cache("mnist")
