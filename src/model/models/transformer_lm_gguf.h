// A transformer language model as a GGUF file for llama.cpp's `llama` architecture.
//
// Tensors under llama.cpp's names: token_embd, blk.N.{attn_norm, attn_q, attn_k, attn_v,
// attn_output, ffn_norm, ffn_gate (our w1), ffn_up (w3), ffn_down (w2)}, output_norm, output;
// dims innermost first ([out, in] weights are {in, out}). Rotary positions need no permutation:
// ours turn adjacent pairs, as llama.cpp's LLaMA rope does. The projections are TQ2_0 (ternary
// models: the eval-mode codes with gamma as every block's scale) or F32 (the float weights, or
// gamma * codes), or TQ1_0 (pack_tq1_0.h, 1.69 bits); embeddings and norms F32.
//
// What llama.cpp computes differently, so its logits are close to ours but not the same: its
// TQ2_0 product quantizes activations to 8 bits per block of 256 (q8_K) where ours takes one
// absmax per token (or per tensor), and it multiplies by the block scale where ours scales the
// int32 sum by beta * gamma.
//
// Tokenizer: tokenizer_gguf.h (our bytes, or a SentencePiece vocabulary).
#pragma once

#include <memory>
#include <string>

#include "engine/io/gguf.h"
#include "model/models/transformer_lm.h"
#include "model/tokenizers/tokenizer.h"

namespace chimera {

// projections: GgmlType::tq2_0 or tq1_0 (a ternary model) or GgmlType::f32; tokenizer: null for
// our bytes. Refused, naming the reason, before anything is built: a ReLU^2 feed-forward
// (llama's is SwiGLU), a vocabulary of another size than the model's, TQ2_0 for a float model
// or for a width not a multiple of 256.
GgufFile transformer_lm_to_gguf(TransformerLM& model, GgmlType projections,
                                const std::string& name, const Tokenizer* tokenizer = nullptr);

}  // namespace chimera

namespace chimera {

// The model a llama-architecture GGUF file describes, in eval mode: F32/F16 projections make a
// float model, TQ2_0 projections a ternary one (fixed weights, per-token activation scales)
// whose scale is the blocks' scale (one per tensor: blocks of all-zero codes aside, every block
// must carry the same). The vocabulary's size comes from its tokenizer (tokenizer_from_gguf
// reads it); without an `output` tensor the embedding is the output matrix too. Anything else
// is an error naming the file's entry.
std::unique_ptr<TransformerLM> transformer_lm_from_gguf(const GgufFile& file,
                                                        const std::string& source);

}  // namespace chimera
