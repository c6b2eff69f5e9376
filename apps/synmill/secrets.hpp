#pragma once
// The TCP core's per-boot secrets (ISN and cookie keys, table seed, timestamp
// offset), drawn from the kernel's random source.
#include <string>

#include "dp/result.hpp"
#include "tcp/stack.hpp"

namespace synmill::apps {

// getrandom(2); fails only if the kernel cannot give random bytes.
dp::Result<tcp::StackSecrets> draw_secrets();

}  // namespace synmill::apps
