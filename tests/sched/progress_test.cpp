#include "sched/progress.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace hetsweep::sched {
namespace {

// Captures what Progress prints, with a clock the test moves.
struct Capture {
  char* buffer = nullptr;
  std::size_t size = 0;
  std::FILE* file = open_memstream(&buffer, &size);
  double now = 100.0;
  ~Capture() {
    std::fclose(file);
    std::free(buffer);
  }
  std::string text() {
    std::fflush(file);
    return {buffer, size};
  }
};

TEST(Progress, PlainModePrintsOnlyAfterTheInterval) {
  Capture c;
  Progress progress(
      c.file, false, 100, 20, [&] { return c.now; }, 10.0);
  c.now += 5;
  progress.update(10);
  EXPECT_EQ(c.text(), "");
  c.now += 5;
  progress.update(20);
  EXPECT_EQ(c.text(), "hetsweep: 40/100 runs done (40.0%), 2.0 runs/s, ETA 30s\n");
}

TEST(Progress, LiveModeRedrawsOneLineInPlace) {
  Capture c;
  Progress progress(c.file, true, 10, 0, [&] { return c.now; });
  c.now += 1;
  progress.update(5);
  progress.finish();
  const auto text = c.text();
  EXPECT_EQ(text.front(), '\r');
  EXPECT_NE(text.find("5/10 runs"), std::string::npos);
  EXPECT_NE(text.find("5.0 runs/s"), std::string::npos);
  EXPECT_EQ(text.back(), '\n');
}

TEST(Progress, FinishReportsEvenWhenNotDue) {
  Capture c;
  Progress progress(
      c.file, false, 4, 0, [&] { return c.now; }, 10.0);
  c.now += 2;
  progress.update(4);
  progress.finish();
  EXPECT_EQ(c.text(), "hetsweep: 4/4 runs done (100.0%), 2.0 runs/s, ETA 0s\n");
}

TEST(Progress, LongEtasReadAsMinutesAndHours) {
  Capture c;
  Progress progress(
      c.file, false, 100000, 0, [&] { return c.now; }, 1.0);
  c.now += 10;
  progress.update(10);
  EXPECT_NE(c.text().find("ETA 27h46m"), std::string::npos);
}

TEST(Progress, DropsItsWritesWhenTheReaderIsGone) {
  int ends[2];
  ASSERT_EQ(pipe(ends), 0);
  close(ends[0]);  // `hetsweep run … | head` once head has exited
  const auto previous = std::signal(SIGPIPE, SIG_IGN);
  std::FILE* file = fdopen(ends[1], "w");
  double now = 0;
  Progress progress(file, true, 10, 0, [&] { return now; });
  now += 1;
  EXPECT_NO_THROW(progress.update(5));
  EXPECT_NO_THROW(progress.finish());
  std::fclose(file);
  std::signal(SIGPIPE, previous);
}

TEST(Progress, PrintsNothingWithoutAnOutput) {
  double now = 0;
  Progress progress(
      nullptr, false, 10, 0, [&] { return now; }, 0.0);
  now += 1;
  EXPECT_NO_THROW(progress.update(5));
  EXPECT_NO_THROW(progress.finish());
}

}  // namespace
}  // namespace hetsweep::sched
