"""train.learning.losses against hand-computed values (ω = 10 px, ε = 2 px; outputs are pixels / 120)."""
from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from train.learning.losses import distillation, hybrid_loss, mse_loss, nme68, wing, wing_loss  # noqa: E402


def _pair(errors_px: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """(1, 1560) target and prediction whose first coordinates differ by ``errors_px`` crop pixels."""
    y_true = np.full((1, 1560), 0.5, np.float32)
    y_pred = y_true.copy()
    y_pred[0, :len(errors_px)] += np.array(errors_px, np.float32) / 120.0
    return y_true, y_pred


@pytest.mark.parametrize(
    "x, expected",
    [(0.0, 0.0),
     (1.0, 4.0546511),  # 10 ln 1.5
     (-5.0, 12.5276297),  # 10 ln 3.5
     (20.0, 27.9175947),  # 20 − C, C = 10 − 10 ln 6 = −7.9175947
     (-30.0, 37.9175947)],
)
def test_wing_hand_values(x: float, expected: float) -> None:
    assert float(wing(tf.constant(x))) == pytest.approx(expected, abs=1e-4)


def test_wing_is_continuous_at_omega() -> None:
    below, at, above = (float(wing(tf.constant(v))) for v in (10.0 - 1e-4, 10.0, 10.0 + 1e-4))
    assert at == pytest.approx(17.9175947, abs=1e-4)  # 10 ln 6
    assert below == pytest.approx(at, abs=1e-3) and above == pytest.approx(at, abs=1e-3)


def test_losses_work_in_pixels_and_average_over_coordinates() -> None:
    y_true, y_pred = _pair([1.0, -5.0])
    wing_value = float(wing_loss(y_true, y_pred)[0])
    mse_value = float(mse_loss(y_true, y_pred)[0])
    assert wing_value == pytest.approx((4.0546511 + 12.5276297) / 1560, rel=1e-4)
    assert mse_value == pytest.approx((1.0 + 25.0) / 1560, rel=1e-4)
    assert float(hybrid_loss(y_true, y_pred)[0]) == pytest.approx(1.5 * wing_value + 0.5 * mse_value, rel=1e-5)


def test_nme68_by_hand() -> None:
    # 68-point box 60 × 15 px → √(w·h) = 30 px; every landmark off by (3, 4) px → 5 px → 16.67 %
    points = np.zeros((520, 3), np.float32)
    points[:68, 0] = np.linspace(30.0, 90.0, 68)
    points[:68, 1] = np.linspace(50.0, 65.0, 68)
    moved = points.copy()
    moved[:68, :2] += (3.0, 4.0)
    moved[68:] += 50.0  # the other 452 points do not count
    value = nme68(points.reshape(1, -1) / 120.0, moved.reshape(1, -1) / 120.0)
    assert float(value[0]) == pytest.approx(100.0 * 5.0 / 30.0, rel=1e-4)


def test_distillation_mixes_the_label_and_teacher_losses_by_lambda() -> None:
    # labels 0.5 everywhere; the teacher 2 px off on coordinate 0; the prediction 1 px off on
    # coordinate 1. MSE vs labels: 1 / 1560 px²; vs teacher: (4 + 1) / 1560 px².
    labels = np.full((1, 1560), 0.5, np.float32)
    teacher = labels.copy()
    teacher[0, 0] += 2.0 / 120.0
    pred = labels.copy()
    pred[0, 1] += 1.0 / 120.0
    targets = np.concatenate([labels, teacher], axis=1)
    assert float(distillation(mse_loss, 0.25)(targets, pred)[0]) == pytest.approx((0.75 * 1.0 + 0.25 * 5.0) / 1560, rel=1e-5)
    assert float(distillation(mse_loss, 0.0)(targets, pred)[0]) == pytest.approx(1.0 / 1560, rel=1e-5)
    # the metric reads the labels only: the teacher's 2-px offset does not count
    landmarks = np.zeros((520, 3), np.float32)
    landmarks[:68, 0] = np.linspace(30.0, 90.0, 68)
    landmarks[:68, 1] = np.linspace(50.0, 65.0, 68)
    flat = landmarks.reshape(1, -1) / 120.0
    assert float(nme68(np.concatenate([flat, flat + 0.1], axis=1), flat)[0]) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="teacher_weight"):
        distillation(mse_loss, 1.5)
