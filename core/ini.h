#pragma once
// An INI document read by inih, remembering the line of every key so that each refusal can
// name file:line. Components take the keys they know; what nobody took is an unknown key.
#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rmha::core {

/// One refusal: where, and a sentence saying what to write instead.
struct ConfigIssue {
  std::string file;
  int line = 0;
  std::string message;
  std::string format() const;
};

/// Thrown at start (and by reload) with every problem found, not only the first.
class ConfigError : public std::runtime_error {
public:
  explicit ConfigError(std::vector<ConfigIssue> issues);
  const std::vector<ConfigIssue>& issues() const { return issues_; }

private:
  std::vector<ConfigIssue> issues_;
};

class IniDocument {
public:
  struct Entry {
    std::string value;
    int line = 0;
  };

  /// The largest configuration file load() reads; a larger one is refused unread.
  static constexpr std::size_t kMaxFileBytes = 1024 * 1024;

  /// Reads and parses a file; throws ConfigError when it cannot be read, is not a regular
  /// file (a directory, a FIFO: never waited on), is larger than kMaxFileBytes or is not INI.
  static IniDocument load(const std::string& path);
  /// Parses text; `file` is the name used in messages.
  static IniDocument parse(std::string_view text, std::string file);

  /// The entry for section.key, marking it as known; nullptr when absent.
  const Entry* take(const std::string& section, const std::string& key);
  /// Takes every key of `section` whose name starts with `prefix` (for member.1, member.2...).
  std::vector<std::pair<std::string, Entry>> takePrefixed(const std::string& section,
                                                          const std::string& prefix);
  /// Marks a whole section as known (for sections with free-form keys).
  void takeSection(const std::string& section);
  /// The line where a section starts, 0 when absent.
  int sectionLine(const std::string& section) const;
  const std::string& file() const { return file_; }
  /// True when at least one key is set anywhere (a file of comments and headers has none).
  bool hasKeys() const;
  /// "section.key=value" lines of every section but the `except` ones: what a reload compares.
  std::string fingerprint(const std::vector<std::string>& except) const;

  /// Keys no component took, as issues saying so.
  std::vector<ConfigIssue> unknownKeys(
      const std::map<std::string, std::vector<std::string>>& knownKeysBySection) const;

private:
  friend struct IniBuilder;
  std::string file_;
  std::map<std::string, std::map<std::string, Entry>> sections_;
  std::map<std::string, int> sectionLines_;
  std::map<std::string, std::map<std::string, bool>> taken_;
  std::vector<ConfigIssue> parseIssues_;
};

/// Collects refusals while a configuration is validated.
class ConfigIssues {
public:
  explicit ConfigIssues(std::string file) : file_(std::move(file)) {}
  void add(int line, std::string message) { issues_.push_back({file_, line, std::move(message)}); }
  void append(const std::vector<ConfigIssue>& more) {
    issues_.insert(issues_.end(), more.begin(), more.end());
  }
  bool empty() const { return issues_.empty(); }
  const std::vector<ConfigIssue>& all() const { return issues_; }
  /// Throws ConfigError when anything was added.
  void throwIfAny() const;

private:
  std::string file_;
  std::vector<ConfigIssue> issues_;
};

} // namespace rmha::core
