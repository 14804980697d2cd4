#include <gtest/gtest.h>
TEST(DemoPlaceholder, Builds) {}
