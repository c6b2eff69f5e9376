// synmill-ctl's JSON reader and its ss-style views (apps/ctl).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "ctl/json.hpp"
#include "ctl/views.hpp"

using namespace synmill::ctl;

namespace {

Json parse(std::string_view text) {
  std::string error;
  auto j = parse_json(text, error);
  INFO(error);
  REQUIRE(j.has_value());
  return *j;
}

}  // namespace

TEST_CASE("ctl json: telemetry replies", "[app]") {
  const Json g = parse(R"({"version":"DPDK 22.11.11","pid":4543,"max_output_len":16384})");
  REQUIRE(g.is_object());
  CHECK(g.get("version")->text == "DPDK 22.11.11");
  CHECK(g.get("max_output_len")->u64() == 16384);
  CHECK(g.get("nothing") == nullptr);

  const Json s = parse(R"({"/synmill/stats":{"syn_in":18446744073709551615,"x":-1}})");
  const Json* stats = s.get("/synmill/stats");
  REQUIRE(stats != nullptr);
  CHECK(stats->keys == std::vector<std::string>{"syn_in", "x"});  // order kept
  CHECK(stats->get("syn_in")->u64() == UINT64_MAX);                // no precision lost
  CHECK(stats->get("x")->i64() == -1);

  const Json a = parse(R"( {"/synmill/conns": [["a","b"], ["1", "two\"\\\n\u0041"]], "n": null, "t": true} )");
  const Json* rows = a.get("/synmill/conns");
  REQUIRE(rows->is_array());
  REQUIRE(rows->items.size() == 2);
  CHECK(rows->items[1].items[1].text == "two\"\\\nA");
  CHECK(a.get("n")->is_null());
  CHECK(a.get("t")->boolean);
  CHECK(parse("[]").items.empty());
  CHECK(parse("{}").keys.empty());
}

TEST_CASE("ctl json: malformed text is refused", "[app]") {
  for (std::string_view bad : {"", "{", "{\"a\" 1}", "[1,]x", "{\"a\":1,}", "\"open", "nul", "[1 2]"}) {
    INFO(bad);
    std::string error;
    CHECK_FALSE(parse_json(bad, error).has_value());
    CHECK_FALSE(error.empty());
  }
}

TEST_CASE("ctl views: ss-style output", "[app]") {
  CHECK(ss_state("ESTABLISHED") == "ESTAB");
  CHECK(ss_state("SYN_RCVD") == "SYN-RECV");
  CHECK(ss_state("TIME_WAIT") == "TIME-WAIT");

  const Json states = parse(R"({"LISTEN":2,"SYN_RCVD":1,"ESTABLISHED":5,"FIN_WAIT_1":1,"TIME_WAIT":7,"total":14})");
  const std::string summary = format_summary(states);
  CHECK(summary.find("Total: 14\n") == 0);
  CHECK(summary.find("TCP:   14 (estab 5, closed 0, orphaned 1, timewait 7)") != std::string::npos);
  CHECK(summary.find("synrecv 1") != std::string::npos);

  Json row = parse(R"({"local":"198.18.0.1:80","remote":"198.18.0.2:40000","state":"ESTABLISHED","core":"1",
                      "send_q":"10","rto_ms":"200","rtx_in_ms":"150","retries":"1","timer_in_ms":"-1"})");
  const std::string table = format_conns({row}, 3);
  CHECK(table.find("State") == 0);
  CHECK(table.find("Local Address:Port") != std::string::npos);
  CHECK(table.find("ESTAB ") != std::string::npos);
  CHECK(table.find("198.18.0.2:40000") != std::string::npos);
  CHECK(table.find("timer:(on,150ms,1)") != std::string::npos);
  CHECK(table.find("(1 of 3 connections shown") != std::string::npos);

  const Json stats = parse(R"({"syn_in":3,"drop_paws":0})");
  CHECK(format_stats(stats) == "syn_in     3\ndrop_paws  0\n");
}
