// A tokenizer as GGUF metadata (tokenizer.ggml.*), both ways.
//
// Read: `tokenizer.ggml.model` "llama" is a SentencePiece vocabulary (tokens, scores,
// token_type, bos/eos/unknown_token_id, add_bos_token, add_space_prefix; llama.cpp's defaults
// where a key is missing); "gpt2" with exactly the 256 byte tokens below and no merges is our
// byte vocabulary. Anything else (BPE vocabularies with merges, WordPiece, Unigram) is refused
// with a message naming it.
//
// Written: our byte tokens as a GPT-2-style byte-level vocabulary of 256 entries (token b is
// byte b in GPT-2's byte-to-unicode alphabet), no merges, no BOS added; EOS is byte 0, which the
// text never holds. A SentencePiece vocabulary is written back as it was read.
#pragma once

#include <memory>
#include <string>

#include "engine/io/gguf.h"
#include "model/tokenizers/spm_tokenizer.h"

namespace chimera {

std::unique_ptr<Tokenizer> tokenizer_from_gguf(const GgufFile& file, const std::string& source);

// Appends the tokenizer.ggml.* entries of `tokenizer` (a ByteTokenizer or an SpmTokenizer).
void put_tokenizer(GgufFile& file, const Tokenizer& tokenizer);

// GPT-2's byte-to-unicode map: the UTF-8 text of byte b's token.
std::string gpt2_byte_token(uint8_t b);

}  // namespace chimera
