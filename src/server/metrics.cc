#include "server/metrics.h"

#include <fmt/format.h>

namespace kiln::server {
namespace {
constexpr double kBuckets[] = {0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600};
}

std::string Metrics::Labels(const LabelSet& labels) {
  std::string out;
  for (const auto& [key, value] : labels) {
    if (!out.empty()) out += ',';
    out += key + "=\"";
    for (char c : value) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '"') {
        out += "\\\"";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '"';
  }
  return out;
}

void Metrics::Count(const std::string& name, const LabelSet& labels, uint64_t by) {
  std::string key = Labels(labels);
  std::lock_guard lock(mu_);
  values_[name][key] += static_cast<double>(by);
}

void Metrics::Gauge(const std::string& name, const LabelSet& labels, double value) {
  std::string key = Labels(labels);
  std::lock_guard lock(mu_);
  values_[name][key] = value;
}

void Metrics::Observe(const std::string& name, double seconds) {
  std::lock_guard lock(mu_);
  Histogram& h = histograms_[name];
  if (h.buckets.empty()) h.buckets.resize(std::size(kBuckets));
  for (size_t i = 0; i < std::size(kBuckets); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::Describe(const std::string& name, const std::string& type, const std::string& help) {
  std::lock_guard lock(mu_);
  help_[name] = {type, help};
}

std::string Metrics::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  auto header = [&](const std::string& name) {
    auto it = help_.find(name);
    if (it == help_.end()) return;
    out += "# HELP " + name + " " + it->second.second + "\n# TYPE " + name + " " +
           it->second.first + "\n";
  };
  for (const auto& [name, series] : values_) {
    header(name);
    for (const auto& [labels, v] : series) {
      out +=
          name + (labels.empty() ? "" : "{" + labels + "}") + " " + fmt::format("{:g}", v) + "\n";
    }
  }
  for (const auto& [name, h] : histograms_) {
    header(name);
    for (size_t i = 0; i < std::size(kBuckets); ++i) {
      out += fmt::format("{}_bucket{{le=\"{:g}\"}} {}\n", name, kBuckets[i], h.buckets[i]);
    }
    out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {:g}\n{}_count {}\n", name, h.count,
                       name, h.sum, name, h.count);
  }
  return out;
}

}  // namespace kiln::server
