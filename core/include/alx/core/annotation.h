// alx/core/annotation.h — objects inside an image (detection / segmentation labels).
#pragma once

#include <vector>

namespace alx {

/// Axis-aligned box in pixels, corners (x1, y1) top-left and (x2, y2) bottom-right.
struct Box {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  float width() const noexcept { return x2 - x1; }
  float height() const noexcept { return y2 - y1; }
  float area() const noexcept { return width() > 0 && height() > 0 ? width() * height() : 0.f; }
  bool operator==(const Box& o) const noexcept {
    return x1 == o.x1 && y1 == o.y1 && x2 == o.x2 && y2 == o.y2;
  }
};

struct Point {
  float x = 0, y = 0;
  bool operator==(const Point& o) const noexcept { return x == o.x && y == o.y; }
};

/// A closed polygon in pixels.
using Polygon = std::vector<Point>;

/// One labeled (or predicted) object of an image. A box-only object has no polygons;
/// a segmentation object has one or more polygons and its box is their bounding box.
struct Object {
  int label = -1;        ///< class index in the Schema
  Box box;               ///< bounding box in pixels
  std::vector<Polygon> polygons;
  float score = 1.f;     ///< confidence for predictions; 1 for human labels
};

}  // namespace alx
