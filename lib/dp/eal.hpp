#pragma once
// DPDK Environment Abstraction Layer start-up and shutdown. synmill takes its
// arguments the way every DPDK application does:
//
//   synmill -l 0-3 --vdev=net_tap0,iface=sm0 --file-prefix=sm -- --listen 198.18.0.1:80
//           \____________ EAL arguments ___________________/    \___ application ___/
//
// Eal::init() hands the part before "--" to rte_eal_init() and returns a handle
// that owns the EAL; its destructor calls rte_eal_cleanup(). rte_eal_init() runs
// once per process: keep the handle for the life of the program.
#include <string>
#include <vector>

#include "dp/result.hpp"

namespace synmill::dp {

class Eal {
 public:
  // `argv`: the program name, the EAL arguments, then optionally "--" and the
  // application's own arguments. On failure the message says how to fix it
  // (hugepages, -m, --file-prefix, bad argument).
  static Result<Eal> init(std::vector<std::string> argv);
  static Result<Eal> init(int argc, char** argv);

  Eal(const Eal&) = delete;
  Eal& operator=(const Eal&) = delete;
  Eal(Eal&& other) noexcept;
  Eal& operator=(Eal&& other) = delete;
  ~Eal();

  // The program name followed by the arguments after "--" (ready for the
  // application's own option parser).
  const std::vector<std::string>& app_args() const { return app_args_; }

  // Releases the EAL (rte_eal_cleanup); the destructor does this if not done.
  // Stop and close the ports first. Idempotent.
  void cleanup();

 private:
  explicit Eal(std::vector<std::string> app_args) : app_args_(std::move(app_args)) {}

  std::vector<std::string> app_args_;
  bool active_ = true;
};

}  // namespace synmill::dp
