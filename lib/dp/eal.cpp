#include "dp/eal.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "dp/eal_diagnose.hpp"
#include "dp/rte.hpp"

namespace synmill::dp {
namespace {

// rte_eal_init() may keep pointers into argv, so the strings outlive the call;
// the EAL is process-wide, and so is this storage.
std::vector<std::string>& argv_storage() {
  static std::vector<std::string> storage;
  return storage;
}

}  // namespace

Result<Eal> Eal::init(int argc, char** argv) {
  std::vector<std::string> args;
  args.reserve(static_cast<size_t>(std::max(argc, 0)));
  for (int i = 0; i < argc; ++i) args.emplace_back(argv[i]);
  return init(std::move(args));
}

Result<Eal> Eal::init(std::vector<std::string> argv) {
  if (argv.empty()) argv.emplace_back("synmill");
  const auto dashes = std::find(argv.begin(), argv.end(), "--");
  const std::vector<std::string> eal_args(argv.begin() + 1, dashes);

  std::vector<std::string>& storage = argv_storage();
  if (!storage.empty()) {
    return Error{describe_eal_failure(EALREADY, eal_args, HugepageState{})};
  }
  storage = std::move(argv);
  std::vector<char*> ptrs;
  ptrs.reserve(storage.size() + 1);
  for (std::string& s : storage) ptrs.push_back(s.data());
  ptrs.push_back(nullptr);

  const int argc = static_cast<int>(storage.size());
  const int parsed = rte_eal_init(argc, ptrs.data());
  if (parsed < 0) {
    const int err = rte_errno;
    storage.clear();
    return Error{describe_eal_failure(err, eal_args, read_hugepage_state(),
                                      file_prefix_in_use(eal_file_prefix(eal_args)))};
  }
  // rte_eal_init() put the program name at ptrs[parsed]; the application's
  // arguments follow it (getopt may have moved them there).
  std::vector<std::string> app_args;
  for (int i = parsed; i < argc; ++i) app_args.emplace_back(ptrs[static_cast<size_t>(i)]);
  if (app_args.empty()) app_args.push_back(storage.front());
  return Eal(std::move(app_args));
}

Eal::Eal(Eal&& other) noexcept
    : app_args_(std::move(other.app_args_)), active_(std::exchange(other.active_, false)) {}

Eal::~Eal() { cleanup(); }

void Eal::cleanup() {
  if (!active_) return;
  active_ = false;
  rte_eal_cleanup();
}

}  // namespace synmill::dp
