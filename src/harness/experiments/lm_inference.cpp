#include "harness/experiments/lm_inference.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <numeric>

#include "engine/ops/ops.h"
#include "harness/experiments/config.h"
#include "harness/experiments/train_lm.h"
#include "model/layers/init.h"
#include "model/models/transformer_lm_file.h"
#include "model/models/transformer_lm_gguf.h"
#include "model/tokenizers/tokenizer_gguf.h"
#include "train/trainer/lm_trainer.h"

namespace chimera {

bool is_gguf_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && std::string(magic, 4) == "GGUF";
}

bool is_lm_checkpoint(const Checkpoint& c) {
  return c.metadata.value("model_type", "") == kLmModelType;
}

std::unique_ptr<TransformerLM> lm_from_checkpoint(const Checkpoint& c, const std::string& source) {
  CHIMERA_CHECK(is_lm_checkpoint(c), "'", source,
                "' is not a language-model checkpoint (written by chimera train-lm); it holds "
                "another model type (",
                c.metadata.value("model_type", "resnet20"), ")");
  CHIMERA_CHECK(c.metadata.contains("transformer"), "'", source,
                "': the checkpoint records no transformer settings");
  TransformerOptions o = transformer_options_from_json(c.metadata.at("transformer"), source);
  // The quantizer settings of the run (warm-up, alphas, eps, clip) decide the eval forward too.
  if (c.metadata.contains("config")) {
    const ActivationScale scale = o.layer.activation_scale;
    o.layer = parse_config(c.metadata.at("config").dump(), source + " config metadata").layer;
    o.layer.activation_scale = scale;
  }
  DeferredInit deferred;  // every value is overwritten by the checkpoint: draw none
  Rng rng(0);
  auto model = std::make_unique<TransformerLM>(o, rng);
  model->load_state_dict(c.model);
  if (c.metadata.contains("lm_trainer_state"))
    restore_alpha_state(model->quantized_layers(), c.metadata.at("lm_trainer_state"));
  model->eval();
  return model;
}

LanguageModel load_lm(const std::string& checkpoint, const std::string& model) {
  CHIMERA_CHECK(checkpoint.empty() != model.empty(),
                "pass exactly one of --checkpoint (a train-lm checkpoint) and --model (a model "
                "file from chimera export)");
  if (!checkpoint.empty())
    return {lm_from_checkpoint(load_checkpoint(checkpoint), checkpoint),
            std::make_unique<ByteTokenizer>()};
  LanguageModel lm = load_lm_if_any("", model);
  CHIMERA_CHECK(lm.model != nullptr, "'", model, "': model file: architecture '",
                model_file_architecture(read_model_file(model)), "', expected '",
                kTransformerArchitecture, "' (a language model)");
  return lm;
}

LanguageModel load_lm_if_any(const std::string& checkpoint, const std::string& model) {
  auto bytes = [](std::unique_ptr<TransformerLM> m) {
    return LanguageModel{std::move(m), std::make_unique<ByteTokenizer>()};
  };
  if (!checkpoint.empty()) {
    const Checkpoint c = load_checkpoint(checkpoint);
    return bytes(is_lm_checkpoint(c) ? lm_from_checkpoint(c, checkpoint) : nullptr);
  }
  if (is_gguf_file(model)) {
    const GgufFile f = read_gguf(model);
    return {transformer_lm_from_gguf(f, model), tokenizer_from_gguf(f, model)};
  }
  const ModelFile file = read_model_file(model);
  if (model_file_architecture(file) != kTransformerArchitecture) return bytes(nullptr);
  try {
    return bytes(transformer_lm_from_file(file));
  } catch (const Error& e) {
    CHIMERA_FAIL("'", model, "': ", e.what());
  }
}

ModelFile export_lm(const Checkpoint& c, const std::string& source, PackFormat format,
                    const Json& extra) {
  auto model = lm_from_checkpoint(c, source);
  return export_transformer_lm(*model, format, extra);
}

Json eval_lm(TransformerLM& model, const Tokenizer& tokenizer, const std::string& corpus_dir,
             int64_t max_windows) {
  CHIMERA_CHECK(max_windows >= 0, "--max-windows must be >= 0, got ", max_windows);
  CHIMERA_CHECK(tokenizer.vocab_size() == model.options().vocab_size, "the ", tokenizer.name(),
                " tokenizer has ", tokenizer.vocab_size(), " tokens, the model ",
                model.options().vocab_size);
  const TextCorpus corpus = load_fortunes(corpus_dir);
  const std::vector<TokenBatch> windows = validation_windows(
      tokenizer.encode(corpus.validation, false), model.options().context, 16, max_windows);
  const LmEvalEvent e = evaluate_lm(model, windows);
  double bytes = 0;
  for (const TokenBatch& w : windows)
    for (int64_t i = 0; i < w.targets.numel(); ++i)
      bytes += static_cast<double>(tokenizer.piece(w.targets.data<int64_t>()[i]).size());
  return {{"val_loss", e.loss},
          {"val_bits_per_byte", e.loss * static_cast<double>(e.tokens) / std::log(2.0) / bytes},
          {"tokens", e.tokens},
          {"tokens_per_s", e.seconds > 0 ? Json(e.tokens / e.seconds) : Json()}};
}

int64_t sample_token(const float* logits, int64_t vocab, double temperature, int64_t top_k,
                     Rng& rng) {
  if (temperature == 0.0)  // the first largest logit, as torch.argmax
    return std::max_element(logits, logits + vocab) - logits;
  std::vector<int64_t> order(static_cast<size_t>(vocab));
  std::iota(order.begin(), order.end(), 0);
  // Largest first; equal logits keep the smaller id first, so the draw is reproducible.
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return logits[a] > logits[b]; });
  const int64_t k = top_k > 0 ? std::min(top_k, vocab) : vocab;
  std::vector<double> p(static_cast<size_t>(k));
  const double top = logits[order[0]];
  double sum = 0;
  for (int64_t i = 0; i < k; ++i) sum += p[i] = std::exp((logits[order[i]] - top) / temperature);
  double u = rng.uniform() * sum;
  for (int64_t i = 0; i < k; ++i) {
    u -= p[i];
    if (u < 0) return order[i];
  }
  return order[k - 1];
}

GenerateResult generate(TransformerLM& model, const Tokenizer& tokenizer, const GenerateArgs& a) {
  CHIMERA_CHECK(!a.prompt.empty(), "--prompt must not be empty");
  CHIMERA_CHECK(a.max_tokens >= 0, "--max-tokens must be >= 0, got ", a.max_tokens);
  CHIMERA_CHECK(a.temperature >= 0, "--temperature must be >= 0, got ", a.temperature);
  CHIMERA_CHECK(a.top_k >= 0, "--top-k must be >= 0, got ", a.top_k);
  const int64_t context = model.options().context, vocab = model.options().vocab_size;
  CHIMERA_CHECK(tokenizer.vocab_size() == vocab, "the ", tokenizer.name(), " tokenizer has ",
                tokenizer.vocab_size(), " tokens, the model ", vocab);
  const std::vector<int64_t> prompt = tokenizer.encode(a.prompt, true);
  CHIMERA_CHECK(static_cast<int64_t>(prompt.size()) <= context, "the prompt is ", prompt.size(),
                " tokens (", tokenizer.name(), ") but the model's context is ", context,
                "; shorten it to at most ", context, " tokens");
  const auto t0 = std::chrono::steady_clock::now();
  model.eval();
  NoGradGuard no_grad;
  KvCache cache = model.new_cache();
  Rng rng(a.seed);
  GenerateResult r;
  r.prompt_tokens = static_cast<int64_t>(prompt.size());
  Tensor ids({1, r.prompt_tokens}, DType::i64);
  std::copy(prompt.begin(), prompt.end(), ids.data<int64_t>());
  Tensor logits = model.forward_cached(ids, cache).value();
  const float* last = logits.f32() + (r.prompt_tokens - 1) * vocab;
  std::vector<int64_t> out;
  while (static_cast<int64_t>(out.size()) < a.max_tokens) {
    const int64_t next = sample_token(last, vocab, a.temperature, a.top_k, rng);
    if (next == tokenizer.end_of_text()) {
      r.stopped_at_end_of_text = true;
      break;
    }
    out.push_back(next);
    if (static_cast<int64_t>(out.size()) == a.max_tokens) break;
    if (cache.length >= context) {
      r.stopped_at_context = true;
      break;
    }
    Tensor one({1, 1}, DType::i64);
    one.data<int64_t>()[0] = next;
    logits = model.forward_cached(one, cache).value();
    last = logits.f32();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.generated = static_cast<int64_t>(out.size());
  r.text = tokenizer.decode(out);
  return r;
}

}  // namespace chimera
