// The "hold" application (lib/tcp/apps/hold.hpp): takes every byte, never
// closes, so a connection whose peer sent FIN stays in CLOSE_WAIT until the
// stack reclaims it after close_wait_timeout (test/conformance uses it).
#include "harness.hpp"
#include "tcp/apps/hold.hpp"

namespace synmill::tcp::test {
namespace {

TEST_CASE("apps: hold takes bytes, never closes; CLOSE_WAIT is reclaimed after close_wait_timeout",
          "[tcp][apps][hold]") {
  StackConfig cfg = small_config();
  cfg.close_wait_timeout = Duration::s(5);
  Harness h(cfg);
  HoldApp hold;
  REQUIRE(h.stack.listen(kServerPort, hold));
  Peer p(passive_tuple(), kPeerIss, plain_peer());
  open_passive(h, p);

  h.deliver(p.data("abc"));
  h.advance_by(Duration::ms(200));  // the delayed ACK (RFC 1122 §4.2.3.2) is due
  auto out = h.take();
  p.observe(out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == flag::kAck);
  CHECK(out[0].seg.ack.raw() == p.nxt.raw());
  CHECK(out[0].payload.empty());

  h.deliver(p.fin());
  out = h.take();
  p.observe(out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].seg.flags == flag::kAck);  // no FIN: the application holds
  CHECK(str(h.stack.state_of(p.tuple)) == str(State::kCloseWait));

  h.advance_by(Duration::ms(4900));
  CHECK(str(h.stack.state_of(p.tuple)) == str(State::kCloseWait));
  h.advance_by(Duration::ms(200));
  CHECK(str(h.stack.state_of(p.tuple)) == str(State::kListen));
  CHECK(h.stack.counters().closed_timeout == 1);
  h.check_idle();
}

}  // namespace
}  // namespace synmill::tcp::test
