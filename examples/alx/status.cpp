#include <alx/core/store.h>
#include <alx/training/review.h>

#include <fmt/format.h>

#include "commands.h"

namespace alx::cli {

int status(const StatusArgs& args) {
  const Store store = Store::open(args.store);
  const Pool& pool = store.pool();
  fmt::print("store:    {}\n", args.store);
  fmt::print("pool:     {} items, {} labeled, {} unlabeled\n", pool.size(), pool.num_labeled(),
             pool.num_unlabeled());
  fmt::print("rounds:   {}\n", store.rounds().size());
  fmt::print("{}", training::format_label_stats(training::label_stats(pool)));
  if (auto summary = store.meta("review_summary")) fmt::print("last review:\n{}\n", *summary);
  if (!store.rounds().empty()) {
    const auto& last = store.rounds().back();
    fmt::print("last round {} (model {}): {} selected\n", last.round, last.model_version, last.selected.size());
    for (const auto& [k, v] : last.metrics) fmt::print("  {:<20} {:.4f}\n", k, v);
    fmt::print("{}\n", round_table_header());
    for (const auto& r : store.rounds()) fmt::print("{}\n", round_table_row(r));
  }
  return 0;
}

}  // namespace alx::cli
