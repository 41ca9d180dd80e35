"""Chimera from Python in ten lines: train the ternary ResNet-20 on Fashion-MNIST, evaluate
it, run it on a NumPy batch, and plot the training loss.

    PYTHONPATH=build/python python3 examples/quickstart.py            # about a minute
    PYTHONPATH=build/python python3 examples/quickstart.py --max-batches 5 --out /tmp/q
"""
import argparse
import os

import matplotlib
matplotlib.use("Agg")  # writes a file; no display needed
import matplotlib.pyplot as plt
import numpy as np

import chimera

parser = argparse.ArgumentParser()
parser.add_argument("--max-batches", type=int, default=200)
parser.add_argument("--out", default="outputs/quickstart")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
ckpt_dir = os.path.join(args.out, "checkpoints")

# The ten lines:
records = chimera.train_resnet(dataset="fashion-mnist", mode="chimera", epochs=1, batch_size=64,
                               max_batches=args.max_batches, eval_max_batches=10, seed=7,
                               save_checkpoint=True, checkpoint_dir=ckpt_dir, run_name="quickstart")
result = chimera.eval(checkpoint=os.path.join(ckpt_dir, "quickstart.safetensors"), max_batches=10)
model = chimera.load_model(checkpoint=os.path.join(ckpt_dir, "quickstart.safetensors"))
images, labels = chimera.load_dataset("fashion-mnist")["test"]
predicted = model(images[:64]).argmax(axis=1)
batches = [r for r in records if r["record_type"] == "batch"]
plt.plot([r["step"] for r in batches], [r["loss"] for r in batches])
plt.xlabel("step"), plt.ylabel("training loss"), plt.title("ternary ResNet-20, Fashion-MNIST")
plt.savefig(os.path.join(args.out, "loss.png"))

print(f"test accuracy {result['test_accuracy']:.4f} on {result['examples']} images; "
      f"first 64: {np.mean(predicted == labels[:64]):.4f}; "
      f"effective bits {model.stats()['effective_bits']:.3f}; plot {args.out}/loss.png")
