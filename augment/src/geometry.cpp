// Geometric transforms: they move the pixels, and the boxes and polygons with them.
#include "detail.h"

#include <alx/augment/random.h>
#include <alx/augment/transforms.h>
#include <alx/core/config.h>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace alx::augment {

namespace detail {

int interpolation_flag(const std::string& name, const char* transform) {
  if (name == "nearest") return cv::INTER_NEAREST;
  if (name == "linear" || name == "bilinear") return cv::INTER_LINEAR;
  if (name == "cubic" || name == "bicubic") return cv::INTER_CUBIC;
  if (name == "area") return cv::INTER_AREA;
  if (name == "lanczos") return cv::INTER_LANCZOS4;
  ALX_THROW(InvalidArgument, "{}: unknown interpolation '{}'; valid: {}", transform, name,
            fmt::join(interpolation_names(), ", "));
}

void check_image(const cv::Mat& image, const char* transform) {
  ALX_CHECK(!image.empty(), "{}: the image is empty", transform);
  const int c = image.channels();
  ALX_CHECK(c == 1 || c == 3 || c == 4, "{}: images must have 1, 3 or 4 channels, got {}",
            transform, c);
  ALX_CHECK(image.depth() == CV_8U || image.depth() == CV_32F,
            "{}: images must be 8-bit (CV_8U) or float (CV_32F), got depth {}", transform,
            image.depth());
}

void check_range2(const std::vector<double>& v, const char* transform, const char* key) {
  ALX_CHECK(v.size() == 2, "{}: {} must be [min, max], got {} value(s)", transform, key, v.size());
  ALX_CHECK(v[0] <= v[1], "{}: {} must be [min, max] with min <= max, got [{}, {}]", transform,
            key, v[0], v[1]);
}

cv::Matx23d index_to_continuous(const cv::Matx23d& m) {
  // p_c' = M (p_c - 0.5) + 0.5
  cv::Matx23d r = m;
  r(0, 2) = m(0, 2) - 0.5 * (m(0, 0) + m(0, 1)) + 0.5;
  r(1, 2) = m(1, 2) - 0.5 * (m(1, 0) + m(1, 1)) + 0.5;
  return r;
}

cv::Matx23d continuous_to_index(const cv::Matx23d& m) {
  // p_i' = M (p_i + 0.5) - 0.5
  cv::Matx23d r = m;
  r(0, 2) = m(0, 2) + 0.5 * (m(0, 0) + m(0, 1)) - 0.5;
  r(1, 2) = m(1, 2) + 0.5 * (m(1, 0) + m(1, 1)) - 0.5;
  return r;
}

double polygon_area(const alx::Polygon& poly) {
  double a = 0;
  for (std::size_t i = 0, n = poly.size(); i < n; ++i) {
    const auto& p = poly[i];
    const auto& q = poly[(i + 1) % n];
    a += static_cast<double>(p.x) * q.y - static_cast<double>(q.x) * p.y;
  }
  return std::abs(a) / 2;
}

alx::Polygon clip_polygon(const alx::Polygon& poly, double w, double h) {
  // Clip against the four half-planes x >= 0, x <= w, y >= 0, y <= h in turn.
  struct Edge {
    int axis;      // 0: x, 1: y
    double bound;  // the line
    bool keep_ge;  // inside is coord >= bound
  };
  const Edge edges[4] = {{0, 0.0, true}, {0, w, false}, {1, 0.0, true}, {1, h, false}};
  std::vector<std::pair<double, double>> pts;
  pts.reserve(poly.size() + 4);
  for (const auto& p : poly) pts.emplace_back(p.x, p.y);
  for (const Edge& e : edges) {
    if (pts.empty()) break;
    std::vector<std::pair<double, double>> out;
    out.reserve(pts.size() + 2);
    auto coord = [&](const std::pair<double, double>& p) { return e.axis == 0 ? p.first : p.second; };
    auto inside = [&](const std::pair<double, double>& p) {
      return e.keep_ge ? coord(p) >= e.bound : coord(p) <= e.bound;
    };
    for (std::size_t i = 0, n = pts.size(); i < n; ++i) {
      const auto& cur = pts[i];
      const auto& prev = pts[(i + n - 1) % n];
      const bool ci = inside(cur), pi = inside(prev);
      if (ci != pi) {
        const double t = (e.bound - coord(prev)) / (coord(cur) - coord(prev));
        std::pair<double, double> x{prev.first + t * (cur.first - prev.first),
                                    prev.second + t * (cur.second - prev.second)};
        if (e.axis == 0) x.first = e.bound; else x.second = e.bound;
        out.push_back(x);
      }
      if (ci) out.push_back(cur);
    }
    pts = std::move(out);
  }
  alx::Polygon result;
  result.reserve(pts.size());
  for (const auto& p : pts) result.push_back({static_cast<float>(p.first), static_cast<float>(p.second)});
  return result;
}

void warp_objects(std::vector<alx::Object>& objects, const cv::Matx23d& m, cv::Size out) {
  if (objects.empty()) return;
  const double w = out.width, h = out.height;
  auto map = [&](double x, double y) {
    return std::pair<double, double>{m(0, 0) * x + m(0, 1) * y + m(0, 2),
                                     m(1, 0) * x + m(1, 1) * y + m(1, 2)};
  };
  std::vector<alx::Object> kept;
  kept.reserve(objects.size());
  for (auto& obj : objects) {
    if (!obj.polygons.empty()) {
      std::vector<alx::Polygon> polys;
      double x1 = std::numeric_limits<double>::infinity(), y1 = x1, x2 = -x1, y2 = -x1;
      for (const auto& poly : obj.polygons) {
        alx::Polygon moved;
        moved.reserve(poly.size());
        for (const auto& p : poly) {
          const auto q = map(p.x, p.y);
          moved.push_back({static_cast<float>(q.first), static_cast<float>(q.second)});
        }
        alx::Polygon clipped = clip_polygon(moved, w, h);
        if (clipped.size() < 3 || polygon_area(clipped) <= 0) continue;
        for (const auto& p : clipped) {
          x1 = std::min<double>(x1, p.x), y1 = std::min<double>(y1, p.y);
          x2 = std::max<double>(x2, p.x), y2 = std::max<double>(y2, p.y);
        }
        polys.push_back(std::move(clipped));
      }
      if (polys.empty() || x2 <= x1 || y2 <= y1) continue;
      obj.polygons = std::move(polys);
      obj.box = {static_cast<float>(x1), static_cast<float>(y1), static_cast<float>(x2),
                 static_cast<float>(y2)};
      kept.push_back(std::move(obj));
      continue;
    }
    const auto& b = obj.box;
    const std::pair<double, double> c[4] = {map(b.x1, b.y1), map(b.x2, b.y1), map(b.x2, b.y2),
                                            map(b.x1, b.y2)};
    double x1 = c[0].first, x2 = x1, y1 = c[0].second, y2 = y1;
    for (const auto& p : c) {
      x1 = std::min(x1, p.first), x2 = std::max(x2, p.first);
      y1 = std::min(y1, p.second), y2 = std::max(y2, p.second);
    }
    x1 = std::clamp(x1, 0.0, w), x2 = std::clamp(x2, 0.0, w);
    y1 = std::clamp(y1, 0.0, h), y2 = std::clamp(y2, 0.0, h);
    if (x2 <= x1 || y2 <= y1) continue;
    obj.box = {static_cast<float>(x1), static_cast<float>(y1), static_cast<float>(x2),
               static_cast<float>(y2)};
    kept.push_back(std::move(obj));
  }
  objects = std::move(kept);
}

void pad_sample(Sample& s, int left, int top, int right, int bottom, double fill) {
  if (left == 0 && top == 0 && right == 0 && bottom == 0) return;
  cv::Mat out;
  cv::copyMakeBorder(s.image, out, top, bottom, left, right, cv::BORDER_CONSTANT, fill_scalar(fill));
  warp_objects(s.objects, cv::Matx23d(1, 0, left, 0, 1, top), out.size());
  s.image = out;
}

void crop_sample(Sample& s, const cv::Rect& rect) {
  ALX_DCHECK((rect & cv::Rect(0, 0, s.image.cols, s.image.rows)) == rect);
  s.image = s.image(rect);  // a view: transforms never write into their input
  warp_objects(s.objects, cv::Matx23d(1, 0, -rect.x, 0, 1, -rect.y), rect.size());
}

}  // namespace detail

const std::vector<std::string>& interpolation_names() {
  static const std::vector<std::string> names{"nearest", "linear", "cubic", "area", "lanczos"};
  return names;
}

namespace {

// Resizes image and objects to `size` (continuous scaling; cv::resize aligns pixel centers).
void resize_sample(Sample& s, cv::Size size, int interp) {
  if (size == s.image.size()) return;
  const double sx = static_cast<double>(size.width) / s.image.cols;
  const double sy = static_cast<double>(size.height) / s.image.rows;
  cv::Mat out;
  cv::resize(s.image, out, size, 0, 0, interp);
  detail::warp_objects(s.objects, cv::Matx23d(sx, 0, 0, 0, sy, 0), size);
  s.image = out;
}

// Warps image and objects with a matrix in continuous coordinates.
void warp_sample(Sample& s, const cv::Matx23d& m_cont, cv::Size out_size, int interp, double fill) {
  cv::Mat out;
  cv::warpAffine(s.image, out, cv::Mat(detail::continuous_to_index(m_cont)), out_size, interp,
                 cv::BORDER_CONSTANT, detail::fill_scalar(fill));
  detail::warp_objects(s.objects, m_cont, out_size);
  s.image = out;
}

// Python's round(): halves to even, as torchvision's arithmetic does.
int round_half_even(double x) { return static_cast<int>(std::nearbyint(x)); }

}  // namespace

// ---------------------------------------------------------------- Resize

Resize::Resize(ResizeOptions o) : o_(std::move(o)) {
  detail::interpolation_flag(o_.interpolation(), "resize");
  const bool exact = o_.height() > 0 || o_.width() > 0;
  ALX_CHECK(exact != (o_.size() > 0),
            "resize: give either height and width (exact) or size (shorter side), not {}",
            exact ? "both" : "neither");
  if (exact)
    ALX_CHECK(o_.height() > 0 && o_.width() > 0,
              "resize: height and width must both be positive, got {}×{}", o_.height(), o_.width());
  ALX_CHECK(o_.max_size() == 0 || (o_.size() > 0 && o_.max_size() > o_.size()),
            "resize: max_size ({}) needs size and must exceed it ({})", o_.max_size(), o_.size());
}

void Resize::apply(Sample& s, std::mt19937_64&) const {
  detail::check_image(s.image, "resize");
  const int h = s.image.rows, w = s.image.cols;
  cv::Size size;
  if (o_.size() == 0) {
    size = {o_.width(), o_.height()};
  } else {
    // torchvision: shorter side → size, the longer one truncated; then capped by max_size.
    const bool wide = w >= h;
    const int shorter = wide ? h : w, longer = wide ? w : h;
    int new_short = o_.size();
    int new_long = static_cast<int>(static_cast<double>(o_.size()) * longer / shorter);
    if (o_.max_size() > 0 && new_long > o_.max_size()) {
      new_short = static_cast<int>(static_cast<double>(o_.max_size()) * new_short / new_long);
      new_long = o_.max_size();
    }
    new_short = std::max(new_short, 1);
    size = wide ? cv::Size(new_long, new_short) : cv::Size(new_short, new_long);
  }
  resize_sample(s, size, detail::interpolation_flag(o_.interpolation(), "resize"));
}

YAML::Node Resize::params() const { return alx::config::write(o_); }

// ---------------------------------------------------------------- CenterCrop

CenterCrop::CenterCrop(CropOptions o) : o_(std::move(o)) {
  ALX_CHECK(o_.height() > 0 && o_.width() > 0, "center_crop: height and width must be positive");
}

void CenterCrop::apply(Sample& s, std::mt19937_64&) const {
  detail::check_image(s.image, "center_crop");
  const int th = o_.height(), tw = o_.width();
  if (s.image.rows < th || s.image.cols < tw) {  // torchvision pads first, split as below
    const int dw = std::max(tw - s.image.cols, 0), dh = std::max(th - s.image.rows, 0);
    detail::pad_sample(s, dw / 2, dh / 2, (dw + 1) / 2, (dh + 1) / 2, o_.fill());
  }
  const int top = round_half_even((s.image.rows - th) / 2.0);
  const int left = round_half_even((s.image.cols - tw) / 2.0);
  detail::crop_sample(s, cv::Rect(left, top, tw, th));
}

YAML::Node CenterCrop::params() const { return alx::config::write(o_); }

// ---------------------------------------------------------------- RandomCrop

RandomCrop::RandomCrop(RandomCropOptions o) : o_(std::move(o)) {
  ALX_CHECK(o_.height() > 0 && o_.width() > 0, "random_crop: height and width must be positive");
}

void RandomCrop::apply(Sample& s, std::mt19937_64& rng) const {
  detail::check_image(s.image, "random_crop");
  const int th = o_.height(), tw = o_.width();
  if (s.image.rows < th || s.image.cols < tw) {
    ALX_CHECK(o_.pad_if_needed(),
              "random_crop: the image ({}×{}) is smaller than the crop ({}×{}); set "
              "pad_if_needed: true or resize first",
              s.image.cols, s.image.rows, tw, th);
    const int dw = std::max(tw - s.image.cols, 0), dh = std::max(th - s.image.rows, 0);
    detail::pad_sample(s, dw / 2, dh / 2, (dw + 1) / 2, (dh + 1) / 2, o_.fill());
  }
  const int top = static_cast<int>(uniform_int(rng, 0, s.image.rows - th));
  const int left = static_cast<int>(uniform_int(rng, 0, s.image.cols - tw));
  detail::crop_sample(s, cv::Rect(left, top, tw, th));
}

YAML::Node RandomCrop::params() const { return alx::config::write(o_); }

// ---------------------------------------------------------------- RandomResizedCrop

RandomResizedCrop::RandomResizedCrop(RandomResizedCropOptions o) : o_(std::move(o)) {
  detail::check_range2(o_.scale(), "random_resized_crop", "scale");
  detail::check_range2(o_.ratio(), "random_resized_crop", "ratio");
  detail::interpolation_flag(o_.interpolation(), "random_resized_crop");
  ALX_CHECK(o_.height() > 0 && o_.width() > 0,
            "random_resized_crop: height and width must be positive");
}

cv::Rect RandomResizedCrop::window(cv::Size image, std::mt19937_64& rng) const {
  const int height = image.height, width = image.width;
  const double area = static_cast<double>(height) * width;
  const double log_r0 = std::log(o_.ratio()[0]), log_r1 = std::log(o_.ratio()[1]);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * uniform(rng, o_.scale()[0], o_.scale()[1]);
    const double aspect = std::exp(uniform(rng, log_r0, log_r1));
    const int w = round_half_even(std::sqrt(target_area * aspect));
    const int h = round_half_even(std::sqrt(target_area / aspect));
    if (0 < w && w <= width && 0 < h && h <= height) {
      const int i = static_cast<int>(uniform_int(rng, 0, height - h));
      const int j = static_cast<int>(uniform_int(rng, 0, width - w));
      return {j, i, w, h};
    }
  }
  // Fallback: the whole image, cut to the nearest allowed ratio, centered.
  const double in_ratio = static_cast<double>(width) / height;
  int w = width, h = height;
  if (in_ratio < o_.ratio()[0]) {
    h = std::max(1, round_half_even(w / o_.ratio()[0]));
  } else if (in_ratio > o_.ratio()[1]) {
    w = std::max(1, round_half_even(h * o_.ratio()[1]));
  }
  return {(width - w) / 2, (height - h) / 2, w, h};
}

void RandomResizedCrop::apply(Sample& s, std::mt19937_64& rng) const {
  detail::check_image(s.image, "random_resized_crop");
  const cv::Rect r = window(s.image.size(), rng);
  detail::crop_sample(s, r);
  resize_sample(s, {o_.width(), o_.height()},
                detail::interpolation_flag(o_.interpolation(), "random_resized_crop"));
}

YAML::Node RandomResizedCrop::params() const { return alx::config::write(o_); }

// ---------------------------------------------------------------- Pad

Pad::Pad(PadOptions o) : o_(std::move(o)) {
  const auto& p = o_.padding();
  for (int v : p) ALX_CHECK(v >= 0, "pad: padding must be >= 0, got {}", v);
  if (p.size() == 1) {
    left_ = top_ = right_ = bottom_ = p[0];
  } else if (p.size() == 2) {
    left_ = right_ = p[0];
    top_ = bottom_ = p[1];
  } else if (p.size() == 4) {
    left_ = p[0], top_ = p[1], right_ = p[2], bottom_ = p[3];
  } else {
    ALX_THROW(InvalidArgument,
              "pad: padding must have 1, 2 or 4 values ([all], [left/right, top/bottom] or "
              "[left, top, right, bottom]), got {}",
              p.size());
  }
  const std::string& m = o_.mode();
  if (m == "constant") border_ = cv::BORDER_CONSTANT;
  else if (m == "edge") border_ = cv::BORDER_REPLICATE;
  else if (m == "reflect") border_ = cv::BORDER_REFLECT_101;  // torch 'reflect': edge not repeated
  else if (m == "symmetric") border_ = cv::BORDER_REFLECT;    // torch 'symmetric': edge repeated
  else ALX_THROW(InvalidArgument, "pad: unknown mode '{}'; valid: constant, edge, reflect, symmetric", m);
}

void Pad::apply(Sample& s, std::mt19937_64&) const {
  detail::check_image(s.image, "pad");
  cv::Mat out;
  cv::copyMakeBorder(s.image, out, top_, bottom_, left_, right_, border_, detail::fill_scalar(o_.fill()));
  detail::warp_objects(s.objects, cv::Matx23d(1, 0, left_, 0, 1, top_), out.size());
  s.image = out;
}

YAML::Node Pad::params() const { return alx::config::write(o_); }

// ---------------------------------------------------------------- flips

HorizontalFlip::HorizontalFlip(FlipOptions o) : o_(std::move(o)) {
  ALX_CHECK(o_.p() >= 0 && o_.p() <= 1, "hflip: p must be in [0, 1], got {}", o_.p());
}

void HorizontalFlip::apply(Sample& s, std::mt19937_64& rng) const {
  detail::check_image(s.image, "hflip");
  if (!bernoulli(rng, o_.p())) return;
  cv::Mat out;
  cv::flip(s.image, out, 1);
  detail::warp_objects(s.objects, cv::Matx23d(-1, 0, s.image.cols, 0, 1, 0), out.size());
  s.image = out;
}

YAML::Node HorizontalFlip::params() const { return alx::config::write(o_); }

VerticalFlip::VerticalFlip(FlipOptions o) : o_(std::move(o)) {
  ALX_CHECK(o_.p() >= 0 && o_.p() <= 1, "vflip: p must be in [0, 1], got {}", o_.p());
}

void VerticalFlip::apply(Sample& s, std::mt19937_64& rng) const {
  detail::check_image(s.image, "vflip");
  if (!bernoulli(rng, o_.p())) return;
  cv::Mat out;
  cv::flip(s.image, out, 0);
  detail::warp_objects(s.objects, cv::Matx23d(1, 0, 0, 0, -1, s.image.rows), out.size());
  s.image = out;
}

YAML::Node VerticalFlip::params() const { return alx::config::write(o_); }

// ---------------------------------------------------------------- Rotate

Rotate::Rotate(RotateOptions o) : o_(std::move(o)) {
  detail::check_range2(o_.degrees(), "rotate", "degrees");
  detail::interpolation_flag(o_.interpolation(), "rotate");
}

void Rotate::apply(Sample& s, std::mt19937_64& rng) const {
  detail::check_image(s.image, "rotate");
  const double angle = uniform(rng, o_.degrees()[0], o_.degrees()[1]);
  const double w = s.image.cols, h = s.image.rows;
  // Rotation about the image center, continuous coordinates; same sign convention as
  // cv::getRotationMatrix2D (counter-clockwise as displayed).
  const double a = angle * CV_PI / 180.0, c = std::cos(a), sn = std::sin(a);
  cv::Size out = s.image.size();
  double ocx = w / 2, ocy = h / 2;
  if (o_.expand()) {
    // torchvision's tolerance keeps 90° from growing by a pixel through rounding noise.
    const double bw = std::abs(w * c) + std::abs(h * sn), bh = std::abs(w * sn) + std::abs(h * c);
    out = {static_cast<int>(std::ceil(bw - 1e-4)), static_cast<int>(std::ceil(bh - 1e-4))};
    ocx = out.width / 2.0, ocy = out.height / 2.0;
  }
  const cv::Matx23d m(c, sn, ocx - c * w / 2 - sn * h / 2,  //
                      -sn, c, ocy + sn * w / 2 - c * h / 2);
  warp_sample(s, m, out, detail::interpolation_flag(o_.interpolation(), "rotate"), o_.fill());
}

YAML::Node Rotate::params() const { return alx::config::write(o_); }

// ---------------------------------------------------------------- Affine

Affine::Affine(AffineOptions o) : o_(std::move(o)) {
  detail::check_range2(o_.degrees(), "affine", "degrees");
  detail::check_range2(o_.scale(), "affine", "scale");
  detail::check_range2(o_.shear(), "affine", "shear");
  ALX_CHECK(o_.translate().size() == 2, "affine: translate must be [fx, fy], got {} value(s)",
            o_.translate().size());
  ALX_CHECK(o_.scale()[0] > 0, "affine: scale must be positive, got {}", o_.scale()[0]);
  detail::interpolation_flag(o_.interpolation(), "affine");
}

void Affine::apply(Sample& s, std::mt19937_64& rng) const {
  detail::check_image(s.image, "affine");
  const double w = s.image.cols, h = s.image.rows;
  const double angle = uniform(rng, o_.degrees()[0], o_.degrees()[1]);
  const double max_dx = o_.translate()[0] * w, max_dy = o_.translate()[1] * h;
  const double tx = std::round(uniform(rng, -max_dx, max_dx));
  const double ty = std::round(uniform(rng, -max_dy, max_dy));
  const double scale = uniform(rng, o_.scale()[0], o_.scale()[1]);
  const double shear = uniform(rng, o_.shear()[0], o_.shear()[1]);
  // A = R · Sh · S with R counter-clockwise (as displayed) and Sh: x += tan(shear)·y.
  const double a = angle * CV_PI / 180.0, c = std::cos(a), sn = std::sin(a);
  const double k = std::tan(shear * CV_PI / 180.0);
  const cv::Matx22d rot(c, sn, -sn, c), sh(1, k, 0, 1);
  const cv::Matx22d A = rot * sh * scale;
  const double cx = w / 2, cy = h / 2;
  const cv::Matx23d m(A(0, 0), A(0, 1), cx + tx - A(0, 0) * cx - A(0, 1) * cy,  //
                      A(1, 0), A(1, 1), cy + ty - A(1, 0) * cx - A(1, 1) * cy);
  warp_sample(s, m, s.image.size(), detail::interpolation_flag(o_.interpolation(), "affine"),
              o_.fill());
}

YAML::Node Affine::params() const { return alx::config::write(o_); }

// ---------------------------------------------------------------- FilterObjects

FilterObjects::FilterObjects(FilterObjectsOptions o) : o_(std::move(o)) {}

void FilterObjects::apply(Sample& s, std::mt19937_64&) const {
  auto small = [&](const alx::Object& obj) {
    return obj.box.width() < o_.min_size() || obj.box.height() < o_.min_size() ||
           obj.box.area() < o_.min_area();
  };
  s.objects.erase(std::remove_if(s.objects.begin(), s.objects.end(), small), s.objects.end());
}

YAML::Node FilterObjects::params() const { return alx::config::write(o_); }

}  // namespace alx::augment
