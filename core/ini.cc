#include "core/ini.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <ini.h>

#include "core/small_file.h"

namespace rmha::core {

std::string ConfigIssue::format() const {
  if (line > 0) {
    return fmt::format("{}:{}: {}", file, line, message);
  }
  return fmt::format("{}: {}", file, message);
}

namespace {
std::string joinIssues(const std::vector<ConfigIssue>& issues) {
  std::string out;
  for (const auto& i : issues) {
    if (!out.empty()) {
      out += '\n';
    }
    out += i.format();
  }
  return out;
}
} // namespace

ConfigError::ConfigError(std::vector<ConfigIssue> issues)
    : std::runtime_error(joinIssues(issues)), issues_(std::move(issues)) {}

void ConfigIssues::throwIfAny() const {
  if (!issues_.empty()) {
    throw ConfigError(issues_);
  }
}

// inih calls the reader once per line, then the handler for that line: counting lines in the
// reader gives the handler the line number of the key it is handed.
struct IniBuilder {
  IniDocument doc;
  std::string_view text;
  std::size_t pos = 0;
  int line = 0;

  static char* reader(char* str, int num, void* stream) {
    auto* self = static_cast<IniBuilder*>(stream);
    if (self->pos >= self->text.size() || num <= 1) {
      return nullptr;
    }
    ++self->line;
    const auto nl = self->text.find('\n', self->pos);
    const auto end = nl == std::string_view::npos ? self->text.size() : nl + 1;
    const auto len = std::min<std::size_t>(end - self->pos, static_cast<std::size_t>(num - 1));
    if (len < end - self->pos) {
      // Longer than inih's line buffer: report it rather than split it silently.
      self->doc.parseIssues_.push_back(
          {self->doc.file_, self->line, fmt::format("line longer than {} characters", num - 2)});
      self->pos = end;
      str[0] = '\n';
      str[1] = '\0';
      return str;
    }
    std::memcpy(str, self->text.data() + self->pos, len);
    str[len] = '\0';
    self->pos = end;
    self->noteSectionHeader(std::string_view(str, len));
    return str;
  }

  // inih does not report a section header by itself: remember where each one starts.
  void noteSectionHeader(std::string_view l) {
    const auto first = l.find_first_not_of(" \t");
    if (first == std::string_view::npos || l[first] != '[') {
      return;
    }
    const auto close = l.find(']', first);
    if (close == std::string_view::npos) {
      return;
    }
    auto name = l.substr(first + 1, close - first - 1);
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) {
      name.remove_prefix(1);
    }
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) {
      name.remove_suffix(1);
    }
    doc.sectionLines_.try_emplace(std::string(name), line);
  }

  static int handler(void* user, const char* section, const char* name, const char* value) {
    auto* self = static_cast<IniBuilder*>(user);
    auto& doc = self->doc;
    const std::string sec(section);
    if (!doc.sectionLines_.contains(sec)) {
      doc.sectionLines_[sec] = self->line;
    }
    if (name == nullptr) {
      return 1;
    }
    auto& keys = doc.sections_[sec];
    auto it = keys.find(name);
    if (it != keys.end()) {
      if (it->second.line == self->line) {
        // A continuation line of a multi-line value.
        it->second.value += '\n';
        it->second.value += value;
        return 1;
      }
      doc.parseIssues_.push_back(
          {doc.file_, self->line,
           fmt::format("key '{}' in [{}] is given twice (first at line {}); keep one of them",
                       name, sec, it->second.line)});
      return 1;
    }
    keys.emplace(name, IniDocument::Entry{value, self->line});
    return 1;
  }
};

IniDocument IniDocument::load(const std::string& path) {
  std::string why;
  auto file = readSmallFile(path, kMaxFileBytes, why);
  if (!file) {
    // The sentence says what was found there; the advice what to give instead.
    throw ConfigError({{path, 0,
                        fmt::format("{}; give the path of the configuration file itself (at "
                                    "most {} bytes), e.g. /etc/rmha/rmha.conf",
                                    why, kMaxFileBytes)}});
  }
  return parse(file->content, path);
}

bool IniDocument::hasKeys() const {
  return std::any_of(sections_.begin(), sections_.end(),
                     [](const auto& s) { return !s.second.empty(); });
}

IniDocument IniDocument::parse(std::string_view text, std::string file) {
  IniBuilder b;
  b.doc.file_ = std::move(file);
  b.text = text;
  if (text.find('\0') != std::string_view::npos) {
    throw ConfigError({{b.doc.file_, 0, "contains a NUL byte: this is not a text file"}});
  }
  const int rc = ini_parse_stream(&IniBuilder::reader, &b, &IniBuilder::handler, &b);
  if (rc > 0) {
    b.doc.parseIssues_.push_back(
        {b.doc.file_, rc,
         "not an INI line: write 'key = value', a '[section]' header, or a '#' comment"});
  } else if (rc < 0) {
    b.doc.parseIssues_.push_back({b.doc.file_, 0, "cannot be parsed (out of memory)"});
  }
  if (!b.doc.parseIssues_.empty()) {
    std::sort(b.doc.parseIssues_.begin(), b.doc.parseIssues_.end(),
              [](const auto& x, const auto& y) { return x.line < y.line; });
    throw ConfigError(b.doc.parseIssues_);
  }
  return std::move(b.doc);
}

const IniDocument::Entry* IniDocument::take(const std::string& section, const std::string& key) {
  taken_[section][key] = true;
  auto s = sections_.find(section);
  if (s == sections_.end()) {
    return nullptr;
  }
  auto k = s->second.find(key);
  return k == s->second.end() ? nullptr : &k->second;
}

std::vector<std::pair<std::string, IniDocument::Entry>>
IniDocument::takePrefixed(const std::string& section, const std::string& prefix) {
  std::vector<std::pair<std::string, Entry>> out;
  auto s = sections_.find(section);
  if (s == sections_.end()) {
    return out;
  }
  for (const auto& [key, entry] : s->second) {
    if (key.starts_with(prefix)) {
      taken_[section][key] = true;
      out.emplace_back(key, entry);
    }
  }
  return out;
}

void IniDocument::takeSection(const std::string& section) {
  auto s = sections_.find(section);
  if (s == sections_.end()) {
    return;
  }
  for (const auto& [key, entry] : s->second) {
    taken_[section][key] = true;
  }
}

std::string IniDocument::fingerprint(const std::vector<std::string>& except) const {
  std::string out;
  for (const auto& [section, keys] : sections_) {
    if (std::find(except.begin(), except.end(), section) != except.end()) {
      continue;
    }
    for (const auto& [key, entry] : keys) {
      out += section + "." + key + "=" + entry.value + "\n";
    }
  }
  return out;
}

int IniDocument::sectionLine(const std::string& section) const {
  auto it = sectionLines_.find(section);
  return it == sectionLines_.end() ? 0 : it->second;
}

std::vector<ConfigIssue> IniDocument::unknownKeys(
    const std::map<std::string, std::vector<std::string>>& knownKeysBySection) const {
  std::vector<ConfigIssue> out;
  std::string sectionList;
  for (const auto& [name, keys] : knownKeysBySection) {
    sectionList += sectionList.empty() ? "" : ", ";
    sectionList += "[" + name + "]";
  }
  for (const auto& [section, keys] : sections_) {
    auto known = knownKeysBySection.find(section);
    if (known == knownKeysBySection.end()) {
      // Sections with a name part ([resource-group.NAME]) are listed as "resource-group.*".
      const auto dot = section.find('.');
      if (dot != std::string::npos) {
        known = knownKeysBySection.find(section.substr(0, dot) + ".*");
      }
    }
    if (known == knownKeysBySection.end() && taken_.contains(section)) {
      // A parser took keys of this section: it is known, whatever its name.
      static const std::map<std::string, std::vector<std::string>> kNone = {{"", {}}};
      known = kNone.begin();
    }
    if (known == knownKeysBySection.end()) {
      if (!keys.empty() || section.empty()) {
        out.push_back({file_, section.empty() ? keys.begin()->second.line : sectionLine(section),
                       section.empty()
                           ? fmt::format("key '{}' is outside any section; put it under one of {}",
                                         keys.begin()->first, sectionList)
                           : fmt::format("unknown section [{}]; the sections are {}", section,
                                         sectionList)});
      }
      continue;
    }
    auto takenIt = taken_.find(section);
    for (const auto& [key, entry] : keys) {
      if (takenIt != taken_.end() && takenIt->second.contains(key)) {
        continue;
      }
      std::string list;
      for (const auto& k : known->second) {
        list += list.empty() ? "" : ", ";
        list += k;
      }
      out.push_back({file_, entry.line,
                     fmt::format("unknown key '{}' in [{}]; the keys of [{}] are: {}", key,
                                 section, section, list)});
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.line < y.line; });
  return out;
}

} // namespace rmha::core
