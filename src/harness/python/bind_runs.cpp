// chimera.run_cli / cli_help: a chimera command run inside the interpreter, with the program's
// own parser (so chimera.train_resnet(epochs=2) means `chimera train-resnet --epochs 2`). What
// the command prints is captured and returned; the Python layer (chimera/__init__.py) turns
// keyword arguments into flags and the run's JSONL log into records.
#include <iostream>
#include <sstream>

#include "harness/cli/run_cli.h"
#include "harness/python/bindings.h"

namespace chimera::python {

namespace {

// std::cout into a string for the guard's lifetime.
class CaptureStdout {
 public:
  CaptureStdout() : previous_(std::cout.rdbuf(text_.rdbuf())) {}
  ~CaptureStdout() { std::cout.rdbuf(previous_); }
  std::string text() const { return text_.str(); }

 private:
  std::ostringstream text_;
  std::streambuf* previous_;
};

}  // namespace

void bind_runs(py::module_& m) {
  m.def(
      "run_cli",
      [](const std::vector<std::string>& args) {
        py::gil_scoped_release release;
        CaptureStdout capture;
        run_cli(args);
        return capture.text();
      },
      py::arg("args"),
      "Runs a chimera command (['train-resnet', '--epochs', '1', ...]) in this process and\n"
      "returns what it printed. A usage error or a failed run raises chimera.Error with the\n"
      "program's message.");
  m.def("cli_help", &cli_help, py::arg("command") = "",
        "The --help text of a command ('train-resnet', 'bench resnet'; '' for the list).");
}

}  // namespace chimera::python
