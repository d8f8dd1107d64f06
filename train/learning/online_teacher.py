"""The real-photo teacher run online (``--real-online-teacher``): instead of a real row's fixed label,
the target of each augmented real crop is what the teacher reads on that very crop.

Per crop: one 3DDFA_V2 mb05 pass (``train.labels.tddfa``) on the augmented 120×120 crop (at scale 1
3DDFA's corner convention and our pixel-centre convention coincide: ``real_photos.teacher_pass``),
the ICT model fitted to its 68 3-D points as points of our topology (``real_photos.fit_teacher68``, as
``real_photos.label_photo``), and that surface's 520 points as the target (``denseface.decode.encode``).
Where the fit fails or is rejected the fixed label stays. Cost on one core of an AVX-512 host: 1.2 ms
for the pass and 3.7 ms for the fit per crop. The fixed labels average 16 passes (mirror and jitters),
the online one is a single pass: a target consistent with each augmented picture, at a single
pass's accuracy.
"""
from __future__ import annotations

import threading

import numpy as np

from denseface.decode import encode


class OnlineTeacher:
    """Re-labels a batch's real rows; called from several tf.data threads at once (the ONNX session
    runs concurrently; the counts are locked)."""

    def __init__(self) -> None:
        from train.labels.tddfa import TDDFA

        self.tddfa = TDDFA(num_threads=1)
        self.relabelled = 0
        self.kept = 0
        self._lock = threading.Lock()

    def __call__(self, images: np.ndarray, targets: np.ndarray, real: np.ndarray) -> np.ndarray:
        """``targets`` (B, 1560) float32 with each ``real`` (B,) bool row's replaced by the teacher's on
        its augmented crop in ``images`` (B, 120, 120, 3) float32 RGB 0..255."""
        from train.labels.ict import topology_points
        from train.labels.real_photos import fit_teacher68

        out = targets.copy()
        relabelled = 0
        for i in np.flatnonzero(real):
            bgr = np.ascontiguousarray(np.clip(images[i], 0.0, 255.0).astype(np.uint8)[:, :, ::-1])
            points68 = self.tddfa.predict(bgr).astype(np.float64)
            points68[:, 2] -= points68[:, 2].mean()
            try:
                fit, reject = fit_teacher68(points68)
            except (ValueError, np.linalg.LinAlgError):
                continue
            if reject is None:
                out[i] = encode(topology_points(fit.vertices))
                relabelled += 1
        with self._lock:
            self.relabelled += relabelled
            self.kept += int(np.count_nonzero(real)) - relabelled
        return out
