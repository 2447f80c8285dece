"""course_utils.flops: FLOP counts of dense layers and the matmul-rate measurement."""

from __future__ import annotations

import pytest

from course_utils import flops


def test_matmul_macs_of_the_baseline_mlp() -> None:
    assert flops.matmul_macs((784, 256, 128, 10)) == [200_704, 32_768, 1_280]


def test_forward_flops_are_two_per_multiply_add() -> None:
    assert flops.forward_flops((784, 256, 128, 10)) == 469_504


def test_training_flops_skip_the_first_layers_input_gradient() -> None:
    per_sample = flops.training_flops((784, 256, 128, 10))
    assert per_sample == 1_007_104
    assert per_sample == 3 * flops.forward_flops((784, 256, 128, 10)) - 2 * 200_704


@pytest.mark.parametrize("sizes", [(784,), (), (784, 0, 10)])
def test_layer_sizes_are_checked(sizes: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="layer sizes"):
        flops.matmul_macs(sizes)


def test_time_repeats_warms_up_once_then_times_each_call() -> None:
    calls = []
    seconds = flops.time_repeats(lambda: calls.append(1), repeats=3)
    assert len(calls) == 4 and len(seconds) == 3 and all(s >= 0 for s in seconds)
    with pytest.raises(ValueError):
        flops.time_repeats(lambda: None, repeats=0)


def test_numpy_matmul_rate_reports_a_positive_rate() -> None:
    rate = flops.numpy_matmul_rate(n=128, repeats=2)
    assert rate["n"] == 128 and len(rate["seconds"]) == 2
    assert rate["gflops_best"] >= rate["gflops_median"] > 0
