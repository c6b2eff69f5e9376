#include "tcp/zero_pages.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace synmill::tcp {

namespace {

constexpr size_t kHugePage = size_t{2} << 20;  // x86-64 PMD: the transparent huge page size

// Maps `bytes` at a 2 MiB boundary: the kernel backs a range with a
// transparent huge page only where a whole aligned 2 MiB lies inside it.
void* map_aligned(size_t bytes) {
  const size_t span = bytes + kHugePage;
  void* p = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const auto base = reinterpret_cast<uintptr_t>(p);
  const uintptr_t start = (base + kHugePage - 1) & ~(kHugePage - 1);
  if (start > base) ::munmap(p, start - base);
  const uintptr_t end = start + bytes;
  if (base + span > end) ::munmap(reinterpret_cast<void*>(end), base + span - end);
  return reinterpret_cast<void*>(start);
}

}  // namespace

ZeroPages::ZeroPages(size_t bytes, Paging paging) : bytes_(bytes) {
  if (bytes == 0) return;
  // Charged against the kernel's overcommit policy now (so an impossible size
  // fails here, not at a page fault later); backed as it is written.
  if (bytes >= huge_threshold(paging)) {
    // A table this large is probed at random: with 4 KiB pages nearly every
    // probe of a large table misses the TLB and walks page tables that no
    // longer fit in cache (the bench's scale scenario: 1,342 busy cycles per
    // packet holding 1M connections, 3,743 holding 10M). Ask for transparent
    // huge pages (MADV_HUGEPAGE; honoured where THP is "always" or "madvise",
    // ignored where it is "never"): still backed only where written, 2 MiB at
    // a time. Linux sizes its own large hash tables the same way
    // (alloc_large_system_hash, huge vmalloc mappings).
    void* p = map_aligned(bytes);
    if (p == nullptr) throw std::bad_alloc();
    (void)::madvise(p, bytes, MADV_HUGEPAGE);  // advice: failure leaves 4 KiB pages
    p_ = p;
    return;
  }
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  p_ = p;
}

ZeroPages::~ZeroPages() {
  if (p_ != nullptr) ::munmap(p_, bytes_);
}

ZeroPages& ZeroPages::operator=(ZeroPages&& o) noexcept {
  if (this != &o) {
    if (p_ != nullptr) ::munmap(p_, bytes_);
    p_ = o.p_;
    bytes_ = o.bytes_;
    o.p_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}

}  // namespace synmill::tcp
