// NumPy arrays and engine tensors, both ways, without copies where the layout allows: a
// C-contiguous array of a dtype the engine has becomes a tensor over the same memory, and a
// tensor becomes an array over its storage (which the array keeps alive).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <map>
#include <optional>
#include <string>

#include "engine/tensor.h"

namespace chimera::python {

namespace py = pybind11;

// The array as a tensor: its own memory when it is C-contiguous and of an engine dtype
// (float32, float64, int8, int32, int64) equal to `want` (when given), else a converted copy.
// `what` names the argument in errors.
Tensor tensor_from(const py::handle& array, std::optional<DType> want, const std::string& what);
// The array's memory, to be written in place: float32, C-contiguous and writeable, else a
// TypeError / ValueError naming `what`.
Tensor writable_f32(const py::handle& array, const std::string& what);
// An array over the tensor's storage (no copy).
py::array to_numpy(const Tensor& t);

std::map<std::string, Tensor> tensors_from(const py::dict& arrays, const std::string& what);
py::dict to_numpy(const std::map<std::string, Tensor>& tensors);

}  // namespace chimera::python
