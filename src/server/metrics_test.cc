#include "server/metrics.h"

#include <gtest/gtest.h>

namespace kiln::server {
namespace {

TEST(Metrics, LabelValuesAreEscapedSoTheyCannotAddSeries) {
  Metrics m;
  m.Count("kiln_x_total", {{"connection", "a\"} 1\nkiln_fake 9\n\\"}});
  std::string text = m.Render();
  EXPECT_EQ(text, "kiln_x_total{connection=\"a\\\"} 1\\nkiln_fake 9\\n\\\\\"} 1\n");
  // Exactly one series line: the newline did not start a line of its own.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
}

TEST(Metrics, CountsAddUpPerLabelSet) {
  Metrics m;
  m.Count("kiln_y_total", {{"a", "1"}, {"b", "2"}});
  m.Count("kiln_y_total", {{"a", "1"}, {"b", "2"}}, 2);
  m.Count("kiln_y_total", {{"a", "1"}, {"b", "3"}});
  EXPECT_EQ(m.Render(), "kiln_y_total{a=\"1\",b=\"2\"} 3\nkiln_y_total{a=\"1\",b=\"3\"} 1\n");
}

}  // namespace
}  // namespace kiln::server
