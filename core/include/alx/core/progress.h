// alx/core/progress.h — a progress bar on a terminal, silence otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace alx {

/// Draws "label [#####-----] 512/1000 3.2k/s" on stderr when stderr is a terminal
/// (and ALX_PROGRESS is not 0); does nothing otherwise. Thread-safe; redraws at
/// most 10 times a second.
///
///   Progress bar(pool.size(), "scoring");
///   for (...) bar.advance(batch);
class Progress {
 public:
  Progress(int64_t total, std::string label);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(int64_t n = 1);
  void finish();
  int64_t done() const;
  bool enabled() const noexcept { return enabled_; }

  /// Whether bars are drawn in this process (stderr is a tty and ALX_PROGRESS != 0).
  static bool terminal();

 private:
  void draw(bool final);

  int64_t total_;
  int64_t done_ = 0;
  std::string label_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  mutable std::mutex mutex_;
};

}  // namespace alx
