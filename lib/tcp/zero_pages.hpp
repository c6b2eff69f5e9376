#pragma once
// Memory reserved at start-up and backed only where it is first written.
//
// ZeroPages maps `bytes` of private anonymous memory (mmap): every byte reads
// as zero, and the kernel backs a 4 KiB page with RAM only on its first write
// (a page fault, once per page over the mapping's life). A per-core pool or
// table sized for the worst case therefore costs memory in proportion to
// what is used, not to its capacity (issue 12: "no pool is touched in full at
// start-up"). Nothing here runs on the hot path: mmap at construction, munmap
// at destruction; allocation failure throws std::bad_alloc.
//
// ZeroArray<T> is an array of T on such memory. No constructor runs: an
// element starts as all-zero bytes, so T must be trivially destructible and
// its all-zero bytes must be a valid, meaningful initial value (the classes
// that use it say which value that is: "0 = empty", "state 0 = CLOSED").
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace synmill::tcp {

class ZeroPages {
 public:
  // kBySize: transparent huge pages from kHugeThreshold up (tables probed at
  // random); kSmall: 4 KiB pages whatever the size, for memory handed out
  // from its front (ChunkPool: one huge page would back 2 MiB for the first
  // chunk, about 21 bytes per connection in the bench's hold of 100,000);
  // kHashed: a hash table's slots, written at random, so every 4 KiB page of
  // it is written once a few thousand entries are in and a huge page then
  // costs no memory that small pages would not: transparent huge pages from
  // kHashedHugeThreshold up (the index of 10M connections, 58 MiB, missed the
  // TLB on nearly every probe under kBySize's 64 MiB).
  enum class Paging { kBySize, kSmall, kHashed };

  ZeroPages() = default;
  explicit ZeroPages(size_t bytes, Paging paging = Paging::kBySize);
  ~ZeroPages();
  ZeroPages(ZeroPages&& o) noexcept : p_(o.p_), bytes_(o.bytes_) {
    o.p_ = nullptr;
    o.bytes_ = 0;
  }
  ZeroPages& operator=(ZeroPages&& o) noexcept;
  ZeroPages(const ZeroPages&) = delete;
  ZeroPages& operator=(const ZeroPages&) = delete;

  // Regions of at least this size are 2 MiB-aligned and advised for
  // transparent huge pages (zero_pages.cpp); smaller ones keep 4 KiB pages so
  // a small stack stays small.
  static constexpr size_t kHugeThreshold = size_t{64} << 20;
  static constexpr size_t kHashedHugeThreshold = size_t{4} << 20;  // two huge pages
  static size_t huge_threshold(Paging paging) {
    return paging == Paging::kHashed ? kHashedHugeThreshold
           : paging == Paging::kBySize ? kHugeThreshold
                                       : SIZE_MAX;
  }

  void* get() const { return p_; }  // page-aligned; nullptr when bytes == 0
  size_t bytes() const { return bytes_; }

 private:
  void* p_ = nullptr;
  size_t bytes_ = 0;
};

template <class T>
class ZeroArray {
  static_assert(std::is_trivially_destructible_v<T>, "ZeroArray never runs destructors");

 public:
  ZeroArray() = default;
  explicit ZeroArray(size_t n, ZeroPages::Paging paging = ZeroPages::Paging::kBySize) : mem_(n * sizeof(T), paging) {}

  T* get() const { return static_cast<T*>(mem_.get()); }
  T& operator[](size_t i) const { return get()[i]; }

 private:
  ZeroPages mem_;
};

}  // namespace synmill::tcp
