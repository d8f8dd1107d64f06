"""Where the shared data and the generated caches live.

``SHARED_DATA`` is ``../shared/data`` beside the repository (override with ``DENSEFACE_SHARED_DATA``).
``CACHE`` holds everything generated (teacher outputs, datasets, checkpoints): ``~/.cache/denseface``
(override with ``DENSEFACE_CACHE``). Nothing under either is ever committed.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("DENSEFACE_SHARED_DATA", REPO.parent / "shared" / "data"))
CACHE = Path(os.environ.get("DENSEFACE_CACHE", Path.home() / ".cache" / "denseface"))

ICT_NPZ = SHARED_DATA / "ict_face_model" / "ict_face_model.npz"
MEDIAPIPE_GEOMETRY = SHARED_DATA / "mediapipe_face_geometry"
BFM_REFERENCE = SHARED_DATA / "bfm_reference"
AFLW2000 = SHARED_DATA / "aflw2000_3d"
AFLW_DEV = SHARED_DATA / "aflw_dev"
LFW = SHARED_DATA / "lfw"
TDDFA_MB05 = SHARED_DATA / "reference_models" / "3ddfa_v2_mb05"


def require(path: Path) -> Path:
    """Return ``path`` if it exists, else raise FileNotFoundError saying what is expected there."""
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: the shared data is expected in ../shared/data beside the repository "
            "(or set DENSEFACE_SHARED_DATA)"
        )
    return path
