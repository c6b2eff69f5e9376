// The Linux-kernel reference for the bench: an epoll server on kernel sockets
// that does what synmill's apps do, so the same generator measures both.
//
//   kernel_server ADDR PORT MODE SECONDS [REQUEST RESPONSE]
//     MODE listen   listen (backlog 4096) and never accept: the kernel answers
//                   SYNs itself (with net.ipv4.tcp_syncookies=2, cookies)
//     MODE client   accept, read REQUEST bytes, write RESPONSE bytes, then close
//                   when the client closes (the client closes first)
//     MODE server   the same, but close right after writing (server first)
// Runs SECONDS, then prints one JSON line with what it did and exits.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>

namespace {

struct Conn {
  uint64_t got = 0;
  uint64_t sent = 0;
  bool responded = false;
};

int die(const char* what) {
  std::fprintf(stderr, "kernel_server: %s: %s\n", what, std::strerror(errno));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: kernel_server ADDR PORT listen|client|server SECONDS [REQUEST RESPONSE]\n");
    return 2;
  }
  const std::string mode = argv[3];
  const double seconds = std::atof(argv[4]);
  const uint64_t request = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 0;
  const uint64_t response = argc > 6 ? std::strtoull(argv[6], nullptr, 10) : 0;
  if (mode != "listen" && mode != "client" && mode != "server") return 2;

  const int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (ls < 0) return die("socket");
  const int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
  if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) return 2;
  if (bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return die("bind");
  if (listen(ls, 4096) != 0) return die("listen");
  std::printf("{\"listening\": true}\n");
  std::fflush(stdout);

  const int ep = epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = ls;
  if (mode != "listen") epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  std::unordered_map<int, Conn> conns;
  uint64_t accepted = 0, closed = 0, bytes_in = 0, bytes_out = 0;
  static std::array<char, 65536> buf{};
  static std::array<char, 65536> out{};
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::array<epoll_event, 256> events{};
  const auto finish = [&](int fd) {
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    conns.erase(fd);
    ++closed;
  };
  while (std::chrono::steady_clock::now() < end) {
    const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == ls) {
        for (;;) {
          const int c = accept4(ls, nullptr, nullptr, SOCK_NONBLOCK);
          if (c < 0) break;
          ++accepted;
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event ce{};
          ce.events = EPOLLIN | EPOLLRDHUP;
          ce.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
          conns[c] = Conn{};
        }
        continue;
      }
      Conn& c = conns[fd];
      bool eof = false;
      for (;;) {
        const ssize_t r = read(fd, buf.data(), buf.size());
        if (r > 0) {
          c.got += static_cast<uint64_t>(r);
          bytes_in += static_cast<uint64_t>(r);
          continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) eof = true;
        break;
      }
      if (!c.responded && c.got >= request) {
        while (c.sent < response) {
          const size_t want = static_cast<size_t>(std::min<uint64_t>(response - c.sent, out.size()));
          const ssize_t w = write(fd, out.data(), want);
          if (w <= 0) break;
          c.sent += static_cast<uint64_t>(w);
          bytes_out += static_cast<uint64_t>(w);
        }
        c.responded = c.sent >= response;
        if (c.responded && mode == "server") {
          finish(fd);
          continue;
        }
      }
      if (eof) finish(fd);
    }
  }
  std::printf("{\"accepted\": %llu, \"closed\": %llu, \"bytes_in\": %llu, \"bytes_out\": %llu}\n",
              static_cast<unsigned long long>(accepted), static_cast<unsigned long long>(closed),
              static_cast<unsigned long long>(bytes_in), static_cast<unsigned long long>(bytes_out));
  return 0;
}
