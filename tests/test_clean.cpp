// chimera clean: removes only what our commands wrote under outputs/, never follows links, never
// leaves the folder; --dry-run removes nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/io/safetensors.h"
#include "harness/experiments/clean.h"
#include "test_util.h"
#include "train/trainer/checkpoint.h"

namespace chimera {
namespace {

namespace fs = std::filesystem;
using test::error_of;
using test::TempDir;
using test::write_bytes;


struct Tree {
  TempDir dir{"clean"};
  fs::path work = dir.path / "work", outside = dir.path / "elsewhere";
  Tree() {
    const fs::path o = work / "outputs";
    write_bytes(o / "cifar_ablation.jsonl", "{\"record_type\":\"batch\",\"step\":1}\n");
    Checkpoint c;
    c.model["w"] = Tensor({2});
    c.metadata["arguments"] = {{"mode", "chimera"}};
    fs::create_directories(o / "checkpoints");
    save_checkpoint((o / "checkpoints" / "run.safetensors").string(), c);
    write_bytes(o / "ablation" / "chimera.chimera", std::string("CHIMODEL") + std::string(40, '\0'));
    write_bytes(o / "ablation" / "ablation.jsonl", "{\"record_type\":\"final\"}\n");
    write_bytes(o / "ablation" / "table.md", "| mode |\n");
    write_bytes(o / "ablation" / "run.safetensors.tmp.4242", "partial");
    // Not ours: a foreign log, a plain state dict, notes, a table without our log beside it.
    write_bytes(o / "theirs.jsonl", "{\"loss\":1}\n");
    write_safetensors((o / "plain.safetensors").string(), {{"w", Tensor({2})}});
    write_bytes(o / "notes.txt", "mine");
    write_bytes(o / "other" / "table.md", "| x |\n");
    // Links to the outside: never followed, never removed, the targets untouched.
    write_bytes(outside / "keep.jsonl", "{\"record_type\":\"batch\"}\n");
    fs::create_symlink(outside / "keep.jsonl", o / "link.jsonl");
    fs::create_directory_symlink(outside, o / "linked_dir");
  }
};

TEST(Clean, DryRunListsAndRemovesNothing) {
  Tree t;
  std::ostringstream out;
  const CleanResult r = clean_outputs(t.work.string(), true, out);
  EXPECT_EQ(r.removed, (std::vector<std::string>{
                           "outputs/ablation/ablation.jsonl", "outputs/ablation/chimera.chimera",
                           "outputs/ablation/run.safetensors.tmp.4242", "outputs/ablation/table.md",
                           "outputs/checkpoints/run.safetensors", "outputs/cifar_ablation.jsonl"}));
  EXPECT_EQ(r.kept.size(), 6u);  // 4 foreign files, 2 links
  EXPECT_NE(out.str().find("would remove outputs/checkpoints/run.safetensors"), std::string::npos);
  EXPECT_NE(out.str().find("kept outputs/link.jsonl (a symbolic link)"), std::string::npos);
  EXPECT_TRUE(fs::exists(t.work / "outputs/checkpoints/run.safetensors"));
  EXPECT_TRUE(fs::exists(t.work / "outputs/cifar_ablation.jsonl"));
}

TEST(Clean, RemovesOursKeepsTheRestAndNeverLeavesTheFolder) {
  Tree t;
  std::ostringstream out;
  const CleanResult r = clean_outputs(t.work.string(), false, out);
  EXPECT_EQ(r.removed.size(), 6u);
  for (const std::string& rel : r.removed) EXPECT_FALSE(fs::exists(t.work / rel)) << rel;
  EXPECT_FALSE(fs::exists(t.work / "outputs/checkpoints"));  // left empty, so removed
  for (const char* kept : {"outputs/theirs.jsonl", "outputs/plain.safetensors", "outputs/notes.txt",
                           "outputs/other/table.md"})
    EXPECT_TRUE(fs::exists(t.work / kept)) << kept;
  EXPECT_TRUE(fs::is_symlink(t.work / "outputs/link.jsonl"));
  EXPECT_TRUE(fs::exists(t.outside / "keep.jsonl"));
  EXPECT_NE(out.str().find("removed outputs/cifar_ablation.jsonl"), std::string::npos);
  // Again: nothing of ours is left.
  std::ostringstream again;
  EXPECT_TRUE(clean_outputs(t.work.string(), false, again).removed.empty());
}

TEST(Clean, AMissingFolderIsAnErrorAndNoOutputsIsNothingToDo) {
  EXPECT_NE(error_of([] {
              std::ostringstream out;
              clean_outputs("/nonexistent/folder", false, out);
            }).find("'/nonexistent/folder' is not a folder"),
            std::string::npos);
  TempDir empty("clean_empty");
  std::ostringstream out;
  EXPECT_TRUE(clean_outputs(empty.path.string(), false, out).removed.empty());
  EXPECT_NE(out.str().find("0 files removed"), std::string::npos);
}

}  // namespace
}  // namespace chimera
