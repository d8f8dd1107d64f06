"""Faces out of the SDK: JSON-ready documents of a frame's faces, and meshes as Wavefront OBJ or PLY files.

JSON: :func:`frame_document` (one image, or one frame of a video: frame size, coordinate note and
``Face.to_dict()`` of every face).

Meshes (:func:`write_mesh`, the format by the file's extension; or :func:`write_obj`,
:func:`write_ply`): each face's 520 vertices and the topology's 985 triangles
(``denseface.topology``), with the topology's UVs (ICT-FaceKit's UV layout: the same texture
coordinates for every face, so a texture painted once fits all). Vertices are the face's points in
frame pixels with y negated: x right, y up, z towards the viewer — the right-handed, y-up frame that
Blender, MeshLab and other 3D tools read OBJ and PLY files in, so the mesh is not mirrored and lies
where the face is in the picture (seen from the front, the picture's top-left corner at the origin).
Triangles are counter-clockwise seen from the front, so their normals point out of the face.
OBJ: one object per face, the UVs once ("vt"). PLY (binary little-endian): one mesh of all faces'
vertices, each with its UV as the "s", "t" properties that MeshLab and Blender read.
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


def y_up(face: Face) -> np.ndarray:
    """(520, 3) float64 the mesh vertices of ``face``: its points in frame pixels with y negated
    (x right, y up, z towards the viewer; module docstring)."""
    return np.asarray(face.points, np.float64) * (1.0, -1.0, 1.0)


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
        lines.extend(f"v {x:.4f} {y:.4f} {z:.4f}" for x, y, z in y_up(face).tolist())
        # vertex indices after the faces before; texture indices are the shared "vt" block
        for a, b, c in (topology.triangles + 1).tolist():
            lines.append(f"f {a + i * n}/{a} {b + i * n}/{b} {c + i * n}/{c}")
    return "\n".join(lines) + "\n"


def write_obj(path: str | Path, faces: Sequence[Face]) -> None:
    """Write ``faces`` as a Wavefront OBJ file (:func:`obj_text`); no faces make a file without
    objects. Raises OSError when the file cannot be written."""
    Path(path).write_text(obj_text(faces))


def ply_bytes(faces: Sequence[Face]) -> bytes:
    """A binary little-endian PLY file of ``faces`` (module docstring): element "vertex" with float32
    x, y, z (frame pixels, y up) and s, t (the topology's UV), 520 per face in order; element
    "face", the topology's 985 triangles per face as "vertex_indices" (0-based, into all the
    vertices). No faces make a file with no vertices."""
    topology = load_topology()
    n = topology.mean_shape.shape[0]
    vertices = np.zeros(len(faces) * n, np.dtype([(name, "<f4") for name in ("x", "y", "z", "s", "t")]))
    for i, face in enumerate(faces):
        own = vertices[i * n:(i + 1) * n]
        own["x"], own["y"], own["z"] = y_up(face).T
        own["s"], own["t"] = topology.uv.T
    # each triangle is a list: its length (3, uchar) then three int32 indices
    triangles = np.zeros(len(faces) * topology.triangles.shape[0], np.dtype([("count", "u1"), ("corners", "<i4", 3)]))
    triangles["count"] = 3
    triangles["corners"] = (topology.triangles[None] + n * np.arange(len(faces))[:, None, None]).reshape(-1, 3)
    header = "\n".join([
        "ply", "format binary_little_endian 1.0",
        f"comment DenseFace: {len(faces)} face(s), {n} vertices and {topology.triangles.shape[0]} triangles each",
        "comment x right, y up (the frame's y negated), z towards the viewer; frame pixels",
        f"element vertex {vertices.size}",
        *(f"property float {name}" for name in vertices.dtype.names),
        f"element face {triangles.size}", "property list uchar int vertex_indices", "end_header"]) + "\n"
    return header.encode("ascii") + vertices.tobytes() + triangles.tobytes()


def write_ply(path: str | Path, faces: Sequence[Face]) -> None:
    """Write ``faces`` as a binary PLY file (:func:`ply_bytes`). Raises OSError when the file cannot be
    written."""
    Path(path).write_bytes(ply_bytes(faces))


MESH_WRITERS = {".obj": write_obj, ".ply": write_ply}  # by file extension, lower case


def write_mesh(path: str | Path, faces: Sequence[Face]) -> None:
    """Write ``faces`` as a mesh in the format of ``path``'s extension: .obj (:func:`write_obj`) or
    .ply (:func:`write_ply`), in any case.

    Raises:
        ValueError: another extension (nothing is written).
        OSError: the file cannot be written.
    """
    writer = MESH_WRITERS.get(Path(path).suffix.lower())
    if writer is None:
        raise ValueError(f"cannot write a mesh with extension {Path(path).suffix!r} ({path}); "
                         f"use {' or '.join(MESH_WRITERS)}")
    writer(path, faces)
