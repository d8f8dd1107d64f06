"""Training losses and the validation metric, on the model's normalised outputs.

``y_true`` and ``y_pred`` are (B, 1560) float32 in the units of ``denseface.decode``: crop pixels / 120.
The losses first convert the difference back to crop pixels (× 120), so ω, ε and the MSE term are
stated in pixels of the 120-pixel crop, the scale at which Wing loss's published values apply:

* Wing (Feng et al., CVPR 2018), per coordinate x = prediction − target in crop pixels:
  ``wing(x) = ω · ln(1 + |x| / ε)`` if ``|x| < ω`` else ``|x| − C`` with ``C = ω − ω · ln(1 + ω / ε)``
  (C makes the two pieces meet at |x| = ω). ω = 10 px, ε = 2 px (the paper's values for crops of
  about this size; in normalised units ω = 10/120 ≈ 0.083, ε = 2/120 ≈ 0.017). Errors under 10 px get
  the log's large gradient (ω/ε = 5 at 0), larger ones a constant gradient of 1 like L1.
* MSE in crop pixels².
* Hybrid: ``1.5 · Wing + 0.5 · MSE``. In pixel units the two terms balance where it matters: the MSE
  term dominates early, when errors are tens of pixels, and Wing dominates below ~5 px. (In
  normalised units the MSE term would be 120× too small relative to Wing to matter.)
* Hybrid on hard examples (an ablation variant): each sample's hybrid loss weighted by that loss over
  the batch mean (the weight held constant for the gradient), so a sample twice as far off counts
  twice as much — the large-pose failures instead of the many faces already fitted.

* Distillation (the lite model, issue 14): ``y_true`` is (B, 3120), the labels followed by a teacher
  model's outputs on the same augmented crop; the loss is ``(1 − λ) · loss(labels) + λ · loss(teacher)``
  (:func:`distillation`). The teacher's outputs are smooth targets the student can actually reach,
  where the labels hold detail a network of a third of the teacher's cost cannot fit.

All losses are means over the 1560 coordinates and the batch. ``nme68`` is the validation metric:
the 3DDFA-protocol NME (``train.evaluation.metrics``) of the first 68 points in 2-D, in %, against
the labels (the first 1560 columns of ``y_true``, so it also reads distillation targets).
"""
from __future__ import annotations

import math
from typing import Callable

import tensorflow as tf

from denseface.crop import MODEL_INPUT
from denseface.decode import OUTPUT_SIZE
from denseface.topology import N_POINTS

WING_OMEGA = 10.0  # crop pixels
WING_EPSILON = 2.0  # crop pixels
HYBRID_WING_WEIGHT = 1.5
HYBRID_MSE_WEIGHT = 0.5
N_LANDMARKS = 68  # the iBUG 68 = the first 68 of the 520 points


def _pixel_error(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """(B, 1560) prediction − target in crop pixels (float32)."""
    return (tf.cast(y_pred, tf.float32) - tf.cast(y_true, tf.float32)) * float(MODEL_INPUT)


def wing(x: tf.Tensor, omega: float = WING_OMEGA, epsilon: float = WING_EPSILON) -> tf.Tensor:
    """Elementwise Wing function of errors ``x`` (crop pixels), same shape as ``x``."""
    c = omega - omega * math.log(1.0 + omega / epsilon)
    ax = tf.abs(x)
    return tf.where(ax < omega, omega * tf.math.log1p(ax / epsilon), ax - c)


def wing_loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """(B,) mean Wing loss per sample of normalised (B, 1560) outputs (ω = 10 px, ε = 2 px)."""
    return tf.reduce_mean(wing(_pixel_error(y_true, y_pred)), axis=-1)


def mse_loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """(B,) mean squared error per sample, crop pixels²."""
    return tf.reduce_mean(tf.square(_pixel_error(y_true, y_pred)), axis=-1)


def hybrid_loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """(B,) 1.5 · Wing + 0.5 · MSE per sample."""
    return HYBRID_WING_WEIGHT * wing_loss(y_true, y_pred) + HYBRID_MSE_WEIGHT * mse_loss(y_true, y_pred)


def hybrid_hard_loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """(B,) hybrid loss per sample × its share of the batch (loss / batch mean, no gradient)."""
    loss = hybrid_loss(y_true, y_pred)
    weight = tf.stop_gradient(loss / (tf.reduce_mean(loss) + 1e-6))
    return weight * loss


LOSSES: dict[str, Callable[[tf.Tensor, tf.Tensor], tf.Tensor]] = {
    "hybrid": hybrid_loss,
    "wing": wing_loss,
    "mse": mse_loss,
    "hybrid_hard": hybrid_hard_loss,
}


def distillation(loss: Callable[[tf.Tensor, tf.Tensor], tf.Tensor],
                 teacher_weight: float) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
    """``loss`` on (B, 3120) targets = labels ‖ teacher outputs: (B,) ``(1 − λ) · loss(labels, pred) +
    λ · loss(teacher, pred)`` with λ = ``teacher_weight`` in [0, 1]."""
    if not 0.0 <= teacher_weight <= 1.0:
        raise ValueError(f"teacher_weight must lie in [0, 1], got {teacher_weight}")

    def distilled(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        labels, teacher = y_true[:, :OUTPUT_SIZE], y_true[:, OUTPUT_SIZE:]
        return (1.0 - teacher_weight) * loss(labels, y_pred) + teacher_weight * loss(teacher, y_pred)

    distilled.__name__ = f"{loss.__name__}_distilled"
    return distilled


def nme68(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """(B,) NME in % of the 68 landmarks in 2-D: mean point-to-point distance divided by √(w·h) of the
    label's 68-point box (the 3DDFA protocol of ``train.evaluation.metrics``; units cancel)."""
    true = tf.reshape(tf.cast(y_true[:, :OUTPUT_SIZE], tf.float32), (-1, N_POINTS, 3))[:, :N_LANDMARKS, :2]
    pred = tf.reshape(tf.cast(y_pred, tf.float32), (-1, N_POINTS, 3))[:, :N_LANDMARKS, :2]
    size = tf.reduce_max(true, axis=1) - tf.reduce_min(true, axis=1)  # (B, 2) box width, height
    norm = tf.sqrt(size[:, 0] * size[:, 1])
    return 100.0 * tf.reduce_mean(tf.norm(pred - true, axis=-1), axis=-1) / norm
