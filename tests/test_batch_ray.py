"""The batch job on Ray Data (denseface.batch_ray) in Ray's local mode: the same rows as the local
engine, bit for bit, and the same inputs reported. One Ray for the module (its start is the cost)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.dataset as pads
import pytest

from denseface import DenseFaceOptions
from denseface.batch import list_inputs, run_batch
from denseface.batch_ray import run_ray
from denseface.cli import main
from denseface.records import SCHEMA, points_array

from batch_inputs import make_inputs

ray = pytest.importorskip("ray", reason="Ray (the ray and test extras) is needed")

SORT = [("file", "ascending"), ("frame", "ascending"), ("face", "ascending")]


@pytest.fixture(scope="module")
def local_ray():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.usefixtures("local_ray")
def test_ray_engine_writes_the_local_engines_rows(tmp_path, capsys):
    folder = tmp_path / "in"
    inputs = make_inputs(folder)
    local = run_batch(list_inputs([folder]), tmp_path / "local", DenseFaceOptions(max_faces=2), workers=1)
    status = main(["batch", str(folder), "--out", str(tmp_path / "ray"), "--engine", "ray", "--workers", "2",
                   "--max-faces", "2"])
    assert status == 1  # two inputs cannot be read
    summary = capsys.readouterr().out
    assert "landmarked now         5" in summary and "failed (skipped)       2" in summary
    assert f"{inputs['broken']}: cannot read an image" in summary and f"{inputs['bad_video']}: cannot read" in summary
    assert f"note: {inputs['short']}: ended at frame" in summary
    expected = pads.dataset(tmp_path / "local").to_table().sort_by(SORT)
    got = pads.dataset(tmp_path / "ray").to_table().sort_by(SORT)
    assert got.schema == SCHEMA and got.num_rows == expected.num_rows == sum(r.faces for r in local)
    assert got.equals(expected)
    np.testing.assert_array_equal(points_array(got), points_array(expected))


def test_ray_engine_refuses_a_folder_with_earlier_rows(tmp_path):
    (tmp_path / "part-0.parquet").write_bytes(SCHEMA.empty_table().schema.serialize().to_pybytes())
    with pytest.raises(ValueError, match="already holds Parquet files"):
        run_ray([Path("any.jpg")], tmp_path, DenseFaceOptions())
