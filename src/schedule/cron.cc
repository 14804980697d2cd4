#include "schedule/cron.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "common/datetime.h"
#include "common/text.h"

namespace cdp {
namespace {

constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;

struct FieldSpec {
  const char* name;
  int lo, hi;
  const char* const* names;  // names[i] is value lo_name + i, or nullptr
  int names_base;
};

const char* const kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", nullptr};
const char* const kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", nullptr};

const FieldSpec kFields[5] = {
    {"minute", 0, 59, nullptr, 0},
    {"hour", 0, 23, nullptr, 0},
    {"day-of-month", 1, 31, nullptr, 0},
    {"month", 1, 12, kMonthNames, 1},
    {"day-of-week", 0, 7, kDayNames, 0},
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Status FieldError(const FieldSpec& f, std::string_view value, const std::string& what) {
  return InvalidArgumentError(std::string(f.name) + " field '" + std::string(value) + "' " + what);
}

// A number or (for month and day-of-week) a three-letter name.
StatusOr<int> ParseValue(const FieldSpec& f, std::string_view text) {
  if (text.empty()) return FieldError(f, text, "is empty");
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    int v = 0;
    for (char c : text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return FieldError(f, text, "is not a number");
      v = v * 10 + (c - '0');
      if (v > 1000) break;
    }
    if (v < f.lo || v > f.hi) {
      return FieldError(f, text, "is out of range " + std::to_string(f.lo) + "-" + std::to_string(f.hi));
    }
    return v;
  }
  if (f.names) {
    std::string upper;
    for (char c : text) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    for (int i = 0; f.names[i]; ++i) {
      if (upper == f.names[i]) return f.names_base + i;
    }
    return FieldError(f, text, std::string("is not a number or a name (") + f.names[0] + ".." +
                                   (f.names == kMonthNames ? "DEC" : "SAT") + ")");
  }
  return FieldError(f, text, "is not a number");
}

// Parses one field into the set of values it allows (indices lo..hi).
Status ParseField(const FieldSpec& f, std::string_view field, std::vector<bool>& allowed) {
  allowed.assign(static_cast<size_t>(f.hi) + 1, false);
  size_t start = 0;
  while (true) {
    size_t comma = field.find(',', start);
    std::string_view item = field.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty()) return FieldError(f, field, "has an empty list item");
    std::string_view range = item;
    int step = 1;
    size_t slash = item.find('/');
    if (slash != std::string_view::npos) {
      range = item.substr(0, slash);
      std::string_view step_text = item.substr(slash + 1);
      if (step_text.empty() || !std::all_of(step_text.begin(), step_text.end(),
                                            [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        return FieldError(f, item, "has a step that is not a number");
      }
      step = 0;
      for (char c : step_text) {
        step = step * 10 + (c - '0');
        if (step > 1000) break;
      }
      if (step < 1) return FieldError(f, item, "has step 0; the step must be at least 1");
    }
    int lo, hi;
    if (range == "*") {
      lo = f.lo;
      hi = f.hi;
      if (f.hi == 7) hi = 6;  // day-of-week: 7 is Sunday again
    } else {
      size_t dash = range.find('-');
      CDP_ASSIGN_OR_RETURN(lo, ParseValue(f, range.substr(0, dash)));
      if (dash != std::string_view::npos) {
        CDP_ASSIGN_OR_RETURN(hi, ParseValue(f, range.substr(dash + 1)));
        if (hi < lo) return FieldError(f, item, "is a range whose start is after its end");
      } else {
        hi = slash != std::string_view::npos ? f.hi : lo;  // "a/step": from a to the end
      }
    }
    for (int v = lo; v <= hi; v += step) allowed[static_cast<size_t>(v)] = true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return Status::Ok();
}

std::string_view ExpandMacro(std::string_view text) {
  struct Macro {
    const char* name;
    const char* expansion;
  };
  static const Macro kMacros[] = {{"@hourly", "0 * * * *"},  {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
                                  {"@weekly", "0 0 * * 0"},  {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
                                  {"@annually", "0 0 1 1 *"}};
  for (const auto& m : kMacros) {
    if (text == m.name) return m.expansion;
  }
  return {};
}

int DayOfWeek(int32_t days_since_epoch) {
  return static_cast<int>(((days_since_epoch % 7) + 7 + 4) % 7);  // 1970-01-01 was a Thursday
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

StatusOr<CronSchedule> CronSchedule::Parse(std::string_view input) {
  std::string_view text = Trim(input);
  CronSchedule s;
  s.text_ = std::string(text);
  std::string_view spec = text;
  if (!text.empty() && text[0] == '@') {
    std::string lower;
    for (char c : text) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    spec = ExpandMacro(lower);
    if (spec.empty()) {
      return InvalidArgumentError("unknown cron shortcut '" + std::string(text) +
                                  "' (expected @hourly, @daily, @weekly, @monthly or @yearly)");
    }
  }
  std::vector<std::string_view> fields = SplitOnWhitespace(spec);
  if (fields.size() != 5) {
    return InvalidArgumentError("cron expression '" + std::string(text) + "' has " + std::to_string(fields.size()) +
                                " field(s); expected 5: minute hour day-of-month month day-of-week");
  }
  std::vector<bool> allowed;
  CDP_RETURN_IF_ERROR(ParseField(kFields[0], fields[0], allowed));
  for (int v = 0; v < 60; ++v) s.minutes_[static_cast<size_t>(v)] = allowed[static_cast<size_t>(v)];
  CDP_RETURN_IF_ERROR(ParseField(kFields[1], fields[1], allowed));
  for (int v = 0; v < 24; ++v) s.hours_[static_cast<size_t>(v)] = allowed[static_cast<size_t>(v)];
  CDP_RETURN_IF_ERROR(ParseField(kFields[2], fields[2], allowed));
  for (int v = 1; v <= 31; ++v) s.days_of_month_[static_cast<size_t>(v)] = allowed[static_cast<size_t>(v)];
  CDP_RETURN_IF_ERROR(ParseField(kFields[3], fields[3], allowed));
  for (int v = 1; v <= 12; ++v) s.months_[static_cast<size_t>(v)] = allowed[static_cast<size_t>(v)];
  CDP_RETURN_IF_ERROR(ParseField(kFields[4], fields[4], allowed));
  for (int v = 0; v <= 6; ++v) s.days_of_week_[static_cast<size_t>(v)] = allowed[static_cast<size_t>(v)];
  if (allowed[7]) s.days_of_week_[0] = true;
  s.dom_star_ = fields[2][0] == '*';
  s.dow_star_ = fields[4][0] == '*';

  // Days of the month are the only way a schedule can name a time that never
  // comes ("0 0 30 2 *"); day-of-week ORed in always matches some day.
  if (s.dow_star_ || s.dom_star_) {
    bool possible = false;
    for (unsigned m = 1; m <= 12 && !possible; ++m) {
      if (!s.months_[m]) continue;
      unsigned longest = DaysInMonth(2000, m);  // a leap year: February has 29
      for (unsigned d = 1; d <= longest; ++d) possible = possible || s.days_of_month_[d];
    }
    if (!possible) {
      return InvalidArgumentError("day-of-month field '" + std::string(fields[2]) +
                                  "' names no day that exists in month field '" + std::string(fields[3]) +
                                  "': the schedule would never fire");
    }
  }
  return s;
}

bool CronSchedule::DayMatches(int year, unsigned month, unsigned day, int32_t days) const {
  (void)year;
  bool dom = days_of_month_[day];
  bool dow = days_of_week_[static_cast<size_t>(DayOfWeek(days))];
  if (dom_star_ || dow_star_) return dom && dow;
  return dom || dow;
}

int64_t CronSchedule::Next(int64_t after_micros) const {
  if (after_micros > kNever - 2 * kMicrosPerMinute) return kNever;
  // Whole minutes since the epoch of the first candidate (strictly after).
  int64_t minute_index = FloorDiv(after_micros, kMicrosPerMinute) + 1;
  int64_t day_index = FloorDiv(minute_index, 1440);
  int minute_of_day = static_cast<int>(minute_index - day_index * 1440);
  int hour = minute_of_day / 60;
  int minute = minute_of_day % 60;
  // Every schedule Parse accepts fires within 8 years (February 29 across a
  // century year); the limit only guards against a bug looping forever.
  const int64_t last_day = day_index + 366 * 9;
  while (day_index <= last_day) {
    int year;
    unsigned month, day;
    CivilFromDays(static_cast<int32_t>(day_index), &year, &month, &day);
    if (!months_[month]) {
      // First day of the next month.
      unsigned next_month = month == 12 ? 1 : month + 1;
      int next_year = month == 12 ? year + 1 : year;
      day_index = DaysFromCivil(next_year, next_month, 1);
      hour = minute = 0;
      continue;
    }
    if (!DayMatches(year, month, day, static_cast<int32_t>(day_index))) {
      ++day_index;
      hour = minute = 0;
      continue;
    }
    // This day matches: find the first allowed hour:minute at or after hour:minute.
    for (; hour < 24; ++hour, minute = 0) {
      if (!hours_[static_cast<size_t>(hour)]) continue;
      for (; minute < 60; ++minute) {
        if (minutes_[static_cast<size_t>(minute)]) {
          return (day_index * 1440 + hour * 60 + minute) * kMicrosPerMinute;
        }
      }
    }
    ++day_index;
    hour = minute = 0;
  }
  return kNever;
}

}  // namespace cdp
