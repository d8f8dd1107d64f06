"""Tests of train.detector.quantize without ai-edge-quantizer: the float model it hands the quantizer
computes what MediaPipe's model computes, and the calibration frames are what its docstring says."""
from __future__ import annotations

import collections

import numpy as np
import pytest

from denseface.detect import DetectorOptions, FaceDetector, detector_path
from train.detector.quantize import SIGNATURE, calibration_frames, prepare_float_model


def test_prepared_float_model_has_the_original_outputs_fused_relus_and_a_signature() -> None:
    from ai_edge_litert.interpreter import Interpreter

    original = Interpreter(model_path=str(detector_path("short")))
    prepared = Interpreter(model_content=bytes(prepare_float_model(detector_path("short").read_bytes())))
    ops = collections.Counter(op["op_name"] for op in prepared._get_ops_details())
    assert ops["DEQUANTIZE"] == 0 and ops["RELU"] == 0 and ops["CONV_2D"] == 21 and ops["ADD"] == 16
    assert prepared.get_signature_list() == {SIGNATURE: {"inputs": ["input"], "outputs": ["classificators", "regressors"]}}
    x = np.random.default_rng(0).uniform(-1, 1, (1, 128, 128, 3)).astype(np.float32)
    outputs = []
    for interpreter in (original, prepared):
        interpreter.allocate_tensors()
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
        interpreter.invoke()
        outputs.append({d["name"]: interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()})
    # float16 -> float32 is exact and a fused RELU computes the same max(x, 0), so XNNPACK gives the same
    # numbers up to the order of its float sums
    for name in ("regressors", "classificators"):
        np.testing.assert_allclose(outputs[1][name], outputs[0][name], atol=1e-4)


@pytest.mark.usefixtures("shared_data")  # reads LFW
def test_calibration_frames_cycle_through_selfie_crops_and_grids_of_photos() -> None:
    frames = calibration_frames(10)
    assert [f.shape for f in frames] == [(100, 100, 3), (150, 150, 3), (300, 300, 3), (450, 450, 3), (600, 600, 3),
                                          (100, 100, 3), (150, 300, 3), (300, 450, 3), (450, 600, 3), (600, 750, 3)]
    assert all(f.dtype == np.uint8 for f in frames)
    assert not np.array_equal(frames[2][:150, :150], frames[2][:150, 150:])  # distinct photos in a grid
    assert FaceDetector(DetectorOptions(kind="short")).detect(frames[1])  # a real face: LFW, RGB
