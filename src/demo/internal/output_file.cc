#include "demo/internal/output_file.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "common/datetime.h"

namespace cdp::demo_internal {

OutputFile::~OutputFile() {
  if (file_ != nullptr) {
    std::fclose(file_);
    std::error_code ignored;
    std::filesystem::remove(temp_path_, ignored);
  }
}

Status OutputFile::Open(std::string path) {
  path_ = std::move(path);
  temp_path_ = path_ + ".tmp";
  file_ = std::fopen(temp_path_.c_str(), "wb");
  if (file_ == nullptr) {
    return UnavailableError("cannot create " + temp_path_ + ": " + std::strerror(errno));
  }
  buffer_.reserve(kFlushBytes + (64 << 10));
  return Status::Ok();
}

Status OutputFile::Flush() {
  if (buffer_.empty()) return Status::Ok();
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
    const int err = errno;
    if (err == ENOSPC) return ResourceExhaustedError("no space left writing " + temp_path_);
    return DataLossError("write failed on " + temp_path_ + ": " + std::strerror(err));
  }
  buffer_.clear();
  return Status::Ok();
}

Status OutputFile::Commit() {
  CDP_RETURN_IF_ERROR(Flush());
  std::FILE* file = file_;
  file_ = nullptr;
  if (std::fclose(file) != 0) {
    const int err = errno;
    std::error_code ignored;
    std::filesystem::remove(temp_path_, ignored);
    return DataLossError("closing " + temp_path_ + " failed: " + std::strerror(err));
  }
  std::error_code ec;
  std::filesystem::rename(temp_path_, path_, ec);
  if (ec) return DataLossError("cannot rename " + temp_path_ + " to " + path_ + ": " + ec.message());
  return Status::Ok();
}

void AppendCsvField(std::string& out, std::string_view value) {
  bool quote = !value.empty() && (value.front() == ' ' || value.back() == ' ');
  if (!quote) {
    for (char c : value) {
      if (c == ',' || c == '"' || c == '\n' || c == '\r') {
        quote = true;
        break;
      }
    }
  }
  if (!quote) {
    out.append(value);
    return;
  }
  out.push_back('"');
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void AppendJsonString(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

void AppendInt(std::string& out, int64_t value) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, result.ptr);
}

void AppendPadded(std::string& out, int64_t value, int width) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof(buf), value);
  const int digits = static_cast<int>(result.ptr - buf);
  for (int i = digits; i < width; ++i) out.push_back('0');
  out.append(buf, result.ptr);
}

void AppendCents(std::string& out, int64_t cents) {
  if (cents < 0) {
    out.push_back('-');
    cents = -cents;
  }
  AppendInt(out, cents / 100);
  out.push_back('.');
  AppendPadded(out, cents % 100, 2);
}

namespace {

struct Civil {
  int year;
  unsigned month;
  unsigned day;
};

Civil ToCivil(int32_t days) {
  Civil c;
  CivilFromDays(days, &c.year, &c.month, &c.day);
  return c;
}

int32_t DaysOf(int64_t seconds) {
  int64_t days = seconds / 86400;
  if (seconds % 86400 < 0) --days;
  return static_cast<int32_t>(days);
}

void AppendClock(std::string& out, int64_t seconds) {
  int64_t in_day = seconds % 86400;
  if (in_day < 0) in_day += 86400;
  AppendPadded(out, in_day / 3600, 2);
  out.push_back(':');
  AppendPadded(out, in_day / 60 % 60, 2);
  out.push_back(':');
  AppendPadded(out, in_day % 60, 2);
}

}  // namespace

void AppendIsoDate(std::string& out, int32_t days) {
  const Civil c = ToCivil(days);
  AppendPadded(out, c.year, 4);
  out.push_back('-');
  AppendPadded(out, c.month, 2);
  out.push_back('-');
  AppendPadded(out, c.day, 2);
}

void AppendUsDate(std::string& out, int32_t days) {
  const Civil c = ToCivil(days);
  AppendInt(out, c.month);
  out.push_back('/');
  AppendInt(out, c.day);
  out.push_back('/');
  AppendPadded(out, c.year, 4);
}

void AppendDotDate(std::string& out, int32_t days) {
  const Civil c = ToCivil(days);
  AppendInt(out, c.day);
  out.push_back('.');
  AppendInt(out, c.month);
  out.push_back('.');
  AppendPadded(out, c.year, 4);
}

void AppendIsoTimestamp(std::string& out, int64_t seconds) {
  AppendIsoDate(out, DaysOf(seconds));
  out.push_back('T');
  AppendClock(out, seconds);
  out.push_back('Z');
}

void AppendSqlTimestamp(std::string& out, int64_t seconds) {
  AppendIsoDate(out, DaysOf(seconds));
  out.push_back(' ');
  AppendClock(out, seconds);
}

void AppendUsTimestamp(std::string& out, int64_t seconds) {
  AppendUsDate(out, DaysOf(seconds));
  out.push_back(' ');
  int64_t in_day = seconds % 86400;
  if (in_day < 0) in_day += 86400;
  const int64_t hour24 = in_day / 3600;
  int64_t hour12 = hour24 % 12;
  if (hour12 == 0) hour12 = 12;
  AppendInt(out, hour12);
  out.push_back(':');
  AppendPadded(out, in_day / 60 % 60, 2);
  out.push_back(':');
  AppendPadded(out, in_day % 60, 2);
  out.append(hour24 < 12 ? " AM" : " PM");
}

}  // namespace cdp::demo_internal
