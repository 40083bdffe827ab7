// Exchanges (one request being answered), server-sent-event streams, and the body budget.
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <chrono>

#include "server/http_connection.h"

namespace kiln::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

bool BodyBudget::TryReserve(uint64_t n) {
  uint64_t used = used_.load();
  do {
    if (n > capacity_ || used > capacity_ - n) return false;
  } while (!used_.compare_exchange_weak(used, used + n));
  return true;
}

BodyReservation& BodyReservation::operator=(BodyReservation&& other) noexcept {
  if (this != &other) {
    Reset();
    budget_ = std::move(other.budget_);
    bytes_ = other.bytes_;
    other.bytes_ = 0;
  }
  return *this;
}

void BodyReservation::Reset() {
  if (budget_ && bytes_ > 0) budget_->Release(bytes_);
  budget_.reset();
  bytes_ = 0;
}

std::shared_ptr<EventStream> Connection::StartEvents(size_t max_buffered, bool head_only) {
  auto closed = [&] {
    auto dead = std::make_shared<EventStream>(std::weak_ptr<Connection>(), max_buffered);
    dead->MarkClosed();
    return dead;
  };
  if (head_only) {
    Response r;
    r.content_type = "text/event-stream";
    Reply(std::move(r));
    return closed();
  }
  if (!host_->OpenStream(remote_)) {
    ++host_->mutable_stats().busy;
    Response busy = JsonError(503, "too_many_streams",
                              "too many open event streams (server.limits.event_streams, "
                              "event_streams_per_client); close one or retry later");
    busy.headers.emplace_back("Retry-After", "5");
    keep_alive_ = false;
    Reply(std::move(busy));
    return closed();
  }
  counted_stream_ = true;
  events_ = std::make_shared<EventStream>(weak_from_this(), max_buffered);
  stream_.expires_never();
  out_.push_back(
      "HTTP/1.1 200 OK\r\nServer: kiln\r\nContent-Type: text/event-stream\r\n"
      "Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n"
      "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n");
  WriteNext();
  WatchPeerClose();
  return events_;
}

void Connection::WatchPeerClose() {
  stream_.socket().async_read_some(
      asio::buffer(peek_), [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec) return self->CloseNow();
        self->WatchPeerClose();  // a client does not send on an event stream; ignore it
      });
}

void Connection::QueueRaw(std::string bytes) {
  if (closed_) return;
  out_.push_back(std::move(bytes));
  WriteNext();
}

// A client that takes nothing for write_timeout_ms is dropped (its descriptor and buffers
// freed), whatever its stream's buffer limit.
void Connection::WriteNext() {
  if (writing_ || closed_) return;
  if (out_.empty()) {
    if (events_ && events_->closing_) CloseNow();
    return;
  }
  writing_ = true;
  // Gather what is queued into one write: fewer syscalls for many small events.
  std::string chunk = std::move(out_.front());
  out_.pop_front();
  while (!out_.empty() && chunk.size() < 256 * 1024) {
    chunk += out_.front();
    out_.pop_front();
  }
  auto data = std::make_shared<std::string>(std::move(chunk));
  stream_.expires_after(std::chrono::milliseconds(host_->options().write_timeout_ms));
  asio::async_write(stream_, asio::buffer(*data),
                    [self = shared_from_this(), data](beast::error_code ec, size_t n) {
                      self->writing_ = false;
                      if (ec) return self->CloseNow();
                      if (self->events_) self->events_->Written(n);
                      self->WriteNext();
                    });
}

bool EventStream::Send(std::string bytes) {
  if (closed_ || closing_) return false;
  auto c = connection_.lock();
  if (!c) {
    MarkClosed();
    return false;
  }
  buffered_ += bytes.size();
  c->QueueRaw(std::move(bytes));
  if (buffered_ > max_buffered_) {
    c->QueueRaw("event: dropped\ndata: {\"reason\":\"client too slow: more than " +
                std::to_string(max_buffered_) + " bytes waiting\"}\n\n");
    Close();
    return false;
  }
  return true;
}

void EventStream::Written(size_t n) {
  buffered_ = n > buffered_ ? 0 : buffered_ - n;
  if (buffered_ == 0 && on_drained_ && !closed_ && !closing_) {
    auto fn = on_drained_;
    fn();
  }
}

void EventStream::Close() {
  if (closed_ || closing_) return;
  closing_ = true;
  if (auto c = connection_.lock()) {
    c->QueueRaw("");  // wakes the writer, which closes once the queue is empty
  } else {
    MarkClosed();
  }
}

void EventStream::MarkClosed() {
  if (closed_) return;
  closed_ = true;
  on_drained_ = nullptr;
  if (auto fn = std::move(on_closed_)) {
    on_closed_ = nullptr;
    fn();
  }
}

void Exchange::Reply(Response response) {
  if (replied_.exchange(true)) return;
  asio::post(loop_, [c = std::move(connection_), r = std::move(response)]() mutable {
    c->Reply(std::move(r));
  });
}

std::shared_ptr<EventStream> Exchange::StartEvents(size_t max_buffered) {
  if (replied_.exchange(true)) {  // already answered: a stream that is closed at once
    auto dead = std::make_shared<EventStream>(std::weak_ptr<Connection>(), max_buffered);
    dead->MarkClosed();
    return dead;
  }
  auto c = std::move(connection_);
  return c->StartEvents(max_buffered, request_.method() == boost::beast::http::verb::head);
}

}  // namespace kiln::server
