"""train.learning.model: the shape-prior head and the transfer of a linear head's weights into it."""
from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from train.learning.model import build_model, transfer_weights  # noqa: E402


def _random_linear_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = build_model(np.full(1560, 0.5, np.float32))
    kernel, bias = model.get_layer("points").get_weights()
    rng = np.random.default_rng(0)
    model.get_layer("points").set_weights([rng.normal(0, 0.01, kernel.shape), rng.normal(0.5, 0.1, bias.shape)])
    return model


def test_a_full_rank_shape_prior_reproduces_the_linear_head() -> None:
    """With all 1560 directions the projection loses nothing: the same outputs."""
    source = _random_linear_model()
    rng = np.random.default_rng(1)
    basis = np.linalg.qr(rng.normal(size=(1560, 1560)))[0].T.astype(np.float32)
    target = build_model(rng.normal(size=1560).astype(np.float32), pca=basis)
    transfer_weights(source, target)
    x = rng.uniform(0, 255, (2, 120, 120, 3)).astype(np.float32)
    np.testing.assert_allclose(target(x, training=False), source(x, training=False), atol=1e-5)


def test_a_low_rank_shape_prior_outputs_lie_in_its_span() -> None:
    """With K directions the outputs are mean + K-dimensional combinations, and the head's fixed layer
    is not trained."""
    source = _random_linear_model()
    rng = np.random.default_rng(2)
    basis = np.linalg.qr(rng.normal(size=(1560, 8)))[0].T.astype(np.float32)  # (8, 1560)
    mean = rng.normal(size=1560).astype(np.float32)
    target = build_model(mean, pca=basis)
    transfer_weights(source, target)
    assert not target.get_layer("points").trainable
    out = target(rng.uniform(0, 255, (3, 120, 120, 3)).astype(np.float32), training=False).numpy()
    residual = (out - mean) - (out - mean) @ basis.T @ basis
    assert np.abs(residual).max() < 1e-4
    with pytest.raises(ValueError, match="needs mean_output"):
        build_model(pca=basis)


def test_a_shape_prior_folds_into_the_linear_head_exactly() -> None:
    """The export's fold: one Dense(1560) with W = C · P and b = c₀ · P + mean gives the same outputs."""
    rng = np.random.default_rng(3)
    basis = np.linalg.qr(rng.normal(size=(1560, 16)))[0].T.astype(np.float32)
    prior = build_model(rng.normal(0.5, 0.1, 1560).astype(np.float32), pca=basis)
    kernel, bias = prior.get_layer("shape_coefficients").get_weights()
    prior.get_layer("shape_coefficients").set_weights([rng.normal(0, 0.05, kernel.shape), rng.normal(0, 0.1, bias.shape)])
    linear = build_model()
    transfer_weights(prior, linear)
    x = rng.uniform(0, 255, (2, 120, 120, 3)).astype(np.float32)
    np.testing.assert_allclose(linear(x, training=False), prior(x, training=False), atol=1e-5)
