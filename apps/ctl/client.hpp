#pragma once
// A client of DPDK's telemetry socket (v2): a SOCK_SEQPACKET Unix socket at
// <runtime dir>/dpdk_telemetry.v2. The server greets with a JSON object that
// carries "max_output_len"; then each command written ("/synmill/stats",
// "/synmill/conns,100,0") gets one JSON reply {"<command>": <value>}.
#include <string>

#include "ctl/json.hpp"
#include "dp/result.hpp"

namespace synmill::ctl {

// DPDK's runtime directory for a file prefix: /var/run/dpdk/<prefix> for root,
// else $XDG_RUNTIME_DIR/dpdk/<prefix> (or /tmp/dpdk/<prefix>).
std::string runtime_dir(const std::string& prefix);

class TelemetryClient {
 public:
  // Connects and reads the greeting. Errors are one line naming the prefix.
  static dp::Result<TelemetryClient> connect(const std::string& prefix);

  TelemetryClient(TelemetryClient&& other) noexcept;
  TelemetryClient& operator=(TelemetryClient&&) = delete;
  TelemetryClient(const TelemetryClient&) = delete;
  TelemetryClient& operator=(const TelemetryClient&) = delete;
  ~TelemetryClient();

  // Sends `command` (with its parameters after ',') and returns the value of
  // the reply; a null value is an error naming the command.
  dp::Result<Json> query(const std::string& command);

 private:
  TelemetryClient(int fd, std::string prefix, size_t max_len)
      : fd_(fd), prefix_(std::move(prefix)), max_len_(max_len) {}

  int fd_ = -1;
  std::string prefix_;
  size_t max_len_ = 16384;
};

}  // namespace synmill::ctl
