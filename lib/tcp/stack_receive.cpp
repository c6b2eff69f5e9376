// Receiving text (RFC 9293 §3.10.7.4 "seventh" and "eighth"): in-order bytes
// go straight to the application; what it does not take, and out-of-order
// bytes, wait in the connection's RecvBuffer (chunks from the core's pool).
// Once acknowledged a byte is never dropped: a full buffer closes the window
// instead. Delayed ACKs (RFC 1122 §4.2.3.2, RFC 5681 §4.2), the peer's FIN
// once everything before it was taken, window updates (RFC 9293 §3.8.6.2.2).
// The per-segment steps (receive_data, try_fin, accept_fin, ack_soon,
// check_window_update) are in stack_steps.hpp, inline; here the rest.
#include <algorithm>

#include "tcp/stack.hpp"
#include "tcp/stack_steps.hpp"

namespace synmill::tcp {

void Stack::deliver(ConnHot& c) {
  ConnExt* x = ext(c);
  if (x == nullptr) return;  // nothing held
  RecvBuffer& q = x->rcvq;
  const RecvBuffer::Slots s = rcv_slots(c);
  while (q.read_seq() < c.rcv_nxt && !(c.flags & cflag::kOrphan)) {
    const std::span<const uint8_t> d = q.peek(chunks_, s, c.rcv_nxt);
    delivering_ = &c;
    const uint32_t taken =
        std::min<uint32_t>(app_of(c)->on_data(*this, id_of(c), d), static_cast<uint32_t>(d.size()));
    delivering_ = nullptr;
    if (c.state == State::kClosed) return;
    q.consume(chunks_, s, taken);
    ctr_.rx_bytes += taken;
    if (taken < d.size()) return;
  }
  if (c.flags & cflag::kOrphan) discard_unread(c);
  q.trim(chunks_, s, c.rcv_nxt);
}

// Bytes the application will never read after a full close: dropped (they
// were acknowledged; the application chose not to read them).
void Stack::discard_unread(ConnHot& c) {
  if (!(c.flags & cflag::kAccepted) || delivering_ == &c) return;  // deliver() finishes the job
  ConnExt* x = ext(c);
  if (x == nullptr) return;  // nothing held
  RecvBuffer& q = x->rcvq;
  const uint32_t n = q.in_order(c.rcv_nxt);
  if (n == 0) return;
  ++ctr_.drop.unread_on_close;
  q.consume(chunks_, rcv_slots(c), n);
}

}  // namespace synmill::tcp
