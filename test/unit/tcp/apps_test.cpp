// The built-in applications (lib/tcp/apps) behind the real Stack: echo,
// discard, http, send:N. The peer is scripted; the bytes it receives are the
// in-order payloads of the stack's segments.
#include <string>

#include "harness.hpp"
#include "tcp/apps/discard.hpp"
#include "tcp/apps/echo.hpp"
#include "tcp/apps/http.hpp"
#include "tcp/apps/send_n.hpp"

namespace synmill::tcp::test {
namespace {

// A stack listening on kServerPort with `app`, and one connected peer.
class AppBench {
 public:
  explicit AppBench(App& app, PeerOptions po = plain_peer())
      : peer(passive_tuple(), kPeerIss, po) {
    REQUIRE(h.stack.listen(kServerPort, app));
    h.deliver(peer.syn());
    absorb();
    REQUIRE(str(h.stack.state_of(peer.tuple)) == str(State::kSynRcvd));
    h.deliver(peer.ack());
    absorb();
    REQUIRE(h.stack.find(peer.tuple).has_value());
    id = *h.stack.find(peer.tuple);
  }

  Harness h;
  Peer peer;
  ConnId id{};
  std::vector<uint8_t> got;  // in-order bytes from the stack
  bool fin = false;          // the stack's FIN arrived (in order)
  Seq highest_ack;           // largest ACK field the stack sent
  bool have_ack = false;
  std::vector<Sent> log;

  // Takes what the stack sent: in-order payload appended, FIN noted.
  void absorb() {
    for (Sent& s : h.take()) {
      peer.observe(s);
      if (s.has(flag::kAck) && !s.has(flag::kRst) && (!have_ack || s.seg.ack > highest_ack)) {
        highest_ack = s.seg.ack;
        have_ack = true;
      }
      if (!s.has(flag::kSyn) && !s.has(flag::kRst)) {
        const Seq expect = peer.stack_iss + 1 + static_cast<uint32_t>(got.size());
        if (s.seg.seq == expect) {
          got.insert(got.end(), s.payload.begin(), s.payload.end());
          if (s.has(flag::kFin)) fin = true;
        }
      }
      log.push_back(std::move(s));
    }
  }
  void send(const SegmentIn& s) {
    h.deliver(s);
    absorb();
  }
  // The peer acknowledges whatever arrived until the stack is quiet.
  void ack_all(int rounds = 10000) {
    for (int i = 0; i < rounds; ++i) {
      const Seq before = peer.stack_nxt;
      send(peer.ack());
      if (peer.stack_nxt == before) return;
    }
    FAIL("the stack kept sending");
  }
  std::string text() const { return std::string(got.begin(), got.end()); }
};

const std::string kBody = "Hello from synmill\n";
const std::string kKeepAlive =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 19\r\nConnection: keep-alive\r\n\r\n" + kBody;
const std::string kClose =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 19\r\nConnection: close\r\n\r\n" + kBody;

// ---- echo ----------------------------------------------------------------------------

TEST_CASE("apps: echo returns every byte, then closes after the peer", "[tcp][apps][echo]") {
  const bool full = GENERATE(false, true);
  EchoApp echo;
  AppBench b(echo, full ? full_peer() : plain_peer());
  b.send(b.peer.data("hello, "));
  b.send(b.peer.data("world"));
  std::vector<uint8_t> big(10000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 31);
  for (size_t off = 0; off < big.size(); off += 1000) {  // within the advertised window
    b.send(b.peer.data(std::span<const uint8_t>(big).subspan(off, 1000)));
    b.ack_all();
  }
  std::vector<uint8_t> want = {'h', 'e', 'l', 'l', 'o', ',', ' ', 'w', 'o', 'r', 'l', 'd'};
  want.insert(want.end(), big.begin(), big.end());
  CHECK(b.got.size() == want.size());
  CHECK(b.got == want);
  CHECK_FALSE(b.fin);
  b.send(b.peer.fin());
  CHECK(b.fin);  // echo closes when the peer does
  CHECK(str(b.h.stack.state_of(b.peer.tuple)) == str(State::kLastAck));
  b.send(b.peer.ack());
  CHECK_FALSE(b.h.stack.find(b.peer.tuple).has_value());
  b.h.check_idle();
}

// RFC 9293 §3.10.7.4 seventh: once the data is taken, RCV.NXT moves over it and
// an ACK <ACK=RCV.NXT> is sent, piggybacked where possible. An answer the
// application writes from inside on_data (echo, http) goes out once RCV.NXT
// has moved (Stack output_soon), so it carries the new ACK.
TEST_CASE("apps: bytes answered from inside on_data are acknowledged", "[tcp][apps][ack]") {
  const int which = GENERATE(0, 1, 2);
  EchoApp echo;
  HttpApp http;
  App* apps[] = {&echo, &http, &http};
  const char* requests[] = {"ping", "GET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.0\r\n\r\n"};
  INFO((which == 0 ? "echo" : "http") << ": " << requests[which]);
  AppBench b(*apps[which]);
  b.send(b.peer.data(requests[which]));
  INFO("sent " << describe(b.log));
  CHECK_FALSE(b.got.empty());              // the answer went out ...
  CHECK(b.highest_ack.raw() == (b.peer.nxt).raw());      // ... but the request must be acknowledged
  REQUIRE_FALSE(b.log.empty());
  CHECK(b.log.back().seg.ack.raw() == b.peer.nxt.raw());
}

// ---- discard -------------------------------------------------------------------------

TEST_CASE("apps: discard takes and acknowledges bytes, sends none", "[tcp][apps][discard]") {
  DiscardApp discard;
  AppBench b(discard);
  for (int i = 0; i < 5; ++i) {
    b.send(b.peer.data("some bytes"));
    b.h.advance_by(b.h.stack.config().delayed_ack);  // RFC 1122 §4.2.3.2: the ACK is delayed
    b.absorb();
    REQUIRE_FALSE(b.log.empty());
    CHECK(b.log.back().seg.flags == flag::kAck);
    CHECK(b.log.back().seg.ack.raw() == b.peer.nxt.raw());
  }
  CHECK(b.got.empty());
  b.send(b.peer.fin());
  CHECK(b.fin);
  CHECK(b.log.back().seg.ack.raw() == b.peer.nxt.raw());
  b.send(b.peer.ack());
  CHECK_FALSE(b.h.stack.find(b.peer.tuple).has_value());
  b.h.check_idle();
}

// ---- http ----------------------------------------------------------------------------

void send_bytewise(AppBench& b, const std::string& s) {
  for (char c : s) b.send(b.peer.data(std::string_view(&c, 1)));
}

TEST_CASE("apps: http request split byte by byte, keep-alive then Connection: close",
          "[tcp][apps][http]") {
  HttpApp http;
  AppBench b(http);
  send_bytewise(b, "GET / HTTP/1.1\r\nHost: 198.18.0.1\r\nAccept: */*\r\n\r\n");
  b.ack_all();
  CHECK(b.text() == kKeepAlive);
  CHECK_FALSE(b.fin);
  CHECK(str(b.h.stack.state_of(b.peer.tuple)) == str(State::kEstablished));

  send_bytewise(b, "GET /again HTTP/1.1\r\nConnection: close\r\n\r\n");
  b.ack_all();
  CHECK(b.text() == kKeepAlive + kClose);
  CHECK(http.requests() == 2);
  CHECK(b.fin);
  CHECK(str(b.h.stack.state_of(b.peer.tuple)) == str(State::kFinWait2));
}

// http:close answers one request per connection: "Connection: close" and the
// FIN in the same segment as the response, whatever the request asked; a
// pipelined second request is not answered.
TEST_CASE("apps: http:close answers one request and closes with it", "[tcp][apps][http]") {
  const char* request = GENERATE("GET / HTTP/1.1\r\nHost: a\r\n\r\n",
                                 "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                                 "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
  INFO(request);
  HttpApp http(HttpApp::OneRequest::kYes);
  AppBench b(http);
  b.send(b.peer.data(request));
  REQUIRE_FALSE(b.log.empty());
  CHECK(b.log.back().has(flag::kFin));  // the FIN rides on the response
  CHECK(b.log.back().payload.size() == kClose.size());
  b.ack_all();
  CHECK(b.text() == kClose);
  CHECK(b.fin);
  CHECK(http.requests() == 1);
  CHECK(str(b.h.stack.state_of(b.peer.tuple)) == str(State::kFinWait2));
}

struct HttpCase {
  const char* request;
  bool keep_alive;
};

TEST_CASE("apps: http keep-alive rules (RFC 9112 §9.3)", "[tcp][apps][http]") {
  const HttpCase c = GENERATE(
      HttpCase{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true},
      HttpCase{"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false},
      HttpCase{"GET / HTTP/1.1\r\nCONNECTION:   Close\r\n\r\n", false},
      HttpCase{"GET / HTTP/1.0\r\n\r\n", false},
      HttpCase{"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
      HttpCase{"GET / HTTP/1.0\r\nHost: a\r\nconnection: Keep-Alive\r\n\r\n", true},
      HttpCase{"GET /close HTTP/1.1\r\nX-Connection: close\r\n\r\n", true},
      // The skipping scanner (memchr to the end of a line) must see what the
      // byte-wise matcher sees: "HTTP/1.0" anywhere in the request line, a
      // stray CR, a header value naming another header.
      HttpCase{"GET /HTTP/1.0 HTTP/1.1\r\n\r\n", false},
      HttpCase{"GET /HTTP/1.HTTP/1.0x HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", true},
      HttpCase{"GET / HTTP/1.1\r\nHost: a\rb\r\r\nConnection: close\r\n\r\n", false},
      HttpCase{"GET / HTTP/1.1\r\nUser-Agent: connection: close\r\n\r\n", true});
  const bool bytewise = GENERATE(false, true);
  INFO(c.request << (bytewise ? " (byte by byte)" : " (one segment)"));
  HttpApp http;
  AppBench b(http);
  if (bytewise)
    send_bytewise(b, c.request);
  else
    b.send(b.peer.data(c.request));
  b.ack_all();
  CHECK(b.text() == (c.keep_alive ? kKeepAlive : kClose));
  CHECK(b.fin == !c.keep_alive);
  CHECK(http.requests() == 1);
}

TEST_CASE("apps: http answers pipelined requests in order", "[tcp][apps][http]") {
  HttpApp http;
  AppBench b(http);
  b.send(b.peer.data("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\nConnection: close\r\n\r\n"));
  b.ack_all();
  CHECK(b.text() == kKeepAlive + kKeepAlive + kClose);
  CHECK(b.fin);
  CHECK(http.requests() == 3);
}

TEST_CASE("apps: http ignores empty lines (CRLF or bare LF) before a request line (RFC 9112 §2.2)",
          "[tcp][apps][http][issue11]") {
  const char* prefix = GENERATE("\n", "\r\n", "\n\n", "\r\n\r\n", "\n\r\n");
  const HttpCase c = GENERATE(HttpCase{"GET / HTTP/1.1\r\n\r\n", true},
                              HttpCase{"GET / HTTP/1.0\r\n\r\n", false},
                              HttpCase{"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false});
  const bool bytewise = GENERATE(false, true);
  const std::string req = std::string(prefix) + c.request;
  INFO(req << (bytewise ? " (byte by byte)" : " (one segment)"));
  HttpApp http;
  AppBench b(http);
  if (bytewise)
    send_bytewise(b, req);
  else
    b.send(b.peer.data(req));
  b.ack_all();
  CHECK(b.text() == (c.keep_alive ? kKeepAlive : kClose));
  CHECK(http.requests() == 1);
  CHECK(b.fin == !c.keep_alive);
}

TEST_CASE("apps: http ignores an empty line between pipelined requests (RFC 9112 §2.2)",
          "[tcp][apps][http][issue11]") {
  HttpApp http;
  AppBench b(http);
  b.send(b.peer.data("GET /1 HTTP/1.1\r\n\r\n\r\nGET /2 HTTP/1.1\r\n\r\n\nGET /3 HTTP/1.0\r\n\r\n"));
  b.ack_all();
  CHECK(b.text() == kKeepAlive + kKeepAlive + kClose);
  CHECK(http.requests() == 3);
}

TEST_CASE("apps: http gives the same answer for every two-segment split", "[tcp][apps][http]") {
  const HttpCase c = GENERATE(HttpCase{"GET /HTTP/1.0 HTTP/1.1\r\nHost: a\r\n\r\n", false},
                              HttpCase{"GET / HTTP/1.0\r\nUser-Agent: x\r\nConnection: keep-alive\r\n\r\n", true},
                              HttpCase{"GET / HTTP/1.1\r\nAccept: */*\r\nConnection: close\r\n\r\n", false});
  const std::string req = c.request;
  for (size_t cut = 1; cut < req.size(); ++cut) {
    INFO(req << " cut at " << cut);
    HttpApp http;
    AppBench b(http);
    b.send(b.peer.data(req.substr(0, cut)));
    b.send(b.peer.data(req.substr(cut)));
    b.ack_all();
    CHECK(b.text() == (c.keep_alive ? kKeepAlive : kClose));
    CHECK(http.requests() == 1);
  }
}

// ---- send:N --------------------------------------------------------------------------

TEST_CASE("apps: send:N sends exactly N pattern bytes, then FIN", "[tcp][apps][send_n]") {
  const uint64_t n = GENERATE(uint64_t{0}, uint64_t{1}, uint64_t{1460}, uint64_t{4097}, uint64_t{200000});
  const bool full = GENERATE(false, true);
  INFO("N = " << n << (full ? ", timestamps" : ""));
  SendNApp app(n);
  AppBench b(app, full ? full_peer() : plain_peer());
  b.ack_all();
  REQUIRE(b.got.size() == n);
  for (uint64_t i = 0; i < n; ++i) {
    if (b.got[i] != SendNApp::pattern_byte(i)) {
      FAIL_CHECK("byte " << i << " differs");
      break;
    }
  }
  CHECK(b.fin);
  CHECK(b.peer.stack_nxt.raw() == (b.peer.stack_iss + 1 + static_cast<uint32_t>(n) + 1).raw());
  // Every segment fits the MSS the peer announced.
  for (const Sent& s : b.log) CHECK(s.payload.size() <= (full ? 1460u - 12u : 1460u));
  // The peer closes too: the stack (which closed first) ends in TIME-WAIT.
  b.send(b.peer.fin());
  CHECK(str(b.h.stack.state_of(b.peer.tuple)) == str(State::kTimeWait));
  b.h.check_idle(1);
}

}  // namespace
}  // namespace synmill::tcp::test
