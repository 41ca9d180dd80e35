#include "train/trainer/evaluate.h"

#include "engine/ops/ops.h"
#include "train/data/batch_iterator.h"
#include "train/trainer/train_step.h"

namespace chimera {

EvalResult evaluate(ChimeraResNet20& model, const Dataset& data, int64_t batch_size,
                    int64_t max_batches) {
  const bool was_training = model.training();
  model.eval();
  NoGradGuard no_grad;
  BatchOptions options;
  options.batch_size = batch_size;
  options.max_batches = max_batches;
  BatchIterator batches(data, options, 0);
  double loss_sum = 0.0;
  int64_t correct = 0;
  EvalResult result;
  while (auto batch = batches.next()) {
    const Var logits = model.forward(Var(batch->images));
    const int64_t n = batch->labels.numel();
    loss_sum += cross_entropy(logits, batch->labels).value().item() * static_cast<double>(n);
    correct += count_correct(logits.value(), batch->labels);
    result.examples += n;
  }
  result.stats = model.stats();
  model.train(was_training);
  const double seen = static_cast<double>(std::max<int64_t>(result.examples, 1));
  result.loss = loss_sum / seen;
  result.accuracy = static_cast<double>(correct) / seen;
  return result;
}

}  // namespace chimera
