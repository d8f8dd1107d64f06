"""denseface.export and Face.to_dict: JSON-ready faces, and OBJ and PLY meshes read back by separate parsers."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from denseface.export import frame_document, obj_text, ply_bytes, write_mesh, write_obj
from denseface.face import json_ready, make_face
from denseface.topology import load_topology


def frontal_face(x: float = 200.0, y: float = 150.0, score: float = 0.9, track_id: int | None = None):
    """The topology's mean face, 10 px per cm, as frame points (y down, +z towards the camera)."""
    points = load_topology().mean_shape * np.float32([10.0, -10.0, 10.0]) + np.float32([x, y, 0.0])
    return make_face(points, score, track_id)


def read_obj(text: str) -> dict:
    """A minimal Wavefront OBJ reader (the subset of the format a mesh with UVs uses: o, v, vt, f v/vt),
    written from the format's definition: 1-based indices over all "v" / "vt" lines so far."""
    mesh = {"v": [], "vt": [], "objects": []}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        kind, *fields = line.split()
        if kind == "o":
            mesh["objects"].append({"name": fields[0], "f": [], "first_v": len(mesh["v"])})
        elif kind in ("v", "vt"):
            mesh[kind].append([float(v) for v in fields])
        elif kind == "f":
            corners = [tuple(int(i) for i in corner.split("/")) for corner in fields]
            mesh["objects"][-1]["f"].append(corners)
        else:
            raise AssertionError(f"unexpected OBJ line {line!r}")
    return mesh


PLY_TYPES = {"char": "i1", "uchar": "u1", "short": "i2", "ushort": "u2", "int": "i4", "uint": "u4",
             "float": "f4", "double": "f8", "int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2",
             "int32": "i4", "uint32": "u4", "float32": "f4", "float64": "f8"}


def read_ply(data: bytes) -> dict:
    """A minimal PLY reader, written from the format's definition (Turk's PLY: an ASCII header of
    "element NAME COUNT" lines, each followed by its "property TYPE NAME" or "property list
    COUNT_TYPE ITEM_TYPE NAME" lines, then the elements' rows in order, here binary little-endian).
    Returns {element: {property: (COUNT,) array, or a list of arrays for a list property}}."""
    head, _, body = data.partition(b"end_header\n")
    lines = head.decode("ascii").splitlines()
    assert lines[0] == "ply" and lines[1] == "format binary_little_endian 1.0", lines[:2]
    elements: list[tuple[str, int, list]] = []
    for line in lines[2:]:
        kind, *fields = line.split()
        if kind == "element":
            elements.append((fields[0], int(fields[1]), []))
        elif kind == "property":
            elements[-1][2].append(fields)
        else:
            assert kind == "comment", line
    view, at, mesh = memoryview(body), 0, {}
    for name, count, properties in elements:
        columns = {p[-1]: [] for p in properties}
        for _ in range(count):
            for p in properties:
                if p[0] == "list":
                    size = np.frombuffer(view, "<" + PLY_TYPES[p[1]], 1, at)[0]
                    at += np.dtype(PLY_TYPES[p[1]]).itemsize
                    item = np.dtype("<" + PLY_TYPES[p[2]])
                    columns[p[-1]].append(np.frombuffer(view, item, int(size), at))
                    at += item.itemsize * int(size)
                else:
                    columns[p[-1]].append(np.frombuffer(view, "<" + PLY_TYPES[p[0]], 1, at)[0])
                    at += np.dtype(PLY_TYPES[p[0]]).itemsize
        mesh[name] = {key: values if properties[[q[-1] for q in properties].index(key)][0] == "list"
                      else np.array(values) for key, values in columns.items()}
    assert at == len(body), "bytes left after the last element"
    return mesh


def test_to_dict_has_the_documented_keys_and_json_values():
    face = frontal_face(track_id=3)
    d = face.to_dict()
    assert list(d)[:7] == ["box", "score", "track_id", "pose", "points68", "points", "visibility"]
    assert json.loads(json.dumps(d)) == d  # plain JSON types only
    np.testing.assert_allclose(d["box"], face.box, atol=0.005)
    assert d["score"] == 0.9 and d["track_id"] == 3
    assert set(d["pose"]) == {"yaw", "pitch", "roll"} and all(abs(v) < 0.1 for v in d["pose"].values())
    assert np.asarray(d["points"]).shape == (520, 3) and np.asarray(d["points68"]).shape == (68, 3)
    np.testing.assert_allclose(d["points"], face.points, atol=0.005)
    assert d["points"][0] == [round(float(v), 2) for v in face.points[0]]
    np.testing.assert_allclose(d["visibility"], face.visibility, atol=0.005)
    assert d["visibility"][0] == round(float(face.visibility[0]), 2)
    exact = face.to_dict(decimals=None)
    np.testing.assert_array_equal(np.float32(exact["points"]), face.points)
    np.testing.assert_array_equal(np.float32(exact["visibility"]), face.visibility)


def test_to_dict_of_a_caller_box_face_in_image_mode():
    d = frontal_face(score=math.nan).to_dict()
    assert d["score"] is None and d["track_id"] is None
    assert '"score": null' in json.dumps(d)


def test_json_ready_replaces_non_finite_values_and_keeps_ints():
    value = {"a": np.float32([[1.234, np.nan], [np.inf, 2.0]]), "b": None, "c": np.int64(7), "d": (1, 2),
             "e": np.array([True, False]), "f": 1.0049}
    assert json_ready(value, 2) == {"a": [[1.23, None], [None, 2.0]], "b": None, "c": 7, "d": [1, 2],
                                    "e": [True, False], "f": 1.0}
    assert json_ready(np.float32(0.5), None) == 0.5


def test_frame_document_wraps_the_faces():
    faces = [frontal_face(), frontal_face(x=400.0)]
    doc = frame_document(faces, 640, 480)
    assert (doc["width"], doc["height"]) == (640, 480) and "y down" in doc["coordinates"]
    assert [f["box"] for f in doc["faces"]] == [f.to_dict()["box"] for f in faces]


def test_obj_holds_each_face_with_the_topology_triangles_and_uvs(tmp_path):
    topology = load_topology()
    faces = [frontal_face(), frontal_face(x=420.0, y=260.0)]
    path = tmp_path / "faces.obj"
    write_obj(path, faces)
    mesh = read_obj(path.read_text())
    n, m = topology.mean_shape.shape[0], topology.triangles.shape[0]
    assert len(mesh["v"]) == 2 * n and len(mesh["vt"]) == n
    np.testing.assert_allclose(mesh["vt"], topology.uv, atol=1e-6)
    assert [o["name"] for o in mesh["objects"]] == ["face_0", "face_1"]
    vertices = np.array(mesh["v"])
    for i, (obj, face) in enumerate(zip(mesh["objects"], faces)):
        corners = np.array(obj["f"])  # (985, 3 corners, (v, vt))
        assert corners.shape == (m, 3, 2) and obj["first_v"] == i * n
        np.testing.assert_array_equal(corners[:, :, 0] - 1 - i * n, topology.triangles)  # 1-based, offset
        np.testing.assert_array_equal(corners[:, :, 1] - 1, topology.triangles)  # the shared UVs
        own = vertices[i * n:(i + 1) * n]
        np.testing.assert_allclose(own, face.points * np.float32([1, -1, 1]), atol=6e-5)  # y up
        # the winding: seen from the front (+z), a frontal face's triangles turn counter-clockwise,
        # so their normals point at the viewer; only those on the sides of the nose and the face's
        # rim, which face sideways, may not
        a, b, c = (own[topology.triangles[:, k]] for k in range(3))
        towards_viewer = np.cross(b - a, c - a)[:, 2] > 0
        assert towards_viewer.mean() > 0.9


def test_obj_of_no_faces_has_no_objects():
    assert read_obj(obj_text([]))["objects"] == []


def test_obj_write_errors_are_os_errors(tmp_path):
    with pytest.raises(OSError):
        write_obj(tmp_path / "missing" / "faces.obj", [frontal_face()])


def test_ply_holds_each_face_with_the_topology_triangles_and_uvs(tmp_path):
    topology = load_topology()
    faces = [frontal_face(), frontal_face(x=420.0, y=260.0)]
    path = tmp_path / "faces.PLY"  # the extension in any case
    write_mesh(path, faces)
    mesh = read_ply(path.read_bytes())
    n, m = topology.mean_shape.shape[0], topology.triangles.shape[0]
    vertex, face_element = mesh["vertex"], mesh["face"]
    assert set(mesh) == {"vertex", "face"} and len(vertex["x"]) == 2 * n and len(face_element["vertex_indices"]) == 2 * m
    xyz = np.stack([vertex["x"], vertex["y"], vertex["z"]], 1)
    triangles = np.array(face_element["vertex_indices"])  # (2m, 3), 0-based over all vertices
    for i, face in enumerate(faces):
        np.testing.assert_array_equal(xyz[i * n:(i + 1) * n], face.points * np.float32([1, -1, 1]))  # y up, float32
        np.testing.assert_array_equal(triangles[i * m:(i + 1) * m] - i * n, topology.triangles)
        np.testing.assert_array_equal(np.stack([vertex["s"], vertex["t"]], 1)[i * n:(i + 1) * n], topology.uv)


def test_ply_of_no_faces_has_no_vertices():
    mesh = read_ply(ply_bytes([]))
    assert len(mesh["vertex"]["x"]) == 0 and len(mesh["face"]["vertex_indices"]) == 0


def test_write_mesh_picks_obj_by_extension_and_rejects_others(tmp_path):
    write_mesh(tmp_path / "face.obj", [frontal_face()])
    assert read_obj((tmp_path / "face.obj").read_text())["objects"][0]["name"] == "face_0"
    with pytest.raises(ValueError, match=r"extension '\.stl'.*\.obj or \.ply"):
        write_mesh(tmp_path / "face.stl", [frontal_face()])
    assert not (tmp_path / "face.stl").exists()
