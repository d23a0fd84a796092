// YAML configuration text into alx's options structs (the readers' options, as a run config
// carries them), and each struct written back and read again.
#include <alx/core/config.h>
#include <alx/core/io/coco.h>
#include <alx/core/io/cvat.h>
#include <alx/core/io/label_studio.h>

#include "fuzz_util.h"

namespace {

template <class Options>
void read_section(const YAML::Node& root, const char* key, const std::string& name) {
  alx::fuzz::expect_refusal_or_success(name, [&] {
    const YAML::Node node = root.IsMap() ? root[key] : root;
    auto options = alx::config::read<Options>(node, {name, key});
    // What was read must survive a round trip through YAML.
    auto again = alx::config::read<Options>(alx::config::write(options), {name, key});
    (void)again;
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string name = "fuzz-run.yaml";
  const std::string text(reinterpret_cast<const char*>(data), size);
  YAML::Node root;
  bool parsed = false;
  alx::fuzz::expect_refusal_or_success(name, [&] {
    root = alx::config::load_string(text, name);
    parsed = true;
  });
  if (!parsed) return 0;
  read_section<alx::io::LabelStudioOptions>(root, "label_studio", name);
  read_section<alx::io::CvatOptions>(root, "cvat", name);
  read_section<alx::io::CocoOptions>(root, "coco", name);
  return 0;
}
