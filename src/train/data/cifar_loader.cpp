#include "train/data/cifar_loader.h"

#include <filesystem>

#include "train/data/cifar_binary.h"
#include "train/data/cifar_download.h"

namespace chimera {

namespace fs = std::filesystem;

std::optional<std::string> find_cifar_dir(const std::string& root) {
  for (const fs::path& dir : {fs::path(root), fs::path(root) / kCifarFolder})
    if (fs::is_regular_file(dir / kCifarTrainFiles[0])) return dir.string();
  return std::nullopt;
}

CifarData load_cifar(const std::string& root) {
  const std::optional<std::string> dir = find_cifar_dir(root);
  CHIMERA_CHECK(dir.has_value(), "CIFAR-10 not found: no ", kCifarTrainFiles[0], " in '", root,
                "' or '", (fs::path(root) / kCifarFolder).string(),
                "'; pass --download to fetch it, or download ", kCifarUrl,
                " and extract it there (--dataset-root picks the folder)");
  auto read = [&](const char* name) {
    const fs::path path = fs::path(*dir) / name;
    CHIMERA_CHECK(fs::is_regular_file(path), "CIFAR-10 in '", *dir, "' is incomplete: ", name,
                  " is missing; remove the folder and fetch the data again (--download)");
    return read_cifar_binary(path.string());
  };
  CifarRecords train;
  for (const char* name : kCifarTrainFiles) train.append(read(name));
  CifarData data;
  data.train = normalize_cifar(train);
  data.test = normalize_cifar(read(kCifarTestFile));
  return data;
}

}  // namespace chimera
