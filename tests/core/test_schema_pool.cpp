#include <alx/core/error.h>
#include <alx/core/pool.h>

#include <gtest/gtest.h>

using alx::Pool;
using alx::Schema;

TEST(Schema, MapsNamesAndIndices) {
  Schema s({"cat", "dog", "bird"});
  EXPECT_EQ(s.size(), 3);
  EXPECT_EQ(s.index("dog"), 1);
  EXPECT_EQ(s.name(2), "bird");
  EXPECT_EQ(s.find("fish"), -1);
  EXPECT_EQ(s.add("fish"), 3);
}

TEST(Schema, RejectsDuplicatesAndEmptyNames) {
  try {
    Schema s({"cat", "dog", "cat"});
    FAIL() << "duplicate accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'cat' appears twice"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Schema({"cat", ""}), alx::InvalidArgument);
}

TEST(Schema, UnknownNameListsKnownClasses) {
  Schema s({"cat", "dog"});
  try {
    s.index("cow");
    FAIL();
  } catch (const alx::InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "unknown class 'cow'; known classes: cat, dog");
    EXPECT_GT(e.where().line, 0);
  }
}

TEST(Pool, LabelsAndRoundsInOneIndexSpace) {
  Pool pool(Schema({"a", "b"}), {"x.png", "y.png", "z.png", "w.png"});
  EXPECT_EQ(pool.size(), 4);
  EXPECT_EQ(pool.num_labeled(), 0);
  pool.add_labels({0, 2}, {1, 0}, 1);
  EXPECT_EQ(pool.labeled(), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(pool.unlabeled(), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(pool.label(0), 1);
  EXPECT_EQ(pool.label_round(2), 1);
  EXPECT_EQ(pool.label_round(1), Pool::kNoRound);
  pool.add_label(3, 1, 2);
  EXPECT_EQ(pool.counts_per_class(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(pool.index("w.png"), 3);
  EXPECT_FALSE(pool.find("nope").has_value());
  // Relabeling moves the item to the new round and keeps the count.
  pool.add_label(0, 0, 3);
  EXPECT_EQ(pool.num_labeled(), 3);
  EXPECT_EQ(pool.label_round(0), 3);
  pool.remove_label(0);
  EXPECT_EQ(pool.num_labeled(), 2);
  EXPECT_FALSE(pool.is_labeled(0));
}

TEST(Pool, AddLabelsIsAllOrNothing) {
  Pool pool(Schema({"a", "b"}), {"x", "y", "z"});
  // Second label is out of range: nothing may be applied.
  EXPECT_THROW(pool.add_labels({0, 1}, {1, 7}, 1), alx::InvalidArgument);
  EXPECT_EQ(pool.num_labeled(), 0);
  EXPECT_THROW(pool.add_labels({0, 0}, {1, 1}, 1), alx::InvalidArgument);
  EXPECT_EQ(pool.num_labeled(), 0);
  EXPECT_THROW(pool.add_labels({5}, {0}, 1), alx::InvalidArgument);
  EXPECT_THROW(pool.add_labels({0}, {0, 1}, 1), alx::InvalidArgument);
}

TEST(Pool, RejectsDuplicateIds) {
  try {
    Pool pool(Schema({"a"}), {"x", "y", "x"});
    FAIL();
  } catch (const alx::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("'x' appears twice (items 0 and 2)"), std::string::npos);
  }
}

TEST(Pool, KeepsObjects) {
  Pool pool(Schema({"car"}), {"a", "b"});
  alx::Object o;
  o.label = 0;
  o.box = {1, 2, 3, 4};
  o.polygons = {{{1, 2}, {3, 2}, {3, 4}}};
  pool.set_objects(1, {o});
  ASSERT_EQ(pool.objects(1).size(), 1u);
  EXPECT_EQ(pool.objects(1)[0].box, (alx::Box{1, 2, 3, 4}));
  EXPECT_TRUE(pool.objects(0).empty());
  o.label = 3;
  EXPECT_THROW(pool.set_objects(0, {o}), alx::InvalidArgument);
}
