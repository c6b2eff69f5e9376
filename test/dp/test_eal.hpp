#pragma once
// The process-wide EAL of dp_tests: --no-huge -m 512 --no-pci, a file prefix of
// its own (synmill-dptest-<pid>), and the virtual devices net_null0,
// net_null1 and net_ring0. No packet leaves the process.
#include <cstdint>
#include <string>

#include "dp/eal.hpp"

namespace synmill::dp::test {

// Starts the EAL on first call (REQUIREs success) and returns it.
Eal& eal();

// The EAL arguments eal() uses.
std::vector<std::string> eal_args();

// Port id of a probed device ("net_null0"); REQUIREs that it exists.
uint16_t port_by_name(const std::string& name);

// rte_eal_cleanup(), then removes this process's runtime directory. No-op if
// the EAL never started.
void shutdown_eal();

// drivers-config/ of the source tree.
inline std::string drivers_config_dir() { return SYNMILL_DRIVERS_CONFIG_DIR; }

}  // namespace synmill::dp::test
