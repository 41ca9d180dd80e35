"""Runs and models through the module against the chimera program: a short training run gives
the CLI's records, evaluation the CLI's result, and inference on NumPy batches the logits the
CLI's evaluation scores (and a model file the checkpoint's logits, bit for bit)."""
import json
import subprocess

import numpy as np
import pytest

import chimera

# A few steps of the chimera ResNet-20 on Fashion-MNIST (Debian's dataset-fashion-mnist).
TRAIN = dict(dataset="fashion-mnist", epochs=1, max_batches=2, eval_max_batches=2, batch_size=16,
             eval_batch_size=16, threads=1, seed=11, mode="chimera", save_checkpoint=True,
             checkpoint_dir="ck", run_name="run")
# What differs between two runs by design: the clock.
VOLATILE = {"timestamp_utc", "train_images_per_s", "eval_images_per_s"}


def cli(binary, *args, cwd):
    done = subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def steady(records):
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in records]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same run twice: through the program, and through the module (in its own folder)."""
    import os
    binary = os.path.abspath(os.environ["CHIMERA_BINARY"])
    cli_dir, py_dir = tmp_path_factory.mktemp("cli"), tmp_path_factory.mktemp("py")
    cli(binary, "train-resnet", *chimera._flags(TRAIN), "--log-jsonl", "records.jsonl",
        "--no-progress", cwd=cli_dir)
    with open(cli_dir / "records.jsonl") as f:
        cli_records = [json.loads(line) for line in f]
    cwd = os.getcwd()
    os.chdir(py_dir)
    try:
        py_records = chimera.train_resnet(**TRAIN)
    finally:
        os.chdir(cwd)
    return binary, cli_dir, py_dir, cli_records, py_records


def test_training_through_the_module_gives_the_clis_records(runs):
    _, _, py_dir, cli_records, py_records = runs
    assert [r["record_type"] for r in py_records] == ["batch", "batch", "epoch", "eval", "final",
                                                      "summary"]
    assert steady(py_records) == steady(cli_records)
    assert (py_dir / "ck" / "run.safetensors").exists()


def test_eval_and_inference_on_numpy_batches_match_the_cli(runs):
    binary, cli_dir, _, _, _ = runs
    checkpoint = str(cli_dir / "ck" / "run.safetensors")
    want = json.loads(cli(binary, "eval", "--checkpoint", checkpoint, "--max-batches", "2",
                          "--json", cwd=cli_dir))
    assert chimera.eval(checkpoint=checkpoint, max_batches=2) == want

    model = chimera.load_model(checkpoint=checkpoint)
    assert model.kind == "resnet20"
    images, labels = chimera.load_dataset("fashion-mnist")["test"]
    assert images.dtype == np.float32 and images.shape[1:] == (1, 32, 32)
    # The CLI's evaluation: batches of the run's eval batch size, one activation scale each.
    logits = np.concatenate([model(images[i:i + 16]) for i in (0, 16)])
    assert logits.shape == (32, 10)
    correct = int((logits.argmax(axis=1) == labels[:32]).sum())
    assert correct / 32 == want["test_accuracy"] and want["examples"] == 32
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    loss = -(shifted[np.arange(32), labels[:32]] - np.log(np.exp(shifted).sum(axis=1))).mean()
    assert loss == pytest.approx(want["test_loss"], rel=1e-6)

    # The packed model file runs the integer kernels on 2-bit weights: the same logits.
    packed = str(cli_dir / "run.chimera")
    cli(binary, "export", "--checkpoint", checkpoint, "--out", packed, cwd=cli_dir)
    from_file = chimera.load_model(model=packed)
    for i in (0, 16):
        assert np.array_equal(from_file(images[i:i + 16]), model(images[i:i + 16]))


def test_run_errors_are_exceptions_and_repeated_runs_start_from_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(chimera.Error, match="--epochs|epochs"):
        chimera.train_resnet(epochs=-1, dataset="synthetic")
    with pytest.raises(chimera.Error, match="no-such-flag|no_such_flag"):
        chimera.train_resnet(no_such_flag=3)
    with pytest.raises(chimera.Error, match="missing.chimera"):
        chimera.load_model(model=str(tmp_path / "missing.chimera"))
    with pytest.raises(chimera.Error):
        chimera.load_model()
    # The second call gets no flag of the first (the commands' flags reset each time).
    a = chimera.train_resnet(dataset="synthetic", max_batches=1, eval_max_batches=1, seed=3,
                             mode="strict_bitnet", threads=1)
    b = chimera.train_resnet(dataset="synthetic", max_batches=1, eval_max_batches=1, threads=1)
    assert a[-1]["mode"] == "strict_bitnet" and b[-1]["mode"] == "chimera"
    assert "train-resnet" in chimera.cli_help("train-resnet") or "--epochs" in chimera.cli_help("train-resnet")


def test_language_models_carry_their_tokenizer():
    from pathlib import Path
    gguf = Path(__file__).resolve().parents[1] / "data" / "gguf" / "tiny256_llama_quantize_tq2_0.gguf"
    model = chimera.load_model(model=str(gguf))
    assert model.kind == "transformer_lm"
    ids = model.encode("hi\n")  # our byte vocabulary: token b is byte b, no start token
    assert ids == [104, 105, 10] and model.encode("hi", add_bos=True) == [104, 105]
    assert model.decode([104, 105, 10]) == b"hi\n"
    logits = model(np.array(ids, dtype=np.int64))
    assert logits.shape == (1, 3, 256)
    with pytest.raises(chimera.Error, match="outside|not a byte"):
        model.decode([300])
