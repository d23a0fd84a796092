#include <alx/core/log.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace alx::log {
namespace {

Level level_from_env() {
  const char* env = std::getenv("ALX_LOG_LEVEL");
  if (!env) return Level::kInfo;
  const char* names[] = {"trace", "debug", "info", "warn", "error", "off"};
  for (int i = 0; i < 6; ++i)
    if (std::strcmp(env, names[i]) == 0) return static_cast<Level>(i);
  return Level::kInfo;
}

std::atomic<Level>& current() {
  static std::atomic<Level> lvl{level_from_env()};
  return lvl;
}

spdlog::logger& logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto l = spdlog::stderr_color_mt("alx");
    l->set_pattern("[%H:%M:%S] [alx] [%^%l%$] %v");
    l->set_level(spdlog::level::trace);  // filtering happens in alx::log
    return l;
  }();
  return *instance;
}

}  // namespace

void set_level(Level lvl) { current() = lvl; }
Level level() { return current(); }

void write(Level lvl, const std::string& message) {
  if (lvl < level() || lvl == Level::kOff) return;
  logger().log(static_cast<spdlog::level::level_enum>(static_cast<int>(lvl)), message);
}

}  // namespace alx::log
