// Counters for `GET /metrics` (Prometheus text format 0.0.4). Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace kiln::server {

// Label names and values of one series; values are escaped when rendered (exposition format:
// backslash, double quote, newline), so no value can end its label or add a series line.
// Values must come from what the operator configured (a connection's name), never from a
// request as such: each distinct value is a series held until the server stops.
using LabelSet = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  void Count(const std::string& name, const LabelSet& labels, uint64_t by = 1);
  void Gauge(const std::string& name, const LabelSet& labels, double value);
  // `key="value",...` with the values escaped: the one place label text is made.
  static std::string Labels(const LabelSet& labels);
  // Build durations and the like: observations into fixed buckets (seconds).
  void Observe(const std::string& name, double seconds);
  // Declares HELP/TYPE text for a family.
  void Describe(const std::string& name, const std::string& type, const std::string& help);
  std::string Render() const;

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, std::pair<std::string, std::string>> help_;  // name -> type, help
  std::map<std::string, std::map<std::string, double>> values_;      // name -> labels -> v
  std::map<std::string, Histogram> histograms_;
};

}  // namespace kiln::server
