#include <alx/core/config.h>

#include <filesystem>
#include <fstream>

namespace alx::config {

std::string Context::where(const YAML::Node& node) const {
  std::string out = file.empty() ? std::string("<config>") : file;
  const auto mark = node.Mark();
  if (mark.line >= 0 && !mark.is_null()) out += fmt::format(":{}", mark.line + 1);
  if (!prefix.empty()) out += ": " + prefix;
  return out;
}

YAML::Node load_string(const std::string& text, const std::string& name) {
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(fmt::format("{}:{}:{}: not valid YAML: {}", name, e.mark.line + 1,
                                  e.mark.column + 1, e.msg));
  }
}

YAML::Node load_file(const std::string& path) {
  std::ifstream in(path);
  ALX_CHECK_IO(in.good(), "cannot open config file '{}': {}", path,
               std::filesystem::exists(path) ? "not readable" : "no such file");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return load_string(text, path);
}

}  // namespace alx::config
