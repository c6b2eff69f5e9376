#pragma once
// Turns an rte_eal_init() failure into one line that says what to do: most
// first-run failures are missing hugepages, a too-small -m with --no-huge, or a
// second process sharing the default --file-prefix.
#include <span>
#include <string>
#include <string_view>

namespace synmill::dp {

// Hugepage state of the machine, from /proc/meminfo and /proc/mounts.
struct HugepageState {
  long total = -1;  // HugePages_Total (-1: unknown)
  long free = -1;   // HugePages_Free
  long size_kb = -1;  // Hugepagesize
  bool hugetlbfs_mounted = false;
};

HugepageState parse_hugepage_state(std::string_view meminfo, std::string_view mounts);
HugepageState read_hugepage_state();

// The value of --file-prefix in `eal_args`, or DPDK's default "rte".
std::string eal_file_prefix(std::span<const std::string> eal_args);

// True if a running DPDK primary process holds the lock on the runtime config
// of `prefix` (/var/run/dpdk/<prefix>/config, or under $XDG_RUNTIME_DIR for
// non-root users).
bool file_prefix_in_use(const std::string& prefix);

// The one-line message for rte_eal_init() failing with `err` (rte_errno) when
// given `eal_args` (the arguments before "--", program name excluded).
// `prefix_in_use`: file_prefix_in_use() of the prefix those arguments name.
std::string describe_eal_failure(int err, std::span<const std::string> eal_args,
                                 const HugepageState& hugepages, bool prefix_in_use = false);

}  // namespace synmill::dp
