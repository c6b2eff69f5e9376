// Catch2 runner for dp_tests. The EAL can start only once per process, so the
// tests share one instance (test_eal.hpp), started by the first test that needs
// it and shut down here after the last one.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "test_eal.hpp"

int main(int argc, char* argv[]) {
  const int failed = Catch::Session().run(argc, argv);
  synmill::dp::test::shutdown_eal();
  return failed;
}
