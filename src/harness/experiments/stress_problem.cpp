#include "harness/experiments/stress_problem.h"

#include <algorithm>
#include <cstring>

#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "engine/rng.h"
#include "model/layers/init.h"

namespace chimera {

namespace {

// StressMlp's parameters in torch's order, which is also the noise order.
const std::array<const char*, 4> kParamNames{"0.weight", "0.bias", "2.weight", "2.bias"};

std::array<Shape, 4> param_shapes(const StressShape& s) {
  return {Shape{s.hidden_features, s.in_features}, Shape{s.hidden_features},
          Shape{1, s.hidden_features}, Shape{1}};
}

}  // namespace

StressProblem parse_stress_problem(const std::string& name) {
  for (StressProblem p : kStressProblems)
    if (name == stress_problem_name(p)) return p;
  CHIMERA_FAIL("--problem must be one of regression, sparse_relu, noisy_quadratic, saddle, got '",
               name, "'");
}

const char* stress_problem_name(StressProblem problem) {
  switch (problem) {
    case StressProblem::regression:
      return "regression";
    case StressProblem::sparse_relu:
      return "sparse_relu";
    case StressProblem::noisy_quadratic:
      return "noisy_quadratic";
    case StressProblem::saddle:
      return "saddle";
  }
  CHIMERA_FAIL("unknown stress problem");
}

StressMlp::StressMlp(const StressShape& shape, StressProblem problem)
    : relu_(problem == StressProblem::sparse_relu) {
  const std::array<Shape, 4> shapes = param_shapes(shape);
  w0_ = Var(Tensor(shapes[0]), true);
  b0_ = Var(Tensor(shapes[1]), true);
  w2_ = Var(Tensor(shapes[2]), true);
  b2_ = Var(Tensor(shapes[3]), true);
}

// x [batch, in] -> h = act(x w0^T + b0) [batch, hidden] -> h w2^T + b2 [batch, 1]
Var StressMlp::forward(const Var& x) {
  const Var pre = linear(x, w0_, b0_);
  return linear(relu_ ? relu(pre) : tanh(pre), w2_, b2_);
}

void StressMlp::visit_own(const ParamFn& on_param, const BufferFn&) {
  on_param(kParamNames[0], w0_);
  on_param(kParamNames[1], b0_);
  on_param(kParamNames[2], w2_);
  on_param(kParamNames[3], b2_);
}

StressData make_stress_data(StressProblem problem, const StressShape& shape, int64_t seed,
                            int64_t steps, double noise_scale, double sparsity) {
  // The reference draws data and weights from two torch generators seeded alike (noise from
  // seed + 10000); ours are three streams split off one master, so all three are independent.
  Rng master(static_cast<uint64_t>(seed));
  Rng data_rng(master.next_u64()), init_rng(master.next_u64()), noise_rng(master.next_u64());
  const int64_t batch = shape.batch_size, in = shape.in_features;

  StressData d;
  d.x = Tensor({batch, in});
  data_rng.fill_normal(d.x);
  float* px = d.x.f32();
  if (problem == StressProblem::regression) {
    for (int64_t r = 0; r < batch; ++r)
      for (int64_t c = 0; c < in; c += 3) px[r * in + c] = 0.0f;
  } else if (problem == StressProblem::sparse_relu) {
    Tensor keep({batch, in});  // drawn after x, as the reference draws its mask
    data_rng.fill_uniform(keep, 0.0, 1.0);
    const float* pk = keep.f32();
    for (int64_t i = 0; i < d.x.numel(); ++i)
      px[i] = pk[i] > sparsity ? std::max(px[i], 0.0f) : 0.0f;
  }
  Tensor w_true({in, 1}), target_noise({batch, 1});
  data_rng.fill_normal(w_true);
  data_rng.fill_normal(target_noise, 0.0, noise_scale * 0.05);
  d.target = add(matmul(Var(d.x), Var(w_true)), Var(target_noise)).value();

  const std::array<Shape, 4> shapes = param_shapes(shape);
  const std::array<int64_t, 4> fan_in{in, in, shape.hidden_features, shape.hidden_features};
  for (size_t k = 0; k < kParamNames.size(); ++k)
    d.init[kParamNames[k]] = fan_in_uniform(shapes[k], fan_in[k], init_rng);
  if (problem == StressProblem::sparse_relu) d.init["0.bias"].fill(-0.75);  // most units start off

  d.noise.resize(steps);
  for (auto& step_noise : d.noise)
    for (const Shape& s : shapes) {
      Tensor n(s);
      noise_rng.fill_normal(n, 0.0, noise_scale);
      step_noise.push_back(n);
    }
  return d;
}

StressData load_stress_data(const std::string& path, const StressShape& shape, int64_t steps) {
  Safetensors file;
  try {
    file = read_safetensors(path);
  } catch (const Error& e) {
    CHIMERA_FAIL("--init-from: ", e.what());
  }
  auto find = [&](const std::string& key) -> const Tensor& {
    CHIMERA_CHECK(file.has(key), "--init-from '", path, "': missing key '", key, "'");
    const Tensor& t = file.tensors.at(key);
    CHIMERA_CHECK(t.dtype() == DType::f32, "--init-from '", path, "': key '", key, "' holds ",
                  dtype_name(t.dtype()), ", expected f32");
    return t;
  };
  auto take = [&](const std::string& key, const Shape& want, const char* flags) -> const Tensor& {
    const Tensor& t = find(key);
    CHIMERA_CHECK(t.shape() == want, "--init-from '", path, "': key '", key, "' has shape ",
                  shape_str(t.shape()), ", expected ", shape_str(want), " (from ", flags, ")");
    return t;
  };
  const int64_t batch = shape.batch_size, in = shape.in_features;
  StressData d;
  d.x = take("x", {batch, in}, "--batch-size, --in-features");
  d.target = take("target", {batch, 1}, "--batch-size");
  const std::array<Shape, 4> shapes = param_shapes(shape);
  for (size_t k = 0; k < kParamNames.size(); ++k)
    d.init[kParamNames[k]] =
        take(std::string("init.") + kParamNames[k], shapes[k], "--in-features, --hidden-features");

  d.noise.resize(steps);
  for (size_t k = 0; k < kParamNames.size(); ++k) {
    // A file with more steps than the run serves any shorter run: only the first rows are read.
    const std::string key = std::string("noise.") + kParamNames[k];
    const Tensor& all = find(key);
    const Shape& s = all.shape();
    CHIMERA_CHECK(s.size() == shapes[k].size() + 1 && s[0] >= steps &&
                      Shape(s.begin() + 1, s.end()) == shapes[k],
                  "--init-from '", path, "': key '", key, "' has shape ", shape_str(s),
                  ", expected [steps >= ", steps, "] followed by ", shape_str(shapes[k]),
                  " (from --steps, --in-features, --hidden-features)");
    const size_t row_bytes = static_cast<size_t>(shape_numel(shapes[k])) * sizeof(float);
    for (int64_t i = 0; i < steps; ++i) {
      Tensor row(shapes[k]);
      std::memcpy(row.raw(), static_cast<const char*>(all.raw()) + i * row_bytes, row_bytes);
      d.noise[i].push_back(row);
    }
  }
  return d;
}

void save_stress_data(const std::string& path, const StressData& data, const std::string& params) {
  std::map<std::string, Tensor> tensors{{"x", data.x}, {"target", data.target}};
  for (const auto& [name, t] : data.init) tensors["init." + name] = t;
  const auto steps = static_cast<int64_t>(data.noise.size());
  for (size_t k = 0; k < kParamNames.size() && steps > 0; ++k) {
    Shape s = data.noise[0][k].shape();
    s.insert(s.begin(), steps);
    Tensor stacked(s);
    const size_t row_bytes = data.noise[0][k].nbytes();
    for (int64_t i = 0; i < steps; ++i)
      std::memcpy(static_cast<char*>(stacked.raw()) + i * row_bytes, data.noise[i][k].raw(),
                  row_bytes);
    tensors[std::string("noise.") + kParamNames[k]] = stacked;
  }
  try {
    write_safetensors(path, tensors, {{"params", params}});
  } catch (const Error& e) {
    CHIMERA_FAIL("--save-init: ", e.what());
  }
}

Var stress_loss(StressProblem problem, StressMlp& model, const StressData& data, int64_t step) {
  const std::vector<Var> params = model.parameters();
  if (problem == StressProblem::noisy_quadratic) {
    // The reference's sum, term by term: 0.5 mean(p^2) + mean(p * n_t) per parameter.
    const std::vector<Tensor>& noise = data.noise.at(step - 1);
    Var loss(Tensor::scalar(0.0f));
    for (size_t k = 0; k < params.size(); ++k) {
      loss = add(loss, scale(mean(pow(params[k], 2.0)), 0.5));
      loss = add(loss, mean(mul(params[k], Var(noise[k]))));
    }
    return loss;
  }
  Var loss = mse_loss(model.forward(Var(data.x)), data.target);
  if (problem == StressProblem::saddle) {
    Var saddle(Tensor::scalar(0.0f));
    for (const Var& p : params) saddle = add(saddle, mean(sub(pow(p, 4.0), pow(p, 2.0))));
    loss = add(loss, scale(saddle, 0.01));
  }
  return loss;
}

}  // namespace chimera
