#include "server/event_hub.h"

#include <boost/asio/post.hpp>

#include "base/json_text.h"

namespace kiln::server {

bool EventFilter::Matches(const Event& e) const {
  return (pipeline.empty() || pipeline == e.pipeline) &&
         (execution_id.empty() || execution_id == e.execution_id) &&
         (type.empty() || type == e.type);
}

void EventHub::Publish(std::string type, std::string pipeline, std::string execution_id,
                       nlohmann::json data) {
  Event e{.type = std::move(type),
          .pipeline = std::move(pipeline),
          .execution_id = std::move(execution_id),
          .data = base::JsonText(data)};
  boost::asio::post(loop_, [this, e = std::move(e)]() mutable { Deliver(std::move(e)); });
}

std::string EventHub::Format(const Event& e) {
  return "id: " + std::to_string(e.id) + "\nevent: " + e.type + "\ndata: " + e.data + "\n\n";
}

void EventHub::Deliver(Event e) {
  e.id = next_id_++;
  for (auto& fn : listeners_) fn(e);
  std::string text = Format(e);
  std::erase_if(subscribers_, [&](Subscriber& s) {
    if (s.stream->closed()) return true;
    if (!s.filter.Matches(e)) return false;
    if (!s.stream->Send(text)) {
      ++dropped_;
      return true;
    }
    return false;
  });
  ring_.push_back(std::move(e));
  if (ring_.size() > keep_) ring_.pop_front();
}

void EventHub::Subscribe(std::shared_ptr<EventStream> stream, EventFilter filter,
                         std::optional<uint64_t> replay_after) {
  // A comment line at once, so clients see the stream open before the first event.
  stream->Send(": kiln events\nretry: 1000\n\n");
  if (replay_after) {
    for (const Event& e : ring_) {
      if (e.id > *replay_after && filter.Matches(e) && !stream->Send(Format(e))) return;
    }
  }
  subscribers_.push_back({std::move(stream), std::move(filter)});
}

void EventHub::Heartbeat() {
  std::erase_if(subscribers_, [](Subscriber& s) {
    return s.stream->closed() || !s.stream->Send("event: heartbeat\ndata: {}\n\n");
  });
}

void EventHub::CloseAll() {
  for (auto& s : subscribers_) s.stream->Close();
  subscribers_.clear();
}

}  // namespace kiln::server
