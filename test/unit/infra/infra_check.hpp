#pragma once
// Cheap assertion for the long randomized runs: a Catch2 REQUIRE per operation
// would dominate the run time, so check with a plain branch and only go through
// Catch2 when something is wrong.
#include <catch2/catch.hpp>

#define INFRA_CHECK(cond)              \
  do {                                 \
    if (!(cond)) {                     \
      FAIL("INFRA_CHECK(" #cond ")"); \
    }                                  \
  } while (0)
