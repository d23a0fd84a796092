// CVAT for images 1.1 reader and pre-annotation writer, on the real exports in fixtures.
#include <alx/core/error.h>
#include <alx/core/io/cvat.h>

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <algorithm>

#include "io_test_util.h"

namespace alx::io {
namespace {

using test::fixture;
using test::kDatumaro;

bool has_note(const Dataset& d, const std::string& fragment) {
  return std::any_of(d.notes.begin(), d.notes.end(),
                     [&](const std::string& n) { return n.find(fragment) != std::string::npos; });
}

TEST(CvatRead, DocumentationExampleWithUndeclaredTag) {
  // The CVAT documentation's own example; its images are not part of it.
  const auto cvat = read_cvat(fixture("cvat-docs/xml_format_example_annotation.xml"),
                              CvatOptions().check_images(false));
  const Pool& pool = cvat.dataset.pool;
  ASSERT_EQ(pool.size(), 1);
  EXPECT_EQ(pool.id(0), "filename000.jpg");
  EXPECT_EQ(cvat.sizes[0], (ImageSize{1600, 1200}));
  EXPECT_EQ(cvat.frames[0], 0);
  // Declared labels in order, then the undeclared tag label.
  EXPECT_EQ(pool.schema().names(),
            (std::vector<std::string>{"car", "traffic_line", "wheel", "plate", "good_frame"}));
  EXPECT_TRUE(has_note(cvat.dataset, "label 'good_frame' is used 1 time(s) but not declared"));
  ASSERT_TRUE(pool.is_labeled(0));
  EXPECT_EQ(pool.schema().name(pool.label(0)), "good_frame");
  const auto& objects = pool.objects(0);
  ASSERT_EQ(objects.size(), 2u);  // the box and the polygon
  EXPECT_EQ(pool.schema().name(objects[0].label), "plate");
  EXPECT_EQ(objects[0].box, (Box{797.33f, 870.92f, 965.52f, 928.94f}));
  EXPECT_EQ(pool.schema().name(objects[1].label), "car");
  ASSERT_EQ(objects[1].polygons.size(), 1u);
  EXPECT_EQ(objects[1].polygons[0].size(), 69u);
  EXPECT_FLOAT_EQ(objects[1].box.y1, 264.91f);
  EXPECT_TRUE(has_note(cvat.dataset, "skipped 2 <polyline>"));
  EXPECT_TRUE(has_note(cvat.dataset, "skipped 1 <points>"));
}

TEST(CvatRead, DatumaroTaskExportWithAttributesAndEmptyLabels) {
  const std::string dir = fixture(kDatumaro + "cvat_dataset/for_images/export_task");
  // Images default to <export folder>/images, as in CVAT's dataset zip; they exist.
  const auto cvat = read_cvat(dir + "/train.xml");
  const Pool& pool = cvat.dataset.pool;
  ASSERT_EQ(pool.size(), 2);
  EXPECT_EQ(pool.ids(), (std::vector<std::string>{"img0.jpg", "img1.jpg"}));
  EXPECT_EQ(pool.schema().names(), (std::vector<std::string>{"label1", "label2"}));
  EXPECT_EQ(pool.num_labeled(), 0);
  ASSERT_EQ(pool.objects(0).size(), 1u);
  EXPECT_EQ(pool.objects(0)[0].box, (Box{0, 2, 4, 4}));
  EXPECT_FLOAT_EQ(pool.objects(0)[0].score, 1.f);
  EXPECT_TRUE(pool.objects(1).empty());  // an unlabeled polygon and points
  EXPECT_TRUE(has_note(cvat.dataset, "image 1 'img1.jpg': skipped 1 <polygon without label>"));
  EXPECT_TRUE(has_note(cvat.dataset, "image 0 'img0.jpg': skipped 1 <polyline>"));
  EXPECT_EQ(cvat.dataset.images->size(), 2);
  EXPECT_FALSE(cvat.dataset.images->load(1).empty());
}

TEST(CvatRead, DatumaroProjectExportWithSubsets) {
  const std::string dir = fixture(kDatumaro + "cvat_dataset/for_images/export_project");
  const auto cvat = read_cvat(dir + "/annotations.xml");
  const Pool& pool = cvat.dataset.pool;
  ASSERT_EQ(pool.size(), 6);  // the same two names in three subsets
  EXPECT_EQ(pool.id(0), "Test/img0.jpg");
  EXPECT_EQ(pool.id(3), "Train/img1.jpg");
  EXPECT_EQ(pool.id(5), "Validation/img1.jpg");
  EXPECT_EQ(cvat.subsets[2], "Train");
  EXPECT_EQ(cvat.names[2], "img0.jpg");
  EXPECT_EQ(cvat.sizes[1], (ImageSize{10, 10}));
  ASSERT_EQ(pool.objects(1).size(), 1u);  // the labeled polygon
  EXPECT_EQ(pool.objects(1)[0].box, (Box{1, 2, 6, 5}));
  EXPECT_FALSE(cvat.dataset.images->load(5).empty());
}

TEST(CvatRead, RefusalsNameFileAndImage) {
  const auto dir = test::scratch("cvat");
  auto xml = [&](const std::string& name, const std::string& body) {
    return test::write_text(dir / name,
                            "<?xml version=\"1.0\"?><annotations><version>1.1</version>"
                            "<meta><task><labels><label><name>cat</name></label>"
                            "<label><name>dog</name></label></labels></task></meta>" +
                                body + "</annotations>");
  };
  const CvatOptions nocheck = CvatOptions().check_images(false).images_root(dir.string());
  EXPECT_THROW_WITH(read_cvat((dir / "absent.xml").string()), IoError, "absent.xml");
  EXPECT_THROW_WITH(
      read_cvat(test::write_text(dir / "cut.xml", "<annotations><image id=\"0\" name=\"a")),
      FormatError, "cut.xml", "not valid XML");
  EXPECT_THROW_WITH(read_cvat(test::write_text(dir / "other.xml", "<dataset/>")), FormatError,
                    "other.xml", "<annotations>");
  EXPECT_THROW_WITH(read_cvat(xml("empty.xml", ""), nocheck), FormatError, "empty.xml",
                    "no <image>");
  EXPECT_THROW_WITH(read_cvat(xml("video.xml", "<track id=\"0\" label=\"cat\"/>"), nocheck),
                    FormatError, "video.xml", "CVAT for video");
  for (const std::string name : {"../x.jpg", "/etc/passwd", "a/../../x.jpg"}) {
    SCOPED_TRACE(name);
    EXPECT_THROW_WITH(
        read_cvat(xml("escape.xml", "<image id=\"3\" name=\"" + name + "\"/>"), nocheck),
        FormatError, "escape.xml", "image 3", "outside the image root");
  }
  EXPECT_THROW_WITH(read_cvat(xml("missing.xml", "<image id=\"3\" name=\"a.jpg\"/>"),
                              CvatOptions().images_root(dir.string())),
                    IoError, "missing.xml", "image 3 'a.jpg'", "not found");
  EXPECT_THROW_WITH(
      read_cvat(xml("box.xml",
                    "<image id=\"4\" name=\"a.jpg\"><box label=\"cat\" xtl=\"1\" ytl=\"x\" "
                    "xbr=\"2\" ybr=\"3\"/></image>"),
                nocheck),
      FormatError, "box.xml", "image 4 'a.jpg'", "'ytl' must be a number");
  EXPECT_THROW_WITH(read_cvat(xml("poly.xml",
                                  "<image id=\"4\" name=\"a.jpg\"><polygon label=\"cat\" "
                                  "points=\"1,2;3\"/></image>"),
                              nocheck),
                    FormatError, "poly.xml", "image 4", "'3' is not 'x,y'");
  EXPECT_THROW_WITH(
      read_cvat(xml("unknown.xml", "<image id=\"5\" name=\"a.jpg\"><tag label=\"cow\"/></image>"),
                CvatOptions().check_images(false).classes({"cat", "dog"})),
      FormatError, "unknown.xml", "image 5 'a.jpg'", "unknown label 'cow'");
  const std::string two_tags =
      xml("tags.xml",
          "<image id=\"6\" name=\"a.jpg\"><tag label=\"cat\"/><tag label=\"dog\"/>"
          "</image><image id=\"7\" name=\"a.jpg\"/>");
  EXPECT_THROW_WITH(read_cvat(two_tags, nocheck), FormatError, "tags.xml", "image 6",
                    "several tags");
  EXPECT_THROW_WITH(read_cvat(two_tags, CvatOptions(nocheck).allow_multiple_labels(true)),
                    FormatError, "tags.xml", "image 6 'a.jpg' and image 7 'a.jpg'");
}

TEST(CvatRead, ScoresAndRotatedBoxes) {
  const auto dir = test::scratch("cvat");
  const std::string path = test::write_text(dir / "a.xml", R"(<annotations><version>1.1</version>
    <image id="0" name="a.jpg" width="100" height="100">
      <box label="cat" xtl="10" ytl="20" xbr="30" ybr="30" rotation="90">
        <attribute name="score">0.25</attribute></box>
      <tag label="dog"/><tag label="dog"/>
    </image></annotations>)");
  const auto cvat = read_cvat(path, CvatOptions().check_images(false));
  const Object& box = cvat.dataset.pool.objects(0).at(0);
  EXPECT_FLOAT_EQ(box.score, 0.25f);
  EXPECT_NEAR(box.box.x1, 15.f, 1e-4);
  EXPECT_NEAR(box.box.x2, 25.f, 1e-4);
  EXPECT_NEAR(box.box.y1, 15.f, 1e-4);
  EXPECT_NEAR(box.box.y2, 35.f, 1e-4);
  EXPECT_EQ(cvat.dataset.pool.schema().name(cvat.dataset.pool.label(0)), "dog");  // same tag twice
}

NextBatch batch() {
  NextBatch b;
  b.schema = Schema({"label1", "label2"});
  b.model_version = "v1";
  for (int r = 0; r < 3; ++r) {
    BatchItem it;
    it.index = 2 - r;
    it.id = "img" + std::to_string(2 - r) + ".jpg";
    it.rank = r;
    it.uncertainty = 1.0 - 0.1 * r;
    it.predicted_label = r % 2;
    it.confidence = 0.5 + 0.1 * r;
    it.size = {10, 8};
    b.items.push_back(it);
  }
  Object box;
  box.label = 1;
  box.box = {1, 2, 5, 6};
  box.score = 0.35f;
  b.items[1].objects.push_back(box);
  Object poly;
  poly.label = 0;
  poly.polygons = {{{1, 1}, {4, 1}, {2, 5}}};
  poly.box = {1, 1, 4, 5};
  poly.score = 0.75f;
  b.items[2].objects.push_back(poly);
  return b;
}

TEST(CvatWrite, PreAnnotationsDeclareScoreAndKeepBatchOrder) {
  const auto dir = test::scratch("write");
  const std::string path = (dir / "next_batch.xml").string();
  write_cvat(path, batch());

  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_file(path.c_str()));
  const pugi::xml_node ann = doc.child("annotations");
  EXPECT_STREQ(ann.child_value("version"), "1.1");
  // Every label declares the score attribute as a number.
  int labels = 0;
  for (const pugi::xpath_node& l : ann.select_nodes("meta/task/labels/label")) {
    ++labels;
    const pugi::xml_node attr = l.node().child("attributes").child("attribute");
    EXPECT_STREQ(attr.child_value("name"), "score");
    EXPECT_STREQ(attr.child_value("input_type"), "number");
  }
  EXPECT_EQ(labels, 2);
  // Images in rank order, ids 0..K-1.
  std::vector<std::string> names;
  int id = 0;
  for (const pugi::xml_node& image : ann.children("image")) {
    EXPECT_EQ(image.attribute("id").as_int(), id++);
    names.push_back(image.attribute("name").value());
    const pugi::xml_node tag = image.child("tag");
    ASSERT_TRUE(tag);
    EXPECT_STREQ(tag.attribute("source").value(), "auto");
    EXPECT_STREQ(tag.child("attribute").attribute("name").value(), "score");
  }
  EXPECT_EQ(names, (std::vector<std::string>{"img2.jpg", "img1.jpg", "img0.jpg"}));
  const pugi::xml_node box = ann.find_child_by_attribute("image", "id", "1").child("box");
  EXPECT_STREQ(box.attribute("label").value(), "label2");
  EXPECT_STREQ(box.child_value("attribute"), "0.35");

  // Our own reader takes it back: scores, objects and order survive.
  const auto back = read_cvat(path, CvatOptions().check_images(false));
  const Pool& pool = back.dataset.pool;
  EXPECT_EQ(pool.ids(), names);
  EXPECT_EQ(pool.schema().name(pool.label(0)), "label1");
  EXPECT_EQ(pool.objects(1).at(0).box, (Box{1, 2, 5, 6}));
  EXPECT_FLOAT_EQ(pool.objects(1)[0].score, 0.35f);
  EXPECT_EQ(pool.objects(2).at(0).polygons.at(0).size(), 3u);
  EXPECT_FLOAT_EQ(pool.objects(2)[0].score, 0.75f);
}

TEST(CvatWrite, InvalidBatchWritesNothing) {
  const auto dir = test::scratch("write");
  const std::string path = (dir / "next_batch.xml").string();
  auto b = batch();
  b.items[2].objects[0].label = 7;
  EXPECT_THROW_WITH(write_cvat(path, b), InvalidArgument, "img0.jpg", "object 0");
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace alx::io
