#pragma once
// The eleven connection states of RFC 9293 §3.3.2.
#include <cstdint>
#include <string_view>

namespace synmill::tcp {

enum class State : uint8_t {
  kClosed = 0,
  kListen,
  kSynSent,
  kSynRcvd,
  kEstablished,
  kFinWait1,
  kFinWait2,
  kCloseWait,
  kClosing,
  kLastAck,
  kTimeWait,
};
inline constexpr int kNumStates = 11;

constexpr std::string_view to_string(State s) {
  switch (s) {
    case State::kClosed: return "CLOSED";
    case State::kListen: return "LISTEN";
    case State::kSynSent: return "SYN_SENT";
    case State::kSynRcvd: return "SYN_RCVD";
    case State::kEstablished: return "ESTABLISHED";
    case State::kFinWait1: return "FIN_WAIT_1";
    case State::kFinWait2: return "FIN_WAIT_2";
    case State::kCloseWait: return "CLOSE_WAIT";
    case State::kClosing: return "CLOSING";
    case State::kLastAck: return "LAST_ACK";
    case State::kTimeWait: return "TIME_WAIT";
  }
  return "?";
}

// States in which both sides' ISNs are known (RFC 9293 §3.10.7.4).
constexpr bool synchronized(State s) {
  return s >= State::kEstablished;
}

}  // namespace synmill::tcp
