#pragma once
// The one place lib/dp and its tests include DPDK headers. DPDK's C headers use
// C-style casts, zero-length arrays and GNU extensions that the project's
// warning flags (-Wpedantic, -Wold-style-cast, -Wcast-align, ...) reject; they
// are silenced here, for DPDK only, instead of lowering the project's warning
// level. meson also passes DPDK's include directories as system includes
// (see lib/dp/meson.build), which covers macros expanded in our own code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wnull-dereference"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wconversion"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_flow.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_thash.h>

#pragma GCC diagnostic pop
