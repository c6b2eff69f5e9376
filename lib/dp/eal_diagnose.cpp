#include "dp/eal_diagnose.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "dp/rte.hpp"
#include "dp/text.hpp"

namespace synmill::dp {
namespace {

// Value of "Key:   123 kB" in /proc/meminfo, or -1.
long meminfo_value(std::string_view meminfo, std::string_view key) {
  size_t pos = 0;
  while (pos < meminfo.size()) {
    size_t eol = meminfo.find('\n', pos);
    if (eol == std::string_view::npos) eol = meminfo.size();
    const std::string_view line = meminfo.substr(pos, eol - pos);
    pos = eol + 1;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || line.substr(0, colon) != key) continue;
    const std::string_view number = text::trim(line.substr(colon + 1));
    long value = -1;
    std::from_chars(number.data(), number.data() + number.size(), value);
    return value;
  }
  return -1;
}

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool has_arg(std::span<const std::string> args, std::string_view name) {
  for (const std::string& a : args) {
    if (a == name || (a.starts_with(name) && a.size() > name.size() && a[name.size()] == '=')) {
      return true;
    }
  }
  return false;
}

constexpr std::string_view kHugepageFix =
    "reserve them with 'echo 512 > /proc/sys/vm/nr_hugepages' and "
    "'mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages', "
    "or run without them: '--no-huge -m 1024'";

}  // namespace

HugepageState parse_hugepage_state(std::string_view meminfo, std::string_view mounts) {
  HugepageState s;
  s.total = meminfo_value(meminfo, "HugePages_Total");
  s.free = meminfo_value(meminfo, "HugePages_Free");
  s.size_kb = meminfo_value(meminfo, "Hugepagesize");
  s.hugetlbfs_mounted = mounts.find(" hugetlbfs ") != std::string_view::npos;
  return s;
}

HugepageState read_hugepage_state() {
  return parse_hugepage_state(read_file("/proc/meminfo"), read_file("/proc/mounts"));
}

std::string eal_file_prefix(std::span<const std::string> args) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].starts_with("--file-prefix=")) return args[i].substr(14);
    if (args[i] == "--file-prefix" && i + 1 < args.size()) return args[i + 1];
  }
  return "rte";
}

bool file_prefix_in_use(const std::string& prefix) {
  // eal_get_runtime_dir(): /var/run/dpdk for root, else $XDG_RUNTIME_DIR/dpdk (or /tmp/dpdk).
  std::string base = "/var/run";
  if (getuid() != 0) {
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    base = xdg != nullptr ? xdg : "/tmp";
  }
  const std::string path = base + "/dpdk/" + prefix + "/config";
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  const bool locked = fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK;
  close(fd);
  return locked;
}

std::string describe_eal_failure(int err, std::span<const std::string> eal_args,
                                 const HugepageState& hp, bool prefix_in_use) {
  const std::string what = err != 0 ? fmt::format("rte_eal_init failed: {}", rte_strerror(err))
                                    : std::string("rte_eal_init failed");
  if (prefix_in_use) {
    return fmt::format("{}: another DPDK process runs with file prefix '{}': give this one its own "
                       "--file-prefix",
                       what, eal_file_prefix(eal_args));
  }
  if (err == EALREADY) {
    return fmt::format("{}: the EAL is already initialised in this process: initialise it once and "
                       "keep the handle",
                       what);
  }
  const bool no_huge = has_arg(eal_args, "--no-huge");
  if (!no_huge && (hp.free == 0 || !hp.hugetlbfs_mounted)) {
    std::string state;
    if (hp.free == 0) state = fmt::format("{} hugepages reserved, 0 free", std::max(hp.total, 0L));
    if (!hp.hugetlbfs_mounted) {
      if (!state.empty()) state += ", ";
      state += "no hugetlbfs mounted";
    }
    return fmt::format("{} ({}): {}", what, state, kHugepageFix);
  }
  if (err == ENOMEM) {
    if (no_huge) {
      return fmt::format("{}: --no-huge memory too small or unavailable: raise -m (e.g. -m 1024)",
                         what);
    }
    return fmt::format("{} (hugepages: {} free of {}): reserve more "
                       "('echo 1024 > /proc/sys/vm/nr_hugepages') or lower -m",
                       what, hp.free, hp.total);
  }
  if (err == EACCES && !no_huge) {
    return fmt::format("{}: hugepages not accessible: run as root (or grant access to the "
                       "hugetlbfs mount), or run without them: '--no-huge -m 1024'",
                       what);
  }
  if (err == EINVAL) {
    return fmt::format("{}: bad EAL argument (the EAL line above names it): check the arguments "
                       "before '--' ({})",
                       what, fmt::join(eal_args, " "));
  }
  return fmt::format("{}: see the EAL lines above; if another DPDK process runs with file prefix "
                     "'{}', give this one its own --file-prefix",
                     what, eal_file_prefix(eal_args));
}

}  // namespace synmill::dp
