#include "harness/experiments/cifar_ablation.h"

namespace chimera {

std::vector<Json> cifar_ablation(const TrainResnetArgs& base, std::ostream& out) {
  struct Run {
    const char *mode, *optimizer, *suffix;
  };
  const Run runs[] = {{"fp32_baseline", "sgd", "fp32_baseline"},
                      {"strict_bitnet", "chimera21", "strict_bitnet"},
                      {"chimera", "chimera21", "chimera_sparse"}};
  std::vector<Json> summaries;
  for (int64_t i = 0; i < 3; ++i) {
    TrainResnetArgs args = base;
    args.mode = runs[i].mode;
    args.optimizer = runs[i].optimizer;
    args.seed = base.seed + i;
    args.run_name = std::string("ablation_") + runs[i].suffix + "_seed" + std::to_string(args.seed);
    args.append_log = i > 0;  // one log: truncated by the first run only
    summaries.push_back(train_resnet(args, out).summary);
  }
  out << "[cifar_ablation] status=passed" << std::endl;
  return summaries;
}

}  // namespace chimera
