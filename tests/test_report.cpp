// chimera report: every malformed log is an error naming the file and the line; a real log
// gives every figure as a PNG with something drawn in it, linked from index.html.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/io/atomic_file.h"
#include "harness/report/report.h"
#include "test_util.h"

namespace chimera {
namespace {

namespace fs = std::filesystem;
using test::error_of;
using test::TempDir;

std::string batch(int step, double loss) {
  return "{\"record_type\":\"batch\",\"mode\":\"chimera\",\"seed\":7,\"step\":" +
         std::to_string(step) + ",\"train_loss\":" + std::to_string(loss) +
         ",\"global_zero_ratio\":0.6,\"alpha_used_mean\":1.1,\"target_zero_ratio\":0.63,"
         "\"flip_rate\":0.01}";
}

std::string error_for(const TempDir& dir, const std::string& text) {
  const fs::path p = dir.path / "log.jsonl";
  std::ofstream(p) << text;
  return error_of([&] { report_data({p.string()}); });
}

TEST(Report, MalformedLogsAreErrorsNamingFileAndLine) {
  const TempDir dir("report_bad");
  const std::string name = (dir.path / "log.jsonl").string();
  auto expect = [&](const std::string& text, const std::string& what) {
    const std::string e = error_for(dir, text);
    EXPECT_NE(e.find("'" + name + "'"), std::string::npos) << e;
    EXPECT_NE(e.find(what), std::string::npos) << e;
  };
  expect(batch(1, 2.0) + "\n{\"record_type\":\"batch\",", "line 2 is not a JSON object");
  expect(batch(1, 2.0) + "\n\n" + batch(2, 1.0) + "\n", "line 2 is empty");
  expect("[1, 2]\n", "line 1 is not a JSON object");
  expect("{\"step\":1}\n", "line 1: a log record without \"record_type\"");
  expect("{\"record_type\":\"batch\",\"mode\":\"chimera\",\"seed\":7,\"train_loss\":1}\n",
         "line 1: a batch record without \"step\"");
  expect(batch(1, 2.0) + "\n{\"record_type\":\"eval\",\"mode\":\"chimera\",\"seed\":7,\"epoch\":1,"
                         "\"test_accuracy\":\"high\"}\n",
         "line 2: \"test_accuracy\" of a eval record is \"high\", not a number");
  expect("", "is empty: no records");
  expect("{\"record_type\":\"summary\"}\n", "has no batch records");
  EXPECT_NE(error_of([] { report_data({"/nonexistent/log.jsonl"}); })
                .find("cannot read '/nonexistent/log.jsonl'"),
            std::string::npos);
  EXPECT_EQ(error_for(dir, batch(1, 2.0) + "\n" + batch(2, 1.5) + "\n"), "");
}

TEST(Report, EveryFigureIsAPngWithDataAndTheHtmlLinksIt) {
  const TempDir dir("report_real");
  // A log shaped as a real run writes it: two runs, eval records, a final record.
  std::string log;
  for (const char* mode : {"fp32_baseline", "chimera"}) {
    for (int step = 1; step <= 40; ++step) {
      std::string b = batch(step, 2.0 / step);
      b.replace(b.find("\"chimera\""), 9, std::string("\"") + mode + "\"");
      log += b + "\n";
      if (step % 20 == 0)
        log += std::string("{\"record_type\":\"eval\",\"mode\":\"") + mode +
               "\",\"seed\":7,\"epoch\":" + std::to_string(step / 20) + ",\"test_accuracy\":" +
               std::to_string(0.5 + step / 100.0) + "}\n";
    }
    log += std::string("{\"record_type\":\"final\",\"mode\":\"") + mode +
           "\",\"seed\":7,\"test_accuracy\":0.9,\"test_loss\":0.3,\"global_effective_bits\":1.3,"
           "\"global_zero_ratio\":0.63,\"flip_rate\":0.01,\"train_images_per_s\":500,"
           "\"eval_images_per_s\":3000}\n";
  }
  const fs::path path = dir.path / "run.jsonl";
  std::ofstream(path) << log;
  ReportArgs a;
  a.logs = {path.string()};
  a.out_dir = (dir.path / "report").string();
  std::ostringstream out;
  const std::string index = write_report(a, out);
  const std::string html = read_file(index);
  for (const std::string& f : report_figures()) {
    SCOPED_TRACE(f);
    EXPECT_NE(html.find("<img src=\"" + f + "\""), std::string::npos);
    const auto [w, h] = test::png_size(dir.path / "report" / f);
    EXPECT_GT(w, 300u);
    EXPECT_GT(h, 200u);
    EXPECT_GT(test::matplotlib_data_share(dir.path / "report" / f), 0.0005)
        << "no data drawn in the figure";
  }
  EXPECT_NE(html.find("<td>90.00</td>"), std::string::npos);  // the runs table
  EXPECT_NE(out.str().find("6 figures, 2 runs"), std::string::npos);
}

}  // namespace
}  // namespace chimera
