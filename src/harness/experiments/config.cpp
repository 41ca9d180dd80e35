#include "harness/experiments/config.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <functional>
#include <map>

#include "harness/log/utf8.h"
#include "model/quant/target_bits.h"

namespace chimera {

namespace {

using Setter = std::function<void(const YAML::Node&)>;

template <class T>
T scalar_as(const YAML::Node& node, const std::string& key, const std::string& file,
            const char* kind) {
  if (!node.IsScalar())
    CHIMERA_FAIL("config '", file, "': key '", key, "' must be ", kind);
  // Strings end up in JSON records and checkpoint metadata, which must be UTF-8: refused here,
  // at start-up, rather than when the run writes its last record.
  CHIMERA_CHECK(is_valid_utf8(node.Scalar()), "config '", file, "': key '", key,
                "' is not valid UTF-8 text (line ", node.Mark().line + 1, ")");
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    CHIMERA_FAIL("config '", file, "': key '", key, "' must be ", kind, ", got '",
                 node.Scalar(), "'");
  }
}

// Applies every key of `map` through `setters`; a key without a setter is an error.
void apply(const YAML::Node& map, const std::map<std::string, Setter>& setters,
           const std::string& prefix, const std::string& file) {
  CHIMERA_CHECK(map.IsMap(), "config '", file, "': ", prefix.empty() ? "the file" : prefix,
                " must be a mapping of keys to values");
  for (const auto& kv : map) {
    CHIMERA_CHECK(kv.first.IsScalar(), "config '", file, "' line ", kv.first.Mark().line + 1,
                  ": a key in ", prefix.empty() ? std::string("the file") : prefix,
                  " is not a plain name (keys are words like lr or quant_mode)");
    const std::string key = kv.first.Scalar();
    CHIMERA_CHECK(is_valid_utf8(key), "config '", file, "' line ", kv.first.Mark().line + 1,
                  ": a key is not valid UTF-8 text");
    auto it = setters.find(key);
    CHIMERA_CHECK(it != setters.end(), "config '", file, "': unknown key '", prefix, key,
                  "' (see configs/default.yaml for the known keys)");
    it->second(kv.second);
  }
}

}  // namespace

Config load_config(const std::string& path) {
  CHIMERA_CHECK(std::filesystem::is_regular_file(path), "config file '", path,
                "' not found (pass --config PATH to an existing YAML file)");
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

Config parse_config(const std::string& yaml, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    CHIMERA_FAIL("config '", path, "' is not valid YAML: ", e.what());
  }
  Config c;
  c.source = path;
  if (root.IsNull()) return c;

  auto num = [&](const char* key, double& dst) {
    return std::pair<std::string, Setter>(
        key, [&dst, key, &path](const YAML::Node& n) { dst = scalar_as<double>(n, key, path, "a number"); });
  };
  auto integer = [&](const char* key, int64_t& dst) {
    return std::pair<std::string, Setter>(key, [&dst, key, &path](const YAML::Node& n) {
      dst = scalar_as<int64_t>(n, key, path, "an integer");
    });
  };
  auto text = [&](const char* key, std::string& dst) {
    return std::pair<std::string, Setter>(key, [&dst, key, &path](const YAML::Node& n) {
      dst = scalar_as<std::string>(n, key, path, "a string");
    });
  };
  // Enumerations go through the engine's own parsers so the allowed values live in one place.
  auto choice = [&](const char* key, const std::function<void(const std::string&)>& set) {
    return std::pair<std::string, Setter>(key, [key, set, &path](const YAML::Node& n) {
      const std::string v = scalar_as<std::string>(n, key, path, "a string");
      try {
        set(v);
      } catch (const Error& e) {
        CHIMERA_FAIL("config '", path, "': key '", key, "': ", e.what());
      }
    });
  };

  Chimera21Options& o = c.optimizer;
  BitLayerOptions& l = c.layer;
  double ste_clip = l.ste_clip.value_or(1.0);
  bool ste_clip_none = false;
  std::map<std::string, Setter> controller{num("tolerance", c.controller.tolerance),
                                           num("step_size", c.controller.step_size),
                                           num("alpha_max", c.controller.alpha_max)};
  std::map<std::string, Setter> bench{integer("steps", c.benchmark.steps),
                                      integer("seeds", c.benchmark.seeds),
                                      integer("batch_size", c.benchmark.batch_size),
                                      integer("in_features", c.benchmark.in_features),
                                      integer("out_features", c.benchmark.out_features),
                                      text("log_dir", c.benchmark.log_dir)};
  LmConfig& lm = c.lm;
  TransformerOptions& tm = lm.model;
  std::map<std::string, Setter> transformer{
      choice("mode", [&](const std::string& v) { tm.mode = parse_model_mode(v); }),
      integer("dim", tm.dim), integer("layers", tm.layers), integer("heads", tm.heads),
      integer("kv_heads", tm.kv_heads), integer("ffn_dim", tm.ffn_dim),
      integer("context", tm.context),
      choice("feed_forward", [&](const std::string& v) { tm.feed_forward = parse_feed_forward(v); }),
      num("rope_theta", tm.rope_theta), num("norm_eps", tm.norm_eps)};
  std::map<std::string, Setter> lm_training{
      text("optimizer", lm.optimizer), num("lr", lm.lr), num("weight_decay", lm.weight_decay),
      integer("steps", lm.steps), integer("batch_size", lm.batch_size),
      integer("warmup_lr_steps", lm.warmup_lr_steps), num("min_lr_ratio", lm.min_lr_ratio),
      num("grad_clip", lm.grad_clip), integer("eval_every", lm.eval_every),
      integer("eval_windows", lm.eval_windows), integer("eval_batch", lm.eval_batch),
      integer("control_every", lm.control_every)};
  std::map<std::string, Setter> top{
      num("lr", o.lr), num("beta1", o.beta1), num("beta2", o.beta2), num("eps_opt", o.eps_opt),
      num("weight_decay", o.weight_decay), num("rho_psi", o.rho_psi),
      num("lambda_gate", o.lambda_gate), num("kappa_min", o.kappa_min),
      num("kappa_max", o.kappa_max), num("idle_decay", o.idle_decay),
      num("noise_threshold", o.noise_threshold), num("gate_sharpness", o.gate_sharpness),
      {"log_diagnostics",
       [&](const YAML::Node& n) {
         o.log_diagnostics = scalar_as<bool>(n, "log_diagnostics", path, "true or false");
       }},
      choice("zero_grad_policy", [&](const std::string& v) { o.zero_grad_policy = parse_zero_grad_policy(v); }),
      choice("kappa_gate_mode", [&](const std::string& v) { o.kappa_gate_mode = parse_kappa_gate_mode(v); }),
      choice("psi_storage", [&](const std::string& v) { o.psi_storage = parse_psi_storage(v); }),
      choice("stat_mode", [&](const std::string& v) { l.stat_mode = parse_stat_mode(v); }),
      choice("quant_mode", [&](const std::string& v) { l.quant_mode = parse_quant_mode(v); }),
      choice("activation_grad", [&](const std::string& v) { l.activation_grad = parse_activation_grad(v); }),
      choice("activation_scale", [&](const std::string& v) { l.activation_scale = parse_activation_scale(v); }),
      choice("target_branch", [&](const std::string& v) { c.target_branch = parse_branch(v); }),
      num("rho_s", l.rho_s), num("alpha_min", l.alpha_min), num("alpha_target", l.alpha_target),
      integer("warmup_steps", l.warmup_steps), num("eps_gamma", l.eps_gamma),
      num("eps_beta", l.eps_beta), num("target_bits", c.target_bits),
      {"ste_clip",
       [&](const YAML::Node& n) {
         if (n.IsNull()) ste_clip_none = true;
         else ste_clip = scalar_as<double>(n, "ste_clip", path, "a number or null");
       }},
      {"quant_modes",
       [&](const YAML::Node& n) {
         CHIMERA_CHECK(n.IsSequence(), "config '", path, "': key 'quant_modes' must be a list");
         c.quant_modes.clear();
         for (const auto& item : n) {
           const std::string v = scalar_as<std::string>(item, "quant_modes", path, "a string");
           try {
             parse_quant_mode(v);
           } catch (const Error& e) {
             CHIMERA_FAIL("config '", path, "': key 'quant_modes': ", e.what());
           }
           c.quant_modes.push_back(v);
         }
       }},
      {"target_bits_controller",
       [&](const YAML::Node& n) { apply(n, controller, "target_bits_controller.", path); }},
      {"benchmark", [&](const YAML::Node& n) { apply(n, bench, "benchmark.", path); }},
      {"transformer", [&](const YAML::Node& n) { apply(n, transformer, "transformer.", path); }},
      {"lm_training", [&](const YAML::Node& n) { apply(n, lm_training, "lm_training.", path); }},
  };
  apply(root, top, "", path);
  if (ste_clip_none) l.ste_clip.reset();
  else l.ste_clip = ste_clip;

  try {
    o.validate();
    l.validate();
    CHIMERA_CHECK(c.target_bits >= 0.0 && c.target_bits <= 1.5849625007211563,
                  "target_bits must be in [0, log2 3], got ", c.target_bits);
    CHIMERA_CHECK(c.controller.tolerance >= 0, "target_bits_controller.tolerance must be >= 0");
    CHIMERA_CHECK(c.controller.step_size >= 0, "target_bits_controller.step_size must be >= 0");
    CHIMERA_CHECK(c.controller.alpha_max >= l.alpha_min,
                  "target_bits_controller.alpha_max must be >= alpha_min");
    CHIMERA_CHECK(c.benchmark.steps > 0, "benchmark.steps must be positive");
    CHIMERA_CHECK(c.benchmark.seeds > 0, "benchmark.seeds must be positive");
    CHIMERA_CHECK(c.benchmark.batch_size > 0, "benchmark.batch_size must be positive");
    CHIMERA_CHECK(c.benchmark.in_features > 0, "benchmark.in_features must be positive");
    CHIMERA_CHECK(c.benchmark.out_features > 0, "benchmark.out_features must be positive");
    try {
      tm.validate();
    } catch (const Error& e) {
      CHIMERA_FAIL("transformer: ", e.what());
    }
    CHIMERA_CHECK(lm.optimizer == "adamw" || lm.optimizer == "chimera21",
                  "lm_training.optimizer must be adamw or chimera21, got '", lm.optimizer, "'");
    CHIMERA_CHECK(lm.lr >= 0, "lm_training.lr must be >= 0");
    CHIMERA_CHECK(lm.weight_decay >= 0, "lm_training.weight_decay must be >= 0");
    CHIMERA_CHECK(lm.steps > 0, "lm_training.steps must be positive");
    CHIMERA_CHECK(lm.batch_size > 0, "lm_training.batch_size must be positive");
    CHIMERA_CHECK(lm.warmup_lr_steps >= 0, "lm_training.warmup_lr_steps must be >= 0");
    CHIMERA_CHECK(lm.min_lr_ratio >= 0 && lm.min_lr_ratio <= 1,
                  "lm_training.min_lr_ratio must be in [0, 1]");
    CHIMERA_CHECK(lm.grad_clip >= 0, "lm_training.grad_clip must be >= 0");
    CHIMERA_CHECK(lm.eval_every > 0, "lm_training.eval_every must be positive");
    CHIMERA_CHECK(lm.eval_windows >= 0, "lm_training.eval_windows must be >= 0");
    CHIMERA_CHECK(lm.eval_batch > 0, "lm_training.eval_batch must be positive");
    CHIMERA_CHECK(lm.control_every > 0, "lm_training.control_every must be positive");
  } catch (const Error& e) {
    CHIMERA_FAIL("config '", path, "': ", e.what());
  }
  return c;
}

nlohmann::json config_to_json(const Config& c) {
  const Chimera21Options& o = c.optimizer;
  const BitLayerOptions& l = c.layer;
  return {{"lr", o.lr},
          {"beta1", o.beta1},
          {"beta2", o.beta2},
          {"eps_opt", o.eps_opt},
          {"weight_decay", o.weight_decay},
          {"stat_mode", stat_mode_name(l.stat_mode)},
          {"rho_s", l.rho_s},
          {"rho_psi", o.rho_psi},
          {"lambda_gate", o.lambda_gate},
          {"kappa_min", o.kappa_min},
          {"kappa_max", o.kappa_max},
          {"log_diagnostics", o.log_diagnostics},
          {"zero_grad_policy", zero_grad_policy_name(o.zero_grad_policy)},
          {"idle_decay", o.idle_decay},
          {"kappa_gate_mode", kappa_gate_mode_name(o.kappa_gate_mode)},
          {"noise_threshold", o.noise_threshold},
          {"gate_sharpness", o.gate_sharpness},
          {"psi_storage", psi_storage_name(o.psi_storage)},
          {"alpha_min", l.alpha_min},
          {"alpha_target", l.alpha_target},
          {"warmup_steps", l.warmup_steps},
          {"target_bits", c.target_bits},
          {"target_branch", branch_name(c.target_branch)},
          {"target_bits_controller",
           {{"tolerance", c.controller.tolerance},
            {"step_size", c.controller.step_size},
            {"alpha_max", c.controller.alpha_max}}},
          {"ste_clip", l.ste_clip ? nlohmann::json(*l.ste_clip) : nlohmann::json()},
          {"quant_mode", quant_mode_name(l.quant_mode)},
          {"quant_modes", c.quant_modes},
          {"eps_gamma", l.eps_gamma},
          {"eps_beta", l.eps_beta},
          {"activation_grad", activation_grad_name(l.activation_grad)},
          {"activation_scale", activation_scale_name(l.activation_scale)},
          {"transformer",
           {{"mode", model_mode_name(c.lm.model.mode)},
            {"dim", c.lm.model.dim},
            {"layers", c.lm.model.layers},
            {"heads", c.lm.model.heads},
            {"kv_heads", c.lm.model.kv_heads},
            {"ffn_dim", c.lm.model.ffn_dim},
            {"context", c.lm.model.context},
            {"feed_forward", feed_forward_name(c.lm.model.feed_forward)},
            {"rope_theta", c.lm.model.rope_theta},
            {"norm_eps", c.lm.model.norm_eps}}},
          {"lm_training",
           {{"optimizer", c.lm.optimizer},
            {"lr", c.lm.lr},
            {"weight_decay", c.lm.weight_decay},
            {"steps", c.lm.steps},
            {"batch_size", c.lm.batch_size},
            {"warmup_lr_steps", c.lm.warmup_lr_steps},
            {"min_lr_ratio", c.lm.min_lr_ratio},
            {"grad_clip", c.lm.grad_clip},
            {"eval_every", c.lm.eval_every},
            {"eval_windows", c.lm.eval_windows},
            {"eval_batch", c.lm.eval_batch},
            {"control_every", c.lm.control_every}}},
          {"benchmark",
           {{"steps", c.benchmark.steps},
            {"seeds", c.benchmark.seeds},
            {"batch_size", c.benchmark.batch_size},
            {"in_features", c.benchmark.in_features},
            {"out_features", c.benchmark.out_features},
            {"log_dir", c.benchmark.log_dir}}}};
}

}  // namespace chimera
