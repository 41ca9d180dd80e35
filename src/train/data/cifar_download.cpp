#include "train/data/cifar_download.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "engine/error.h"
#include "train/data/archive_extract.h"
#include "train/data/cifar_loader.h"
#include "train/data/http_download.h"

namespace chimera {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return text;
}

// Removes the temporary download and extraction folder however download_cifar ends, and the
// root itself when this call created it and the download did not finish.
struct Scratch {
  fs::path archive, extract_dir, root;
  bool created_root = false, done = false;
  ~Scratch() {
    std::error_code ignored;
    fs::remove(archive, ignored);
    fs::remove_all(extract_dir, ignored);
    if (created_root && !done) fs::remove(root, ignored);  // only if still empty
  }
};

}  // namespace

void download_cifar(const std::string& root, const std::string& url, const std::string& md5) {
  CHIMERA_CHECK(md5.size() == 32 && std::all_of(md5.begin(), md5.end(),
                                                [](unsigned char ch) { return std::isxdigit(ch); }),
                "--dataset-md5 must be 32 hexadecimal digits, got '", md5, "'");
  const fs::path target = fs::path(root) / kCifarFolder;
  CHIMERA_CHECK(!fs::exists(target), "'", target.string(),
                "' already exists; remove it to download again, or drop --download to use it");
  Scratch scratch;
  scratch.root = root;
  scratch.created_root = !fs::exists(root);
  std::error_code error;
  fs::create_directories(root, error);
  CHIMERA_CHECK(!error, "cannot create the dataset root '", root, "': ", error.message());
  const std::string tag = std::to_string(::getpid());
  scratch.archive = fs::path(root) / (".cifar-10-binary.tar.gz.part-" + tag);
  scratch.extract_dir = fs::path(root) / (".cifar-10-extract-" + tag);

  download_file(url, scratch.archive.string());
  const std::string actual = md5_file_hex(scratch.archive.string());
  CHIMERA_CHECK(actual == lower(md5), "the download from '", url, "' has MD5 ", actual,
                ", expected ", lower(md5),
                ": corrupt or not the CIFAR-10 binary archive (retry; --dataset-md5 sets the "
                "expected value for another archive)");
  extract_archive(scratch.archive.string(), scratch.extract_dir.string());
  const fs::path extracted = scratch.extract_dir / kCifarFolder;
  for (const char* name : kCifarTrainFiles)
    CHIMERA_CHECK(fs::is_regular_file(extracted / name), "the archive from '", url, "' has no ",
                  kCifarFolder, "/", name, "; it is not the CIFAR-10 binary archive");
  CHIMERA_CHECK(fs::is_regular_file(extracted / kCifarTestFile), "the archive from '", url,
                "' has no ", kCifarFolder, "/", kCifarTestFile,
                "; it is not the CIFAR-10 binary archive");
  fs::rename(extracted, target, error);
  CHIMERA_CHECK(!error, "cannot move the extracted data to '", target.string(),
                "': ", error.message());
  scratch.done = true;
}

}  // namespace chimera
