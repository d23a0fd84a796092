// bench_augment — throughput of the augmentation pipeline on decoded JPEGs.
//
// The images are synthetic color photos (smooth gradients, overlapping shapes, texture
// noise) of 500×375 pixels, written once as JPEG (quality 90, ~60–100 kB each) and
// decoded for every measurement through alx::FileImageSource, as training does.
//
// Read the results as ratios within one run (the machine is shared and noisy):
//   DecodeResize/threads:1   — baseline: decode + resize to 224×224
//   DecodeTrain/threads:1    — decode + random_resized_crop 224 + hflip + color_jitter + normalize
//   TrainOnly/threads:1      — the same pipeline on images decoded beforehand
//   Loader/<pipeline>/<workers> — BatchLoader batches of 32 (decode, pipeline, to [B,3,224,224])
//
//   build-release/benchmarks/bench_augment --benchmark_min_time=2
#include <alx/augment/loader.h>
#include <alx/augment/pipeline.h>
#include <alx/augment/tensor.h>
#include <alx/core/image_source.h>

#include <benchmark/benchmark.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <memory>
#include <thread>

namespace aug = alx::augment;
namespace fs = std::filesystem;

namespace {

constexpr int kImages = 64;

cv::Mat synthetic_photo(uint64_t seed) {
  cv::RNG rng(seed);
  const int w = 500, h = 375;
  cv::Mat img(h, w, CV_8UC3);
  const cv::Vec3f a(rng.uniform(0.f, 255.f), rng.uniform(0.f, 255.f), rng.uniform(0.f, 255.f));
  const cv::Vec3f b(rng.uniform(0.f, 255.f), rng.uniform(0.f, 255.f), rng.uniform(0.f, 255.f));
  for (int r = 0; r < h; ++r)
    for (int c = 0; c < w; ++c) {
      const float t = 0.5f * (static_cast<float>(r) / h + static_cast<float>(c) / w);
      const cv::Vec3f v = a * (1 - t) + b * t;
      img.at<cv::Vec3b>(r, c) = cv::Vec3b(cv::saturate_cast<uchar>(v[0]), cv::saturate_cast<uchar>(v[1]),
                                          cv::saturate_cast<uchar>(v[2]));
    }
  for (int k = 0; k < 12; ++k) {
    const cv::Scalar color(rng.uniform(0, 256), rng.uniform(0, 256), rng.uniform(0, 256));
    const cv::Point center(rng.uniform(0, w), rng.uniform(0, h));
    if (k % 2)
      cv::ellipse(img, center, {rng.uniform(10, 120), rng.uniform(10, 90)}, rng.uniform(0, 180), 0, 360,
                  color, cv::FILLED, cv::LINE_AA);
    else
      cv::rectangle(img, cv::Rect(center, cv::Size(rng.uniform(10, 150), rng.uniform(10, 100))), color,
                    cv::FILLED);
  }
  cv::GaussianBlur(img, img, {5, 5}, 1.2);
  cv::Mat noise(img.size(), CV_16SC3);
  rng.fill(noise, cv::RNG::NORMAL, cv::Scalar::all(0), cv::Scalar::all(12));
  cv::Mat out;
  cv::add(img, noise, out, cv::noArray(), CV_8UC3);
  return out;
}

// Writes the JPEGs once per process; returns the source that decodes them.
std::shared_ptr<const alx::ImageSource> jpeg_source() {
  static std::shared_ptr<const alx::ImageSource> source = [] {
    const fs::path dir = fs::temp_directory_path() / "alx_bench_augment";
    fs::create_directories(dir);
    std::vector<std::string> names;
    for (int i = 0; i < kImages; ++i) {
      const std::string name = "photo_" + std::to_string(i) + ".jpg";
      if (!fs::exists(dir / name))
        cv::imwrite((dir / name).string(), synthetic_photo(static_cast<uint64_t>(i) + 1),
                    {cv::IMWRITE_JPEG_QUALITY, 90});
      names.push_back(name);
    }
    alx::FileImageOptions opts;
    opts.color = alx::ColorMode::kColor;
    return std::make_shared<alx::FileImageSource>(dir, names, opts);
  }();
  return source;
}

const char* kTrain = R"(
- {name: random_resized_crop, height: 224, width: 224}
- {name: hflip, p: 0.5}
- {name: color_jitter, brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1}
- {name: normalize, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}
)";
const char* kResize = "[{name: resize, height: 224, width: 224}]";

std::shared_ptr<const aug::Pipeline> pipeline(const char* yaml) {
  return std::make_shared<const aug::Pipeline>(aug::Pipeline::from_yaml(YAML::Load(yaml)));
}

void BM_DecodeResize(benchmark::State& state) {
  const auto src = jpeg_source();
  int64_t i = 0;
  for (auto _ : state) {
    cv::Mat img = src->load(i++ % kImages), out;
    cv::resize(img, out, {224, 224}, 0, 0, cv::INTER_LINEAR);
    benchmark::DoNotOptimize(out.data);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeResize)->Name("DecodeResize/threads:1")->Unit(benchmark::kMicrosecond);

void BM_DecodeTrain(benchmark::State& state) {
  const auto src = jpeg_source();
  const auto p = pipeline(kTrain);
  int64_t i = 0;
  for (auto _ : state) {
    auto rng = aug::sample_rng(1, 0, i);
    cv::Mat out = p->apply(src->load(i++ % kImages), rng);
    benchmark::DoNotOptimize(out.data);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeTrain)->Name("DecodeTrain/threads:1")->Unit(benchmark::kMicrosecond);

void BM_TrainOnly(benchmark::State& state) {
  const auto src = jpeg_source();
  std::vector<cv::Mat> decoded;
  for (int i = 0; i < kImages; ++i) decoded.push_back(src->load(i));
  const auto p = pipeline(kTrain);
  int64_t i = 0;
  for (auto _ : state) {
    auto rng = aug::sample_rng(1, 0, i);
    cv::Mat out = p->apply(decoded[static_cast<std::size_t>(i++ % kImages)], rng);
    benchmark::DoNotOptimize(out.data);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TrainOnly)->Name("TrainOnly/threads:1")->Unit(benchmark::kMicrosecond);

// One epoch over the 64 JPEGs through the BatchLoader, to float tensors [32, 3, 224, 224].
void BM_Loader(benchmark::State& state, const char* yaml) {
  const auto src = jpeg_source();
  std::vector<int64_t> ids;
  for (int i = 0; i < kImages; ++i) ids.push_back(i);
  const int workers = static_cast<int>(state.range(0));
  aug::BatchLoader loader(src, ids, {}, pipeline(yaml),
                          aug::LoaderOptions().batch_size(32).workers(workers).shuffle(true).seed(1));
  int64_t epoch = 0;
  for (auto _ : state) {
    loader.start_epoch(epoch++);
    while (auto b = loader.next()) benchmark::DoNotOptimize(b->images.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * kImages);
  state.counters["workers"] = workers;
}

int all_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

BENCHMARK_CAPTURE(BM_Loader, resize, kResize)
    ->Name("Loader/decode+resize")
    ->Arg(1)
    ->Arg(all_threads())
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Loader, train, kTrain)
    ->Name("Loader/decode+train")
    ->Arg(1)
    ->Arg(all_threads())
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
