// The optimizer stress problems (SPEC §7, "compare optimizers"): a Linear -> tanh/ReLU -> Linear
// regression MLP, its data, its initial weights, the per-step noise and the four losses.
// Data and weights come from our Rng, or from a file in the layout of the reference's
// traj_compare_optimizers_<problem>.safetensors so a run can replay the reference's exactly.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "engine/autograd.h"
#include "model/layers/module.h"

namespace chimera {

// regression: every third input column is zero; sparse_relu: inputs clamped at 0 and masked,
// ReLU network with first-layer bias -0.75; noisy_quadratic: sum over parameters of
// 0.5 mean(p^2) + mean(p * n_t); saddle: MSE + 0.01 * sum over parameters of mean(p^4 - p^2).
enum class StressProblem { regression, sparse_relu, noisy_quadratic, saddle };

inline constexpr std::array<StressProblem, 4> kStressProblems{
    StressProblem::regression, StressProblem::sparse_relu, StressProblem::noisy_quadratic,
    StressProblem::saddle};
// Accepts exactly the names stress_problem_name returns; the error names --problem.
StressProblem parse_stress_problem(const std::string& name);
const char* stress_problem_name(StressProblem problem);

struct StressShape {
  int64_t batch_size = 64;
  int64_t in_features = 10;
  int64_t hidden_features = 8;
};

// Linear(in, hidden) -> tanh (ReLU for sparse_relu) -> Linear(hidden, 1), with torch's
// Sequential names 0.weight, 0.bias, 2.weight, 2.bias. Weights start at zero; load_state_dict
// or StressData::init gives them values.
class StressMlp : public Module {
 public:
  StressMlp(const StressShape& shape, StressProblem problem);
  Var forward(const Var& x);  // x [batch, in] -> [batch, 1]
  void visit_own(const ParamFn& on_param, const BufferFn& on_buffer) override;

 private:
  Var w0_, b0_, w2_, b2_;
  bool relu_;
};

// Everything a run needs besides the optimizer; all variants of a run share it.
struct StressData {
  Tensor x;                            // [batch, in]
  Tensor target;                       // [batch, 1]: x w_true + 0.05 noise_scale noise
  std::map<std::string, Tensor> init;  // StressMlp's state dict (0.weight, ...)
  // noise[step - 1][k]: the noise tensor for parameter k (in StressMlp parameter order) at that
  // step, already multiplied by noise_scale; only noisy_quadratic's loss reads it.
  std::vector<std::vector<Tensor>> noise;
};

// Draws the data as the reference does (x, the sparse_relu mask, w_true, target noise), the
// torch-default initial weights and `steps` steps of noise, from three Rng streams derived from
// `seed` (independent of each other, the same for every thread count).
StressData make_stress_data(StressProblem problem, const StressShape& shape, int64_t seed,
                            int64_t steps, double noise_scale, double sparsity);

// Reads x, target, init.<param> and noise.<param> [at least steps, ...] (float32). A missing key,
// another dtype or a shape that does not fit `shape` / `steps` is an error naming key and file.
StressData load_stress_data(const std::string& path, const StressShape& shape, int64_t steps);
// Writes that layout (atomically), with `params` (JSON text) as the "params" metadata.
void save_stress_data(const std::string& path, const StressData& data, const std::string& params);

// The problem's loss at `step` (1-based) for the model's current weights.
Var stress_loss(StressProblem problem, StressMlp& model, const StressData& data, int64_t step);

}  // namespace chimera
