// AUBC, labels-to-target and mean ± std against values computed by hand.
#include <alx/core/error.h>

#include <gtest/gtest.h>

#include <cmath>

#include "metrics.h"

using namespace alx::bench;

TEST(Aubc, TrapezoidsOverTheLabeledRangeDividedByIt) {
  // (0.5 + 0.7) / 2 * 100 + (0.7 + 0.8) / 2 * 100 = 135 over a range of 200.
  EXPECT_DOUBLE_EQ(aubc({20, 120, 220}, {0.5, 0.7, 0.8}), 0.675);
  // Uneven steps: (0.2 + 0.4) / 2 * 10 + (0.4 + 0.5) / 2 * 30 = 3 + 13.5 over 40.
  EXPECT_DOUBLE_EQ(aubc({10, 20, 50}, {0.2, 0.4, 0.5}), 0.4125);
}

TEST(Aubc, IsTheAccuracyForAFlatCurveAndForOnePoint) {
  EXPECT_DOUBLE_EQ(aubc({20, 70, 120, 170}, {0.6, 0.6, 0.6, 0.6}), 0.6);
  EXPECT_DOUBLE_EQ(aubc({20}, {0.42}), 0.42);
}

TEST(Aubc, StaysInTheUnitIntervalForAccuracies) {
  EXPECT_DOUBLE_EQ(aubc({0, 1}, {0.0, 0.0}), 0.0);
  EXPECT_DOUBLE_EQ(aubc({0, 5, 9}, {1.0, 1.0, 1.0}), 1.0);
}

TEST(Aubc, RejectsMalformedCurves) {
  EXPECT_THROW(aubc({}, {}), alx::InvalidArgument);
  EXPECT_THROW(aubc({20, 70}, {0.5}), alx::InvalidArgument);
  EXPECT_THROW(aubc({20, 20}, {0.5, 0.6}), alx::InvalidArgument);
  EXPECT_THROW(aubc({70, 20}, {0.5, 0.6}), alx::InvalidArgument);
}

TEST(LabelsToReach, FirstLabelCountAtOrAboveTheTarget) {
  const std::vector<double> labeled = {20, 70, 120, 170}, acc = {0.50, 0.69, 0.71, 0.70};
  EXPECT_EQ(labels_to_reach(labeled, acc, 0.70), 120.0);  // not 170: the first time counts
  EXPECT_EQ(labels_to_reach(labeled, acc, 0.50), 20.0);   // reaching means >=
  EXPECT_EQ(labels_to_reach(labeled, acc, 0.69), 70.0);
  EXPECT_FALSE(labels_to_reach(labeled, acc, 0.72).has_value());
  EXPECT_FALSE(labels_to_reach({}, {}, 0.1).has_value());
}

TEST(MeanStd, SampleStandardDeviation) {
  const MeanStd m = mean_std({1, 2, 3, 4});
  EXPECT_EQ(m.n, 4);
  EXPECT_DOUBLE_EQ(m.mean, 2.5);
  EXPECT_NEAR(m.std, std::sqrt(5.0 / 3.0), 1e-12);  // squares 2.25+0.25+0.25+2.25 = 5 over n-1 = 3
  EXPECT_DOUBLE_EQ(mean_std({0.7}).std, 0.0);
  EXPECT_EQ(mean_std({}).n, 0);
  EXPECT_TRUE(std::isnan(mean_std({}).mean));
}

TEST(MeanStd, Formats) {
  EXPECT_EQ(format_mean_std(mean_std({0.5, 0.7}), 3), "0.600 ± 0.141");
  EXPECT_EQ(format_mean_std(mean_std({120}), 0), "120");
  EXPECT_EQ(format_mean_std(mean_std({})), "-");
}
