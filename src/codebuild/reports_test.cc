#include "codebuild/reports.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/test_tree.h"

namespace kiln::codebuild {
namespace {

using base::TestTree;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr std::string_view kSurefire = R"(<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.example.CalcTest" tests="5" failures="1" errors="1" skipped="1">
  <properties><property name="java.version" value="17"/></properties>
  <testcase classname="com.example.CalcTest" name="adds" time="0.01"/>
  <testcase classname="com.example.CalcTest" name="subtracts" time="0.01">
    <failure message="expected 1 but was 2" type="AssertionError">trace</failure>
  </testcase>
  <testcase classname="com.example.CalcTest" name="divides">
    <error message="boom" type="ArithmeticException"/>
  </testcase>
  <testcase classname="com.example.CalcTest" name="later"><skipped/></testcase>
  <testcase classname="com.example.CalcTest" name="multiplies"/>
  <system-out>noise</system-out>
</testsuite>
)";

constexpr std::string_view kNested = R"(<testsuites name="all">
  <testsuite name="outer">
    <testcase name="o1"/>
    <testsuite name="inner">
      <testcase name="i1"><failure/></testcase>
      <testsuite name="innermost"><testcase name="x1"><failure/></testcase></testsuite>
    </testsuite>
    <testcase name="o2"><error/><failure/></testcase>
  </testsuite>
  <testsuite name="second"><testcase name="s1"/></testsuite>
</testsuites>
)";

spec::ReportGroup Group(std::vector<std::string> files) {
  return spec::ReportGroup{.name = "unit", .files = std::move(files)};
}

TEST(Reports, BareTestsuiteRoot) {
  TestTree src;
  src.Write("target/surefire-reports/TEST-Calc.xml", kSurefire);
  ReportSummary s = SummariseReport(Group({"target/surefire-reports/*.xml"}), src.path());
  EXPECT_EQ(s.group, "unit");
  EXPECT_EQ(s.file_format, "JUNITXML");
  EXPECT_EQ(s.files, 1u);
  EXPECT_EQ(s.total, 5u);
  EXPECT_EQ(s.passed, 2u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.errors, 1u);
  EXPECT_EQ(s.skipped, 1u);
  EXPECT_THAT(s.failed_cases,
              ElementsAre("com.example.CalcTest.subtracts", "com.example.CalcTest.divides"));
  EXPECT_THAT(s.problems, IsEmpty());
}

TEST(Reports, TestsuitesRootWithNestedSuitesUsesSuiteNames) {
  TestTree src;
  src.Write("reports/junit.xml", kNested);
  ReportSummary s = SummariseReport(Group({"reports/junit.xml"}), src.path());
  EXPECT_EQ(s.total, 5u);
  EXPECT_EQ(s.passed, 2u);
  EXPECT_EQ(s.failed, 3u);  // o2 has both <error> and <failure>: counted once, as failed
  EXPECT_EQ(s.errors, 0u);
  EXPECT_THAT(s.failed_cases, ElementsAre("outer.o2", "inner.i1", "innermost.x1"));
  EXPECT_THAT(s.problems, IsEmpty());
}

TEST(Reports, SumsSeveralFilesWithBaseDirectory) {
  TestTree src;
  src.Write("build/test-results/a.xml", kSurefire);
  src.Write("build/test-results/b.xml", kNested);
  src.Write("build/test-results/readme.txt", "not xml");
  spec::ReportGroup group = Group({"**/*.xml"});
  group.base_directory = "build/test-results";
  ReportSummary s = SummariseReport(group, src.path());
  EXPECT_EQ(s.files, 2u);
  EXPECT_EQ(s.total, 10u);
  EXPECT_EQ(s.failed, 4u);
  EXPECT_EQ(s.errors, 1u);
}

TEST(Reports, MalformedXmlIsReportedWithFileAndOffset) {
  TestTree src;
  src.Write("r/good.xml", kSurefire);
  src.Write("r/bad.xml", "<testsuite><testcase name=\"a\"></testsuite>");
  ReportSummary s = SummariseReport(Group({"r/*.xml"}), src.path());
  EXPECT_EQ(s.files, 2u);
  EXPECT_EQ(s.total, 5u);  // the good file still counts
  ASSERT_EQ(s.problems.size(), 1u);
  EXPECT_THAT(s.problems[0], HasSubstr("r/bad.xml"));
  EXPECT_THAT(s.problems[0], HasSubstr("invalid XML"));
  EXPECT_THAT(s.problems[0], HasSubstr("at offset"));
}

TEST(Reports, WrongRootAndEmptyFileAreProblems) {
  TestTree src;
  src.Write("r/a.xml", "<html><body/></html>");
  src.Write("r/b.xml", "");
  ReportSummary s = SummariseReport(Group({"r/*"}), src.path());
  EXPECT_EQ(s.total, 0u);
  ASSERT_EQ(s.problems.size(), 2u);
  EXPECT_THAT(s.problems[0], HasSubstr("<html>"));
  EXPECT_THAT(s.problems[1], HasSubstr("r/b.xml"));
}

TEST(Reports, EntitiesAreNotExpanded) {
  TestTree src;
  src.Write("r/xxe.xml", R"(<?xml version="1.0"?>
<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<testsuite name="&x;"><testcase name="a"><failure/></testcase></testsuite>)");
  ReportSummary s = SummariseReport(Group({"r/xxe.xml"}), src.path());
  EXPECT_EQ(s.total, 1u);
  ASSERT_EQ(s.failed_cases.size(), 1u);
  EXPECT_THAT(s.failed_cases[0], ::testing::Not(HasSubstr("root:")));
}

TEST(Reports, FailedCasesAreCappedAtFifty) {
  TestTree src;
  std::string xml = "<testsuite name=\"s\">";
  for (int i = 0; i < 80; ++i)
    xml += "<testcase name=\"t" + std::to_string(i) + "\"><failure/></testcase>";
  xml += "</testsuite>";
  src.Write("r.xml", xml);
  ReportSummary s = SummariseReport(Group({"r.xml"}), src.path());
  EXPECT_EQ(s.failed, 80u);
  EXPECT_EQ(s.failed_cases.size(), 50u);
  EXPECT_EQ(s.failed_cases.front(), "s.t0");
}

TEST(Reports, DeepNestingDoesNotOverflowTheStack) {
  TestTree src;
  std::string xml;
  for (int i = 0; i < 100000; ++i) xml += "<testsuite>";
  xml += "<testcase name=\"deep\"/>";
  for (int i = 0; i < 100000; ++i) xml += "</testsuite>";
  src.Write("deep.xml", xml);
  ReportSummary s = SummariseReport(Group({"deep.xml"}), src.path());
  EXPECT_EQ(s.total, 1u);
  EXPECT_EQ(s.passed, 1u);
}

TEST(Reports, UnsupportedFormatIsAProblem) {
  TestTree src;
  src.Write("cucumber.json", "[]");
  spec::ReportGroup group = Group({"cucumber.json"});
  group.file_format = "CUCUMBERJSON";
  ReportSummary s = SummariseReport(group, src.path());
  EXPECT_EQ(s.files, 1u);
  EXPECT_THAT(s.problems, ElementsAre("file-format CUCUMBERJSON is not supported yet"));
}

TEST(Reports, NoFilesAndEscapingSymlinksAreProblemsNotCrashes) {
  TestTree src;
  ReportSummary none = SummariseReport(Group({"reports/*.xml"}), src.path());
  EXPECT_EQ(none.files, 0u);
  EXPECT_THAT(none.problems, ElementsAre("no report files matched"));
  src.Symlink("reports/passwd.xml", "/etc/passwd");
  ReportSummary escaped = SummariseReport(Group({"reports/*.xml"}), src.path());
  EXPECT_EQ(escaped.total, 0u);
  ASSERT_EQ(escaped.problems.size(), 1u);
  EXPECT_THAT(escaped.problems[0], HasSubstr("reports/passwd.xml"));
}

}  // namespace
}  // namespace kiln::codebuild
