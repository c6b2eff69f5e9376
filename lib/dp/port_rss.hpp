#pragma once
// The RSS steps of starting a port, once its queues exist: set (or check) the
// symmetric key, install the rte_flow rules (flow isolation, the NIC's own
// symmetric function), and read back the key and redirection table that the
// software hash must reproduce. Internal to start_port().
#include "dp/port.hpp"
#include "dp/result.hpp"

namespace synmill::dp {

// Fills info.rss_key, rss_function, rss, reta, reta_from_device and notes.
// Fails if the port hashes with a key that is not symmetric and cannot be
// changed, or if a flow-isolated port refuses a steering rule.
Result<void> finish_rss(const PortPlan& plan, PortInfo& info);

}  // namespace synmill::dp
