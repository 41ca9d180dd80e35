// The Python module's parts, one file per area of the engine; module.cpp calls each bind_*.
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "harness/python/arrays.h"
#include "model/quant/ternary_stats.h"

namespace chimera::python {

void bind_quant(py::module_& m);
void bind_optim(py::module_& m);
void bind_layers(py::module_& m);
void bind_io(py::module_& m);
void bind_models(py::module_& m);
void bind_runs(py::module_& m);

// {"zero_ratio", "plus_ratio", "minus_ratio", "effective_bits"}
py::dict stats_dict(const TernaryStats& s);

}  // namespace chimera::python
