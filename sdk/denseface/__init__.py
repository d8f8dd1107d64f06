"""DenseFace: faces in a frame → 520 dense 3D landmarks per face, on device (LiteRT int8)."""

__version__ = "0.1.0"

from denseface.api import DenseFace, DenseFaceOptions, RunningMode  # noqa: E402
from denseface.face import Face  # noqa: E402

__all__ = ["DenseFace", "DenseFaceOptions", "Face", "RunningMode", "__version__"]
