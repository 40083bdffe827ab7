// Counters for `GET /metrics` (Prometheus text format 0.0.4). Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace kiln::server {

class Metrics {
 public:
  void Count(const std::string& name, const std::string& labels, uint64_t by = 1);
  void Gauge(const std::string& name, const std::string& labels, double value);
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
