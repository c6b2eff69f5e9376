#include "tcp/zero_pages.hpp"

#include <sys/mman.h>

#include <new>

namespace synmill::tcp {

ZeroPages::ZeroPages(size_t bytes) : bytes_(bytes) {
  if (bytes == 0) return;
  // Charged against the kernel's overcommit policy now (so an impossible size
  // fails here, not at a page fault later); backed as it is written.
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
