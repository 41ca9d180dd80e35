// safetensors: 8-byte little-endian header length, a JSON header mapping names to
// {dtype, shape, data_offsets} (plus an optional "__metadata__" of string values), then data.
// The checkpoint format of the project, and how the reference's golden files are stored.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "engine/tensor.h"

namespace chimera {

struct Safetensors {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;

  bool has(const std::string& name) const { return tensors.count(name) != 0; }
  // The named tensor; a missing name is an error that names the file it came from.
  const Tensor& at(const std::string& name) const;
  std::string source;  // file name, for error messages
};

// Errors name the file and what is wrong: truncated, bad header JSON, unknown dtype,
// offsets out of range or overlapping, shape not matching the byte count. With an `owner` of
// `bytes` (a mapped file), tensors whose data is aligned to their element size share the bytes
// (and keep the owner alive) instead of copying them; the others are copied.
Safetensors parse_safetensors(std::string_view bytes, const std::string& source,
                              const std::shared_ptr<void>& owner = nullptr);
// Maps the file (mapped_file.h): its tensors share the mapping, nothing is copied.
Safetensors read_safetensors(const std::string& path);

std::string serialize_safetensors(const std::map<std::string, Tensor>& tensors,
                                  const std::map<std::string, std::string>& metadata = {});
// Written to a temporary name beside `path`, then renamed: a crash never leaves half a file.
void write_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace chimera
