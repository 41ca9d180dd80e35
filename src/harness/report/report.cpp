#include "harness/report/report.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "engine/error.h"
#include "engine/io/atomic_file.h"
#include "harness/report/report_plots_py.h"

namespace chimera {
namespace {

namespace fs = std::filesystem;

struct Where {
  const std::string& file;
  int64_t line;
};

const Json& field(const Json& r, const char* key, const Where& w, const char* kind) {
  if (!r.contains(key))
    CHIMERA_FAIL("'", w.file, "' line ", w.line, ": a ", kind, " record without \"", key,
                 "\" (not a chimera or reference training log, or a damaged one)");
  return r.at(key);
}

double number(const Json& r, const char* key, const Where& w, const char* kind) {
  const Json& v = field(r, key, w, kind);
  if (!v.is_number())
    CHIMERA_FAIL("'", w.file, "' line ", w.line, ": \"", key, "\" of a ", kind,
                 " record is ", v.dump(), ", not a number");
  return v.get<double>();
}

Json optional_number(const Json& r, const char* key) {
  return r.contains(key) && r.at(key).is_number() ? r.at(key) : Json();
}

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else o += c;
  }
  return o;
}

std::string fixed(const Json& v, int digits, double scale = 1.0) {
  if (!v.is_number()) return "–";
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, v.get<double>() * scale);
  return b;
}

}  // namespace

const std::vector<std::string>& report_figures() {
  static const std::vector<std::string> figures = {
      "test_accuracy.png", "train_loss.png",       "zero_share_alpha.png",
      "flip_rate.png",     "accuracy_vs_bits.png", "images_per_s.png"};
  return figures;
}

Json report_data(const std::vector<std::string>& logs) {
  CHIMERA_CHECK(!logs.empty(), "report: give at least one training log (JSONL)");
  std::vector<Json> runs;
  std::map<std::string, size_t> index;  // file | mode | seed -> run
  for (const std::string& file : logs) {
    std::ifstream in(file);
    CHIMERA_CHECK(in.good(), "report: cannot read '", file, "'");
    std::string text;
    int64_t line_no = 0, batches = 0;
    while (std::getline(in, text)) {
      ++line_no;
      const Where w{file, line_no};
      CHIMERA_CHECK(!text.empty(), "'", file, "' line ", line_no,
                    " is empty (a JSONL log has one JSON object per line)");
      const Json r = Json::parse(text, nullptr, false);
      CHIMERA_CHECK(!r.is_discarded() && r.is_object(), "'", file, "' line ", line_no,
                    " is not a JSON object (a truncated or damaged log?)");
      const std::string type = field(r, "record_type", w, "log").is_string()
                                   ? r.at("record_type").get<std::string>()
                                   : "";
      CHIMERA_CHECK(!type.empty(), "'", file, "' line ", line_no,
                    ": \"record_type\" is not a string");
      if (type != "batch" && type != "eval" && type != "final") continue;  // epoch, summary, ...
      const std::string mode = field(r, "mode", w, type.c_str()).get<std::string>();
      const Json& seed = field(r, "seed", w, type.c_str());
      const std::string key = file + "|" + mode + "|" + seed.dump();
      auto it = index.find(key);
      if (it == index.end()) {
        it = index.emplace(key, runs.size()).first;
        runs.push_back({{"file", file},
                        {"mode", mode},
                        {"seed", seed},
                        {"ternary", mode != "fp32_baseline"},
                        {"eval", Json::array()},
                        {"loss", Json::array()},
                        {"zero_share", Json::array()},
                        {"alpha", Json::array()},
                        {"flip_rate", Json::array()},
                        {"target_zero_share", Json()},
                        {"final", Json()}});
      }
      Json& run = runs[it->second];
      if (type == "batch") {
        ++batches;
        const double step = number(r, "step", w, "batch");
        const double loss = r.contains("train_loss") && r.at("train_loss").is_number()
                                ? r.at("train_loss").get<double>()
                                : number(r, "loss", w, "batch");
        run["loss"].push_back({step, loss});
        run["zero_share"].push_back({step, number(r, "global_zero_ratio", w, "batch")});
        run["alpha"].push_back({step, number(r, "alpha_used_mean", w, "batch")});
        if (r.contains("flip_rate") && r.at("flip_rate").is_number() &&
            r.at("flip_rate").get<double>() > 0)
          run["flip_rate"].push_back({step, r.at("flip_rate").get<double>()});
        run["target_zero_share"] = optional_number(r, "target_zero_ratio");
      } else if (type == "eval") {
        run["eval"].push_back({number(r, "epoch", w, "eval"), number(r, "test_accuracy", w, "eval")});
      } else {
        run["final"] = {{"test_accuracy", optional_number(r, "test_accuracy")},
                        {"test_loss", optional_number(r, "test_loss")},
                        {"effective_bits", number(r, "global_effective_bits", w, "final")},
                        {"zero_share", number(r, "global_zero_ratio", w, "final")},
                        {"flip_rate", optional_number(r, "flip_rate")},
                        {"train_images_per_s", optional_number(r, "train_images_per_s")},
                        {"eval_images_per_s", optional_number(r, "eval_images_per_s")}};
      }
    }
    CHIMERA_CHECK(line_no > 0, "'", file, "' is empty: no records to report");
    CHIMERA_CHECK(batches > 0, "'", file, "' has no batch records: nothing to draw");
  }
  // Labels: mode and seed, with the file's name when two logs hold the same pair.
  std::map<std::string, int> seen;
  for (const Json& r : runs) ++seen[r["mode"].get<std::string>() + r["seed"].dump()];
  for (Json& r : runs) {
    std::string label = r["mode"].get<std::string>() + " s" + r["seed"].dump();
    if (seen[r["mode"].get<std::string>() + r["seed"].dump()] > 1)
      label += " (" + fs::path(r["file"].get<std::string>()).stem().string() + ")";
    r["label"] = label;
    if (r["final"].is_null())  // a run cut short: its last evaluation stands in
      r["final"] = {{"test_accuracy", r["eval"].empty() ? Json() : r["eval"].back()[1]},
                    {"test_loss", Json()},
                    {"effective_bits", Json()},
                    {"zero_share", r["zero_share"].empty() ? Json() : r["zero_share"].back()[1]},
                    {"flip_rate", Json()},
                    {"train_images_per_s", Json()},
                    {"eval_images_per_s", Json()}};
  }
  return {{"logs", logs}, {"runs", runs}};
}

std::string write_report(const ReportArgs& args, std::ostream& out) {
  const Json data = report_data(args.logs);
  fs::create_directories(args.out_dir);
  const fs::path dir(args.out_dir);
  const std::string data_path = (dir / "report_data.json").string();
  write_file_atomic(data_path, data.dump() + "\n");

  // The plots: the script goes to python3 on stdin.
  const std::string command = "'" + args.python + "' - '" + data_path + "' '" + args.out_dir + "'";
  FILE* py = popen(command.c_str(), "w");
  CHIMERA_CHECK(py != nullptr, "report: could not start ", args.python);
  std::fputs(kReportPlotsPy, py);
  const int status = pclose(py);
  CHIMERA_CHECK(status == 0, "report: the matplotlib script failed (exit status ", status,
                "; its message is above: a full disk, or python3-matplotlib missing: "
                "apt-get install python3-matplotlib); figures already in '", args.out_dir,
                "' are unchanged or complete");
  for (const std::string& f : report_figures())
    CHIMERA_CHECK(fs::is_regular_file(dir / f) && fs::file_size(dir / f) > 0,
                  "report: matplotlib did not write ", (dir / f).string());

  // The page: every figure, then the tables.
  std::string h =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Chimera report</title>\n"
      "<style>body{font-family:sans-serif;max-width:1000px;margin:auto}table{border-collapse:"
      "collapse}td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}"
      "img{max-width:100%}</style></head><body>\n<h1>Chimera training report</h1>\n<p>Logs: ";
  for (const Json& l : data["logs"]) h += "<code>" + html_escape(l.get<std::string>()) + "</code> ";
  h += "</p>\n";
  const char* captions[] = {"Test accuracy per epoch", "Training loss per batch",
                            "Global zero share against the controller's target, and alpha",
                            "Flip rate: ternary codes changed by each step",
                            "Accuracy against effective bits (float runs as a line)",
                            "Images per second, training and evaluation"};
  for (size_t i = 0; i < report_figures().size(); ++i)
    h += "<h2>" + std::string(captions[i]) + "</h2>\n<img src=\"" + report_figures()[i] +
         "\" alt=\"" + captions[i] + "\">\n";
  h += "<h2>Runs</h2>\n<table><tr><th>run</th><th>mode</th><th>seed</th><th>final test "
       "accuracy (%)</th><th>test loss</th><th>zero share</th><th>effective bits</th>"
       "<th>last flip rate</th><th>train img/s</th><th>eval img/s</th></tr>\n";
  for (const Json& r : data["runs"]) {
    const Json& f = r["final"];
    h += "<tr><td>" + html_escape(r["label"].get<std::string>()) + "</td><td>" +
         html_escape(r["mode"].get<std::string>()) + "</td><td>" + r["seed"].dump() + "</td><td>" +
         fixed(f["test_accuracy"], 2, 100) + "</td><td>" + fixed(f["test_loss"], 4) + "</td><td>" +
         (r["ternary"].get<bool>() ? fixed(f["zero_share"], 3) : "–") + "</td><td>" +
         (r["ternary"].get<bool>() ? fixed(f["effective_bits"], 3) : "–") + "</td><td>" +
         fixed(f["flip_rate"], 5) + "</td><td>" + fixed(f["train_images_per_s"], 0) +
         "</td><td>" + fixed(f["eval_images_per_s"], 0) + "</td></tr>\n";
  }
  h += "</table>\n<h2>Test accuracy per epoch (%)</h2>\n<table><tr><th>run</th>";
  size_t epochs = 0;
  for (const Json& r : data["runs"]) epochs = std::max(epochs, r["eval"].size());
  for (size_t e = 1; e <= epochs; ++e) h += "<th>" + std::to_string(e) + "</th>";
  h += "</tr>\n";
  for (const Json& r : data["runs"]) {
    h += "<tr><td>" + html_escape(r["label"].get<std::string>()) + "</td>";
    for (size_t e = 0; e < epochs; ++e)
      h += "<td>" + (e < r["eval"].size() ? fixed(r["eval"][e][1], 2, 100) : "–") + "</td>";
    h += "</tr>\n";
  }
  h += "</table>\n</body></html>\n";
  const std::string index = (dir / "index.html").string();
  write_file_atomic(index, h);
  out << "[report] " << index << " (" << report_figures().size() << " figures, "
      << data["runs"].size() << " runs)" << std::endl;
  return index;
}

}  // namespace chimera
