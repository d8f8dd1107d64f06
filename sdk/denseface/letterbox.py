"""The detector's input: a frame fitted into a square model input, keeping its aspect (resize, then
centre padding with black), and the way back from the model's normalised coordinates to frame pixels.

Frames: frame pixels in OpenCV's convention (x right, y down, pixel centres at integers); the model's
normalised [0, 1] coordinates have 0 and 1 at the outer edges of its input.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SHRINK_INTERPOLATION = cv2.INTER_AREA
"""cv2.resize interpolation of :meth:`Letterbox.apply` when it shrinks the frame (enlarging is always
INTER_LINEAR; INTER_AREA by an odd whole factor is computed as a box blur, the same bytes). On a
640×480 frame fresh from memory INTER_AREA costs ~0.5 ms (as the box blur 0.17 ms) against 0.1 ms
for INTER_LINEAR (benchmarks/README.md), but the aliasing of INTER_LINEAR loses faces: 27 missed
instead of 16 end to end on AFLW2000-3D's 450×450 originals (``python -m benchmarks.detector``)."""


@dataclass(frozen=True)
class Letterbox:
    """How a frame was fitted into the square model input (resize keeping aspect, then centre padding).

    A frame pixel x maps to input pixel (x + 0.5) * scale_x - 0.5 + pad_x (both pixel-centre
    coordinates; same for y). scale_x and scale_y differ only by the rounding of the resized size.

    Attributes:
        scale_x, scale_y: input pixels per frame pixel.
        pad_x, pad_y: padding columns left of / rows above the resized frame, input pixels.
        input_size: side of the model input, pixels.
    """

    scale_x: float
    scale_y: float
    pad_x: int
    pad_y: int
    input_size: int

    @staticmethod
    def fit(height: int, width: int, input_size: int) -> "Letterbox":
        """The letterbox of an (height, width) frame for a square model input of side ``input_size``."""
        side = max(height, width)
        new_width = max(1, round(width * input_size / side))
        new_height = max(1, round(height * input_size / side))
        return Letterbox(
            scale_x=new_width / width,
            scale_y=new_height / height,
            pad_x=(input_size - new_width) // 2,
            pad_y=(input_size - new_height) // 2,
            input_size=input_size,
        )

    def apply(self, frame: np.ndarray, out: np.ndarray | None = None, blurred: np.ndarray | None = None) -> np.ndarray:
        """(H, W, 3) uint8 frame -> (input_size, input_size, 3) uint8, black padding.

        Args:
            frame: the frame this letterbox was fitted to.
            out: an (input_size, input_size, 3) uint8 array to fill and return instead of a new one
                (a detector reuses one per frame).
            blurred: an array of the frame's shape and dtype that the box blur of an odd whole
                factor may write into instead of a new frame-sized array (a detector reuses one).
        """
        height, width = frame.shape[:2]
        new_width, new_height = round(width * self.scale_x), round(height * self.scale_y)
        factor = width // new_width
        if (SHRINK_INTERPOLATION == cv2.INTER_AREA and factor % 2 == 1 and factor > 1
                and new_width * factor == width and new_height * factor == height):
            # INTER_AREA by an odd whole factor k (640×480 → 128×96: k = 5) is the mean of k×k blocks,
            # i.e. cv2.blur's box mean at the blocks' centres: the same bytes (an odd area has no
            # rounding ties), ~3× faster (OpenCV's area resize has vector code for k = 2 only)
            resized = cv2.blur(frame, (factor, factor), dst=blurred)[factor // 2::factor, factor // 2::factor]
        else:
            interpolation = SHRINK_INTERPOLATION if new_width < width else cv2.INTER_LINEAR
            resized = cv2.resize(frame, (new_width, new_height), interpolation=interpolation)
        canvas = np.empty((self.input_size, self.input_size, 3), np.uint8) if out is None else out
        # only the padding is cleared: a reused canvas may hold another frame's pixels there
        canvas[: self.pad_y] = 0
        canvas[self.pad_y + new_height :] = 0
        canvas[:, : self.pad_x] = 0
        canvas[:, self.pad_x + new_width :] = 0
        canvas[self.pad_y : self.pad_y + new_height, self.pad_x : self.pad_x + new_width] = resized
        return canvas

    def normalised_to_frame(self, points: np.ndarray) -> np.ndarray:
        """(..., 2) points normalised to the model input (0, 1 = its edges) -> frame pixels, float32."""
        input_pixels = np.asarray(points, dtype=np.float32) * self.input_size - 0.5
        x = (input_pixels[..., 0] - self.pad_x + 0.5) / self.scale_x - 0.5
        y = (input_pixels[..., 1] - self.pad_y + 0.5) / self.scale_y - 0.5
        return np.stack([x, y], axis=-1).astype(np.float32)
