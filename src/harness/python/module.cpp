// The Python module chimera._chimera (imported by the chimera package, python/chimera/). It
// sits at the edge like the CLI: the engine, model and train layers know nothing of it.
#include "engine/error.h"
#include "engine/threads.h"
#include "harness/python/bindings.h"

PYBIND11_MODULE(_chimera, m) {
  namespace py = pybind11;
  m.doc() = "Chimera's C++ engine: quantizers, optimizers, ternary layers, models and runs.";
  m.attr("__version__") = CHIMERA_VERSION;
  // Every engine error (a bad option, a wrong shape, a damaged file) arrives as chimera.Error,
  // a RuntimeError, with the engine's message.
  py::register_exception<chimera::Error>(m, "Error", PyExc_RuntimeError);
  m.def("set_threads", &chimera::set_num_threads, py::arg("n"),
        "Threads for everything the engine computes (OpenMP loops, OpenBLAS, oneDNN); the runs'\n"
        "threads= flag sets the same. Results depend on it: same seed and thread count, same\n"
        "results.");
  m.def("threads", &chimera::num_threads,
        "The engine's thread count (default: every CPU this process may use).");
  chimera::python::bind_quant(m);
  chimera::python::bind_optim(m);
  chimera::python::bind_layers(m);
  chimera::python::bind_io(m);
  chimera::python::bind_models(m);
  chimera::python::bind_runs(m);
}
