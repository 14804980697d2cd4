// A model's grade against its baseline, as Dynamics 365 Customer Insights
// shows it: A (clearly better than the baseline), B (better), C (not
// better). Each model kind states its own rule beside its evaluation
// (churn.h, clv.h, recommend.h). Pure; thread-safe.
#pragma once

#include <string_view>

namespace cdp {

enum class ModelGrade { kA, kB, kC };

inline std::string_view ModelGradeName(ModelGrade grade) {
  switch (grade) {
    case ModelGrade::kA:
      return "A";
    case ModelGrade::kB:
      return "B";
    case ModelGrade::kC:
      return "C";
  }
  return "C";
}

// The usual rule on a quality figure where higher is better: A when the
// model beats the baseline by at least `a_margin` (relative: 0.10 = 10%), B
// when by more than 0 and less, C otherwise. A baseline of 0 gives A for any
// positive figure.
inline ModelGrade GradeAgainstBaseline(double model, double baseline, double a_margin) {
  if (baseline <= 0) return model > 0 ? ModelGrade::kA : ModelGrade::kC;
  double relative = model / baseline - 1.0;
  if (relative >= a_margin) return ModelGrade::kA;
  if (relative > 0) return ModelGrade::kB;
  return ModelGrade::kC;
}

}  // namespace cdp
