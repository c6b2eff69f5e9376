#pragma once
// synmill's application API (see docs/writing-an-app.md).
//
// An application is one object per worker core: the launcher (synmill/run.hpp)
// asks the factory for one instance on every worker and calls it only from
// that worker's thread, so its state needs no locks. Nothing is shared between
// workers unless the application sends a Message to another worker.
//
// The callbacks come from tcp::App (on_open, on_data, on_writable,
// on_peer_close, on_closed, rcv_space, accepting, on_timer,
// on_worker_timer); the application answers through the Stack it is given:
// stack.send / send_ref / close / shutdown / abort / set_timer / user(id).
#include <array>
#include <cstdint>
#include <span>

#include "tcp/app.hpp"
#include "tcp/stack.hpp"

namespace synmill {

using tcp::CloseReason;
using tcp::ConnId;
using tcp::Duration;
using tcp::FourTuple;
using tcp::Instant;
using tcp::Stack;

// A fixed-size message between two workers' application instances, copied
// through a single-producer single-consumer ring (boost::lockfree::spsc_queue)
// per ordered pair of workers. `ptr` may carry ownership of anything larger;
// the application decides who frees it.
struct Message {
  uint16_t from = 0;   // set by Context::post
  uint16_t kind = 0;   // the application's own tag
  uint32_t len = 0;    // bytes used in `data`
  uint64_t tag = 0;    // e.g. the sender's ConnId, packed with pack()
  void* ptr = nullptr;
  std::array<uint8_t, 232> data{};
};
static_assert(sizeof(Message) == 256);

inline uint64_t pack(ConnId id) { return (uint64_t{id.gen} << 32) | id.idx; }
inline ConnId unpack(uint64_t v) { return ConnId{static_cast<uint32_t>(v), static_cast<uint32_t>(v >> 32)}; }

// What an application can do beyond its connections, on its own worker.
// Valid from Application::on_start until Application::on_stop returns.
class Context {
 public:
  // This worker's number (0..workers()-1) and the number of workers.
  virtual uint16_t index() const = 0;
  virtual uint16_t workers() const = 0;
  // This worker's TCP stack (the same one the callbacks get).
  virtual Stack& stack() = 0;
  // The first local address (host byte order).
  virtual uint32_t local_ip() const = 0;
  // Active open to ip:port (host byte order) served by `app` (usually the
  // calling application). The local port is chosen so that the peer's replies
  // land on this worker (the port's RSS key and redirection table, or the
  // software-dispatch hash), skipping tuples in use or in TIME_WAIT. If the
  // peer's MAC is not known yet an ARP request goes out and the SYN's
  // retransmission (RFC 6298 initial RTO) reaches it. Invalid id when no
  // port is free or the connection table is full.
  virtual ConnId connect(uint32_t ip, uint16_t port, tcp::App& app) = 0;
  // Sends `m` to worker `to`'s application (Application::on_message, on its
  // thread, within one poll loop). False when the ring is full, `to` is out
  // of range or the program did not ask for messages (RunOptions::messages).
  virtual bool post(uint16_t to, const Message& m) = 0;

 protected:
  ~Context() = default;
};

class Application : public tcp::App {
 public:
  // On the worker's thread before its first packet (connect out from here).
  virtual void on_start(Context& /*ctx*/) {}
  // A message another worker posted to this one.
  virtual void on_message(Context& /*ctx*/, const Message& /*m*/) {}
  // The last call, on the worker's thread, before the stack aborts what is left.
  virtual void on_stop(Context& /*ctx*/) {}
};

}  // namespace synmill
