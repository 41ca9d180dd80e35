#include "harness/experiments/clean.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "harness/report/report.h"

namespace chimera {
namespace {

namespace fs = std::filesystem;

std::string head_of(const fs::path& p, size_t bytes) {
  std::ifstream in(p, std::ios::binary);
  std::string s(bytes, '\0');
  in.read(s.data(), static_cast<std::streamsize>(bytes));
  s.resize(static_cast<size_t>(in.gcount()));
  return s;
}

bool is_our_log(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  if (!std::getline(in, line)) return false;
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j.contains("record_type");
}

bool is_our_checkpoint(const fs::path& p) {
  const std::string h = head_of(p, 8);
  if (h.size() < 8) return false;
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(h[i]);
  if (n == 0 || n > (uint64_t{1} << 24)) return false;
  const std::string header = head_of(p, 8 + static_cast<size_t>(n)).substr(8);
  const nlohmann::json j = nlohmann::json::parse(header, nullptr, false);
  if (!j.is_object() || !j.contains("__metadata__") || !j["__metadata__"].is_object()) return false;
  const nlohmann::json& m = j["__metadata__"];
  return m.contains("arguments") || m.contains("config") || m.contains("trainer_state");
}

// Whether `p` (a regular file under outputs/) was written by a chimera command.
bool is_our_report_data(const fs::path& p) {
  std::ifstream in(p);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  return j.is_object() && j.contains("logs") && j.contains("runs");
}

bool made_by_us(const fs::path& p) {
  const std::string name = p.filename().string(), ext = p.extension().string();
  if (name == "report_data.json") return is_our_report_data(p);
  if (name == "index.html" ||
      std::find(report_figures().begin(), report_figures().end(), name) != report_figures().end())
    return fs::exists(p.parent_path() / "report_data.json") &&
           is_our_report_data(p.parent_path() / "report_data.json");
  if (name.find(".tmp.") != std::string::npos) return true;  // write_file_atomic's temporaries
  if (ext == ".jsonl") return is_our_log(p);
  if (ext == ".safetensors") return is_our_checkpoint(p);
  if (ext == ".chimera") return head_of(p, 8) == "CHIMODEL";
  if (name == "table.md" || name == "table.json")
    return fs::exists(p.parent_path() / "ablation.jsonl") && is_our_log(p.parent_path() / "ablation.jsonl");
  return false;
}

}  // namespace

CleanResult clean_outputs(const std::string& folder, bool dry_run, std::ostream& out) {
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(fs::absolute(folder), ec);
  CHIMERA_CHECK(!ec && fs::is_directory(root), "clean: '", folder, "' is not a folder");
  const fs::path outputs = root / "outputs";
  CleanResult result;
  if (fs::is_symlink(outputs)) {
    result.kept.push_back("outputs (a symbolic link: not followed)");
  } else if (fs::is_directory(outputs)) {
    std::vector<fs::path> dirs;
    for (auto it = fs::recursive_directory_iterator(outputs, fs::directory_options::none);
         it != fs::recursive_directory_iterator(); ++it) {
      const fs::path p = it->path();
      const std::string rel = p.lexically_relative(root).string();  // links not resolved
      if (it->is_symlink()) {  // never followed, never removed
        result.kept.push_back(rel + " (a symbolic link)");
        continue;
      }
      if (it->is_directory()) {
        dirs.push_back(p);
        continue;
      }
      const fs::path real = fs::weakly_canonical(p, ec);
      const std::string real_s = real.string(), root_s = root.string() + "/";
      if (ec || real_s.compare(0, root_s.size(), root_s) != 0) {
        result.kept.push_back(rel + " (outside the folder)");
        continue;
      }
      if (it->is_regular_file() && made_by_us(p))
        result.removed.push_back(rel);
      else
        result.kept.push_back(rel + " (not made by chimera)");
    }
    std::sort(result.removed.begin(), result.removed.end());
    std::sort(result.kept.begin(), result.kept.end());
    for (const std::string& rel : result.removed) {
      out << (dry_run ? "would remove " : "removed ") << rel << "\n";
      if (!dry_run) {
        fs::remove(root / rel, ec);
        CHIMERA_CHECK(!ec, "clean: could not remove '", (root / rel).string(), "': ", ec.message());
      }
    }
    if (!dry_run) {  // deepest first, so a parent sees its emptied children gone
      std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
        return a.string().size() > b.string().size();
      });
      dirs.push_back(outputs);
      for (const fs::path& d : dirs)
        if (fs::is_directory(d) && fs::is_empty(d)) fs::remove(d, ec);
    }
  }
  for (const std::string& k : result.kept) out << "kept " << k << "\n";
  out << (dry_run ? "[clean] dry run: " : "[clean] ") << result.removed.size()
      << (dry_run ? " files would be removed, " : " files removed, ") << result.kept.size()
      << " kept" << std::endl;
  return result;
}

}  // namespace chimera
