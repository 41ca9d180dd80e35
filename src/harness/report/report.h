// `chimera report LOG.jsonl [LOG2.jsonl ...] --out DIR`: training logs (ours, or the reference's,
// which has the same fields) to DIR/index.html with PNG figures and tables: test accuracy per
// epoch, training loss per batch, global zero share and alpha against the controller's target,
// flip rate, accuracy against effective bits (float runs as a line), images/s per run.
// The figures are drawn by matplotlib (report_plots_py.h); the data and the HTML are ours.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "harness/log/jsonl.h"

namespace chimera {

// One entry per run (file, mode, seed) with the series the figures need. Every line must be a
// JSON object with "record_type", and each batch, eval and final record must carry the fields
// its figure reads; otherwise an error names the file, the line and what is missing. A log
// without any batch record is an error too (nothing to draw).
Json report_data(const std::vector<std::string>& logs);

struct ReportArgs {
  std::vector<std::string> logs;
  std::string out_dir;
  std::string python = "/usr/bin/python3";  // Debian's, where python3-matplotlib lives
};

// The figure files, in the order the page shows them.
const std::vector<std::string>& report_figures();

// Writes out_dir/report_data.json, the PNGs and out_dir/index.html; returns index.html's path.
std::string write_report(const ReportArgs& args, std::ostream& out);

}  // namespace chimera
