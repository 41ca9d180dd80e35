"""safetensors through the module: dicts of arrays both ways, and damaged files as errors."""
import os

import numpy as np
import pytest

import chimera


def test_round_trip_keeps_values_dtypes_and_metadata(tmp_path):
    tensors = {"w": np.arange(12, dtype=np.float32).reshape(3, 4), "i": np.array([1, -2], np.int64),
               "c": np.array([-1, 0, 1], np.int8), "d": np.array(2.5), "n": np.array([7], np.int32)}
    path = str(tmp_path / "t.safetensors")
    chimera.write_safetensors(path, tensors, {"note": "héllo"})
    back, meta = chimera.read_safetensors(path)
    assert meta == {"note": "héllo"}
    assert set(back) == set(tensors)
    for k, v in tensors.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape and np.array_equal(back[k], v)
    assert not [f for f in os.listdir(tmp_path) if ".tmp" in f]


def test_damaged_files_are_errors_naming_the_file(tmp_path):
    path = tmp_path / "bad.safetensors"
    chimera.write_safetensors(str(path), {"w": np.ones(4, np.float32)})
    data = path.read_bytes()
    path.write_bytes(data[:-3])  # truncated
    with pytest.raises(chimera.Error, match="bad.safetensors"):
        chimera.read_safetensors(str(path))
    path.write_bytes(b"\xff" * 8 + data[8:])  # absurd header length
    with pytest.raises(chimera.Error, match="bad.safetensors"):
        chimera.read_safetensors(str(path))
    with pytest.raises(chimera.Error, match="nowhere"):
        chimera.read_safetensors(str(tmp_path / "nowhere.safetensors"))
    with pytest.raises(TypeError, match="complex"):
        chimera.write_safetensors(str(tmp_path / "c.safetensors"), {"z": np.ones(2, np.complex64)})
