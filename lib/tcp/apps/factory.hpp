#pragma once
// Built-in applications by name, as the command line and config file give
// them: "echo", "discard", "http", "send:N" (N bytes, then close first), and
// "metrics" where the program gives a MetricsSource (synmill does).
#include <memory>
#include <string>
#include <string_view>

#include "tcp/app.hpp"
#include "tcp/apps/metrics.hpp"

namespace synmill::tcp {

// nullptr with `error` set to a one-line reason for an unknown or bad spec.
std::unique_ptr<App> make_app(std::string_view spec, std::string& error, MetricsSource* metrics = nullptr);

}  // namespace synmill::tcp
