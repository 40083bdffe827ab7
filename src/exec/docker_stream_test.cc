// The frame demultiplexer and the progress-stream parser, fed bytes split everywhere.
#include "exec/docker_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kiln::exec {
namespace {

std::string Frame(uint8_t type, std::string_view payload) {
  uint32_t n = static_cast<uint32_t>(payload.size());
  std::string out = {static_cast<char>(type),
                     0,
                     0,
                     0,
                     static_cast<char>(n >> 24),
                     static_cast<char>(n >> 16),
                     static_cast<char>(n >> 8),
                     static_cast<char>(n)};
  return out + std::string(payload);
}

struct Collected {
  std::string out, err, in;
  FrameSink Sink() {
    return [this](const FramePiece& p) {
      (p.stream == StreamKind::kStdout   ? out
       : p.stream == StreamKind::kStderr ? err
                                         : in)
          .append(p.data);
    };
  }
};

TEST(FrameDemuxerTest, SplitsStreamsWhereverTheBytesAreCut) {
  std::string big(100000, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  std::string wire = Frame(1, "out\n") + Frame(2, "err\n") + Frame(1, big.substr(0, 32768)) +
                     Frame(1, "") + Frame(1, big.substr(32768)) + Frame(0, "in");
  for (size_t cut : {1, 3, 7, 8, 9, 4096, 32777}) {
    FrameDemuxer demuxer;
    Collected c;
    for (size_t i = 0; i < wire.size(); i += cut) {
      ASSERT_TRUE(demuxer.Feed(std::string_view(wire).substr(i, cut), c.Sink()).ok()) << cut;
    }
    EXPECT_TRUE(demuxer.Finish().ok());
    EXPECT_EQ(c.out, "out\n" + big) << "cut " << cut;
    EXPECT_EQ(c.err, "err\n");
    EXPECT_EQ(c.in, "in");
  }
}

TEST(FrameDemuxerTest, RejectsAnUnknownTypeOrPadding) {
  for (std::string bad :
       {std::string("\x04\0\0\0\0\0\0\x01z", 9), std::string("\x01\0\x01\0\0\0\0\0", 8),
        std::string("HTTP/1.1 404 Not Found\r\n")}) {
    FrameDemuxer demuxer;
    Collected c;
    auto st = demuxer.Feed(bad, c.Sink());
    EXPECT_EQ(st.kind(), base::ErrorKind::kFailed);
    EXPECT_NE(st.message().find("malformed frame"), std::string::npos) << st.message();
    EXPECT_FALSE(demuxer.Feed(Frame(1, "later"), c.Sink()).ok()) << "stays failed";
    EXPECT_EQ(c.out, "");
  }
}

TEST(FrameDemuxerTest, ADaemonErrorFrameIsAFailureWithItsMessage) {
  FrameDemuxer demuxer;
  Collected c;
  std::string wire = Frame(1, "a") + Frame(3, "container died unexpectedly");
  auto st = demuxer.Feed(wire.substr(0, 12), c.Sink());
  EXPECT_TRUE(st.ok()) << "incomplete error frame";
  st = demuxer.Feed(wire.substr(12), c.Sink());
  EXPECT_EQ(st.kind(), base::ErrorKind::kFailed);
  EXPECT_NE(st.message().find("container died unexpectedly"), std::string::npos);
  EXPECT_EQ(c.out, "a");
}

TEST(FrameDemuxerTest, AStreamEndingInsideAFrameIsTruncated) {
  for (std::string wire : {Frame(1, "abc").substr(0, 5), Frame(1, "abc").substr(0, 9)}) {
    FrameDemuxer demuxer;
    Collected c;
    ASSERT_TRUE(demuxer.Feed(wire, c.Sink()).ok());
    EXPECT_FALSE(demuxer.Finish().ok()) << wire.size();
  }
}

TEST(FrameDemuxerTest, HugeDeclaredSizeIsNotBuffered) {
  FrameDemuxer demuxer;
  Collected c;
  std::string header("\x01\0\0\0\xff\xff\xff\xff", 8);
  ASSERT_TRUE(demuxer.Feed(header + "abc", c.Sink()).ok());
  EXPECT_EQ(c.out, "abc");  // passed on at once
}

std::vector<ProgressEvent> FeedAll(ProgressStreamParser& p, std::string_view text, size_t cut,
                                   base::Status* status) {
  std::vector<ProgressEvent> events;
  auto sink = [&](const ProgressEvent& e) { events.push_back(e); };
  for (size_t i = 0; i < text.size() && status->ok(); i += cut) {
    *status = p.Feed(text.substr(i, cut), sink);
  }
  if (status->ok()) *status = p.Finish(sink);
  return events;
}

TEST(ProgressStreamParserTest, ParsesCrlfLinesSplitAnywhere) {
  std::string text =
      "{\"status\":\"Pulling fs layer\",\"id\":\"abc\"}\r\n"
      "{\"status\":\"Downloading\",\"id\":\"abc\",\"progressDetail\":{\"current\":5,\"total\":9},"
      "\"progress\":\"[==>  ]\"}\r\n\r\n"
      "{\"stream\":\"Step 1/3\\n\"}\n"
      "{\"aux\":{\"ID\":\"sha256:1\"}}";  // the last line has no newline
  for (size_t cut : {1, 2, 5, 1000}) {
    ProgressStreamParser parser;
    base::Status st;
    auto events = FeedAll(parser, text, cut, &st);
    ASSERT_TRUE(st.ok()) << st.message();
    ASSERT_EQ(events.size(), 4u) << cut;
    EXPECT_EQ(events[0].status, "Pulling fs layer");
    EXPECT_EQ(events[0].id, "abc");
    EXPECT_EQ(events[1].current, 5);
    EXPECT_EQ(events[1].total, 9);
    EXPECT_EQ(events[1].progress, "[==>  ]");
    EXPECT_EQ(events[2].stream, "Step 1/3\n");
    EXPECT_EQ(events[3].aux["ID"], "sha256:1");
  }
}

TEST(ProgressStreamParserTest, AnErrorLineAfterHttp200Fails) {
  std::string text =
      "{\"status\":\"Pulling\"}\r\n"
      "{\"errorDetail\":{\"code\":3,\"message\":\"tag does not exist\"},\"error\":\"tag does not "
      "exist\"}\r\n{\"status\":\"after\"}\r\n";
  ProgressStreamParser parser;
  base::Status st;
  auto events = FeedAll(parser, text, 7, &st);
  EXPECT_EQ(st.kind(), base::ErrorKind::kFailed);
  EXPECT_NE(st.message().find("tag does not exist"), std::string::npos);
  ASSERT_EQ(events.size(), 1u) << "nothing after the error";
}

TEST(ProgressStreamParserTest, AnErrorWithoutDetailStillFails) {
  ProgressStreamParser parser;
  base::Status st;
  FeedAll(parser, "{\"error\":\"boom\"}\n", 100, &st);
  EXPECT_NE(st.message().find("boom"), std::string::npos);
}

TEST(ProgressStreamParserTest, RejectsNonObjectsAndOverlongLines) {
  for (std::string text :
       {std::string("[1,2]\n"), std::string("{\"status\":\n"), std::string("not json\n")}) {
    ProgressStreamParser parser;
    base::Status st;
    FeedAll(parser, text, 100, &st);
    EXPECT_EQ(st.kind(), base::ErrorKind::kFailed) << text;
  }
  ProgressStreamParser parser;
  base::Status st;
  std::string huge(ProgressStreamParser::kMaxLine + 10, ' ');
  FeedAll(parser, huge, 65536, &st);
  EXPECT_EQ(st.kind(), base::ErrorKind::kFailed);
  EXPECT_NE(st.message().find("longer"), std::string::npos);
}

}  // namespace
}  // namespace kiln::exec
