// Evaluation on a split (SPEC §5): evaluation mode, no graph, mean cross entropy and accuracy
// over the examples seen; the model's quantizer state is never changed, and the model goes back
// to the mode it was in.
#pragma once

#include "model/models/resnet20.h"
#include "train/data/dataset.h"

namespace chimera {

struct EvalResult {
  double loss = 0;
  double accuracy = 0;
  int64_t examples = 0;
  ModelStats stats;  // of the evaluation forwards
};

EvalResult evaluate(ChimeraResNet20& model, const Dataset& data, int64_t batch_size,
                    int64_t max_batches);

}  // namespace chimera
