// rte_eal_init failures become one actionable line.
#include <cerrno>

#include <catch2/catch.hpp>

#include "dp/eal_diagnose.hpp"

using namespace synmill::dp;

namespace {

constexpr std::string_view kMeminfoNone =
    "MemTotal:        8000000 kB\nHugePages_Total:       0\nHugePages_Free:        0\n"
    "Hugepagesize:       2048 kB\n";
constexpr std::string_view kMeminfoSome =
    "HugePages_Total:     512\nHugePages_Free:      100\nHugepagesize:       2048 kB\n";
constexpr std::string_view kMounts =
    "proc /proc proc rw 0 0\nnodev /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n";

}  // namespace

TEST_CASE("hugepage state from /proc", "[dp][eal]") {
  const auto none = parse_hugepage_state(kMeminfoNone, "proc /proc proc rw 0 0\n");
  CHECK(none.total == 0);
  CHECK(none.free == 0);
  CHECK(none.size_kb == 2048);
  CHECK_FALSE(none.hugetlbfs_mounted);
  const auto some = parse_hugepage_state(kMeminfoSome, kMounts);
  CHECK(some.total == 512);
  CHECK(some.free == 100);
  CHECK(some.hugetlbfs_mounted);
  const auto unknown = parse_hugepage_state("", "");
  CHECK(unknown.total == -1);
}

TEST_CASE("EAL failure messages tell how to fix it", "[dp][eal]") {
  const std::vector<std::string> plain{"-l", "0-1"};
  const std::vector<std::string> no_huge{"--no-huge", "-m", "64"};
  const auto none = parse_hugepage_state(kMeminfoNone, "");
  const auto some = parse_hugepage_state(kMeminfoSome, kMounts);

  const std::string hp = describe_eal_failure(EACCES, plain, none);
  CHECK(hp.rfind("rte_eal_init failed: ", 0) == 0);
  CHECK(hp.find("0 hugepages reserved, 0 free, no hugetlbfs mounted") != std::string::npos);
  CHECK(hp.find("echo 512 > /proc/sys/vm/nr_hugepages") != std::string::npos);
  CHECK(hp.find("mount -t hugetlbfs nodev /dev/hugepages") != std::string::npos);
  CHECK(hp.find("--no-huge -m 1024") != std::string::npos);

  const std::string mem = describe_eal_failure(ENOMEM, no_huge, none);
  CHECK(mem.find("raise -m") != std::string::npos);
  CHECK(mem.find("nr_hugepages") == std::string::npos);

  CHECK(describe_eal_failure(ENOMEM, plain, some).find("reserve more") != std::string::npos);
  CHECK(describe_eal_failure(EALREADY, plain, some).find("already initialised") !=
        std::string::npos);
  CHECK(describe_eal_failure(EINVAL, std::vector<std::string>{"--bogus"}, some).find("--bogus") != std::string::npos);
  const std::string other =
      describe_eal_failure(EAGAIN, std::vector<std::string>{"--file-prefix=gen"}, some);
  CHECK(other.find("file prefix 'gen'") != std::string::npos);

  // The EAL reports a locked runtime config without setting rte_errno.
  const std::string locked = describe_eal_failure(0, std::vector<std::string>{"--file-prefix", "gen"},
                                                  some, true);
  CHECK(locked == "rte_eal_init failed: another DPDK process runs with file prefix 'gen': give this "
                  "one its own --file-prefix");
  CHECK(eal_file_prefix(std::vector<std::string>{"-l", "0"}) == "rte");
  CHECK_FALSE(file_prefix_in_use("synmill-dptest-no-such-prefix"));

  for (int err : {0, EACCES, ENOMEM, EALREADY, EINVAL, EAGAIN, ENOTSUP}) {
    CHECK(describe_eal_failure(err, plain, none).find('\n') == std::string::npos);
  }
}
