// IPv6 in the stack (issue 15): the 16-byte addresses of a segment become the
// 12-byte FourTuple the rest of the stack works on (addr_table6.hpp), and go
// back into every segment sent. Only what must see the real addresses does:
// the ISN (RFC 6528 §3), the SYN-cookie MAC, the land check and the frame.
#include <algorithm>

#include "tcp/stack.hpp"

namespace synmill::tcp {

std::optional<uint32_t> Stack::add_local6(const wire::Ipv6Addr& a) {
  if (const auto tag = local6_tag(a)) return tag;
  if (local6_.size() >= kMaxLocal6 || a.is_unspecified() || a.is_multicast()) return std::nullopt;
  local6_.push_back(a);
  return kLocal6Tag | static_cast<uint32_t>(local6_.size() - 1);
}

std::optional<uint32_t> Stack::local6_tag(const wire::Ipv6Addr& a) const {
  const auto it = std::find(local6_.begin(), local6_.end(), a);
  if (it == local6_.end()) return std::nullopt;
  return kLocal6Tag | static_cast<uint32_t>(it - local6_.begin());
}

Addrs6 Stack::addrs6(const FourTuple& t) const {
  const wire::Ipv6Addr* local = local6_addr(t.local_ip);  // null for IPv4
  if (local == nullptr || t.remote_ip >= addr6_.capacity()) return {};
  return Addrs6{local, &addr6_.addr(t.remote_ip)};
}

FourTuple Stack::tuple6(uint32_t local_tag, uint16_t local_port, const wire::Ipv6Addr& remote,
                        uint16_t remote_port) const {
  const uint32_t r = addr6_.find(remote);
  return FourTuple{local_tag, r == AddrTable6::kNone ? kNoRemote6 : r, local_port, remote_port};
}

bool Stack::map_in6(SegmentIn& s) {
  // RFC 4291 §2.5.2: the unspecified address is never a source; a segment to
  // ourselves from ourselves is the land attack, as for IPv4.
  if (*s.local6 == *s.remote6 || s.remote6->is_unspecified() || s.remote6->is_multicast()) {
    ++ctr_.drop.land;
    return false;
  }
  const auto tag = local6_tag(*s.local6);
  if (!tag) {
    ++ctr_.drop.not_local6;
    return false;
  }
  s.tuple = tuple6(*tag, s.tuple.local_port, *s.remote6, s.tuple.remote_port);
  return true;
}

void Stack::emit6(const SegmentOut& out) {
  const Addrs6 a = addrs6(out.tuple);
  assert(a.local != nullptr && "an IPv6 segment whose addresses nothing holds");
  if (a.local == nullptr) return;
  SegmentOut o = out;
  o.local6 = a.local;
  o.remote6 = a.remote;
  tx_.emit(o);
}

Seq Stack::isn_for(const FourTuple& t, Instant now) const {
  if (is_ipv6(t)) return isn_.isn(t, addrs6(t), now);
  return isn_.isn(t, now);
}

void Stack::tw_erase(TimeWaitTable::Ref r) {
  const FourTuple t = tw_.get(r).tuple;
  tw_.erase(r);
  release6(t);
}

}  // namespace synmill::tcp
