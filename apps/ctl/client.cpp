#include "ctl/client.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace synmill::ctl {
namespace {

constexpr size_t kGreetingMax = 1024;
constexpr size_t kReplyMin = 16384;

dp::Result<std::string> receive(int fd, size_t max_len) {
  std::vector<char> buf(max_len + 1);
  for (;;) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return dp::Error{fmt::format("telemetry socket: recv: {}", std::strerror(errno))};
    if (n == 0) return dp::Error{"telemetry socket: the process closed the connection"};
    return std::string(buf.data(), static_cast<size_t>(n));
  }
}

}  // namespace

std::string runtime_dir(const std::string& prefix) {
  if (::geteuid() == 0) return fmt::format("/var/run/dpdk/{}", prefix);
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  return fmt::format("{}/dpdk/{}", xdg != nullptr && *xdg != '\0' ? xdg : "/tmp", prefix);
}

dp::Result<TelemetryClient> TelemetryClient::connect(const std::string& prefix) {
  const std::string path = runtime_dir(prefix) + "/dpdk_telemetry.v2";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return dp::Error{fmt::format("no synmill with --file-prefix {} is running (no {})", prefix, path)};
  }
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  if (path.size() >= sizeof(sun.sun_path)) {
    return dp::Error{fmt::format("telemetry socket path too long: {}", path)};
  }
  std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET, 0);
  if (fd < 0) return dp::Error{fmt::format("socket: {}", std::strerror(errno))};
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sun), sizeof(sun)) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == ECONNREFUSED) {
      return dp::Error{fmt::format("no synmill with --file-prefix {} is running ({} is stale: nothing "
                                   "listens on it)",
                                   prefix, path)};
    }
    return dp::Error{fmt::format("cannot connect to {}: {}", path, std::strerror(err))};
  }
  TelemetryClient client(fd, prefix, kReplyMin);
  auto greeting = receive(fd, kGreetingMax);
  if (!greeting) return dp::Error{greeting.error()};
  std::string error;
  const auto g = parse_json(*greeting, error);
  if (!g) return dp::Error{fmt::format("telemetry greeting from {}: {}", path, error)};
  if (const Json* m = g->get("max_output_len"); m != nullptr) {
    client.max_len_ = std::max<size_t>(kReplyMin, m->u64(kReplyMin));
  }
  return client;
}

TelemetryClient::TelemetryClient(TelemetryClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), prefix_(std::move(other.prefix_)), max_len_(other.max_len_) {}

TelemetryClient::~TelemetryClient() {
  if (fd_ >= 0) ::close(fd_);
}

dp::Result<Json> TelemetryClient::query(const std::string& command) {
  if (::send(fd_, command.data(), command.size(), 0) < 0) {
    return dp::Error{fmt::format("telemetry socket: send: {}", std::strerror(errno))};
  }
  auto reply = receive(fd_, max_len_);
  if (!reply) return dp::Error{reply.error()};
  std::string error;
  auto doc = parse_json(*reply, error);
  if (!doc) return dp::Error{fmt::format("reply to {}: {}", command, error)};
  const std::string key = command.substr(0, command.find(','));
  const Json* v = doc->get(key);
  if (v == nullptr || v->is_null()) {
    return dp::Error{fmt::format("the process with --file-prefix {} does not answer {} (not synmill, "
                                 "started with --no-telemetry, or shutting down)",
                                 prefix_, key)};
  }
  return *v;
}

}  // namespace synmill::ctl
