// `chimera ablation`, the main job: what the optimizer, the quantizer and the integer execution
// layer each do, on real images. Three ResNet-20 runs on one dataset (default Fashion-MNIST):
// fp32_baseline (SGD), strict_bitnet (Chimera21) and chimera (Chimera21, sparse control at the
// target bits), all with straight-through activation gradients; then each checkpoint is
// exported as an entropy-coded model file, inspected, and evaluated from that file (packed
// weights, integer products), timed. One table per run: accuracy, loss, zero share, effective
// bits, the file's real bits per weight and size, train and eval images/s.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "harness/experiments/train_resnet.h"

namespace chimera {

struct AblationArgs {
  TrainResnetArgs base;   // dataset, epochs, batch sizes, caps, schedule, augmentation, seed
  double sgd_lr = 0.05;   // fp32_baseline (SGD, momentum 0.9)
  double ternary_lr = 0.002;  // strict_bitnet and chimera (Chimera21)
  std::string out_dir = "outputs/ablation";  // logs, checkpoints, model files, table
};

// The short schedule of the README's first command and the full one (--full).
AblationArgs short_ablation();
AblationArgs full_ablation();

// Runs everything; writes out_dir/ablation.jsonl (all three runs), out_dir/<mode>.safetensors,
// out_dir/<mode>.chimera, out_dir/table.md, out_dir/table.json and the report of the log in
// out_dir/report/ (index.html and its figures); prints the table and where the report is.
// Returns one row per run.
std::vector<Json> run_ablation(const AblationArgs& args, std::ostream& out);

// The rows as a Markdown table.
std::string format_ablation_table(const std::vector<Json>& rows);

}  // namespace chimera
