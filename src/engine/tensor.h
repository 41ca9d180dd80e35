// Dense, contiguous, 64-byte aligned tensors. Copies share storage (like torch); clone() copies data.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/error.h"

namespace chimera {

enum class DType : uint8_t { f32, f64, i8, i32, i64 };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);  // "f32", "f64", "i8", "i32", "i64"

using Shape = std::vector<int64_t>;
int64_t shape_numel(const Shape& shape);  // an error for a negative size or a count past int64
// The element count into `numel`; false for a negative size or a count past int64 (for
// parsers, which name their file in the error).
bool checked_numel(const Shape& shape, int64_t& numel);
std::string shape_str(const Shape& shape);  // "[2, 3]"

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }
template <> constexpr DType dtype_of<int8_t>() { return DType::i8; }
template <> constexpr DType dtype_of<int32_t>() { return DType::i32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::i64; }

class Tensor {
 public:
  Tensor() = default;  // undefined: no storage
  explicit Tensor(Shape shape, DType dtype = DType::f32);  // zero-filled

  static Tensor zeros(Shape shape, DType dtype = DType::f32) { return Tensor(std::move(shape), dtype); }
  // Uninitialised contents: for outputs that are fully overwritten before they are read.
  static Tensor empty(Shape shape, DType dtype = DType::f32);
  // Zeros that take memory only where they are written: fresh pages from the operating system,
  // which reads them as zeros without keeping any. For parameters a loader may never write
  // (a loaded model's float master weights, which inference does not read).
  static Tensor lazy_zeros(Shape shape, DType dtype = DType::f32);
  static Tensor full(Shape shape, float value);
  static Tensor scalar(float value);  // 0-d f32
  static Tensor from_vector(Shape shape, const std::vector<float>& values);
  static Tensor zeros_like(const Tensor& other) { return Tensor(other.shape(), other.dtype()); }
  // A tensor over memory someone else owns (a NumPy array for the Python module): no copy;
  // `owner` is kept alive as long as any tensor shares the storage. `data` must be aligned to
  // the element size; the kernels never assume more of a tensor's data (their aligned loads
  // are on their own buffers), so the 64-byte alignment of allocated tensors is a speed choice.
  static Tensor from_external(void* data, Shape shape, DType dtype, std::shared_ptr<void> owner);

  bool defined() const { return storage_ != nullptr; }
  // True when no other tensor shares this storage (so it may be taken over instead of copied).
  bool unique() const { return storage_.use_count() == 1; }
  const Shape& shape() const { return shape_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t axis) const;  // negative axis counts from the end
  int64_t numel() const { return numel_; }
  DType dtype() const { return dtype_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }

  template <class T> T* data() {
    check_dtype(dtype_of<T>());
    return static_cast<T*>(storage_.get());
  }
  template <class T> const T* data() const {
    check_dtype(dtype_of<T>());
    return static_cast<const T*>(storage_.get());
  }
  float* f32() { return data<float>(); }
  const float* f32() const { return data<float>(); }
  void* raw() { return storage_.get(); }
  const void* raw() const { return storage_.get(); }

  Tensor clone() const;
  Tensor reshape(Shape shape) const;  // same storage; -1 infers one axis
  Tensor to(DType dtype) const;       // converting copy
  double item() const;                // the single element of a one-element tensor, as double
  void fill(double value);
  void copy_from(const Tensor& other);  // same shape and dtype required

 private:
  void check_dtype(DType want) const;
  std::shared_ptr<void> storage_;
  Shape shape_;
  DType dtype_ = DType::f32;
  int64_t numel_ = 0;
};

// Throws unless a and b have equal shapes; `what` names the operation for the message.
void check_same_shape(const Tensor& a, const Tensor& b, const char* what);

}  // namespace chimera
