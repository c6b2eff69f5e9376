#pragma once
// The vocabulary of the state x event tables: segment kinds, positions
// relative to the receive window, expected replies, and the checker that
// compares what the stack did with what the table says.
#include <optional>
#include <string>

#include "harness.hpp"

namespace synmill::tcp::test {

enum class Kind : uint8_t { kSyn, kSynAck, kAck, kData, kFin, kFinAck, kRst, kRstAck };
inline constexpr int kNumKinds = 8;

inline const char* to_string(Kind k) {
  switch (k) {
    case Kind::kSyn: return "SYN";
    case Kind::kSynAck: return "SYN-ACK";
    case Kind::kAck: return "ACK";
    case Kind::kData: return "DATA(ACK+1 byte)";
    case Kind::kFin: return "FIN(no ACK)";
    case Kind::kFinAck: return "FIN-ACK";
    case Kind::kRst: return "RST";
    case Kind::kRstAck: return "RST-ACK";
  }
  return "?";
}

inline uint8_t flags_of(Kind k) {
  switch (k) {
    case Kind::kSyn: return flag::kSyn;
    case Kind::kSynAck: return flag::kSyn | flag::kAck;
    case Kind::kAck: return flag::kAck;
    case Kind::kData: return flag::kAck | flag::kPsh;
    case Kind::kFin: return flag::kFin;
    case Kind::kFinAck: return flag::kFin | flag::kAck;
    case Kind::kRst: return flag::kRst;
    case Kind::kRstAck: return flag::kRst | flag::kAck;
  }
  return 0;
}

// SEG.SEQ relative to the window [RCV.NXT, RCV.NXT + RCV.WND) the stack advertised.
enum class Pos : uint8_t { kLeftM1, kLeft, kRightM1, kRight };
inline constexpr int kNumPos = 4;

inline const char* to_string(Pos p) {
  switch (p) {
    case Pos::kLeftM1: return "RCV.NXT-1";
    case Pos::kLeft: return "RCV.NXT";
    case Pos::kRightM1: return "RCV.NXT+RCV.WND-1";
    case Pos::kRight: return "RCV.NXT+RCV.WND";
  }
  return "?";
}

inline Seq position(const Peer& p, Pos pos) {
  switch (pos) {
    case Pos::kLeftM1: return p.stack_ack - 1;
    case Pos::kLeft: return p.stack_ack;
    case Pos::kRightM1: return p.right_edge - 1;
    case Pos::kRight: return p.right_edge;
  }
  return Seq{};
}

enum class Reply : uint8_t {
  kNone,         // nothing is sent
  kAck,          // <SEQ=SND.NXT><ACK=RCV.NXT(+what the segment added)><CTL=ACK>
  kRst,          // the stack resets the connection: <SEQ=SND.NXT><CTL=RST(,ACK)>
  kRstSegAck,    // <SEQ=SEG.ACK><CTL=RST>
  kRstAckZero,   // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
  kSynAck,       // <SEQ=ISS><ACK=SEG.SEQ+1><CTL=SYN,ACK> (ISS: the connection's own)
  kSynAckNew,    // SYN-ACK of a new incarnation, ISS above the old SND.NXT (RFC 6191 / RFC 1122)
  kAny,          // no rule fixes the reply (checked: at most one segment)
};

inline const char* to_string(Reply r) {
  switch (r) {
    case Reply::kNone: return "no reply";
    case Reply::kAck: return "ACK";
    case Reply::kRst: return "RST <SEQ=SND.NXT>";
    case Reply::kRstSegAck: return "RST <SEQ=SEG.ACK>";
    case Reply::kRstAckZero: return "RST,ACK <SEQ=0><ACK=SEG.SEQ+SEG.LEN>";
    case Reply::kSynAck: return "SYN-ACK";
    case Reply::kSynAckNew: return "SYN-ACK (new incarnation)";
    case Reply::kAny: return "any";
  }
  return "?";
}

struct Expect {
  Reply reply = Reply::kNone;
  State next = State::kClosed;  // kClosed / kListen: the TCB is gone
  uint32_t advance = 0;         // how far RCV.NXT moves (acknowledged in the ACK)
  uint32_t delivered = 0;       // bytes handed to on_data
  std::optional<CloseReason> reason{};  // on_closed reason, when the app learns of the end
};

inline std::string describe(const Expect& e) {
  std::string s = std::string(to_string(e.reply)) + ", next " + std::string(to_string(e.next));
  if (e.advance) s += ", RCV.NXT+" + std::to_string(e.advance);
  if (e.delivered) s += ", delivers " + std::to_string(e.delivered);
  if (e.reason) s += std::string(", on_closed ") + to_string(*e.reason);
  return s;
}

// What the peer knew before sending: the numbers the reply is checked against.
struct Before {
  Seq snd_nxt;       // the stack's SND.NXT
  Seq rcv_nxt;       // the stack's RCV.NXT
  Seq iss;           // the stack's ISS
  uint16_t window;   // window field expected in an ACK
  bool ts;           // timestamps negotiated: every non-RST reply carries them
  size_t bytes;      // bytes the app had received
  size_t closed;     // on_closed calls so far
};

inline Before snapshot(const Scenario& sc, uint16_t window_field) {
  return Before{sc.peer.stack_nxt,
                sc.peer.stack_ack,
                sc.peer.stack_iss,
                window_field,
                sc.peer.ts_on(),
                sc.h.app.received.size(),
                sc.h.app.count(RecordingApp::Kind::kClosed)};
}

inline void check_reply(const SegmentIn& seg, const std::vector<Sent>& out, const Expect& e,
                        const Before& b) {
  INFO("sent " << describe(out));
  switch (e.reply) {
    case Reply::kNone: CHECK(out.empty()); break;
    case Reply::kAck:
      REQUIRE(out.size() == 1);
      CHECK(out[0].seg.flags == flag::kAck);
      CHECK(out[0].seg.seq.raw() == (b.snd_nxt).raw());
      CHECK(out[0].seg.ack.raw() == (b.rcv_nxt + e.advance).raw());
      CHECK(out[0].seg.window == b.window);
      CHECK(out[0].payload.empty());
      CHECK(out[0].seg.opts.has_timestamps == b.ts);
      break;
    case Reply::kRst:
      REQUIRE(out.size() == 1);
      CHECK(out[0].has(flag::kRst));
      CHECK(!out[0].has(flag::kSyn));
      CHECK(!out[0].has(flag::kFin));
      CHECK(out[0].seg.seq.raw() == (b.snd_nxt).raw());
      CHECK(out[0].payload.empty());
      break;
    case Reply::kRstSegAck:
      REQUIRE(out.size() == 1);
      CHECK(out[0].seg.flags == flag::kRst);
      CHECK(out[0].seg.seq.raw() == (seg.ack).raw());
      CHECK(out[0].payload.empty());
      break;
    case Reply::kRstAckZero:
      REQUIRE(out.size() == 1);
      CHECK(out[0].seg.flags == (flag::kRst | flag::kAck));
      CHECK(out[0].seg.seq.raw() == (Seq{0}).raw());
      CHECK(out[0].seg.ack.raw() == (seg.seq + seg.seg_len()).raw());
      CHECK(out[0].payload.empty());
      break;
    case Reply::kSynAck:
      REQUIRE(out.size() == 1);
      CHECK(out[0].seg.flags == (flag::kSyn | flag::kAck));
      CHECK(out[0].seg.seq.raw() == (b.iss).raw());
      CHECK(out[0].seg.ack.raw() == (seg.seq + 1).raw());
      break;
    case Reply::kSynAckNew:
      REQUIRE(out.size() == 1);
      CHECK(out[0].seg.flags == (flag::kSyn | flag::kAck));
      CHECK((out[0].seg.seq - b.snd_nxt) > 0);
      CHECK(out[0].seg.ack.raw() == (seg.seq + 1).raw());
      break;
    case Reply::kAny: CHECK(out.size() <= 1); break;
  }
}

inline void check_next(const Scenario& sc, const Expect& e, const Before& b) {
  const State now_state = sc.state();
  INFO("state now " << to_string(now_state) << (sc.has_tcb() ? " (TCB)" : " (no TCB)"));
  if (e.next == State::kClosed || e.next == State::kListen) {
    CHECK_FALSE(sc.has_tcb());
    CHECK(str(now_state) == str(sc.gone_state()));
    if (e.next == State::kListen) CHECK(str(sc.gone_state()) == str(State::kListen));
  } else {
    CHECK(str(now_state) == str(e.next));
    if (e.next == State::kTimeWait) CHECK_FALSE(sc.has_tcb());
  }
  CHECK(sc.h.app.received.size() - b.bytes == e.delivered);
  if (e.reason) {
    CHECK(sc.h.app.count(RecordingApp::Kind::kClosed) == b.closed + 1);
    CHECK(str(sc.h.app.closed_reason()) == str(e.reason));
  }
}

}  // namespace synmill::tcp::test
