"""Faces out of the SDK: JSON-ready documents of a frame's faces, and meshes as Wavefront OBJ files.

JSON: :func:`frame_document` (one image, or one frame of a video: frame size, coordinate note and
``Face.to_dict()`` of every face).

OBJ (:func:`write_obj`): each face is an object of 520 vertices and the topology's 985 triangles
(``denseface.topology``), with the topology's UVs (ICT-FaceKit's UV layout: the same texture
coordinates for every face, so a texture painted once fits all). Vertices are the face's points in
frame pixels with y negated: x right, y up, z towards the viewer — the right-handed, y-up frame that
Blender, MeshLab and other 3D tools read OBJ files in, so the mesh is not mirrored and lies where the
face is in the picture (seen from the front, the picture's top-left corner at the origin).
Triangles are counter-clockwise seen from the front, so their normals point out of the face.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from denseface.face import Face
from denseface.topology import load_topology

COORDINATES = "frame pixels, x right, y down, z relative depth in pixels towards the camera"


def frame_document(faces: Sequence[Face], width: int, height: int, decimals: int | None = 2) -> dict:
    """A JSON-ready dict of one frame's faces: "width", "height" (pixels), "coordinates" (the frame
    the numbers are in, as words) and "faces": ``[face.to_dict(decimals) for face in faces]``."""
    return {"width": int(width), "height": int(height), "coordinates": COORDINATES,
            "faces": [face.to_dict(decimals) for face in faces]}


def obj_text(faces: Sequence[Face]) -> str:
    """The Wavefront OBJ text of ``faces`` (module docstring): the topology's 520 UVs once ("vt"),
    then per face an object "face_<i>" ("o") with 520 vertices ("v", 4 decimals) and 985 triangles
    ("f v/vt"; OBJ indices are 1-based and count the vertices of the faces before)."""
    topology = load_topology()
    lines = [f"# DenseFace: {len(faces)} face(s), {topology.triangles.shape[0]} triangles each",
             "# x right, y up (the frame's y negated), z towards the viewer; frame pixels",
             *(f"vt {u:.6f} {v:.6f}" for u, v in topology.uv.tolist())]
    n = topology.mean_shape.shape[0]
    for i, face in enumerate(faces):
        lines.append(f"o face_{i}")
        xyz = np.asarray(face.points, np.float64) * (1.0, -1.0, 1.0)
        lines.extend(f"v {x:.4f} {y:.4f} {z:.4f}" for x, y, z in xyz.tolist())
        # vertex indices after the faces before; texture indices are the shared "vt" block
        for a, b, c in (topology.triangles + 1).tolist():
            lines.append(f"f {a + i * n}/{a} {b + i * n}/{b} {c + i * n}/{c}")
    return "\n".join(lines) + "\n"


def write_obj(path: str | Path, faces: Sequence[Face]) -> None:
    """Write ``faces`` as a Wavefront OBJ file (:func:`obj_text`); no faces make a file without
    objects. Raises OSError when the file cannot be written."""
    Path(path).write_text(obj_text(faces))
