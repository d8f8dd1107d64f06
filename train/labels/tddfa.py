"""3DDFA_V2's MobileNetV1×0.5 (``mb05_120x120.onnx``, MIT) run by onnxruntime: BFM-consistent 68 points.

Used as a reference method and as a second teacher for BFM-definition 68 points. The recipe (crop,
input scaling, parameter de-standardisation, BFM 68-point reconstruction) is the one in the shared
data README.
"""
from __future__ import annotations

import pickle
from functools import cached_property

import cv2
import numpy as np

from train.data import BFM_REFERENCE, TDDFA_MB05, require

SIZE = 120


class TDDFA:
    """``predict(crop_bgr)`` → (68, 3) points in crop pixels (x right, y down; z as 3DDFA's, y-flipped frame)."""

    def __init__(self, num_threads: int = 1) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = num_threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(require(TDDFA_MB05 / "mb05_120x120.onnx")), opts, providers=["CPUExecutionProvider"]
        )
        with open(require(TDDFA_MB05 / "param_mean_std_62d_120x120.pkl"), "rb") as f:
            stats = pickle.load(f)
        self.mean, self.std = stats["mean"].astype(np.float64), stats["std"].astype(np.float64)

    @cached_property
    def bases(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        u = np.loadtxt(BFM_REFERENCE / "bfm68_u_base.txt").reshape(-1, 1)
        w_shp = np.loadtxt(BFM_REFERENCE / "bfm68_w_shp_base.txt").reshape(204, -1)
        w_exp = np.loadtxt(BFM_REFERENCE / "bfm68_w_exp_base.txt").reshape(204, -1)
        return u, w_shp, w_exp

    def predict(self, crop_bgr: np.ndarray) -> np.ndarray:
        """(68, 3) float32 landmarks in the pixels of a (120, 120, 3) uint8 BGR crop."""
        if crop_bgr.shape != (SIZE, SIZE, 3):
            crop_bgr = cv2.resize(crop_bgr, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)
        x = ((crop_bgr.astype(np.float32) - 127.5) / 128.0).transpose(2, 0, 1)[None]
        p = self.session.run(None, {"input": x})[0][0].astype(np.float64) * self.std + self.mean
        r_t = p[:12].reshape(3, 4)
        u, w_shp, w_exp = self.bases
        shape = (u + w_shp @ p[12:52, None] + w_exp @ p[52:62, None]).reshape(-1, 3).T  # (3, 68)
        v = r_t[:, :3] @ shape + r_t[:, 3:]
        v[0] -= 1
        v[2] -= 1
        v[1] = SIZE - v[1]
        return v.T.astype(np.float32)
