// A user's program: builds a pool, labels two items, stores it and reads it back.
#include <alx/core/pool.h>
#include <alx/core/store.h>

#include <cstdio>
#include <filesystem>

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "consumer.h5";
  std::filesystem::remove(path);
  alx::Pool pool(alx::Schema({"cat", "dog"}), {"a.png", "b.png", "c.png"});
  pool.add_labels({0, 2}, {1, 0}, 1);
  { alx::Store::create(path, pool); }
  alx::Store back = alx::Store::open(path);
  if (!(back.pool() == pool)) return 1;
  std::printf("consumer ok: %lld items, %lld labeled\n", static_cast<long long>(back.pool().size()),
              static_cast<long long>(back.pool().num_labeled()));
  return 0;
}
