// Using a trained language model: building it from a checkpoint (the eval forward of the
// training run) or from a model file (packed ternary projections), its validation loss, its
// export, and `chimera generate`.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "harness/log/jsonl.h"
#include "model/models/model_file.h"
#include "model/models/transformer_lm.h"
#include "model/tokenizers/tokenizer.h"
#include "train/data/text_corpus.h"
#include "train/trainer/checkpoint.h"

namespace chimera {

bool is_lm_checkpoint(const Checkpoint& c);  // metadata model_type "transformer_lm"
bool is_gguf_file(const std::string& path);   // starts with the GGUF magic

// The model a train-lm checkpoint describes, in eval mode, with the run's quantizer settings and
// controlled alphas. Another model's checkpoint is an error naming `source`.
std::unique_ptr<TransformerLM> lm_from_checkpoint(const Checkpoint& c, const std::string& source);

// A model and the tokenizer of its vocabulary: bytes for our checkpoints and model files, the
// file's own for GGUF.
struct LanguageModel {
  std::unique_ptr<TransformerLM> model;
  std::unique_ptr<Tokenizer> tokenizer;
};

// Exactly one of checkpoint and model (a file from `chimera export`: our model file, or GGUF);
// errors name the flag.
LanguageModel load_lm(const std::string& checkpoint, const std::string& model);

// The language model in `checkpoint` or `model` (exactly one given), loaded once; model null
// when the file holds another model (a ResNet-20 for `chimera eval`).
LanguageModel load_lm_if_any(const std::string& checkpoint, const std::string& model);

// A model file of the transformer, with the checkpoint's provenance in its description.
ModelFile export_lm(const Checkpoint& c, const std::string& source, PackFormat format,
                    const Json& extra);

// {"val_loss", "val_bits_per_byte", "tokens", "tokens_per_s"} on the corpus's validation text
// in `tokenizer`'s tokens, windows of the model's context, at most max_windows (0: all).
// val_loss is nats per token; bits per byte divide the windows' summed loss by the bytes their
// target tokens stand for, so models with different vocabularies compare.
Json eval_lm(TransformerLM& model, const Tokenizer& tokenizer, const std::string& corpus_dir,
             int64_t max_windows);

struct GenerateArgs {
  std::string checkpoint, model;  // exactly one
  std::string prompt;
  int64_t max_tokens = 200;
  double temperature = 0.8;  // 0: always the most likely token
  int64_t top_k = 40;        // 0: the whole vocabulary
  uint64_t seed = 7;
};

struct GenerateResult {
  std::string text;  // the generated tokens' text, without the prompt
  int64_t prompt_tokens = 0, generated = 0;
  double seconds = 0;  // of the generation (prompt included), not the loading
  bool stopped_at_context = false;
  bool stopped_at_end_of_text = false;  // the model generated the vocabulary's end token
};

// Decodes a token at a time with the key/value cache, the prompt encoded by `tokenizer` (with
// its start-of-text token, if it adds one); stops early at the tokenizer's end-of-text token
// (not part of the text). The same arguments and thread count give the same text. Errors: an
// empty prompt, a prompt longer than the context, bad sampling values.
GenerateResult generate(TransformerLM& model, const Tokenizer& tokenizer, const GenerateArgs& args);

// The next token from one row of logits: top-k, temperature, then a draw from `rng`.
int64_t sample_token(const float* logits, int64_t vocab, double temperature, int64_t top_k,
                     Rng& rng);

}  // namespace chimera
