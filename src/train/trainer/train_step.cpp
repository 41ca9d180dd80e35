#include "train/trainer/train_step.h"

#include "engine/ops/ops.h"

namespace chimera {

TrainStepResult train_step(ChimeraResNet20& model, Optimizer& optimizer, const Tensor& images,
                           const Tensor& labels, const std::function<void()>& before_update) {
  model.train();
  optimizer.zero_grad();
  const Var logits = model.forward(Var(images));
  const Var loss = cross_entropy(logits, labels);
  TrainStepResult result;
  result.loss = loss.value().item();
  result.correct = count_correct(logits.value(), labels);
  backward(loss);
  if (before_update) before_update();
  optimizer.step();
  result.stats = model.stats();
  return result;
}

int64_t count_correct(const Tensor& logits, const Tensor& labels) {
  CHIMERA_CHECK(logits.dim() == 2 && labels.dtype() == DType::i64 &&
                    labels.shape() == Shape{logits.shape()[0]},
                "count_correct: expected logits [batch, classes] and labels i64 [batch], got ",
                shape_str(logits.shape()), " and ", shape_str(labels.shape()));
  const int64_t n = logits.shape()[0], c = logits.shape()[1];
  const float* z = logits.f32();
  const int64_t* y = labels.data<int64_t>();
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = 0;
    for (int64_t j = 1; j < c; ++j)
      if (z[i * c + j] > z[i * c + best]) best = j;
    correct += best == y[i];
  }
  return correct;
}

}  // namespace chimera
