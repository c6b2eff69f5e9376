// Answering a TableQuery on the worker's thread. See table_query.hpp.
#include "dp/table_query.hpp"

#include <algorithm>

namespace synmill::dp {

void answer(const tcp::Stack& stack, TableQuery& q, tcp::Instant now) {
  q.now = now;
  if (q.kind == TableQuery::Kind::kState) {
    if (!q.v6) {
      q.state = stack.state_of(q.tuple);
      return;
    }
    const auto tag = stack.local6_tag(q.local6);  // not one of ours: nothing can be there
    q.state = tag ? stack.state_of(stack.tuple6(*tag, q.tuple.local_port, q.remote6, q.tuple.remote_port))
                  : tcp::State::kClosed;
    return;
  }
  q.rows.clear();
  q.addrs6.clear();
  q.seen = 0;
  const auto cap = static_cast<uint32_t>(std::min({size_t{q.want}, q.rows.capacity(), q.addrs6.capacity()}));
  const auto visit = [&](const tcp::ConnInfo& ci) {
    if (q.seen++ < q.skip) return;
    if (q.rows.size() < cap) {  // within capacity: no allocation
      q.rows.push_back(ci);
      TableQuery::Addrs6 a{};
      if (tcp::is_ipv6(ci.tuple)) {
        const tcp::Addrs6 p = stack.addrs6(ci.tuple);
        if (p.local != nullptr) a.local = *p.local;
        if (p.remote != nullptr) a.remote = *p.remote;
      }
      q.addrs6.push_back(a);
    }
  };
  stack.for_each_conn(q.skip + cap, visit);
  if (q.rows.size() < cap) {
    const uint32_t skip_left = q.skip > q.seen ? q.skip - q.seen : 0;
    stack.for_each_time_wait(skip_left + cap - static_cast<uint32_t>(q.rows.size()), visit);
  }
}

}  // namespace synmill::dp
