#include "tcp/apps/factory.hpp"

#include <charconv>

#include "tcp/apps/discard.hpp"
#include "tcp/apps/echo.hpp"
#include "tcp/apps/hold.hpp"
#include "tcp/apps/http.hpp"
#include "tcp/apps/send_n.hpp"

namespace synmill::tcp {

std::unique_ptr<App> make_app(std::string_view spec, std::string& error, MetricsSource* metrics) {
  if (spec == "echo") return std::make_unique<EchoApp>();
  if (spec == "discard") return std::make_unique<DiscardApp>();
  if (spec == "http") return std::make_unique<HttpApp>();
  if (spec == "http:close") return std::make_unique<HttpApp>(HttpApp::OneRequest::kYes);
  if (spec == "hold") return std::make_unique<HoldApp>();
  if (spec == "metrics") {
    if (metrics != nullptr) return std::make_unique<MetricsApp>(*metrics);
    error = "'metrics' is served by synmill only";
    return nullptr;
  }
  if (spec.starts_with("send:")) {
    const std::string_view n = spec.substr(5);
    uint64_t v = 0;
    const auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
    if (ec == std::errc{} && p == n.data() + n.size() && !n.empty()) return std::make_unique<SendNApp>(v);
    error = "bad byte count in '" + std::string(spec) + "': use send:N with N a whole number of bytes";
    return nullptr;
  }
  error = "unknown application '" + std::string(spec) + "': use echo, discard, http, http:close, hold, send:N or metrics";
  return nullptr;
}

}  // namespace synmill::tcp
