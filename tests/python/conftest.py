"""Shared by the pytest suite of the Python module: where the golden files and the chimera
program are. ctest sets PYTHONPATH to the build's python/ folder and CHIMERA_BINARY."""
import json
import os

import pytest

import chimera


def golden_dir():
    path = os.environ.get("CHIMERA_GOLDEN_DIR") or os.environ.get("CHIMERA_DEFAULT_GOLDEN_DIR")
    if not path:
        path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "golden")
    # A missing golden directory fails every golden test; it never skips them.
    assert os.path.isdir(path), f"golden directory {path} not found (set CHIMERA_GOLDEN_DIR)"
    return path


def load_golden(name):
    """(tensors, params) of a golden file: arrays and the parsed 'params' metadata."""
    tensors, metadata = chimera.read_safetensors(os.path.join(golden_dir(), name + ".safetensors"))
    return tensors, json.loads(metadata.get("params", "{}"))


def golden_names(prefix):
    return sorted(f[: -len(".safetensors")] for f in os.listdir(golden_dir())
                  if f.startswith(prefix) and f.endswith(".safetensors"))


@pytest.fixture
def chimera_binary():
    path = os.environ.get("CHIMERA_BINARY")
    assert path and os.access(path, os.X_OK), "CHIMERA_BINARY must name the built chimera program"
    return path
