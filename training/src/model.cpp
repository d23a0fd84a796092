// Model registry, state loading, checkpoints, device and thread set-up.
#include "internal.h"

#include <alx/core/config.h>

#include <filesystem>
#include <functional>
#include <map>
#include <thread>
#include <unordered_map>

namespace alx::training {

void Model::load_state(const std::vector<std::pair<std::string, torch::Tensor>>& src) {
  std::unordered_map<std::string, const torch::Tensor*> by_name;
  for (const auto& kv : src) by_name[kv.first] = &kv.second;
  torch::NoGradGuard no_grad;
  for (auto& kv : state()) {
    auto it = by_name.find(kv.first);
    ALX_CHECK(it != by_name.end(), "model '{}': state has no entry '{}'", name(), kv.first);
    ALX_CHECK(it->second->sizes() == kv.second.sizes(), "model '{}': entry '{}' has shape [{}], expected [{}]",
              name(), kv.first, fmt::join(it->second->sizes(), ", "), fmt::join(kv.second.sizes(), ", "));
    kv.second.copy_(*it->second);
  }
}

namespace {
using Factory = std::function<std::unique_ptr<Model>(const ModelOptions&)>;
const std::map<std::string, Factory>& registry() {
  static const std::map<std::string, Factory> r = {
      {"gal_cnn", detail::make_gal_cnn},
      {"resnet18", detail::make_resnet18},
      {"torchscript", detail::make_torchscript},
  };
  return r;
}
}  // namespace

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& kv : registry()) names.push_back(kv.first);
  return names;
}

std::unique_ptr<Model> make_model(const ModelOptions& options) {
  auto it = registry().find(options.name());
  ALX_CHECK(it != registry().end(), "unknown model '{}'; valid: {}", options.name(),
            fmt::join(model_names(), ", "));
  return it->second(options);
}

// ---------------------------------------------------------------- checkpoints

namespace {
constexpr const char* kFormat = "alx-checkpoint-1";

std::string options_yaml(const ModelOptions& o) {
  YAML::Emitter e;
  e << config::write(o);
  return e.c_str();
}

CheckpointInfo read_archive(const std::string& path, torch::serialize::InputArchive& archive,
                            std::vector<std::pair<std::string, torch::Tensor>>& state) {
  ALX_CHECK_IO(std::filesystem::exists(path), "cannot open checkpoint '{}'", path);
  try {
    archive.load_from(path, torch::kCPU);
  } catch (const c10::Error& e) {
    ALX_THROW(IoError, "cannot read checkpoint '{}': {}", path, e.what_without_backtrace());
  }
  c10::IValue v;
  ALX_CHECK_FORMAT(archive.try_read("alx_format", v) && v.isString() && v.toStringRef() == kFormat,
                   "'{}' is not an alx checkpoint (format {})", path, kFormat);
  CheckpointInfo info;
  archive.read("alx_version", v);
  info.version = v.toInt();
  archive.read("alx_model", v);
  info.model_yaml = v.toStringRef();
  archive.read("alx_note", v);
  info.note = v.toStringRef();
  archive.read("alx_names", v);
  const auto names = v.toList();
  for (size_t i = 0; i < names.size(); ++i) {
    torch::Tensor t;
    archive.read("t" + std::to_string(i), t, /*is_buffer=*/true);
    state.emplace_back(names.get(i).toStringRef(), t);
  }
  return info;
}
}  // namespace

void save_checkpoint(Model& model, const std::string& path, const std::string& note) {
  torch::serialize::OutputArchive archive;
  archive.write("alx_format", c10::IValue(std::string(kFormat)));
  archive.write("alx_version", c10::IValue(model.version()));
  archive.write("alx_model", c10::IValue(options_yaml(model.options())));
  archive.write("alx_note", c10::IValue(note));
  c10::List<std::string> names;
  int64_t i = 0;
  for (const auto& kv : model.state()) {
    names.push_back(kv.first);
    archive.write("t" + std::to_string(i++), kv.second.detach().to(torch::kCPU), /*is_buffer=*/true);
  }
  archive.write("alx_names", c10::IValue(names));
  const std::string tmp = path + ".tmp";
  try {
    archive.save_to(tmp);
  } catch (const c10::Error& e) {
    ALX_THROW(IoError, "cannot write checkpoint '{}': {}", tmp, e.what_without_backtrace());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  ALX_CHECK_IO(!ec, "cannot rename '{}' to '{}': {}", tmp, path, ec.message());
}

std::unique_ptr<Model> load_checkpoint(const std::string& path, CheckpointInfo* info_out) {
  torch::serialize::InputArchive archive;
  std::vector<std::pair<std::string, torch::Tensor>> state;
  CheckpointInfo info = read_archive(path, archive, state);
  auto options = config::read<ModelOptions>(YAML::Load(info.model_yaml), {path, "model"});
  auto model = make_model(options);
  model->load_state(state);
  model->set_version(info.version);
  if (info_out) *info_out = info;
  return model;
}

CheckpointInfo load_checkpoint_into(Model& model, const std::string& path) {
  torch::serialize::InputArchive archive;
  std::vector<std::pair<std::string, torch::Tensor>> state;
  CheckpointInfo info = read_archive(path, archive, state);
  model.load_state(state);
  model.set_version(info.version);
  return info;
}

// ---------------------------------------------------------------- device, threads

torch::Device parse_device(const std::string& text) {
  c10::optional<torch::Device> device;
  try {
    device = torch::Device(text);
  } catch (const c10::Error&) {
    ALX_THROW(InvalidArgument, "device '{}': expected cpu, cuda or cuda:N", text);
  }
  ALX_CHECK(!device->is_cuda() || torch::cuda::is_available(),
            "device '{}': this LibTorch has no CUDA or no GPU is visible; use cpu", text);
  return *device;
}

void set_threads(int n) {
  ALX_CHECK(n >= 0, "threads must be >= 0 (0: all cores), got {}", n);
  const int want = n > 0 ? n : std::max(1u, std::thread::hardware_concurrency());
  if (at::get_num_threads() != want) at::set_num_threads(want);
}

}  // namespace alx::training
