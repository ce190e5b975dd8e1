// The fake fleet's sockets and its single-threaded epoll loop. Listeners and connections are
// non-blocking and level-triggered; each connection keeps its unparsed input, its answers not yet
// due (latency_ms) and its unsent output. Due answers come from a timer queue whose nearest
// deadline bounds epoll_wait's timeout.

#include "testing/fake_fleet.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <queue>
#include <thread>

#include "testing/fake_fleet_internal.h"

namespace fleet::testing {
namespace fleet_impl {
namespace {

constexpr int kMaxEvents = 256;
constexpr int kAcceptsPerEvent = 64;  // then let other sockets have their turn
constexpr size_t kReadChunk = 16 * 1024;
constexpr int kReadsPerEvent = 8;
constexpr auto kLogFlushInterval = std::chrono::seconds(1);

using SteadyTime = std::chrono::steady_clock::time_point;

Error SystemError(const std::string& what) {
  return Error{ErrorCode::kUnavailable, what + ": " + std::strerror(errno)};
}

Result<UniqueFd> Listen(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return tl::unexpected(SystemError("socket"));
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return tl::unexpected(SystemError("bind 127.0.0.1:" + std::to_string(port)));
  }
  if (::listen(fd.get(), SOMAXCONN) != 0) return tl::unexpected(SystemError("listen"));
  return fd;
}

int BoundPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return -1;
  return ntohs(addr.sin_port);
}

// An answer held back until `due` (it and everything queued behind it on its connection).
struct Held {
  SteadyTime due{};
  std::string bytes{};
};

struct Connection {
  UniqueFd fd{};
  int instance{};
  uint64_t serial{};  // tells a timer whether its connection is still the one on this fd
  std::string in{};
  std::deque<Held> held{};
  std::string out{};
  size_t out_sent{};
  bool close_after_write{false};
  bool hung{false};  // a kHang fault: requests are read and dropped until the peer closes
  bool continue_sent{false};
  bool watching_writes{false};
};

// What an fd in the epoll set is.
struct Slot {
  enum class Kind { kNone, kWake, kListener, kConnection } kind{Kind::kNone};
  int instance{};
  std::unique_ptr<Connection> connection{};
};

// A held answer's deadline, for the connection `serial` on `fd`.
struct Timer {
  SteadyTime due{};
  int fd{};
  uint64_t serial{};
  bool operator>(const Timer& other) const { return due > other.due; }
};

int64_t UnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The answers that latency_ms holds back: Insights summaries, token exchanges and workflows.
bool IsSlow(const wire::Request& request) {
  return request.path == rules::kInsightsSummaryPath ||
         (request.method == "POST" && request.path == rules::kTokenExchangePath) ||
         IsWorkflowPath(request.path);
}

}  // namespace

Result<void> RequestLog::Open(const std::string& path) {
  fd_.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd_.get() < 0) return tl::unexpected(SystemError("request log " + path));
  path_ = path;
  buffer_.reserve(kBufferBytes + 256);
  return {};
}

void RequestLog::Add(int instance, std::string_view start, std::string_view end, int64_t arrival_ms,
                     int status) {
  if (!open()) return;
  auto field = [this](std::string_view text) {
    if (text.empty()) text = "-";
    for (char c : text) buffer_ += (c == ' ' || c == '\n' || c == '\t') ? '_' : c;
  };
  buffer_ += std::to_string(instance);
  buffer_ += ' ';
  field(start);
  buffer_ += ' ';
  field(end);
  buffer_ += ' ';
  buffer_ += std::to_string(arrival_ms);
  buffer_ += ' ';
  buffer_ += std::to_string(status);
  buffer_ += '\n';
  if (buffer_.size() >= kBufferBytes) Flush();
}

void RequestLog::Flush() {
  size_t written = 0;
  while (open() && written < buffer_.size()) {
    ssize_t n = ::write(fd_.get(), buffer_.data() + written, buffer_.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // a full disk: say so once, then stop logging rather than stall the loop
      std::fprintf(stderr, "fake fleet: request log %s: %s; no longer written\n", path_.c_str(),
                   std::strerror(errno));
      fd_.reset();
      break;
    }
    written += static_cast<size_t>(n);
  }
  buffer_.clear();
}

class Loop {
 public:
  explicit Loop(Fleet& fleet) : fleet_(fleet) {}

  Result<void> Open() {
    epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    wake_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (epoll_.get() < 0 || wake_.get() < 0) return tl::unexpected(SystemError("epoll/eventfd"));
    if (!Watch(wake_.get(), EPOLLIN, {Slot::Kind::kWake, 0, nullptr})) {
      return tl::unexpected(SystemError("epoll_ctl"));
    }
    const FleetOptions& o = fleet_.options;
    for (int i = 0; i < o.count; ++i) {
      auto fd = Listen(o.base_port == 0 ? 0 : o.base_port + i);
      if (!fd) return tl::unexpected(WithContext(fd.error(), "instance " + std::to_string(i)));
      Instance& instance = fleet_.instances[static_cast<size_t>(i)];
      instance.port = BoundPort(fd->get());
      instance.url = "http://127.0.0.1:" + std::to_string(instance.port);
      if (!Watch(fd->get(), EPOLLIN, {Slot::Kind::kListener, i, nullptr})) {
        return tl::unexpected(SystemError("epoll_ctl"));
      }
      listeners_.push_back(std::move(*fd));
    }
    return {};
  }

  void Run() {
    epoll_event events[kMaxEvents];
    last_log_flush_ = std::chrono::steady_clock::now();
    while (!stopping_) {
      int n = ::epoll_wait(epoll_.get(), events, kMaxEvents, TimeoutMs());
      if (n < 0 && errno != EINTR) break;
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        Slot& slot = slots_[static_cast<size_t>(fd)];
        if (slot.kind == Slot::Kind::kWake) {
          stopping_ = true;
        } else if (slot.kind == Slot::Kind::kListener) {
          Accept(fd, slot.instance);
        } else if (slot.kind == Slot::Kind::kConnection) {
          Serve(fd, events[i].events);
        }
      }
      SendDue();
      RequestLog& log = fleet_.log;
      if (log.buffered() &&
          std::chrono::steady_clock::now() - last_log_flush_ >= kLogFlushInterval) {
        log.Flush();
        last_log_flush_ = std::chrono::steady_clock::now();
      }
    }
  }

  void Stop() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t ignored = ::write(wake_.get(), &one, sizeof one);
  }

 private:
  bool Watch(int fd, uint32_t events, Slot slot) {
    if (static_cast<size_t>(fd) >= slots_.size()) slots_.resize(static_cast<size_t>(fd) + 1024);
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) return false;
    slots_[static_cast<size_t>(fd)] = std::move(slot);
    return true;
  }

  void Accept(int listener, int instance) {
    for (int i = 0; i < kAcceptsPerEvent; ++i) {
      UniqueFd fd(::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (fd.get() < 0) return;  // EAGAIN, or EMFILE: the listener stays ready, retried later
      int one = 1;
      ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto connection = std::make_unique<Connection>();
      connection->instance = instance;
      connection->serial = ++serials_;
      int raw = fd.get();
      connection->fd = std::move(fd);
      if (!Watch(raw, EPOLLIN | EPOLLRDHUP,
                 {Slot::Kind::kConnection, instance, std::move(connection)})) {
        continue;  // connection closes itself
      }
      Counters& c = fleet_.counters;
      c.connections.fetch_add(1, std::memory_order_relaxed);
      int64_t open = c.open_connections.fetch_add(1, std::memory_order_relaxed) + 1;
      if (open > c.max_connections.load(std::memory_order_relaxed)) {
        c.max_connections.store(open, std::memory_order_relaxed);
      }
    }
  }

  void Close(int fd) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    slots_[static_cast<size_t>(fd)] = Slot{};  // closes the socket
    fleet_.counters.open_connections.fetch_sub(1, std::memory_order_relaxed);
  }

  void Serve(int fd, uint32_t events) {
    Connection& c = *slots_[static_cast<size_t>(fd)].connection;
    if (events & (EPOLLERR | EPOLLHUP)) return Close(fd);
    bool peer_closed = false;
    if (events & (EPOLLIN | EPOLLRDHUP)) {
      for (int i = 0; i < kReadsPerEvent; ++i) {
        size_t old = c.in.size();
        c.in.resize(old + kReadChunk);
        ssize_t got = ::read(fd, c.in.data() + old, kReadChunk);
        c.in.resize(old + static_cast<size_t>(std::max<ssize_t>(got, 0)));
        if (got == 0) peer_closed = true;
        if (got <= 0 || static_cast<size_t>(got) < kReadChunk) break;
      }
      Answer(c);
    }
    // A peer that closed while answers are held gets none (and would keep EPOLLRDHUP firing).
    if (peer_closed && !c.held.empty()) return Close(fd);
    if (!Flush(c) || (Idle(c) && (c.close_after_write || peer_closed))) return Close(fd);
  }

  static bool Idle(const Connection& c) { return c.out.empty() && c.held.empty(); }

  // Queues `bytes` for `c`: straight to its output, unless it must wait (`delay`, or answers
  // held before it on this connection).
  void Emit(Connection& c, std::string_view bytes, std::chrono::milliseconds delay) {
    if (delay.count() <= 0 && c.held.empty()) {
      c.out += bytes;
      return;
    }
    SteadyTime due = std::chrono::steady_clock::now() + delay;
    c.held.push_back({due, std::string(bytes)});
    if (delay.count() > 0) timers_.push({due, c.fd.get(), c.serial});
  }

  // Moves the answers that are due to their connections' output and sends them.
  void SendDue() {
    SteadyTime now = std::chrono::steady_clock::now();
    while (!timers_.empty() && timers_.top().due <= now) {
      Timer timer = timers_.top();
      timers_.pop();
      Slot& slot = slots_[static_cast<size_t>(timer.fd)];
      if (slot.kind != Slot::Kind::kConnection || slot.connection->serial != timer.serial) {
        continue;  // that connection closed
      }
      Connection& c = *slot.connection;
      while (!c.held.empty() && c.held.front().due <= now) {
        c.out += c.held.front().bytes;
        c.held.pop_front();
      }
      if (!Flush(c) || (Idle(c) && c.close_after_write)) Close(timer.fd);
    }
  }

  // epoll_wait's timeout: until the next held answer is due (-1: none), at most until the
  // request log's next flush.
  int TimeoutMs() const {
    int timeout = -1;
    SteadyTime now = std::chrono::steady_clock::now();
    if (!timers_.empty()) {
      auto wait = std::chrono::ceil<std::chrono::milliseconds>(timers_.top().due - now);
      timeout = static_cast<int>(std::max<int64_t>(0, wait.count()));
    }
    if (fleet_.log.buffered()) {
      int flush = static_cast<int>(std::max<int64_t>(
          0, std::chrono::ceil<std::chrono::milliseconds>(last_log_flush_ + kLogFlushInterval - now)
                 .count()));
      timeout = timeout < 0 ? flush : std::min(timeout, flush);
    }
    return timeout;
  }

  // Answers every complete request in the input (pipelining), in order.
  void Answer(Connection& c) {
    if (c.hung) return c.in.clear();
    const std::chrono::milliseconds latency(fleet_.options.latency_ms);
    int64_t arrival_ms = 0;  // read once per batch, when the log needs it
    size_t used = 0;
    while (!c.close_after_write) {
      wire::Request request;
      wire::ParseResult parsed = wire::ParseRequest(std::string_view(c.in).substr(used), request);
      if (parsed.status == wire::ParseStatus::kIncomplete) {
        if (parsed.wants_continue && !c.continue_sent) {
          Emit(c, wire::kContinue, std::chrono::milliseconds(0));
          c.continue_sent = true;
        }
        break;
      }
      if (parsed.status == wire::ParseStatus::kBad) {
        std::string bad;
        wire::AppendResponse(bad, parsed.error_status, "application/json; charset=utf-8",
                             R"({"message":"bad request"})", false);
        Emit(c, bad, std::chrono::milliseconds(0));
        c.close_after_write = true;
        break;
      }
      used += parsed.consumed;
      c.continue_sent = false;
      Instance& instance = fleet_.instances[static_cast<size_t>(c.instance)];
      Response response = HandleRequest(fleet_, instance, request);
      bool answered = response.fault == FleetFault::kNone || response.fault == FleetFault::kError;
      if (fleet_.log.open() && request.method == "GET" &&
          request.path == rules::kInsightsSummaryPath) {
        if (arrival_ms == 0) arrival_ms = UnixMillis();
        fleet_.log.Add(instance.index, wire::QueryParam(request.query, "startDate").value_or(""),
                       wire::QueryParam(request.query, "endDate").value_or(""), arrival_ms,
                       answered ? response.status : 0);
      }
      if (!answered) {  // answers already due still go; this one and later ones never do
        c.close_after_write = response.fault == FleetFault::kClose;
        c.hung = response.fault == FleetFault::kHang;
        break;
      }
      std::string answer;
      wire::AppendResponse(answer, response.status, "application/json; charset=utf-8",
                           response.body, request.keep_alive, response.extra_headers);
      Emit(c, answer, IsSlow(request) ? latency : std::chrono::milliseconds(0));
      if (!request.keep_alive) c.close_after_write = true;
    }
    c.in.erase(0, used);
  }

  // Writes what it can; watches for writability while output remains. False on a dead socket.
  bool Flush(Connection& c) {
    while (c.out_sent < c.out.size()) {
      ssize_t sent =
          ::send(c.fd.get(), c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
      if (sent < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return false;
      }
      c.out_sent += static_cast<size_t>(sent);
    }
    if (c.out_sent == c.out.size()) {
      c.out.clear();
      c.out_sent = 0;
    }
    bool want = !c.out.empty();
    if (want != c.watching_writes) {
      epoll_event event{};
      event.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u);
      event.data.fd = c.fd.get();
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), &event);
      c.watching_writes = want;
    }
    return true;
  }

  Fleet& fleet_;
  UniqueFd epoll_{};
  UniqueFd wake_{};
  std::vector<UniqueFd> listeners_{};
  std::vector<Slot> slots_{};  // by fd
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_{};
  uint64_t serials_{0};
  SteadyTime last_log_flush_{};
  bool stopping_{false};
};

}  // namespace fleet_impl

using fleet_impl::Fleet;
using fleet_impl::Loop;

struct FakeFleet::Impl {
  Fleet fleet{};
  Loop loop{fleet};
  std::thread thread{};
};

FakeFleet::FakeFleet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<FakeFleet>> FakeFleet::Start(const FleetOptions& options) {
  if (options.count < 1 || options.days_back < 0 || options.base_port < 0 ||
      (options.base_port > 0 && options.base_port + options.count > 65536) ||
      options.latency_ms < 0 || !(options.fault_rate >= 0 && options.fault_rate <= 1)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a fleet needs count >= 1, days_back >= 0, latency_ms >= 0, fault_rate within "
                     "0-1 and ports within 1-65535");
  }
  auto impl = std::make_unique<Impl>();
  Fleet& fleet = impl->fleet;
  fleet.options = options;
  for (const auto& key : options.trusted_keys) {
    std::string problem = fleet.keyring.Add(key);
    if (!problem.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "trusted key '" + key.kid + "': " + problem +
                                                        " (n8n would refuse to start)");
    }
  }
  fleet.start_day = options.today.value_or(DayOf(fleet_impl::UnixNow(fleet)));
  fleet.instances.resize(static_cast<size_t>(options.count));
  for (int i = 0; i < options.count; ++i) fleet.instances[static_cast<size_t>(i)].index = i;
  if (!options.request_log.empty()) {
    if (auto opened = fleet.log.Open(options.request_log); !opened) {
      return tl::unexpected(opened.error());
    }
  }
  if (auto opened = impl->loop.Open(); !opened) return tl::unexpected(opened.error());
  impl->thread = std::thread([loop = &impl->loop] { loop->Run(); });
  return std::unique_ptr<FakeFleet>(new FakeFleet(std::move(impl)));
}

FakeFleet::~FakeFleet() {
  impl_->loop.Stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int FakeFleet::count() const { return impl_->fleet.options.count; }

int FakeFleet::port(int index) const {
  return impl_->fleet.instances.at(static_cast<size_t>(index)).port;
}

std::string FakeFleet::url(int index) const {
  return impl_->fleet.instances.at(static_cast<size_t>(index)).url;
}

Day FakeFleet::today() const { return impl_->fleet.start_day; }

Day FakeFleet::first_day() const { return impl_->fleet.start_day - impl_->fleet.options.days_back; }

FleetStats FakeFleet::Stats() const {
  const fleet_impl::Counters& c = impl_->fleet.counters;
  FleetStats stats;
  stats.requests = c.requests.load();
  stats.exchanges = c.exchanges.load();
  stats.exchange_failures = c.exchange_failures.load();
  stats.connections = c.connections.load();
  stats.max_connections = c.max_connections.load();
  stats.workflows = c.workflows.load();
  stats.workflow_lists = c.workflow_lists.load();
  stats.workflow_gets = c.workflow_gets.load();
  stats.workflow_posts = c.workflow_posts.load();
  stats.workflow_puts = c.workflow_puts.load();
  stats.workflow_activations = c.workflow_activations.load();
  stats.workflow_deletes = c.workflow_deletes.load();
  stats.workflows_created = c.workflows_created.load();
  stats.workflows_updated = c.workflows_updated.load();
  stats.faults = c.faults.load();
  stats.fault_errors = c.fault_errors.load();
  stats.fault_closes = c.fault_closes.load();
  stats.fault_hangs = c.fault_hangs.load();
  return stats;
}

std::map<std::string, FleetWorkflowName> FakeFleet::WorkflowNames() const {
  return fleet_impl::CountWorkflowNames(impl_->fleet.workflows);
}

int64_t RaiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
  }
  return static_cast<int64_t>(limit.rlim_cur);
}

}  // namespace fleet::testing
