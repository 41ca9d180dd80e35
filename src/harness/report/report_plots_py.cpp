#include "harness/report/report_plots_py.h"

namespace chimera {

const char* const kReportPlotsPy = R"PY(
import json, os, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import matplotlib.ticker

data = json.load(open(sys.argv[1]))
out = sys.argv[2]
runs = data["runs"]

def save(fig, name):  # under a temporary name, then renamed: never half a PNG
    fig.tight_layout()
    tmp = os.path.join(out, name + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, os.path.join(out, name))

def xy(points, scale=1.0):
    return [p[0] for p in points], [p[1] * scale for p in points]

def marker(points):  # short runs: mark each point, or one or two steps draw almost nothing
    return "o" if len(points) < 30 else None

# Test accuracy per epoch, one line per run.
fig, ax = plt.subplots(figsize=(6.4, 4.0))
for r in runs:
    if r["eval"]:
        x, y = xy(r["eval"], 100.0)
        ax.plot(x, y, marker="o", label=r["label"])
ax.set_xlabel("epoch"); ax.set_ylabel("test accuracy (%)"); ax.set_title("Test accuracy per epoch")
ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
ax.grid(alpha=0.3); ax.legend(fontsize=8)
save(fig, "test_accuracy.png")

# Training loss per batch.
fig, ax = plt.subplots(figsize=(6.4, 4.0))
for r in runs:
    x, y = xy(r["loss"])
    ax.plot(x, y, linewidth=0.8, marker=marker(r["loss"]), markersize=3, label=r["label"])
ax.set_xlabel("step"); ax.set_ylabel("training loss"); ax.set_title("Training loss per batch")
ax.grid(alpha=0.3); ax.legend(fontsize=8)
save(fig, "train_loss.png")

# Global zero share and alpha against the controller's target (ternary runs).
fig, (a1, a2) = plt.subplots(2, 1, figsize=(6.4, 6.0), sharex=True)
for r in runs:
    if not r["ternary"]:
        continue
    x, y = xy(r["zero_share"])
    line, = a1.plot(x, y, linewidth=0.9, label=r["label"])
    if r["target_zero_share"] is not None:
        a1.axhline(r["target_zero_share"], color=line.get_color(), linestyle="--", linewidth=0.8)
    x, y = xy(r["alpha"])
    a2.plot(x, y, linewidth=0.9, color=line.get_color(), label=r["label"])
a1.set_ylabel("global zero share"); a1.set_title("Zero share (dashed: controller target) and alpha")
a2.set_ylabel("alpha (mean over layers)"); a2.set_xlabel("step")
for a in (a1, a2):
    a.grid(alpha=0.3); a.legend(fontsize=8)
save(fig, "zero_share_alpha.png")

# Flip rate: share of ternary codes changed by each step.
fig, ax = plt.subplots(figsize=(6.4, 4.0))
for r in runs:
    if r["ternary"] and r["flip_rate"]:
        x, y = xy(r["flip_rate"], 100.0)
        ax.plot(x, y, linewidth=0.8, marker=marker(r["flip_rate"]), markersize=3, label=r["label"])
ax.set_xlabel("step"); ax.set_ylabel("codes flipped by the step (%)"); ax.set_yscale("log")
ax.set_title("Flip rate"); ax.grid(alpha=0.3, which="both")
if ax.get_legend_handles_labels()[0]:
    ax.legend(fontsize=8)
else:
    ax.text(0.5, 0.5, "no flip rates in these logs (logs before flip rates were recorded)",
            ha="center", va="center", transform=ax.transAxes)
save(fig, "flip_rate.png")

# Accuracy against effective bits; float runs as horizontal lines.
fig, ax = plt.subplots(figsize=(6.4, 4.0))
for r in runs:
    f = r["final"]
    if f["test_accuracy"] is None or (r["ternary"] and f["effective_bits"] is None):
        continue
    if r["ternary"]:
        ax.scatter([f["effective_bits"]], [100.0 * f["test_accuracy"]], s=40, label=r["label"], zorder=3)
        ax.annotate(r["mode"], (f["effective_bits"], 100.0 * f["test_accuracy"]),
                    textcoords="offset points", xytext=(5, 5), fontsize=8)
    else:
        ax.axhline(100.0 * f["test_accuracy"], color="gray", linestyle="--", label=r["label"] + " (float)")
ax.set_xlabel("effective bits per weight"); ax.set_ylabel("final test accuracy (%)")
ax.set_title("Accuracy against effective bits"); ax.grid(alpha=0.3); ax.legend(fontsize=8)
save(fig, "accuracy_vs_bits.png")

# Images per second per run, train and eval (runs whose logs carry them).
fig, ax = plt.subplots(figsize=(6.4, 4.0))
timed = [r for r in runs
         if r["final"]["train_images_per_s"] is not None or r["final"]["eval_images_per_s"] is not None]
if timed:
    pos = list(range(len(timed)))
    ax.bar([p - 0.2 for p in pos], [r["final"]["train_images_per_s"] or 0.0 for r in timed],
           width=0.4, label="train")
    ax.bar([p + 0.2 for p in pos], [r["final"]["eval_images_per_s"] or 0.0 for r in timed],
           width=0.4, label="eval")
    ax.set_xticks(pos); ax.set_xticklabels([r["label"] for r in timed], rotation=15, fontsize=8)
    ax.legend()
else:
    ax.text(0.5, 0.5, "no images/s in these logs (the reference's logs do not record them)",
            ha="center", va="center", transform=ax.transAxes)
ax.set_ylabel("images / s"); ax.set_title("Throughput"); ax.grid(alpha=0.3, axis="y")
save(fig, "images_per_s.png")
)PY";

}  // namespace chimera
