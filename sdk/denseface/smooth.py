"""The One-Euro filter (Casiez, Roussel, Vogel, CHI 2012), vectorised over any array shape.

Each element is filtered independently. For a sample x at time t (seconds), with Δt the time since
the previous sample and x̂, d̂x the previous filtered value and derivative:

    α(f)   = 1 / (1 + τ/Δt),  τ = 1 / (2π f)            smoothing factor of a cutoff f (Hz)
    dx     = (x − x̂) / Δt                               raw speed (units per second)
    d̂x    ← d̂x + α(d_cutoff) · (dx − d̂x)              smoothed speed
    f_c    = min_cutoff + beta · |d̂x|                   adaptive cutoff (Hz)
    x̂     ← x̂ + α(f_c) · (x − x̂)                     filtered value

The first sample (and the first after ``reset``) passes through unchanged with d̂x = 0. Slow motion
gets a low cutoff (less jitter), fast motion a high one (less lag). ``beta`` is in 1/(units): for
points in pixels, beta = 0.05 raises the cutoff by 1 Hz per 20 px/s of speed.
"""
from __future__ import annotations

import math

import numpy as np


def smoothing_factor(cutoff_hz: np.ndarray | float, dt_s: float, in_place: bool = False) -> np.ndarray:
    """α = 1 / (1 + τ/Δt) with τ = 1/(2π·cutoff): the weight of a new sample in the low-pass, as a
    float64 array of the cutoff's shape (0-d for a scalar cutoff). ``in_place``: ``cutoff_hz`` is a
    float64 array and α overwrites it (no temporaries)."""
    alpha = cutoff_hz if in_place else np.array(cutoff_hz, np.float64)
    alpha *= 2.0 * math.pi
    np.reciprocal(alpha, out=alpha)  # τ
    alpha /= dt_s
    alpha += 1.0
    return np.reciprocal(alpha, out=alpha)


class OneEuroFilter:
    """One-Euro filter of arrays of a fixed shape, timestamps in milliseconds.

    Not thread-safe (it keeps state): one filter per stream.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.05, d_cutoff: float = 1.0) -> None:
        """Args:
            min_cutoff: cutoff frequency at rest, Hz (> 0): lower = smoother, more lag when slow.
            beta: cutoff increase per unit of speed (units/s), >= 0: higher = less lag when fast.
            d_cutoff: cutoff of the speed estimate, Hz (> 0).

        Raises:
            ValueError: a parameter out of range.
        """
        if not min_cutoff > 0 or not d_cutoff > 0:
            raise ValueError(f"min_cutoff and d_cutoff must be > 0 Hz, got {min_cutoff} and {d_cutoff}")
        if not beta >= 0:
            raise ValueError(f"beta must be >= 0, got {beta}")
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self.reset()

    def reset(self) -> None:
        """Forget the past: the next sample passes through unchanged."""
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None
        self._time_ms: float | None = None

    def __call__(self, value: np.ndarray, timestamp_ms: float) -> np.ndarray:
        """Filter one sample; returns the filtered array (float64 computation, ``value``'s float dtype).

        Raises:
            ValueError: ``timestamp_ms`` not greater than the previous one, or ``value``'s shape
                differs from the previous sample's.
        """
        value = np.asarray(value)
        out_dtype = value.dtype if np.issubdtype(value.dtype, np.floating) else np.dtype(np.float64)
        x = value.astype(np.float64)
        if self._value is None:
            self._value, self._speed, self._time_ms = x.copy(), np.zeros_like(x), float(timestamp_ms)
            return x.astype(out_dtype)
        if not timestamp_ms > self._time_ms:
            raise ValueError(f"timestamp {timestamp_ms} ms is not after the previous one ({self._time_ms} ms)")
        if x.shape != self._value.shape:
            raise ValueError(f"sample shape {x.shape} differs from the filter's {self._value.shape}; reset() first")
        dt = (float(timestamp_ms) - self._time_ms) / 1000.0
        # the module docstring's formulas, operation for operation, in place (no per-sample temporaries)
        change = np.subtract(x, self._value)  # x − x̂
        step = np.divide(change, dt)  # dx, then α(d_cutoff)·(dx − d̂x)
        step -= self._speed
        step *= smoothing_factor(self.d_cutoff, dt)
        self._speed += step
        cutoff = np.abs(self._speed, out=step)  # f_c = min_cutoff + beta·|d̂x|
        cutoff *= self.beta
        cutoff += self.min_cutoff
        change *= smoothing_factor(cutoff, dt, in_place=True)
        self._value += change
        self._time_ms = float(timestamp_ms)
        return self._value.astype(out_dtype)
