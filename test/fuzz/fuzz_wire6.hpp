#pragma once
// fuzz_wire's IPv6 checks (fuzz_wire6.cpp), run on every input.
#include <cstdint>
#include <span>

// `in` is an exactly sized heap copy of the input (ASan sees overreads).
void fuzz_wire_ipv6(std::span<const uint8_t> in);
