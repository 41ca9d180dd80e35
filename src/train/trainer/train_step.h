// One training step of SPEC §5: zero the gradients, forward in training mode, mean cross
// entropy, backward, optimizer step, then the model's ternary stats of that step's forward.
#pragma once

#include <functional>

#include "model/models/resnet20.h"
#include "train/optim/optimizer.h"

namespace chimera {

struct TrainStepResult {
  double loss = 0;      // mean cross entropy of the batch
  int64_t correct = 0;  // samples whose largest logit is their label
  ModelStats stats;     // of the forward of this step
};

// images [N, 3, H, W] f32, labels [N] i64. Leaves the model in training mode. `before_update`,
// when given, runs between backward and the optimizer step (data parallelism combines the
// ranks' gradients there).
TrainStepResult train_step(ChimeraResNet20& model, Optimizer& optimizer, const Tensor& images,
                           const Tensor& labels,
                           const std::function<void()>& before_update = {});

// Samples whose largest logit (the first one on ties, as torch.argmax) is their label.
int64_t count_correct(const Tensor& logits, const Tensor& labels);

}  // namespace chimera
