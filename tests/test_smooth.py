"""One-Euro filter: hand-computed steps, vectorisation, reset, timestamp checks."""
from __future__ import annotations

import numpy as np
import pytest

from denseface.smooth import OneEuroFilter, smoothing_factor

# α(1 Hz, Δt = 0.1 s) = 1 / (1 + 1 / (2π · 1 · 0.1)) = 1 / (1 + 1.5915494) = 0.38586955
ALPHA_1HZ_100MS = 0.38586955


def test_smoothing_factor_by_hand():
    assert smoothing_factor(1.0, 0.1) == pytest.approx(ALPHA_1HZ_100MS, abs=1e-8)


def test_first_sample_passes_then_low_pass_without_beta():
    f = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    assert f(np.array([0.0]), 0.0)[0] == 0.0
    # x̂1 = 0 + α · (1 − 0) = 0.38586955; x̂2 = x̂1 + α · (1 − x̂1) = 0.62284378
    assert f(np.array([1.0]), 100.0)[0] == pytest.approx(0.38586955, abs=1e-7)
    assert f(np.array([1.0]), 200.0)[0] == pytest.approx(0.62284378, abs=1e-7)


def test_beta_raises_the_cutoff_with_speed():
    f = OneEuroFilter(min_cutoff=1.0, beta=1.0, d_cutoff=1.0)
    f(np.array([0.0]), 0.0)
    # speed 1 / 0.1 s = 10; d̂x = α(1 Hz) · 10 = 3.8586955; cutoff = 1 + 3.8586955 = 4.8586955 Hz;
    # α(4.8587 Hz, 0.1 s) = 1 / (1 + 1 / (2π · 0.48586955)) = 0.75325752 = x̂1
    assert f(np.array([1.0]), 100.0)[0] == pytest.approx(0.75325752, abs=1e-7)


def test_vectorised_elements_are_independent():
    rng = np.random.default_rng(0)
    samples = rng.normal(size=(5, 520, 3)).astype(np.float32)
    together = OneEuroFilter(1.0, 0.5)
    alone = OneEuroFilter(1.0, 0.5)
    for i, x in enumerate(samples):
        out = together(x, 33.0 * i)
        assert out.dtype == np.float32 and out.shape == (520, 3)
        single = alone(x[7, 2:3], 33.0 * i)
    assert out[7, 2] == pytest.approx(float(single[0]), rel=1e-6)


def test_reset_forgets_the_past():
    f = OneEuroFilter(1.0, 0.0)
    f(np.zeros(3), 0.0)
    f(np.ones(3), 100.0)
    f.reset()
    np.testing.assert_array_equal(f(np.full(3, 5.0), 50.0), [5.0, 5.0, 5.0])  # any timestamp after reset


def test_constant_signal_is_unchanged():
    f = OneEuroFilter(1.0, 0.05)
    for i in range(10):
        out = f(np.full((520, 3), 42.0), 16.0 * i)
    np.testing.assert_allclose(out, 42.0)


@pytest.mark.parametrize("t", [100.0, 50.0])
def test_timestamps_must_increase(t):
    f = OneEuroFilter()
    f(np.zeros(2), 100.0)
    with pytest.raises(ValueError, match="not after"):
        f(np.zeros(2), t)


def test_shape_change_and_bad_parameters_are_rejected():
    f = OneEuroFilter()
    f(np.zeros(2), 0.0)
    with pytest.raises(ValueError, match="shape"):
        f(np.zeros(3), 10.0)
    with pytest.raises(ValueError):
        OneEuroFilter(min_cutoff=0.0)
    with pytest.raises(ValueError):
        OneEuroFilter(beta=-1.0)
