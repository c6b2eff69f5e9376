#pragma once
// SIGINT/SIGTERM for the DPDK binaries: the handler only counts signals; the
// main thread polls the count and tells the workers what to do.
namespace synmill::apps {

// Installs the SIGINT/SIGTERM handlers.
void install_signal_handlers();

// Signals received so far.
int signals_received();

}  // namespace synmill::apps
