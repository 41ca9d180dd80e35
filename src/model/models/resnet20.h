// The CIFAR ResNet-20 of SPEC §4 in three modes: plain float (fp32_baseline), or every conv and
// the classifier ternary (strict_bitnet, chimera), optionally with the stem and classifier kept
// in float (first_last_fp32). Parameter and buffer names are the reference's, so state dicts
// move between the two implementations.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/rng.h"
#include "model/layers/batch_norm2d.h"
#include "model/layers/float_or_ternary.h"
#include "model/models/model_mode.h"
#include "model/models/model_stats.h"

namespace chimera {

struct ResNet20Options {
  ModelMode mode = ModelMode::chimera;
  bool first_last_fp32 = false;
  // Settings of every ternary layer; quant_mode is taken from `mode`.
  BitLayerOptions layer;
  int64_t num_classes = 10;
  int64_t in_channels = 3;  // image channels the stem takes (CIFAR-10: 3, Fashion-MNIST: 1)
};

// conv3x3 -> BN -> ReLU -> conv3x3 -> BN, plus the shortcut (identity, or 1x1 conv with the
// block's stride -> BN when the shape changes), then ReLU. Children: conv1, bn1, conv2, bn2 and
// shortcut.0 / shortcut.1.
class BasicBlock : public Module {
 public:
  BasicBlock(int64_t in_channels, int64_t out_channels, int64_t stride,
             const ResNet20Options& options, Rng& rng);

  void visit_children(const ChildFn& on_child) override;
  Var forward(const Var& x);

  ConvLayer conv1;
  BatchNorm2d bn1;
  ConvLayer conv2;
  BatchNorm2d bn2;
  std::optional<ConvLayer> shortcut_conv;
  std::optional<BatchNorm2d> shortcut_bn;
};

class ChimeraResNet20 : public Module {
 public:
  // Weights are drawn from `rng` in module order. Invalid layer settings are errors.
  ChimeraResNet20(const ResNet20Options& options, Rng& rng);

  void visit_children(const ChildFn& on_child) override;
  // x [N, in_channels, H, W] (CIFAR: 3 x 32 x 32) -> logits [N, num_classes]
  Var forward(const Var& x);

  const ResNet20Options& options() const { return options_; }
  // The ternary layers in module order, the classifier last (empty for fp32_baseline).
  const std::vector<TernaryLayer*>& quantized_layers() const { return quantized_; }
  ModelStats stats() const { return model_stats(quantized_); }

  // What the target-bits controller moves, on every ternary layer at once.
  void set_alpha_override(std::optional<double> alpha);
  void set_alpha_target(double alpha);

  ConvLayer conv1;
  BatchNorm2d bn1;
  std::vector<std::unique_ptr<BasicBlock>> layer1, layer2, layer3;
  LinearLayer fc;

 private:
  ResNet20Options options_;
  std::vector<TernaryLayer*> quantized_;
};

}  // namespace chimera
