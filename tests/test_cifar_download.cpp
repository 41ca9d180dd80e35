// --download: fetch, verify and extract the CIFAR-10 archive. No network here: a small archive
// made by the test is served by an in-test HTTP server on 127.0.0.1, which can also announce
// more bytes than it sends (a truncated transfer).
#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/io/atomic_file.h"
#include "train/data/archive_extract.h"
#include "train/data/cifar_binary.h"
#include "train/data/cifar_download.h"
#include "train/data/cifar_loader.h"
#include "train/data/http_download.h"
#include "test_util.h"

namespace chimera {
namespace {

namespace fs = std::filesystem;

struct Response {
  std::string body;
  int64_t announced = -1;  // Content-Length to send; -1: the body's true length
};

// Serves fixed responses over HTTP/1.1 on 127.0.0.1 (port chosen by the system) from one thread,
// one connection at a time; unknown paths get 404. Stops in its destructor.
class TestServer {
 public:
  explicit TestServer(std::map<std::string, Response> routes) : routes_(std::move(routes)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~TestServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      timeval timeout{5, 0};
      ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(client, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      const size_t start = request.find(' ') + 1;
      const std::string path = request.substr(start, request.find(' ', start) - start);
      std::string reply;
      const auto route = routes_.find(path);
      if (route == routes_.end()) {
        reply = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      } else {
        const Response& r = route->second;
        const int64_t length = r.announced >= 0 ? r.announced : int64_t(r.body.size());
        reply = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                std::to_string(length) + "\r\nConnection: close\r\n\r\n" + r.body;
      }
      for (size_t sent = 0; sent < reply.size();) {
        const ssize_t n = ::send(client, reply.data() + sent, reply.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
      }
      ::shutdown(client, SHUT_RDWR);
      ::close(client);
    }
  }

  std::map<std::string, Response> routes_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A .tar.gz holding `files` (path -> bytes), with a folder entry for each parent folder.
std::string make_tar_gz(const std::map<std::string, std::string>& files) {
  std::vector<char> buffer(1 << 23);
  size_t used = 0;
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  EXPECT_EQ(archive_write_open_memory(a, buffer.data(), buffer.size(), &used), ARCHIVE_OK);
  std::set<std::string> folders;
  for (const auto& [path, bytes] : files) {
    const std::string parent = fs::path(path).parent_path().string();
    archive_entry* entry = archive_entry_new();
    if (!parent.empty() && folders.insert(parent).second) {
      archive_entry_set_pathname(entry, (parent + "/").c_str());
      archive_entry_set_filetype(entry, AE_IFDIR);
      archive_entry_set_perm(entry, 0755);
      archive_write_header(a, entry);
      archive_entry_clear(entry);
    }
    archive_entry_set_pathname(entry, path.c_str());
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, 0644);
    archive_entry_set_size(entry, static_cast<la_int64_t>(bytes.size()));
    EXPECT_EQ(archive_write_header(a, entry), ARCHIVE_OK) << path;
    archive_write_data(a, bytes.data(), bytes.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buffer.data(), used);
}

// Train file f: 3 records labelled f, f + 1, f + 2; the test file: 2 records labelled 8, 9.
std::string cifar_file(int64_t count, int first_label) {
  std::string bytes(static_cast<size_t>(count * kCifarRecordBytes), '\0');
  for (int64_t i = 0; i < count; ++i) {
    bytes[i * kCifarRecordBytes] = static_cast<char>((first_label + i) % 10);
    for (int64_t k = 1; k < kCifarRecordBytes; ++k)
      bytes[i * kCifarRecordBytes + k] = static_cast<char>((i + k) % 251);
  }
  return bytes;
}

std::map<std::string, std::string> cifar_archive_files() {
  std::map<std::string, std::string> files;
  for (int f = 0; f < 5; ++f)
    files[std::string(kCifarFolder) + "/" + kCifarTrainFiles[f]] = cifar_file(3, f);
  files[std::string(kCifarFolder) + "/" + kCifarTestFile] = cifar_file(2, 8);
  files[std::string(kCifarFolder) + "/batches.meta.txt"] = "airplane\n";
  return files;
}

class DownloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    temp_.emplace("chimera_download");
    base_ = temp_->path;
    root_ = base_ / "root";
    archive_ = make_tar_gz(cifar_archive_files());
    write_file_atomic((base_ / "archive.tar.gz").string(), archive_);
    md5_ = md5_file_hex((base_ / "archive.tar.gz").string());
  }
  void TearDown() override { temp_.reset(); }

  std::set<std::string> entries(const fs::path& dir) const {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
    return names;
  }
  // Runs `fn`, expects an error containing every part, and returns it.
  std::string expect_error(const std::function<void()>& fn, std::vector<std::string> parts) {
    try {
      fn();
    } catch (const Error& e) {
      for (const std::string& part : parts)
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "no error";
    return "";
  }

  std::optional<test::TempDir> temp_;
  fs::path base_, root_;
  std::string archive_, md5_;
};

TEST_F(DownloadTest, Md5MatchesKnownVectors) {
  write_file_atomic((base_ / "abc").string(), "abc");
  write_file_atomic((base_ / "empty").string(), "");
  EXPECT_EQ(md5_file_hex((base_ / "abc").string()), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(md5_file_hex((base_ / "empty").string()), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST_F(DownloadTest, DownloadsVerifiesExtractsAndLoads) {
  TestServer server({{"/cifar-10-binary.tar.gz", {archive_}}});
  std::string upper = md5_;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  download_cifar(root_.string(), server.url("/cifar-10-binary.tar.gz"), upper);
  // Only the data folder is left: no temporary archive or extraction folder.
  EXPECT_EQ(entries(root_), std::set<std::string>{kCifarFolder});
  const CifarData data = load_cifar(root_.string());
  ASSERT_EQ(data.train.size(), 15);
  ASSERT_EQ(data.test.size(), 2);
  EXPECT_EQ(data.train.labels.data<int64_t>()[3], 1);  // data_batch_2.bin, record 0
  EXPECT_EQ(data.test.labels.data<int64_t>()[1], 9);
  EXPECT_EQ(data.train.images.f32()[1], normalize_cifar_pixel(2 % 251, 0));
  // A second download never overwrites the data.
  expect_error([&] { download_cifar(root_.string(), server.url("/cifar-10-binary.tar.gz"), md5_); },
               {"already exists", kCifarFolder});
}

TEST_F(DownloadTest, FileUrlsWork) {
  download_cifar(root_.string(), "file://" + (base_ / "archive.tar.gz").string(), md5_);
  EXPECT_EQ(load_cifar(root_.string()).train.size(), 15);
}

TEST_F(DownloadTest, WrongChecksumLeavesTheRootUnchanged) {
  TestServer server({{"/a.tar.gz", {archive_}}});
  fs::create_directories(root_);
  write_file_atomic((root_ / "keep.txt").string(), "mine");
  const std::string url = server.url("/a.tar.gz");
  expect_error([&] { download_cifar(root_.string(), url, std::string(32, '0')); },
               {url, "MD5 " + md5_, "expected 00000000000000000000000000000000"});
  EXPECT_EQ(entries(root_), std::set<std::string>{"keep.txt"});
  // A root that did not exist before is not left behind either.
  const fs::path fresh = base_ / "fresh";
  expect_error([&] { download_cifar(fresh.string(), url, std::string(32, 'a')); }, {"MD5"});
  EXPECT_FALSE(fs::exists(fresh));
}

TEST_F(DownloadTest, TruncatedTransferLeavesNothingBehind) {
  Response truncated{archive_.substr(0, archive_.size() / 2),
                     static_cast<int64_t>(archive_.size())};
  TestServer server({{"/cut.tar.gz", truncated}});
  fs::create_directories(root_);
  const std::string url = server.url("/cut.tar.gz");
  expect_error([&] { download_cifar(root_.string(), url, md5_); }, {url, "ended early"});
  EXPECT_TRUE(fs::is_empty(root_));
}

TEST_F(DownloadTest, UnreachableUrlIsNamedInTheError) {
  // A port that was free a moment ago: nothing listens there.
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(probe);
  const std::string url =
      "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/cifar-10-binary.tar.gz";
  expect_error([&] { download_cifar(root_.string(), url, md5_); },
               {"cannot download '" + url + "'"});
  EXPECT_FALSE(fs::exists(root_));
}

TEST_F(DownloadTest, HttpErrorStatusIsAnError) {
  TestServer server({});
  const std::string url = server.url("/missing.tar.gz");
  expect_error([&] { download_cifar(root_.string(), url, md5_); }, {url, "404"});
  EXPECT_FALSE(fs::exists(root_));
}

TEST_F(DownloadTest, ArchiveWithoutTheBatchesIsRejected) {
  const std::string other = make_tar_gz({{"something/else.txt", "hello"}});
  write_file_atomic((base_ / "other.tar.gz").string(), other);
  TestServer server({{"/other.tar.gz", {other}}});
  fs::create_directories(root_);
  expect_error(
      [&] {
        download_cifar(root_.string(), server.url("/other.tar.gz"),
                       md5_file_hex((base_ / "other.tar.gz").string()));
      },
      {"data_batch_1.bin", "not the CIFAR-10 binary archive"});
  EXPECT_TRUE(fs::is_empty(root_));
}

TEST_F(DownloadTest, ChecksumMustBeHex) {
  expect_error([&] { download_cifar(root_.string(), "http://127.0.0.1:1/x", "xyz"); },
               {"--dataset-md5", "'xyz'"});
  EXPECT_FALSE(fs::exists(root_));
}

TEST_F(DownloadTest, ExtractionRefusesPathsOutsideTheFolder) {
  const std::string evil = make_tar_gz({{"../escaped.txt", "x"}});
  write_file_atomic((base_ / "evil.tar.gz").string(), evil);
  const fs::path dest = base_ / "dest";
  expect_error([&] { extract_archive((base_ / "evil.tar.gz").string(), dest.string()); },
               {"outside its folder", "'../"});
  EXPECT_FALSE(fs::exists(base_ / "escaped.txt"));
}

}  // namespace
}  // namespace chimera
