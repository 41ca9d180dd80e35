// GGUF version 3, the file format of llama.cpp / ggml: the container only (what the tensors
// mean is the model exporter's business). Integers little-endian:
//   u32 magic "GGUF", u32 version 3, u64 tensor count, u64 metadata count,
//   metadata: key (string), u32 value type, value;
//   tensor infos: name (string), u32 n_dims, u64 dims[n_dims] (innermost first: a row-major
//     [rows, cols] matrix has dims {cols, rows}), u32 ggml type, u64 offset into the data;
//   zero padding to `general.alignment` (default 32), then the data, each tensor at its offset
//   (a multiple of the alignment).
// A string is a u64 length and its bytes; value types: 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32,
// 6 f32, 7 bool, 8 string, 9 array (u32 element type, u64 count, elements), 10 u64, 11 i64,
// 12 f64.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace chimera {

enum class GgmlType : uint32_t { f32 = 0, f16 = 1, tq1_0 = 34, tq2_0 = 35 };
const char* ggml_type_name(GgmlType t);
// Bytes of `elements` values (a multiple of the type's block: 1, or 256 for TQ1_0 / TQ2_0).
uint64_t ggml_type_bytes(GgmlType t, uint64_t elements);

enum class GgufValueType : uint32_t {
  u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7, string = 8,
  array = 9, u64 = 10, i64 = 11, f64 = 12
};
const char* gguf_value_type_name(GgufValueType t);

// A metadata value: a scalar (held as the widest of its kind), a string, or an array of one
// element type.
struct GgufValue {
  GgufValueType type = GgufValueType::u32;
  std::variant<uint64_t, int64_t, double, bool, std::string> scalar;
  GgufValueType element_type = GgufValueType::u32;  // arrays
  std::vector<GgufValue> elements;                  // arrays

  static GgufValue u32(uint32_t v) { return {GgufValueType::u32, uint64_t{v}, {}, {}}; }
  static GgufValue i32(int32_t v) { return {GgufValueType::i32, int64_t{v}, {}, {}}; }
  static GgufValue f32(float v) { return {GgufValueType::f32, double{v}, {}, {}}; }
  static GgufValue boolean(bool v) { return {GgufValueType::boolean, v, {}, {}}; }
  static GgufValue string(std::string v) { return {GgufValueType::string, std::move(v), {}, {}}; }
  static GgufValue array(GgufValueType element_type, std::vector<GgufValue> elements);
};

// A tensor's bytes: held here (a file being built, or parsed from bytes in memory), or left in
// a mapped file that `owner` keeps alive (read_gguf), so a loaded model file is never copied
// whole into memory. Either way writable: a mapped file is mapped copy-on-write.
class GgufBytes {
 public:
  GgufBytes() = default;
  GgufBytes(std::string bytes) : held_(std::move(bytes)) {}  // NOLINT: a string is the bytes
  GgufBytes(std::string_view mapped, std::shared_ptr<void> owner)
      : mapped_(mapped), owner_(std::move(owner)) {}
  const char* data() const { return owner_ ? mapped_.data() : held_.data(); }
  char* data() { return owner_ ? const_cast<char*>(mapped_.data()) : held_.data(); }
  size_t size() const { return owner_ ? mapped_.size() : held_.size(); }
  operator std::string_view() const { return {data(), size()}; }  // NOLINT: read as bytes
  bool operator==(const GgufBytes& o) const {
    return std::string_view(*this) == std::string_view(o);
  }

 private:
  std::string held_;
  std::string_view mapped_;
  std::shared_ptr<void> owner_;
};

struct GgufTensor {
  std::string name;
  std::vector<uint64_t> dims;  // innermost first
  GgmlType type = GgmlType::f32;
  GgufBytes data;              // ggml_type_bytes(type, product of dims) bytes
};

struct GgufFile {
  std::vector<std::pair<std::string, GgufValue>> metadata;  // in file order
  std::vector<GgufTensor> tensors;                            // in file order
  uint32_t alignment = 32;  // written as general.alignment when not 32

  const GgufValue* find(const std::string& key) const;
  const GgufTensor* tensor(const std::string& name) const;
};

// Typed metadata reads. An integer of any width must be >= 0; errors name `source` and the key.
uint64_t gguf_uint(const GgufFile& f, const std::string& key, const std::string& source);
std::optional<uint64_t> gguf_uint_if_any(const GgufFile& f, const std::string& key,
                                         const std::string& source);  // empty: no such key
double gguf_float(const GgufFile& f, const std::string& key, double fallback);  // f32 or f64
bool gguf_bool(const GgufFile& f, const std::string& key, bool fallback, const std::string& source);

std::string serialize_gguf(const GgufFile& file);
// Every check of the layout: magic, version, counts and sizes against the bytes there are,
// known value and tensor types, tensor data inside the file and aligned, no duplicate keys or
// tensor names. Errors name `source` and what is wrong.
// With an `owner` of `bytes` (a mapped file), tensors keep their bytes there instead of copies.
GgufFile parse_gguf(std::string_view bytes, const std::string& source,
                    const std::shared_ptr<void>& owner = nullptr);
void write_gguf(const std::string& path, const GgufFile& file);  // atomically
GgufFile read_gguf(const std::string& path);  // mapped (mapped_file.h), tensors not copied

}  // namespace chimera
