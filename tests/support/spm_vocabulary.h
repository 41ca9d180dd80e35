// A SentencePiece-style vocabulary learned from text for tests: what a LLaMA-family GGUF file
// carries (<unk>, <s>, </s>, the 256 <0xXX> byte tokens, single characters, then merged pieces
// scored by merge order), small enough to build in a test.
#pragma once

#include <string>
#include <vector>

#include "model/tokenizers/spm_tokenizer.h"

namespace chimera::test {

// <unk> (0), <s> (1), </s> (2) and the 256 <0xXX> byte tokens (3..258), as LLaMA's vocabulary
// starts; and one more token at the end.
SpmVocabulary spm_base_vocabulary();
void add_token(SpmVocabulary& v, const std::string& text, float score, TokenType type);

// BPE merges over the words of `text` (each led by U+2581, as the tokenizer sees them): the
// most frequent adjacent pair of pieces is merged `merges` times (ties: the smaller pair text),
// merge i becoming a normal token of score -i. `user_defined` tokens follow the byte tokens.
SpmVocabulary learn_spm_vocabulary(const std::string& text, int merges,
                                   const std::vector<std::string>& user_defined = {});

}  // namespace chimera::test
