#include <alx/core/log.h>
#include <alx/core/progress.h>

#include <gtest/gtest.h>

#include <cstdlib>

TEST(Progress, QuietWhenNotATerminalAndCounts) {
  setenv("ALX_PROGRESS", "0", 1);
  testing::internal::CaptureStderr();
  {
    alx::Progress bar(10, "work");
    EXPECT_FALSE(bar.enabled());
    bar.advance(4);
    bar.advance(6);
    EXPECT_EQ(bar.done(), 10);
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(Progress, DrawsABarWhenForced) {
  setenv("ALX_PROGRESS", "1", 1);
  testing::internal::CaptureStderr();
  {
    alx::Progress bar(4, "scoring");
    bar.advance(4);
    bar.finish();
  }
  const std::string out = testing::internal::GetCapturedStderr();
  unsetenv("ALX_PROGRESS");
  EXPECT_NE(out.find("scoring ["), std::string::npos) << out;
  EXPECT_NE(out.find("4/4"), std::string::npos) << out;
}

TEST(Log, FiltersByLevel) {
  alx::log::set_level(alx::log::Level::kWarn);
  testing::internal::CaptureStderr();
  alx::log::info("hidden {}", 1);
  alx::log::warn("shown {}", 2);
  const std::string out = testing::internal::GetCapturedStderr();
  alx::log::set_level(alx::log::Level::kInfo);
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  EXPECT_NE(out.find("shown 2"), std::string::npos) << out;
}
