#include "config/yaml_loader.h"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "common/utf8.h"

namespace cdp {
namespace {

// What the checking pass refuses; thrown out of yaml-cpp's parser, which
// stops it at once.
struct Refusal {
  int line;  // 1-based, 0 = unknown
  std::string path;
  std::string message;
};

// Checks the parser's events against the limits without building anything.
// A refusal is thrown from inside the event that breaks a rule, so the
// parser's own recursion never goes deeper than max_depth + 1.
//
// Values are counted as a walk of the loaded document sees them, with every
// alias expanded (yaml-cpp shares the aliased node, but converting the
// document to JSON or reading it key by key visits it once per alias), and
// an alias counts its anchor's depth where it is used. Nine aliases of nine
// aliases of ... of nine values ("billion laughs") stop at max_nodes.
class CheckingHandler final : public YAML::EventHandler {
 public:
  explicit CheckingHandler(const YamlLimits& limits) : limits_(limits) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > 1) {
      Refuse(mark, "", "a second YAML document starts here; a file holds one document");
    }
  }
  void OnDocumentEnd() override {}

  void OnAnchor(const YAML::Mark&, const std::string& name) override { pending_anchor_name_ = name; }
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { Leaf(mark, anchor, "null"); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string& value) override {
    const std::string what = AtKey() ? "a key" : "text";
    if (size_t bad = FirstInvalidUtf8(value); bad != value.size()) {
      Refuse(mark, Path(), what + " is not valid UTF-8 (byte " + std::to_string(bad + 1) + ")");
    }
    if (value.find('\0') != std::string::npos) Refuse(mark, Path(), what + " contains a NUL byte");
    Leaf(mark, anchor, value);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) Refuse(mark, Path(), "unknown alias");
    const Anchor& a = it->second;
    if (!a.complete) Refuse(mark, Path(), "alias *" + a.name + " is inside its own anchor (a cycle)");
    if (AtKey()) Refuse(mark, Path(), "a key must be text, not an alias (*" + a.name + ")");
    if (stack_.size() + a.height > limits_.max_depth) {
      Refuse(mark, Path(), "alias *" + a.name + " nests deeper than " + std::to_string(limits_.max_depth) +
                               " levels (the limit) where it is used");
    }
    Count(mark, a.values, a.bytes, "alias *" + a.name + " ");
    Done(a.height);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, anchor, false);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, anchor, true);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    bool map = false;
    bool at_key = true;  // map: the next node is a key
    size_t index = 0;    // sequence: the element being read
    std::string key;     // map: the key whose value is being read
    std::unordered_map<std::string, int> keys;  // key -> line
    size_t height = 1;   // levels of this collection and the deepest child so far
    size_t values_at_start = 0;
    size_t bytes_at_start = 0;
    YAML::anchor_t anchor = YAML::NullAnchor;
  };
  struct Anchor {
    std::string name;
    bool complete = false;
    size_t values = 0;  // values of the anchored node, aliases expanded
    size_t bytes = 0;   // bytes of its text, aliases expanded
    size_t height = 0;  // 0 for a scalar
  };

  [[noreturn]] void Refuse(const YAML::Mark& mark, std::string path, std::string message) const {
    throw Refusal{mark.line >= 0 ? mark.line + 1 : 0, std::move(path), std::move(message)};
  }
  bool AtKey() const { return !stack_.empty() && stack_.back().map && stack_.back().at_key; }

  // "sources[0].fields[2].name": where the node being read sits.
  std::string Path() const {
    std::string path;
    for (const Frame& f : stack_) {
      if (f.map) {
        if (f.at_key) break;
        if (!path.empty()) path += '.';
        path += f.key;
      } else {
        path += "[" + std::to_string(f.index) + "]";
      }
    }
    return path;
  }

  // Adds n values holding `bytes` of text.
  void Count(const YAML::Mark& mark, size_t n, size_t bytes, const std::string& what = "") {
    values_ += n;
    bytes_ += bytes;
    if (values_ > limits_.max_nodes) {
      const std::string limit = std::to_string(limits_.max_nodes);
      if (what.empty()) Refuse(mark, "", "more than " + limit + " values (the limit)");
      Refuse(mark, Path(), what + "makes more than " + limit + " values (the limit; aliases count once per use)");
    }
    if (bytes_ > limits_.max_expanded_bytes) {
      // Without aliases the text is at most max_bytes, so only an alias gets here.
      Refuse(mark, Path(), what + "makes more than " + std::to_string(limits_.max_expanded_bytes) +
                               " bytes of text (the limit; aliases count once per use)");
    }
  }

  void StartAnchor(YAML::anchor_t anchor) {
    if (anchor == YAML::NullAnchor) return;
    Anchor& a = anchors_[anchor];  // a redefined name gets a new id in yaml-cpp
    a.name = pending_anchor_name_;
    a.complete = false;
  }

  // A scalar or null: a key of the enclosing map, or a value.
  void Leaf(const YAML::Mark& mark, YAML::anchor_t anchor, const std::string& text) {
    StartAnchor(anchor);
    Count(mark, 1, text.size());
    if (anchor != YAML::NullAnchor) {
      Anchor& a = anchors_[anchor];
      a.complete = true;
      a.values = 1;
      a.bytes = text.size();
      a.height = 0;
    }
    if (AtKey()) {
      Frame& f = stack_.back();
      const int line = mark.line + 1;
      auto [it, inserted] = f.keys.emplace(text, line);
      if (!inserted) {
        Refuse(mark, Path(), "key '" + text + "' appears twice (first on line " + std::to_string(it->second) + ")");
      }
      f.key = text;
      f.at_key = false;
      return;
    }
    Done(0);
  }

  void Open(const YAML::Mark& mark, YAML::anchor_t anchor, bool map) {
    if (AtKey()) Refuse(mark, Path(), "a key must be text, not a " + std::string(map ? "mapping" : "list"));
    if (stack_.size() >= limits_.max_depth) {
      Refuse(mark, "", "nested deeper than " + std::to_string(limits_.max_depth) + " levels (the limit)");
    }
    StartAnchor(anchor);
    const size_t before = values_, bytes_before = bytes_;
    Count(mark, 1, 0);
    stack_.emplace_back();
    stack_.back().map = map;
    stack_.back().values_at_start = before;
    stack_.back().bytes_at_start = bytes_before;
    stack_.back().anchor = anchor;
  }

  void Close() {
    if (stack_.empty()) return;
    const Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.anchor != YAML::NullAnchor) {
      Anchor& a = anchors_[f.anchor];
      a.complete = true;
      a.values = values_ - f.values_at_start;
      a.bytes = bytes_ - f.bytes_at_start;
      a.height = f.height;
    }
    Done(f.height);
  }

  // A value of `height` levels is complete: the enclosing map expects a key,
  // a sequence its next element.
  void Done(size_t height) {
    if (stack_.empty()) return;
    Frame& f = stack_.back();
    f.height = std::max(f.height, height + 1);
    if (f.map) {
      f.at_key = true;
    } else {
      ++f.index;
    }
  }

  const YamlLimits& limits_;
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, Anchor> anchors_;
  std::string pending_anchor_name_;
  size_t values_ = 0;
  size_t bytes_ = 0;
  int documents_ = 0;
};

std::string Where(const std::string& origin, int line) {
  if (line <= 0) return origin.empty() ? std::string() : origin + ": ";
  return origin.empty() ? "line " + std::to_string(line) + ": " : origin + ":" + std::to_string(line) + ": ";
}

std::string SizeText(size_t bytes) {
  if (bytes >= (size_t{1} << 20) && bytes % (size_t{1} << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace

StatusOr<YAML::Node> LoadYaml(std::string_view text, const std::string& origin, const YamlLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return InvalidArgumentError(Where(origin, 0) + "the text is " + std::to_string(text.size()) +
                                " bytes, more than the limit of " + SizeText(limits.max_bytes));
  }
  const std::string copy(text);
  try {
    // First pass: events only, checked against the limits. Nothing is built,
    // so a refused document costs no memory.
    std::istringstream in(copy);
    YAML::Parser parser(in);
    CheckingHandler handler(limits);
    while (parser.HandleNextDocument(handler)) {
    }
    // Second pass: the node tree (with marks for later error messages), now
    // known to be within the limits.
    return YAML::Load(copy);
  } catch (const Refusal& r) {
    return InvalidArgumentError(Where(origin, r.line) + (r.path.empty() ? "" : r.path + ": ") + r.message);
  } catch (const YAML::Exception& e) {
    std::string loc = origin.empty() ? "line " + std::to_string(e.mark.line + 1) + ", column "
                                     : origin + ":" + std::to_string(e.mark.line + 1) + ":";
    return InvalidArgumentError(loc + std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
  }
}

}  // namespace cdp
