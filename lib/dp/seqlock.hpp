#pragma once
// A value one thread publishes and others read whole: a sequence lock
// (Linux's seqcount, Boehm's "Can seqlocks get along with programming
// language memory models?", 2012). The writer makes the sequence odd, stores
// the value word by word, and makes it even again; a reader retries until it
// saw the same even sequence before and after its copy. Every word is an
// std::atomic accessed relaxed, so a torn copy is detected rather than a data
// race (ThreadSanitizer sees none), and on x86 each store is a plain mov.
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <type_traits>

namespace synmill::dp {

template <class T>
class Seqlock {
  static_assert(std::is_trivially_copyable_v<T>, "published values are copied word by word");
  static_assert(sizeof(T) % 8 == 0, "published values are whole 64-bit words");
  static constexpr size_t kWords = sizeof(T) / 8;
  using Words = std::array<uint64_t, kWords>;

 public:
  Seqlock() { publish(T{}); }

  // Single writer.
  void publish(const T& v) {
    const Words w = std::bit_cast<Words>(v);
    const uint64_t s = seq_.load(std::memory_order_relaxed);
    seq_.store(s + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    for (size_t i = 0; i < kWords; ++i) words_[i].store(w[i], std::memory_order_relaxed);
    seq_.store(s + 2, std::memory_order_release);
  }

  // Any thread: the value as one publish() left it.
  T read() const {
    Words w{};
    for (;;) {
      const uint64_t s1 = seq_.load(std::memory_order_acquire);
      if ((s1 & 1) != 0) continue;  // a publish is under way: it takes well under a microsecond
      for (size_t i = 0; i < kWords; ++i) w[i] = words_[i].load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (seq_.load(std::memory_order_relaxed) == s1) break;
    }
    return std::bit_cast<T>(w);
  }

  // How many times publish() ran (for tests).
  uint64_t generation() const { return seq_.load(std::memory_order_acquire) / 2; }

 private:
  std::atomic<uint64_t> seq_{0};
  std::array<std::atomic<uint64_t>, kWords> words_{};
};

}  // namespace synmill::dp
