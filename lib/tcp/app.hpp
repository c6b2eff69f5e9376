#pragma once
// The application interface: the stack calls these; the application answers
// through Stack::send / close / shutdown / abort, also from inside a callback.
#include <cstdint>
#include <span>

#include "tcp/conn.hpp"

namespace synmill::tcp {

class Stack;

class App {
 public:
  virtual ~App() = default;
  // The connection is established and accepted (passive) or connected (active).
  virtual void on_open(Stack& stack, ConnId id) = 0;
  // In-order bytes from the peer, valid only during the call. Returns how many
  // the application took. The stack holds the rest (acknowledged, in the
  // connection's receive buffer, which shrinks the advertised window) and
  // offers it again, first, on the next segment, after on_writable, or when
  // the application calls Stack::resume_receive.
  virtual uint32_t on_data(Stack& stack, ConnId id, std::span<const uint8_t> data) = 0;
  // Send-queue space was freed by an ACK (after a send() that took less than asked).
  virtual void on_writable(Stack& /*stack*/, ConnId /*id*/) {}
  // The peer sent FIN: no more data will arrive.
  virtual void on_peer_close(Stack& stack, ConnId id) = 0;
  // Last call for this id: the connection left the table (TIME_WAIT lives on in
  // the compact table without the application).
  virtual void on_closed(Stack& stack, ConnId id, CloseReason reason) = 0;
  // How many more bytes the application can take now; the advertised window
  // is the smaller of this and what the receive buffer can still hold
  // (zero tells the peer to stop: RFC 9293 §3.8.6, it then probes).
  virtual uint32_t rcv_space(const Stack& /*stack*/, ConnId /*id*/) const { return UINT32_MAX; }
  // Whether the application takes new connections now; while false they wait
  // in the listener's bounded accept queue.
  virtual bool accepting() const { return true; }
  // The connection's application timer (Stack::set_timer) expired; the
  // connection is still open. Runs on the stack's wheel, at the stack's time.
  virtual void on_timer(Stack& /*stack*/, ConnId /*id*/) {}
  // Worker timer `timer` (Stack::set_worker_timer, armed by this application) expired.
  virtual void on_worker_timer(Stack& /*stack*/, uint32_t /*timer*/) {}

  // Callbacks the stack need not make (each costs an indirect call per
  // connection): an application whose on_writable() or on_closed() does
  // nothing, or whose accepting() is always true, says so once (set_quiet,
  // from its constructor; only a final class can promise it for good) and
  // the stack skips those calls. Nothing else changes: the skipped calls
  // would have done nothing.
  static constexpr uint8_t kQuietWritable = 1 << 0;   // on_writable() does nothing
  static constexpr uint8_t kQuietClosed = 1 << 1;     // on_closed() does nothing
  static constexpr uint8_t kAlwaysAccepting = 1 << 2; // accepting() is always true
  uint8_t quiet() const { return quiet_; }

 protected:
  void set_quiet(uint8_t q) { quiet_ = q; }

 private:
  uint8_t quiet_ = 0;
};

}  // namespace synmill::tcp
