#include "engine/findings_text.hpp"
#include "store/recording.hpp"

#include <cctype>
#include <set>

#include <nlohmann/json.hpp>

#include "engine/render/render.hpp"
#include "grammar/diagnostic.hpp"
#include "grammar/source.hpp"
#include "store/plan_compare.hpp"

namespace iptplan::store {

namespace {

// The code point at s[i] (valid UTF-8), moving i past it.
std::uint32_t next_code_point(const std::string& s, std::size_t& i) {
  auto c = static_cast<unsigned char>(s[i]);
  std::uint32_t cp = c;
  std::size_t n = 1;
  if (c >= 0xf0) { cp = c & 0x07; n = 4; }
  else if (c >= 0xe0) { cp = c & 0x0f; n = 3; }
  else if (c >= 0xc0) { cp = c & 0x1f; n = 2; }
  for (std::size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  i += n;
  return cp;
}

// The first character of `s` a person should not see raw, or "".
std::string unsafe_character(const std::string& s, bool allow_lines) {
  if (find_invalid_utf8(s) != std::string::npos) return "bytes that are not UTF-8";
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = next_code_point(s, i);
    bool line = cp == '\n' || cp == '\t';
    if ((cp < 0x20 && !(allow_lines && line)) || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) return "a control character";
    if (cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
        cp == 0x2028 || cp == 0x2029 || cp == 0x061c) {
      return "a character that reorders text on screen";
    }
  }
  return "";
}

// Whether `s` shows nothing: only spaces, line breaks and characters with
// no glyph (no-break and other Unicode spaces, zero-width spaces and
// joiners, the byte-order mark). A name or a text of them reads as empty.
// `s` is valid UTF-8 (callers check unsafe_character first or after).
bool blank(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = next_code_point(s, i);
    // Spaces, format characters and the fillers that show nothing (Hangul
    // fillers, the blank Braille pattern, variation selectors, tag
    // characters, which can carry hidden text).
    bool invisible = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xa0 || cp == 0xad ||
                     cp == 0x034f || cp == 0x115f || cp == 0x1160 || cp == 0x1680 || cp == 0x180e ||
                     (cp >= 0x180b && cp <= 0x180d) || (cp >= 0x2000 && cp <= 0x200f) || cp == 0x2028 ||
                     cp == 0x2029 || cp == 0x202f || (cp >= 0x205f && cp <= 0x206f) || cp == 0x2800 ||
                     cp == 0x3000 || cp == 0x3164 || (cp >= 0xfe00 && cp <= 0xfe0f) || cp == 0xfeff ||
                     cp == 0xffa0 || (cp >= 0xfff9 && cp <= 0xfffb) || (cp >= 0x1d173 && cp <= 0x1d17a) ||
                     (cp >= 0xe0000 && cp <= 0xe0fff);
    if (!invisible) return false;
  }
  return true;
}

// Whether a reason says something an auditor can read months later: two
// words or more (each holding a letter) with six letters or more, or, in a
// script written without spaces, four characters or more beyond ASCII. A
// letter, a digit or one word ("x", "no", "acute") is not a reason.
bool says_something(const std::string& s) {
  std::size_t words = 0, letters = 0, wide = 0;
  bool in_word = false, word_has_letter = false;
  auto end_word = [&] {
    if (in_word && word_has_letter) ++words;
    in_word = word_has_letter = false;
  };
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = next_code_point(s, i);
    bool space = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xa0 || cp == 0x3000 ||
                 (cp >= 0x2000 && cp <= 0x200b);
    if (space) {
      end_word();
      continue;
    }
    in_word = true;
    bool letter = (cp < 0x80 && std::isalpha(static_cast<int>(cp))) || cp >= 0x80;
    if (letter) {
      word_has_letter = true;
      ++letters;
    }
    if (cp >= 0x80) ++wide;
  }
  end_word();
  return (words >= 2 && letters >= 6) || wide >= 4;
}

// Whether a text holds what reads as a calendar date: three runs of
// digits joined by one separator (- / .), a year of four digits first or
// last (1980-01-02, 2.1.1980, 02/01/80). A birth date or the date of an
// event can identify a client, as it can in findings.
bool holds_date(const std::string& s) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!digit(s[i]) || (i > 0 && digit(s[i - 1]))) continue;
    std::size_t runs[3] = {0, 0, 0};
    std::size_t at = i;
    char sep = 0;
    bool ok = true;
    for (int k = 0; k < 3 && ok; ++k) {
      while (at < s.size() && digit(s[at])) ++runs[k], ++at;
      if (runs[k] == 0 || runs[k] > 4) ok = false;
      if (k < 2 && ok) {
        if (at >= s.size() || (s[at] != '-' && s[at] != '/' && s[at] != '.') || (sep && s[at] != sep)) ok = false;
        else sep = s[at++];
      }
    }
    if (!ok || (at < s.size() && digit(s[at]))) continue;
    // The numbers themselves: a month of 1-12 and a day of 1-31, either
    // way round; a year of two digits only after '/' or '.' (12-14-16 is
    // a row of scores, 2/1/80 a date).
    int n[3] = {0, 0, 0};
    for (int k = 0, from = static_cast<int>(i); k < 3; from += static_cast<int>(runs[k]) + 1, ++k) {
      n[k] = std::stoi(s.substr(static_cast<std::size_t>(from), runs[k]));
    }
    auto day_month = [](int a, int b) { return a >= 1 && b >= 1 && ((a <= 12 && b <= 31) || (a <= 31 && b <= 12)); };
    bool year_first = runs[0] == 4 && runs[1] <= 2 && runs[2] <= 2 && n[1] >= 1 && n[1] <= 12 && n[2] >= 1 &&
                      n[2] <= 31;
    bool year_last = runs[0] <= 2 && runs[1] <= 2 && (runs[2] == 4 || (runs[2] == 2 && sep != '-')) &&
                     day_month(n[0], n[1]);
    if (year_first || year_last) return true;
  }
  return false;
}

}  // namespace

std::string author_problem(const std::string& name) {
  if (blank(name)) return "the author's name is empty (or only spaces and invisible characters)";
  // Characters, as docs/store.md says (a name of 150 'é' is 300 bytes).
  std::size_t chars = 0;
  for (unsigned char c : name) chars += (c & 0xC0) != 0x80;
  if (chars > 200) return "the author's name is longer than 200 characters";
  if (auto bad = unsafe_character(name, false); !bad.empty()) return "the author's name holds " + bad;
  return "";
}

std::string text_problem(const std::string& text, std::size_t max) {
  if (text.size() > max) return "is longer than " + std::to_string(max) + " bytes";
  if (auto bad = unsafe_character(text, true); !bad.empty()) return "holds " + bad;
  if (holds_date(text)) {
    return "holds what reads as a date (such as 1980-01-02 or 2/1/80), which can identify a client and stays on "
           "record for good: say 'last month' or name the session instead";
  }
  return "";
}

record record_plan(plan_store& s, const std::string& by, const rule_set& rs,
                   const std::vector<rule_set_file>& files, const plan& p, const std::string& findings) {
  std::vector<snapshot_file> snap;
  for (const auto& f : files) snap.push_back({f.base, f.text});
  std::string key = snapshot_hash(snap);
  s.put_snapshot(key, snap);
  // Stored once per hash: a copy already there, but damaged since, would
  // leave this plan unreplayable. Read it back.
  if (auto stored = s.snapshot(key); !stored || snapshot_hash(*stored) != key) {
    throw store_error("the store does not verify: its snapshot of this rule set (" + key.substr(0, 12) +
                      ") is damaged; nothing is added to a store that does not verify (see 'iptplan audit verify')");
  }
  plan_facts f;
  f.program_version = program_version();
  f.rule_set_name = rs.info.name;
  f.rule_set_version = rs.info.version;
  f.rule_set_sha256 = rs.sha256;
  f.snapshot = key;
  for (const auto& r : rs.prog->rules) f.rule_hashes[r.id] = r.sha256;
  // Kept without comments: a comment is free text a clinician wrote, and
  // may name the client. The findings hash covers them so.
  f.findings = without_comments(findings);
  f.findings_sha256 = p.prov.findings_sha256;
  f.plan_json = render_json(p);
  f.client_id = p.prov.client_id;
  return s.append("plan", now_utc(), by, plan_body(f));
}

std::string review_request_problem(const review_request& req) {
  if (req.accept.empty() && req.reject.empty() && req.edit.empty()) {
    return "a review needs at least one decision: accept, reject or edit";
  }
  if (!req.reason.empty() && req.reject.empty() && req.edit.empty()) {
    return "a reason goes with a rejection or an edit: an acceptance needs none";
  }
  if (!req.reject.empty() && blank(req.reason)) {
    return "a rejection needs a reason: say why the item does not fit this client";
  }
  if (auto bad = text_problem(req.reason, 2000); !bad.empty()) return "the reason " + bad;
  if (!blank(req.reason) && !says_something(req.reason)) {
    return "the reason is read by auditors long after: say in a few words why (two words or more, such as 'not "
           "indicated now'), not a letter or a single word";
  }
  if (req.accept.size() + req.reject.size() + req.edit.size() > 500) {
    return "a review decides at most 500 items at once";
  }
  std::set<std::string> seen;
  for (const auto* list : {&req.accept, &req.reject}) {
    for (const auto& i : *list) {
      if (!seen.insert(i).second) return printable(i) + " is given more than one decision";
    }
  }
  // A word of the command line taken for a value (`--edit ITEM --reason`
  // took "--reason" as the new text, on record for good).
  auto option_like = [](const std::string& v) { return v.rfind("--", 0) == 0; };
  if (option_like(req.reason)) {
    return "the reason starts with '--' (an option's name?): give the reason itself, in quotes, after --reason";
  }
  for (const auto* list : {&req.accept, &req.reject}) {
    for (const auto& i : *list) {
      if (option_like(i)) return "an item starts with '--' (an option's name?): give the item's id";
    }
  }
  for (const auto& [i, t] : req.edit) {
    if (option_like(i) || option_like(t)) {
      return "--edit takes the item, then its new text in quotes (--edit ITEM \"new text\"); a value that starts "
             "with '--' is an option's name, not an item or a text";
    }
    if (!seen.insert(i).second) return printable(i) + " is given more than one decision";
    if (blank(t)) return "the edit of " + printable(i) + " needs the new text (it is empty, or only spaces)";
    if (auto bad = text_problem(t, 2000); !bad.empty()) return "the new text of " + printable(i) + " " + bad;
  }
  return "";
}

bool make_review(const record& plan_record, const review_request& req, review_facts& rv,
                 std::vector<std::string>& errors) {
  auto f = read_plan_body(plan_record.body);
  nlohmann::json plan = nlohmann::json::parse(f.plan_json, nullptr, false);
  auto items = items_of(plan);
  rv = {};
  rv.plan_id = plan_record.id;
  rv.plan_hash = plan_record.hash;
  auto add = [&](const std::string& item, const std::string& action, const std::string& text) {
    auto it = items.by_id.find(item);
    if (it == items.by_id.end()) {
      // An id without its key (role_dispute), or in other capitals: the
      // items it could mean; else the nearest spelling.
      auto lower = [](std::string x) {
        for (auto& c : x) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return x;
      };
      std::string want = lower(item), suggestions;
      for (const auto& candidate : items.order) {
        std::string c = lower(candidate);
        if (c == want || c.substr(0, c.find('[')) == want) {
          suggestions += (suggestions.empty() ? "'" : ", '") + candidate + "'";
        }
      }
      if (suggestions.empty()) {
        std::string near = nearest_name(item, items.order);
        if (!near.empty()) suggestions = "'" + near + "'";
      }
      // An item the rules proposed and an `exclude` removed: said as such,
      // with the rule that removed it (a safety item, often).
      if (plan.contains("excluded") && plan["excluded"].is_array()) {
        for (const auto& e : plan["excluded"]) {
          if (!e.is_object() || e.value("id", std::string()) != item) continue;
          std::string by;
          if (e.contains("excluded_by") && e["excluded_by"].is_array()) {
            for (const auto& r : e["excluded_by"]) {
              if (r.is_object() && r.contains("rule") && r["rule"].is_string()) {
                by += (by.empty() ? "" : ", ") + r["rule"].get<std::string>();
              }
            }
          }
          errors.push_back("plan " + std::to_string(plan_record.id) + " lists " + item +
                           " among its excluded items (removed" + (by.empty() ? "" : " by rule " + by) +
                           "): it is not part of the plan, so it cannot be " +
                           (action == "accept" ? "accepted" : action == "reject" ? "rejected" : "edited") +
                           "; if it should be, the rule set needs changing (see 'iptplan why-not " + item + "')");
          return false;
        }
      }
      // The id is repeated only when it looks like one: what was typed
      // may be anything, a client's name included.
      errors.push_back("plan " + std::to_string(plan_record.id) + " has no item " +
                       quoted_if_name(item, "of that name") +
                       (suggestions.empty() ? "" : "; did you mean " + suggestions + "?") +
                       (action == "edit" ? " (--edit takes the item's id first, then its new text)" : ""));
      return false;
    }
    decision d;
    d.item = item;
    d.action = action;
    d.text = text;
    d.reason = action == "accept" ? "" : req.reason;
    d.original_text = text_of(it->second);
    d.rules = rules_of(plan, it->second);
    rv.decisions.push_back(std::move(d));
    return true;
  };
  bool ok = true;
  for (const auto& i : req.accept) ok = add(i, "accept", "") && ok;
  for (const auto& i : req.reject) ok = add(i, "reject", "") && ok;
  for (const auto& [i, t] : req.edit) ok = add(i, "edit", t) && ok;
  return ok;
}

}  // namespace iptplan::store
