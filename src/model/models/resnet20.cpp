#include "model/models/resnet20.h"

#include "engine/ops/ops.h"

namespace chimera {

namespace {

BitLayerOptions ternary_options(const ResNet20Options& o) {
  BitLayerOptions layer = o.layer;
  layer.quant_mode =
      o.mode == ModelMode::strict_bitnet ? QuantMode::strict_bitnet : QuantMode::chimera;
  return layer;
}

// Square kernel, no bias; padding keeps 3x3 convs "same" size before the stride.
ConvLayer make_conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, bool float_layer,
                    const ResNet20Options& o, Rng& rng) {
  Conv2dParams p;
  p.stride_h = p.stride_w = stride;
  p.pad_h = p.pad_w = kernel / 2;
  ConvLayer layer;
  if (float_layer || o.mode == ModelMode::fp32_baseline)
    layer.plain = std::make_unique<Conv2d>(in, out, kernel, p, false, rng);
  else
    layer.ternary = std::make_unique<BitConv2d>(in, out, kernel, p, false, ternary_options(o), rng);
  return layer;
}

LinearLayer make_classifier(const ResNet20Options& o, Rng& rng) {
  CHIMERA_CHECK(o.num_classes > 0, "num_classes must be positive, got ", o.num_classes);
  LinearLayer layer;
  if (o.first_last_fp32 || o.mode == ModelMode::fp32_baseline)
    layer.plain = std::make_unique<Linear>(64, o.num_classes, true, rng);
  else
    layer.ternary = std::make_unique<BitLinear>(64, o.num_classes, true, ternary_options(o), rng);
  return layer;
}

std::vector<std::unique_ptr<BasicBlock>> make_stage(int64_t in, int64_t out, int64_t stride,
                                                    const ResNet20Options& o, Rng& rng) {
  std::vector<std::unique_ptr<BasicBlock>> blocks;
  blocks.push_back(std::make_unique<BasicBlock>(in, out, stride, o, rng));
  for (int b = 1; b < 3; ++b) blocks.push_back(std::make_unique<BasicBlock>(out, out, 1, o, rng));
  return blocks;
}

void visit_stage(const char* name, std::vector<std::unique_ptr<BasicBlock>>& stage,
                 const Module::ChildFn& on_child) {
  for (size_t b = 0; b < stage.size(); ++b)
    on_child(std::string(name) + "." + std::to_string(b), *stage[b]);
}

// relu?(bn(conv(x)) + residual?). In inference (eval mode, no gradient recorded) a ternary
// convolution applies the BatchNorm, the residual add and the ReLU in its epilogue, bit-identical
// to the ops one by one and without the passes over memory in between.
Var conv_bn(ConvLayer& conv, BatchNorm2d& bn, const Var& x, const Var* residual, bool with_relu) {
  if (conv.ternary && !conv.ternary->training() && !bn.training() && !grad_enabled()) {
    std::vector<float> mul, shift;
    bn.eval_affine(mul, shift);
    AccScale post;
    post.bn_mul = mul.data();
    post.bn_add = shift.data();
    post.relu = with_relu;
    if (residual) post.residual = residual->value().f32();
    Var y = conv.ternary->forward_fused(x, post);
    CHIMERA_CHECK(!residual || residual->shape() == y.shape(), "residual shape ",
                  shape_str(residual->shape()), " differs from the block output ",
                  shape_str(y.shape()));
    return y;
  }
  if (with_relu) return bn.forward_relu(conv.forward(x), residual);  // one pass, bit-identical
  Var y = bn.forward(conv.forward(x));
  return residual ? add(y, *residual) : y;
}

Var run_stage(std::vector<std::unique_ptr<BasicBlock>>& stage, Var x) {
  for (auto& block : stage) x = block->forward(x);
  return x;
}

}  // namespace

BasicBlock::BasicBlock(int64_t in, int64_t out, int64_t stride, const ResNet20Options& o, Rng& rng)
    : conv1(make_conv(in, out, 3, stride, false, o, rng)),
      bn1(out),
      conv2(make_conv(out, out, 3, 1, false, o, rng)),
      bn2(out) {
  if (stride != 1 || in != out) {
    shortcut_conv = make_conv(in, out, 1, stride, false, o, rng);
    shortcut_bn.emplace(out);
  }
}

void BasicBlock::visit_children(const ChildFn& on_child) {
  on_child("conv1", conv1.module());
  on_child("bn1", bn1);
  on_child("conv2", conv2.module());
  on_child("bn2", bn2);
  if (shortcut_conv) {
    on_child("shortcut.0", shortcut_conv->module());
    on_child("shortcut.1", *shortcut_bn);
  }
}

Var BasicBlock::forward(const Var& x) {
  const Var shortcut = shortcut_conv ? conv_bn(*shortcut_conv, *shortcut_bn, x, nullptr, false) : x;
  return conv_bn(conv2, bn2, conv_bn(conv1, bn1, x, nullptr, true), &shortcut, true);
}

ChimeraResNet20::ChimeraResNet20(const ResNet20Options& o, Rng& rng)
    : conv1(make_conv(o.in_channels, 16, 3, 1, o.first_last_fp32, o, rng)),
      bn1(16),
      layer1(make_stage(16, 16, 1, o, rng)),
      layer2(make_stage(16, 32, 2, o, rng)),
      layer3(make_stage(32, 64, 2, o, rng)),
      fc(make_classifier(o, rng)),
      options_(o) {
  options_.layer = ternary_options(o);
  auto collect = [this](ConvLayer& c) {
    if (c.ternary) quantized_.push_back(c.ternary.get());
  };
  collect(conv1);
  for (auto* stage : {&layer1, &layer2, &layer3})
    for (auto& block : *stage) {
      collect(block->conv1);
      collect(block->conv2);
      if (block->shortcut_conv) collect(*block->shortcut_conv);
    }
  if (fc.ternary) quantized_.push_back(fc.ternary.get());
}

void ChimeraResNet20::visit_children(const ChildFn& on_child) {
  on_child("conv1", conv1.module());
  on_child("bn1", bn1);
  visit_stage("layer1", layer1, on_child);
  visit_stage("layer2", layer2, on_child);
  visit_stage("layer3", layer3, on_child);
  on_child("fc", fc.module());
}

Var ChimeraResNet20::forward(const Var& x) {
  CHIMERA_CHECK(x.value().dim() == 4 && x.shape()[1] == options_.in_channels,
                "ChimeraResNet20: expected images [batch, ", options_.in_channels,
                ", height, width], got ", shape_str(x.shape()));
  Var out = conv_bn(conv1, bn1, x, nullptr, true);
  out = run_stage(layer3, run_stage(layer2, run_stage(layer1, out)));
  return fc.forward(global_avg_pool2d(out));
}

void ChimeraResNet20::set_alpha_override(std::optional<double> alpha) {
  set_layers_alpha_override(quantized_, alpha);
}

void ChimeraResNet20::set_alpha_target(double alpha) { set_layers_alpha_target(quantized_, alpha); }

}  // namespace chimera
