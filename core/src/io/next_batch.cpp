#include <alx/core/error.h>
#include <alx/core/io/next_batch.h>

#include <cmath>

namespace alx::io {

void validate(const NextBatch& batch) {
  const int num_classes = batch.schema.size();
  for (std::size_t k = 0; k < batch.items.size(); ++k) {
    const BatchItem& it = batch.items[k];
    const std::string who = fmt::format("next batch item {} ('{}')", k, it.id);
    ALX_CHECK(!it.id.empty() || !it.image.empty(), "{}: no id and no image", who);
    ALX_CHECK(it.rank == static_cast<int>(k), "{}: rank {} out of order; ranks must be 0..{}", who,
              it.rank, batch.items.size() - 1);
    ALX_CHECK(std::isfinite(it.uncertainty), "{}: uncertainty is not finite", who);
    ALX_CHECK(it.predicted_label >= -1 && it.predicted_label < num_classes,
              "{}: predicted label {} is not a class index (schema has {} classes)", who,
              it.predicted_label, num_classes);
    ALX_CHECK(std::isfinite(it.confidence) && it.confidence >= 0.0 && it.confidence <= 1.0,
              "{}: confidence {} is outside [0, 1]", who, it.confidence);
    ALX_CHECK(it.probabilities.empty() ||
                  it.probabilities.size() == static_cast<std::size_t>(num_classes),
              "{}: {} probabilities for {} classes", who, it.probabilities.size(), num_classes);
    for (float p : it.probabilities)
      ALX_CHECK(std::isfinite(p) && p >= 0.f && p <= 1.f, "{}: probability {} outside [0, 1]", who,
                p);
    ALX_CHECK(it.size.width >= 0 && it.size.height >= 0, "{}: negative image size", who);
    for (std::size_t o = 0; o < it.objects.size(); ++o) {
      const Object& obj = it.objects[o];
      ALX_CHECK(obj.label >= 0 && obj.label < num_classes,
                "{}: object {} has label {}, not a class index ({} classes)", who, o, obj.label,
                num_classes);
      ALX_CHECK(std::isfinite(obj.score) && obj.score >= 0.f && obj.score <= 1.f,
                "{}: object {} score {} is outside [0, 1]", who, o, obj.score);
      const Box& b = obj.box;
      ALX_CHECK(std::isfinite(b.x1) && std::isfinite(b.y1) && std::isfinite(b.x2) &&
                    std::isfinite(b.y2) && b.x2 >= b.x1 && b.y2 >= b.y1,
                "{}: object {} box ({}, {}, {}, {}) is not ordered x1<=x2, y1<=y2", who, o, b.x1,
                b.y1, b.x2, b.y2);
      for (const Polygon& poly : obj.polygons) {
        ALX_CHECK(poly.size() >= 3, "{}: object {} has a polygon of {} points", who, o,
                  poly.size());
        for (const Point& p : poly)
          ALX_CHECK(std::isfinite(p.x) && std::isfinite(p.y),
                    "{}: object {} polygon point not finite", who, o);
      }
    }
  }
}

}  // namespace alx::io
