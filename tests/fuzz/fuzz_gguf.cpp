// Fuzz target for the GGUF reader: any bytes must give a GgufFile or a chimera::Error, never a
// crash, a hang or an unbounded allocation; a file it accepts serialises and reads back equal,
// and its tokenizer entries give a tokenizer that encodes and decodes text, or an Error.
// With clang -fsanitize=fuzzer define CHIMERA_LIBFUZZER and link libFuzzer; otherwise main()
// replays the files given as arguments, then mutates small valid GGUF files (the ctest
// `fuzz_gguf.Mutations` runs it).
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include "engine/error.h"
#include "engine/io/gguf.h"
#include "model/tokenizers/tokenizer_gguf.h"
#include "fuzz_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    // As a mapped file is read: the tensors keep views into bytes that only their owner holds.
    auto bytes = std::make_shared<std::string>(reinterpret_cast<const char*>(data), size);
    const chimera::GgufFile f = chimera::parse_gguf(*bytes, "fuzz", bytes);
    bytes.reset();
    const chimera::GgufFile again = chimera::parse_gguf(chimera::serialize_gguf(f), "again");
    if (again.tensors.size() != f.tensors.size() || again.metadata.size() < f.metadata.size())
      std::abort();
    for (size_t i = 0; i < f.tensors.size(); ++i)
      if (!(again.tensors[i].data == f.tensors[i].data)) std::abort();
    const auto tokenizer = chimera::tokenizer_from_gguf(f, "fuzz");
    tokenizer->decode(tokenizer->encode("aababA", true));
  } catch (const chimera::Error&) {
  }
  return 0;
}

#ifndef CHIMERA_LIBFUZZER
int main(int argc, char** argv) {
  using chimera::GgufValue;
  using chimera::GgufValueType;
  chimera::GgufFile f;
  f.metadata = {{"general.architecture", GgufValue::string("llama")},
                {"llama.block_count", GgufValue::u32(2)},
                {"eps", GgufValue::f32(1e-5f)},
                {"tokens", GgufValue::array(GgufValueType::string,
                                            {GgufValue::string("a"), GgufValue::string("b")})},
                {"tokenizer.ggml.model", GgufValue::string("llama")},
                {"tokenizer.ggml.tokens",
                 GgufValue::array(GgufValueType::string,
                                  {GgufValue::string("<unk>"), GgufValue::string("<s>"),
                                   GgufValue::string("</s>"), GgufValue::string("<0x41>"),
                                   GgufValue::string("a"), GgufValue::string("ab")})},
                {"tokenizer.ggml.scores",
                 GgufValue::array(GgufValueType::f32, {GgufValue::f32(0), GgufValue::f32(0),
                                                       GgufValue::f32(0), GgufValue::f32(0),
                                                       GgufValue::f32(-2), GgufValue::f32(-1)})},
                {"tokenizer.ggml.token_type",
                 GgufValue::array(GgufValueType::i32, {GgufValue::i32(2), GgufValue::i32(3),
                                                       GgufValue::i32(3), GgufValue::i32(6),
                                                       GgufValue::i32(1), GgufValue::i32(1)})},
                {"tokenizer.ggml.add_space_prefix", GgufValue::boolean(false)}};
  f.tensors = {{"w", {256, 2}, chimera::GgmlType::tq2_0, std::string(132, '\x55')},
               {"n", {4}, chimera::GgmlType::f32, std::string(16, '\0')}};
  chimera::GgufFile empty;
  return chimera::fuzz::run_main(
      argc, argv, "fuzz_gguf", {chimera::serialize_gguf(f), chimera::serialize_gguf(empty)},
      chimera::fuzz::set_u64_somewhere);  // a count, size or type field to an extreme
}
#endif
