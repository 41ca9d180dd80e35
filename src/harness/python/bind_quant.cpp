// chimera.quantize_strict, quantize_threshold, ternary_stats, entropy_from_ratios, abs_stat,
// zero_ratio_for_entropy and TargetBitsController (SPEC §1).
#include "harness/python/bindings.h"

#include "model/quant/abs_stat.h"
#include "model/quant/controller.h"
#include "model/quant/target_bits.h"
#include "model/quant/ternary.h"
#include "model/quant/ternary_stats.h"

namespace chimera::python {

py::dict stats_dict(const TernaryStats& s) {
  py::dict d;
  d["zero_ratio"] = s.zero_ratio;
  d["plus_ratio"] = s.plus_ratio;
  d["minus_ratio"] = s.minus_ratio;
  d["effective_bits"] = s.effective_bits;
  return d;
}

void bind_quant(py::module_& m) {
  m.def(
      "quantize_strict",
      [](const py::handle& U, float gamma, bool codes) {
        const Tensor u = tensor_from(U, DType::f32, "U");
        return to_numpy(codes ? quantize_strict_i8(u, gamma) : quantize_strict(u, gamma));
      },
      py::arg("U"), py::arg("gamma"), py::arg("codes") = false,
      "Strict BitNet ternary: clamp(round(U / gamma), -1, 1), torch's rounding (half to even).\n"
      "Returns float32 values in {-1, 0, 1} (with torch's signed zeros), or int8 codes when\n"
      "codes=True. gamma is first raised to float32 epsilon.");
  m.def(
      "quantize_threshold",
      [](const py::handle& U, float gamma, double alpha, bool codes) {
        const Tensor u = tensor_from(U, DType::f32, "U");
        return to_numpy(codes ? quantize_threshold_i8(u, gamma, alpha)
                              : quantize_threshold(u, gamma, alpha));
      },
      py::arg("U"), py::arg("gamma"), py::arg("alpha"), py::arg("codes") = false,
      "Chimera's threshold ternary: sign(U) where |U| > alpha * gamma, else 0 (float32, or\n"
      "int8 codes when codes=True). alpha = 0.5 is the strict rule, 0.7 Ternary Weight Networks'.");
  m.def(
      "ternary_stats",
      [](const py::handle& q) { return stats_dict(ternary_stats(tensor_from(q, std::nullopt, "q"))); },
      py::arg("q"),
      "Shares of zeros, +1s and -1s of a ternary array (float32 or int8) and their entropy in\n"
      "bits (effective_bits, at most log2(3)). Returns a dict.");
  m.def("entropy_from_ratios", &entropy_from_ratios, py::arg("zero"), py::arg("plus"),
        py::arg("minus"),
        "Shannon entropy in bits of the three shares (zero terms skipped); the shares must be\n"
        ">= 0 and sum to 1.");
  m.def(
      "abs_stat",
      [](const py::handle& U, const std::string& mode) {
        return abs_stat(tensor_from(U, DType::f32, "U"), parse_stat_mode(mode));
      },
      py::arg("U"), py::arg("mode") = "mean",
      "gamma's statistic of a weight: mean(|U|) (torch's float32 rounding) or the lower median\n"
      "of |U| (mode='median').");
  m.def(
      "zero_ratio_for_entropy",
      [](double bits, const std::string& branch) {
        return zero_ratio_for_entropy(bits, parse_branch(branch));
      },
      py::arg("bits"), py::arg("branch") = "sparse",
      "Target bits -> target zero ratio: the z with symmetric-sign entropy H(z) = bits, on the\n"
      "sparse (z >= 1/3) or dense branch. Example: 1.32 bits -> 0.63038 (sparse).");

  py::class_<TargetBitsController>(m, "TargetBitsController",
                                   "The target-bits controller: nudges alpha so that the zero ratio "
                                   "approaches the one giving the target entropy.")
      .def(py::init([](double target_bits, const std::string& branch,
                       std::optional<double> target_zero_ratio, double tolerance, double step_size,
                       double alpha_min, double alpha_max) {
             ControllerSettings s;
             s.target_bits = target_bits;
             s.branch = parse_branch(branch);
             s.target_zero_ratio = target_zero_ratio;
             s.tolerance = tolerance;
             s.step_size = step_size;
             s.alpha_min = alpha_min;
             s.alpha_max = alpha_max;
             return TargetBitsController(s);
           }),
           py::arg("target_bits") = 1.32, py::arg("branch") = "sparse",
           py::arg("target_zero_ratio") = py::none(), py::arg("tolerance") = 0.02,
           py::arg("step_size") = 0.05, py::arg("alpha_min") = 0.0, py::arg("alpha_max") = 1.5)
      .def_property_readonly("target_zero_ratio", &TargetBitsController::target_zero_ratio,
                             "The zero ratio it steers toward.")
      .def("update", &TargetBitsController::update, py::arg("alpha"), py::arg("zero_ratio"),
           "The next alpha: up by step_size when zero_ratio is below the target by more than the\n"
           "tolerance, down when above, clipped to [alpha_min, alpha_max].");
}

}  // namespace chimera::python
