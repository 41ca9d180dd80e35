// Where compare-quant-modes starts: drawn from our Rng, or read from / written to a start file
// in the layout of the reference's golden trajectories, so either side can replay the other.
#include "engine/io/safetensors.h"
#include "engine/rng.h"
#include "harness/experiments/compare_quant_modes.h"
#include "model/layers/bit_linear.h"

namespace chimera {

// The reference's seeds: data seed 11 + i, init seed 18 above it.
static constexpr int64_t kSeedBase = 11;
static constexpr int64_t kInitSeedOffset = 18;

static std::string seed_key(int64_t index) {
  return "s" + std::to_string(index) + ".";
}

std::vector<SeedStart> draw_compare_start(const CompareQuantModesOptions& options) {
  options.validate();
  std::vector<SeedStart> start;
  for (int64_t i = 0; i < options.seeds; ++i) {
    SeedStart s;
    s.seed = kSeedBase + i;
    s.init_seed = s.seed + kInitSeedOffset;
    Rng data(static_cast<uint64_t>(s.seed));
    s.x = Tensor({options.batch_size, options.in_features});
    s.target = Tensor({options.batch_size, options.out_features});
    data.fill_normal(s.x);
    data.fill_normal(s.target);
    // Every mode starts from the same draw, as the reference reseeds before building each layer.
    Rng init(static_cast<uint64_t>(s.init_seed));
    const BitLinear layer(options.in_features, options.out_features, true, options.config.layer,
                          init);
    for (const std::string& mode : options.config.quant_modes)
      s.modes[mode] = ModeStart{layer.weight_master.value(), layer.bias->value()};
    start.push_back(std::move(s));
  }
  return start;
}

static Tensor start_tensor(const Safetensors& file, const std::string& path, const std::string& key,
                           const Shape& shape) {
  CHIMERA_CHECK(file.has(key), "--init-from '", path, "': no tensor '", key,
                "' (a start file holds s<I>.x, s<I>.target, s<I>.<mode>.init.weight_master and "
                "s<I>.<mode>.init.bias for every seed index I and mode)");
  const Tensor& t = file.tensors.at(key);
  CHIMERA_CHECK(t.dtype() == DType::f32 && t.shape() == shape, "--init-from '", path, "': tensor '",
                key, "' is ", dtype_name(t.dtype()), " ", shape_str(t.shape()), ", expected f32 ",
                shape_str(shape), " (check --batch-size, --in-features, --out-features)");
  return t;
}

std::vector<SeedStart> load_compare_start(const std::string& path,
                                          const CompareQuantModesOptions& options) {
  options.validate();
  Safetensors file;
  try {
    file = read_safetensors(path);
  } catch (const Error& e) {
    CHIMERA_FAIL("--init-from: ", e.what());
  }
  const int64_t B = options.batch_size, in = options.in_features, out = options.out_features;
  std::vector<SeedStart> start;
  for (int64_t i = 0; i < options.seeds; ++i) {
    const std::string k = seed_key(i);
    SeedStart s;
    s.seed = kSeedBase + i;
    s.init_seed = s.seed + kInitSeedOffset;
    s.x = start_tensor(file, path, k + "x", {B, in});
    s.target = start_tensor(file, path, k + "target", {B, out});
    for (const std::string& mode : options.config.quant_modes) {
      s.modes[mode] =
          ModeStart{start_tensor(file, path, k + mode + ".init.weight_master", {out, in}),
                    start_tensor(file, path, k + mode + ".init.bias", {out})};
    }
    start.push_back(std::move(s));
  }
  return start;
}

void save_compare_start(const std::string& path, const std::vector<SeedStart>& start,
                        const CompareQuantModesOptions& options) {
  std::map<std::string, Tensor> tensors;
  Json seeds = Json::array(), init_seeds = Json::array();
  for (size_t i = 0; i < start.size(); ++i) {
    const SeedStart& s = start[i];
    const std::string k = seed_key(static_cast<int64_t>(i));
    tensors[k + "x"] = s.x;
    tensors[k + "target"] = s.target;
    for (const auto& [mode, m] : s.modes) {
      tensors[k + mode + ".init.weight_master"] = m.weight_master;
      tensors[k + mode + ".init.bias"] = m.bias;
    }
    seeds.push_back(s.seed);
    init_seeds.push_back(s.init_seed);
  }
  const Json params = {
      {"batch_size", options.batch_size},
      {"in_features", options.in_features},
      {"out_features", options.out_features},
      {"steps", options.steps},
      {"warmup_steps", options.steps},
      {"lr", options.lr},
      {"loss", "mse"},
      {"grad_variant",
       options.config.layer.activation_grad == ActivationGrad::none ? "seed" : "ste"},
      {"seeds", seeds},
      {"init_seeds", init_seeds},
      {"quant_modes", options.config.quant_modes},
      {"note",
       "compare-quant-modes start: sI = seed index; sI.x and sI.target are the data, "
       "sI.<mode>.init.* the BitLinear's initial parameters"}};
  try {
    write_safetensors(path, tensors, {{"params", params.dump()}});
  } catch (const Error& e) {
    CHIMERA_FAIL("--save-init: ", e.what());
  }
}

}  // namespace chimera
