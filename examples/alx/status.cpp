#include <alx/core/store.h>

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
  const auto counts = pool.counts_per_class();
  fmt::print("labeled per class:\n");
  for (int c = 0; c < pool.schema().size(); ++c) {
    const double share = pool.num_labeled() ? 100.0 * counts[static_cast<std::size_t>(c)] / pool.num_labeled() : 0.0;
    fmt::print("  {:<20} {:>7} {:>6.1f}%\n", pool.schema().name(c), counts[static_cast<std::size_t>(c)], share);
  }
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
