"""Chimera from Python: the C++ engine's quantizers, optimizers, ternary layers, models and
training runs, with NumPy arrays in and out.

    import chimera
    records = chimera.train_resnet(dataset="fashion-mnist", epochs=1, max_batches=50)
    model = chimera.load_model(checkpoint="outputs/checkpoints/run.safetensors")
    logits = model(images)

Every function calls the engine the `chimera` program uses, so results equal the CLI's (same
seed, same thread count, same build: identical). Errors raise chimera.Error (a RuntimeError)
with the engine's message; a wrong argument type raises TypeError.
"""
import json as _json
import os as _os
import tempfile as _tempfile

from ._chimera import (  # noqa: F401  (the engine's API, re-exported)
    Error, __version__, set_threads, threads,
    quantize_strict, quantize_threshold, ternary_stats, entropy_from_ratios, abs_stat,
    zero_ratio_for_entropy, TargetBitsController,
    Optimizer, Chimera21, Adam, AdamW, SGD,
    BitLinear, BitConv2d,
    read_safetensors, write_safetensors, load_dataset,
    Model, load_model,
    run_cli, cli_help,
)


def _flags(options):
    """Keyword arguments as the command's flags: epochs=2 -> --epochs 2, augment=True ->
    --augment, False or None -> left out, a list -> the flag followed by each item."""
    args = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            args.append(flag)
            args.extend(str(v) for v in value)
        else:
            args.append(flag)
            args.append(str(value))
    return args


def run(command, verbose=False, **options):
    """Runs `chimera <command> <flags>` in this process (command: 'train-resnet', 'export',
    'bench kernels', ...; options: the command's flags as keywords, see cli_help(command)).
    Returns what it printed; verbose=True also prints it."""
    text = run_cli(command.split() + _flags(options))
    if verbose and text:
        print(text, end="")
    return text


def _read_records(path):
    with open(path, encoding="utf-8") as f:
        return [_json.loads(line) for line in f if line.strip()]


def _as_frame(records):
    try:
        import pandas
    except ImportError as e:
        raise ImportError("as_frame=True needs pandas (apt-get install python3-pandas)") from e
    return pandas.DataFrame.from_records(records)


def _train(command, progress, verbose, as_frame, options):
    options.setdefault("no_progress", not progress)
    log = options.get("log_jsonl")
    with _tempfile.TemporaryDirectory(prefix="chimera_run_") as tmp:
        if log is None:
            # The records are what the run logs; without a log file of the caller's, a
            # temporary one (train-resnet writes no log unless asked).
            options["log_jsonl"] = _os.path.join(tmp, "records.jsonl")
        run(command, verbose=verbose, **options)
        records = _read_records(options["log_jsonl"])
    return _as_frame(records) if as_frame else records


def train_resnet(progress=False, verbose=False, as_frame=False, **options):
    """Trains the ResNet-20 as `chimera train-resnet` would, with its flags as keywords
    (dataset='fashion-mnist', epochs=3, mode='chimera', target_bits=1.32, save_checkpoint=True,
    seed=7, threads=2, config='configs/default.yaml', ...; cli_help('train-resnet') lists them).
    Returns the run's records (the JSONL log's lines) as a list of dicts, or a pandas DataFrame
    with as_frame=True. progress=True shows the progress line on stderr; verbose=True prints
    the console lines."""
    return _train("train-resnet", progress, verbose, as_frame, dict(options))


def train_lm(progress=False, verbose=False, as_frame=False, **options):
    """Trains the transformer language model as `chimera train-lm` would (config=, mode=,
    steps=, batch_size=, corpus=, ...; cli_help('train-lm')). Returns its records as
    train_resnet does."""
    return _train("train-lm", progress, verbose, as_frame, dict(options))


def eval(**options):  # noqa: A001  (the CLI's name)
    """Evaluates a checkpoint or model file as `chimera eval --json` (checkpoint= or model=,
    dataset=, batch_size=, max_batches=, ...): a dict such as {'test_loss', 'test_accuracy',
    'examples'} (language models: {'val_loss', 'val_bits_per_byte', ...})."""
    options["json"] = True
    lines = [line for line in run("eval", **options).splitlines() if line.strip()]
    return _json.loads(lines[-1])
