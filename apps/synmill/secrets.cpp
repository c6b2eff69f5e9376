#include "synmill/secrets.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace synmill::apps {
namespace {

bool fill(void* buf, size_t len) {
  auto* p = static_cast<unsigned char*>(buf);
  size_t done = 0;
  while (done < len) {
    const ssize_t n = getrandom(p + done, len - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

dp::Result<tcp::StackSecrets> draw_secrets() {
  std::array<uint64_t, 6> r{};
  if (!fill(r.data(), sizeof(r))) {
    return dp::Error{fmt::format("getrandom: {}: the kernel gave no random bytes for the ISN and "
                                 "cookie keys",
                                 std::strerror(errno))};
  }
  tcp::StackSecrets s;
  s.isn_key = tcp::SipKey{r[0], r[1]};
  s.cookie_key = tcp::SipKey{r[2], r[3]};
  s.table_seed = r[4];
  s.ts_offset = static_cast<uint32_t>(r[5]);
  return s;
}

}  // namespace synmill::apps
