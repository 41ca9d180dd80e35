// `chimera bench resnet`: ResNet-20 training and inference throughput, the counterpart of
// ../shared/reference/torch_resnet20_bench.py (same model, Adam lr 1e-3, random batch, 3 warm-up
// and `steps` timed iterations). Each configuration runs in its own process so that its peak
// resident memory is its own.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "harness/log/jsonl.h"

namespace chimera {

struct BenchResnetOptions {
  int64_t batch = 128;
  int64_t steps = 10;
  int threads = 1;
  std::vector<std::string> modes{"fp32_baseline", "strict_bitnet", "chimera"};
  std::vector<std::string> activation_grads{"ste"};  // fp32_baseline has none: measured once
  bool json = false;
};

// One configuration in this process: {mode, activation_grad, batch, threads,
// train_images_per_s, eval_images_per_s, peak_rss_mb}.
Json bench_resnet_one(const std::string& mode, const std::string& activation_grad, int64_t batch,
                      int64_t steps, int threads);

// Every configuration, each in a child process (`self_exe bench resnet --one ...`); prints a
// table, or one JSON object per line with --json.
void bench_resnet(const BenchResnetOptions& options, const std::string& self_exe, std::ostream& out);

}  // namespace chimera
