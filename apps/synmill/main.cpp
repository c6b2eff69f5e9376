// synmill: the TCP endpoint with the built-in applications (echo, discard,
// http, hold, send:N). `synmill [EAL options] -- [options]`; see --help. The
// launcher is libsynmill's synmill::run, the same path user programs take.
#include "synmill/run.hpp"

int main(int argc, char** argv) { return synmill::run(argc, argv, nullptr); }
