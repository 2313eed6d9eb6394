#include "fhir/fhir.hpp"

#include <algorithm>
#include <cmath>
#include <cctype>
#include <map>
#include <set>

#include "engine/program.hpp"
#include "engine/render/json_writer.hpp"

namespace iptplan::fhir {

using nlohmann::json;

namespace {

// A short word of letters, digits, '.' and '-' (and ':' when `colons`): a
// code, a version, never a sentence or a name with spaces.
bool is_code_word(const std::string& s, bool colons = false) {
  if (s.empty() || s.size() > (colons ? 300u : 64u)) return false;
  for (char c : s) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || (colons && c == ':');
    if (!ok) return false;
  }
  return true;
}

constexpr int kMaxDepth = 16;

class reader {
 public:
  reader(const std::string& name, std::vector<diagnostic>& diags) : name_(name), diags_(diags) {}

  bool ok() const { return ok_; }

  void problem(const std::string& message) {
    if (!ok_) return;  // the first is enough: the response is not read
    ok_ = false;
    diagnostic d;
    d.level = severity::error;
    d.code = "fhir.response";
    d.file = name_;
    d.message = message;
    diags_.push_back(std::move(d));
  }

  // The value of one answer, or nothing after a problem.
  std::optional<json> answer_value(const json& a, const std::string& link) {
    if (!a.is_object()) {
      problem("an answer to '" + printable(link) + "' is not an object");
      return std::nullopt;
    }
    // One value, and nothing beside it (an extension could hold free text).
    std::vector<std::string> values;
    for (const auto& [key, v] : a.items()) {
      if (key.rfind("value", 0) == 0) {
        values.push_back(key);
        continue;
      }
      if (key == "item") continue;
      problem(quoted_if_name(key, "an element") + " of an answer to '" + printable(link) +
              "' is not read and may hold free text about the client; an answer holds only its value: leave it out");
      return std::nullopt;
    }
    // value[x] is one element: a second value would either be read in the
    // place of the first or kept, unread, with the response's bytes (a
    // valueString beside a valueInteger may name the client).
    if (values.size() > 1) {
      std::string named;
      for (std::size_t i = 0; i < values.size(); ++i) {
        named += (i ? (i + 1 == values.size() ? " and " : ", ") : "") + quoted_if_name(values[i], "an element");
      }
      problem("an answer to '" + printable(link) + "' holds more than one value (" + named +
              "); an answer holds exactly one value[x]: keep the one that is the answer");
      return std::nullopt;
    }
    if (a.contains("valueCoding") && a["valueCoding"].is_object()) {
      const json& c = a["valueCoding"];
      if (c.contains("display")) {
        // The choice's label as the Questionnaire gives it, or free text.
        std::string code = c.contains("code") && c["code"].is_string() ? c["code"].get<std::string>() : "";
        auto at = texts_.find(link + '\x1f' + code);
        if (!c["display"].is_string() || at == texts_.end() || at->second != c["display"].get<std::string>()) {
          problem("the display of a coded answer to '" + printable(link) +
                  "' is not the choice's label in the Questionnaire; leave it out or give that label: other text "
                  "may name the client and would be kept with the plan");
          return std::nullopt;
        }
      }
      for (const auto& [key, v] : c.items()) {
        if (key == "system" || key == "code" || key == "display" || key == "version") continue;
        problem(quoted_if_name(key, "an element") + " of a coded answer to '" + printable(link) +
                "' is not read: a coding holds system, code, display and version");
        return std::nullopt;
      }
      // The system and version are kept with the response's bytes: only
      // the questionnaire's own system, and a short version word, never
      // text that could name the client.
      // (A record's field, linked by its own name, has its list's path in
      // the system: urn:iptplan:vocabulary:relationships.conflict.)
      auto exported_system = [&link](const json& sys) {
        static const std::string kPrefix = "urn:iptplan:vocabulary:";
        if (!sys.is_string()) return false;
        const std::string& x = sys.get_ref<const std::string&>();
        if (x.rfind(kPrefix, 0) != 0) return false;
        std::string path = x.substr(kPrefix.size());
        return path == link || (path.size() > link.size() + 1 && path.compare(path.size() - link.size(), link.size(), link) == 0 &&
                                path[path.size() - link.size() - 1] == '.' &&
                                is_code_word(path.substr(0, path.size() - link.size() - 1)));
      };
      if (c.contains("system") && !exported_system(c["system"])) {
        problem("the system of a coded answer to '" + printable(link) +
                "' is not the one of 'iptplan export questionnaire' (urn:iptplan:vocabulary:" + printable(link) +
                "); leave it out or give that one: other text may name the client and would be kept with the plan");
        return std::nullopt;
      }
      if (c.contains("version") && !(c["version"].is_string() && is_code_word(c["version"].get<std::string>()))) {
        problem("the version of a coded answer to '" + printable(link) +
                "' is not a short version word (letters, digits, '.', '-'); leave it out");
        return std::nullopt;
      }
    }
    for (const char* key : {"valueBoolean", "valueInteger", "valueDecimal", "valueString"}) {
      if (a.contains(key)) return a[key];
    }
    if (a.contains("valueCoding")) {
      const json& c = a["valueCoding"];
      if (c.is_object() && c.contains("code") && c["code"].is_string()) return c["code"];
      problem("the coded answer to '" + printable(link) + "' has no code");
      return std::nullopt;
    }
    problem("the answer to '" + printable(link) +
            "' is not a valueBoolean, valueInteger, valueDecimal, valueString or valueCoding");
    return std::nullopt;
  }

  // Reads `items` into `out` (a findings object, or a record of a list).
  // `record`: the path of the repeating group being read ("" outside one).
  void items(const json& list, json& out, const std::string& record, int depth) {
    if (!list.is_array()) {
      problem("'item' is not a list");
      return;
    }
    if (depth > kMaxDepth) {
      problem("items are nested more than " + std::to_string(kMaxDepth) + " levels deep");
      return;
    }
    for (const auto& it : list) {
      if (!ok_) return;
      if (!it.is_object() || !it.contains("linkId") || !it["linkId"].is_string()) {
        problem("an item has no linkId");
        return;
      }
      std::string link = it["linkId"].get<std::string>();
      if (!item_is_plain(it, link)) return;
      bool has_answer = it.contains("answer");
      bool has_items = it.contains("item");
      if (link.rfind("component:", 0) == 0) {  // a section of the form
        // A section holds questions, never an answer, and is one the
        // Questionnaire has: anything else would be free text kept with the
        // response's bytes (its linkId is not repeated: it may hold a name).
        if (!texts_.empty() && !texts_.count(link)) {
          problem("a section item's linkId names no component of the vocabulary (the linkId is not shown); use the "
                  "sections of 'iptplan export questionnaire'");
          return;
        }
        if (has_answer) {
          problem("a section item (linkId component:...) has an answer; a section holds questions, not answers");
          return;
        }
        // Each section once: the Questionnaire gives each component one.
        if (!sections_.insert(link).second) {
          problem("the section '" + printable(link) + "' is given twice; put all its questions in one section item, "
                  "as the Questionnaire of 'iptplan export questionnaire' does");
          return;
        }
        if (has_items) items(it["item"], out, record, depth + 1);
        continue;
      }
      if (!record.empty() && link.rfind(record + ".", 0) == 0) link = link.substr(record.size() + 1);
      const std::string none(kNoneSuffix);
      if (record.empty() && link.size() > none.size() &&
          link.compare(link.size() - none.size(), none.size(), none) == 0) {
        // "<list>:none": the list recorded as empty.
        const std::string list = link.substr(0, link.size() - none.size());
        if (has_items || !has_answer || !it["answer"].is_array() || it["answer"].size() != 1 ||
            !it["answer"][0].is_object() || !it["answer"][0].contains("valueBoolean") ||
            !it["answer"][0]["valueBoolean"].is_boolean()) {
          problem("'" + printable(link) + "' takes one answer, valueBoolean (true: the list '" + printable(list) +
                  "' is recorded as empty)");
          return;
        }
        if (!it["answer"][0]["valueBoolean"].get<bool>()) continue;  // no: the rows say what there is
        json* at = slot(out, list);
        if (!at->is_null() && !(at->is_array() && at->empty())) {
          problem("'" + printable(list) + "' has records and is answered as empty (" + printable(link) +
                  "); give one or the other");
          return;
        }
        *at = json::array();
        empty_.insert(list);
        continue;
      }
      if (has_items && !has_answer) {
        // A repeating group: one record of a list (relationships).
        if (empty_.count(link)) {
          problem("'" + printable(link) + "' has records and is answered as empty (" + printable(link) + none +
                  "); give one or the other");
          return;
        }
        json row = json::object();
        items(it["item"], row, it["linkId"].get<std::string>(), depth + 1);
        json* at = slot(out, link);
        if (!at->is_array()) *at = json::array();
        at->push_back(std::move(row));
        continue;
      }
      if (!has_answer) {
        // Not answered: nothing is read, but a linkId that is no question of
        // the Questionnaire means the response is of another form, and is
        // not passed over in silence: it goes to the findings reader as a
        // finding not recorded, which reports a key the vocabulary does not
        // have as it reports an answered one (an error with did-you-mean, a
        // warning with --allow-unknown; the key shown only when it has the
        // form of a finding's path).
        const auto& full = it["linkId"].get_ref<const std::string&>();
        if (!texts_.empty() && !texts_.count(full)) slot(out, link);
        continue;
      }
      if (!it["answer"].is_array()) {
        problem("the answer to '" + printable(link) + "' is not a list");
        return;
      }
      if (it["answer"].empty()) {
        // FHIR has no empty lists: an item not answered has no 'answer'.
        problem("the answer to '" + printable(link) + "' is an empty list; leave 'answer' out of a question that was "
                "not answered");
        return;
      }
      if (has_items) {
        problem("the item '" + printable(link) + "' has both an answer and items of its own; give each question its "
                "own item, as the Questionnaire of 'iptplan export questionnaire' does");
        return;
      }
      json values = json::array();
      for (const auto& a : it["answer"]) {
        if (a.is_object() && a.contains("item")) {
          // Questions nested under an answer are not read: refused rather
          // than dropped, since one of them may be a risk answer.
          problem("an answer to '" + printable(link) + "' has items nested under it; give each question its own "
                  "item, as the Questionnaire of 'iptplan export questionnaire' does");
          return;
        }
        auto v = answer_value(a, link);
        if (!v) return;
        values.push_back(std::move(*v));
      }
      if (values.empty()) continue;
      json* at = slot(out, link);
      if (!at->is_null()) {
        problem("'" + printable(link) + "' is answered twice; a question has one item");
        return;
      }
      // One answer is a value; several are a list (the reader checks that
      // the finding is one).
      *at = values.size() == 1 && !repeats(link) ? values[0] : values;
    }
  }

  void set_repeating(std::vector<std::string> paths) { repeating_ = std::move(paths); }
  std::set<std::string> empty_;     // lists answered "<list>:none" = yes
  std::set<std::string> sections_;  // the section items read (component:...)
  // Each linkId's text as `export questionnaire` gives it.
  void set_texts(std::map<std::string, std::string> texts) { texts_ = std::move(texts); }

  // An item holds its linkId, its text, its answers or its items, and
  // nothing else; its text is the Questionnaire's. Any other text (an
  // extension, a note, a text of one's own) is free text that may name the
  // client, and the response's bytes are what a recorded plan keeps.
  bool item_is_plain(const json& it, const std::string& link) {
    for (const auto& [key, v] : it.items()) {
      if (key == "linkId" || key == "answer" || key == "item") continue;
      if (key == "text") {
        auto at = texts_.find(link);
        if (v.is_string() && at != texts_.end() && at->second == v.get<std::string>()) continue;
        problem("the text of item '" + printable(link) +
                "' is not the question's text in the Questionnaire of 'iptplan export questionnaire'; leave it out "
                "or give that text: other text may name the client and would be kept with the plan");
        return false;
      }
      problem(quoted_if_name(key, "an element") + " of item '" + printable(link) +
              "' is not read and may hold free text about the client; an item holds only linkId, text, answer and "
              "item: leave it out");
      return false;
    }
    return true;
  }

 private:
  std::string name_;
  std::vector<diagnostic>& diags_;
  bool ok_ = true;
  std::vector<std::string> repeating_;
  std::map<std::string, std::string> texts_;

  bool repeats(const std::string& path) const {
    return std::find(repeating_.begin(), repeating_.end(), path) != repeating_.end();
  }

  // The place of a dotted path in a findings object, created as needed.
  json* slot(json& root, const std::string& path) {
    json* at = &root;
    std::size_t start = 0;
    for (;;) {
      auto dot = path.find('.', start);
      std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (!at->is_object()) *at = json::object();
      at = &(*at)[part];
      if (dot == std::string::npos) return at;
      start = dot + 1;
    }
  }
};

}  // namespace

namespace {

// A value of the findings as JSON, as a .json findings file holds it.
json value_json(const program& prog, const client_data& c, const value& v) {
  switch (v.kind) {
    case vkind::boolean: return v.b;
    case vkind::number: return v.n == static_cast<double>(static_cast<long long>(v.n)) && std::fabs(v.n) < 1e15
                                   ? json(static_cast<long long>(v.n))
                                   : json(v.n);
    case vkind::symbol: return c.symbol_text(prog, v.sym);
    case vkind::list: {
      json out = json::array();
      for (const auto& x : c.lists[v.ref]) out.push_back(value_json(prog, c, x));
      return out;
    }
    default: return nullptr;
  }
}

void put_path(json& root, const std::string& path, json v) {
  json* at = &root;
  std::size_t start = 0;
  for (;;) {
    auto dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (dot == std::string::npos) {
      (*at)[part] = std::move(v);
      return;
    }
    at = &(*at)[part];
    start = dot + 1;
  }
}

}  // namespace

json findings_json(const program& prog, const client_data& c) {
  json out = json::object();
  const auto& decls = prog.vocab->findings();
  for (std::size_t i = 0; i < decls.size(); ++i) {
    const value& v = c.slots[i];
    // Only what was recorded: a value the skip logic gives is no answer.
    if (v.is_unknown() || c.is_implied(i)) continue;
    if (v.kind == vkind::table) {
      json rows = json::array();
      for (const auto& e : c.tables[v.ref]) {
        json row = json::object();
        for (std::size_t f = 0; f < decls[i].fields.size() && f < e.fields.size(); ++f) {
          if (!e.fields[f].is_unknown()) row[decls[i].fields[f].path] = value_json(prog, c, e.fields[f]);
        }
        rows.push_back(std::move(row));
      }
      put_path(out, decls[i].path, std::move(rows));
    } else {
      put_path(out, decls[i].path, value_json(prog, c, v));
    }
  }
  return out;
}

bool is_questionnaire_response(const json& j) {
  return j.is_object() && j.contains("resourceType") && j["resourceType"] == "QuestionnaireResponse";
}

std::optional<json> response_findings(const json& response, const vocabulary& vocab, const std::string& name,
                                      std::vector<diagnostic>& diags) {
  reader r(name, diags);
  std::vector<std::string> lists;
  for (const auto& d : vocab.findings()) {
    if (d.type == finding_type::list) lists.push_back(d.path);
  }
  r.set_repeating(std::move(lists));
  {
    // The texts `export questionnaire` gives: a component's name, a
    // question (or the finding's path), a record's field's question.
    std::map<std::string, std::string> texts;
    for (const auto& d : vocab.findings()) {
      std::string comp = d.component.empty() ? "other" : d.component;
      texts["component:" + comp] = comp;
      texts[d.path] = d.question.empty() ? d.path : d.question;
      if (d.type == finding_type::table_list) texts[d.path + kNoneSuffix] = kNoneText;
      auto labels = [&](const finding_decl& x, const std::string& link) {
        for (const auto& v : x.values) {
          const std::string* label = x.label_of(v);
          texts[link + '\x1f' + v] = label ? *label : v;
        }
      };
      labels(d, d.path);
      for (const auto& f : d.fields) {
        texts[d.path + "." + f.path] = f.question.empty() ? f.path : f.question;
        labels(f, d.path + "." + f.path);
      }
    }
    r.set_texts(std::move(texts));
  }
  if (!is_questionnaire_response(response)) {
    r.problem("not a FHIR QuestionnaireResponse (resourceType)");
    return std::nullopt;
  }
  // Only the answers are read, and nothing else is accepted: the elements
  // that name or date a person (subject, author, source, contained
  // resources, authored, narrative text, identifiers) must not reach the
  // plan store with the response's bytes.
  static const std::set<std::string> kAllowed = {"resourceType", "language", "questionnaire", "status", "item"};
  for (const auto& [key, v] : response.items()) {
    if (kAllowed.count(key)) continue;
    r.problem(quoted_if_name(key, "an element") +
              " is not read and may identify the client (a subject, an author, a date, a contained Patient, an id "
              "or tags); a response for iptplan holds only resourceType, questionnaire, status, language and item: "
              "leave it out");
    return std::nullopt;
  }
  // Kept with the response's bytes, so checked as words: the language a
  // code (en, en-GB), the questionnaire the canonical of 'iptplan export
  // questionnaire' (urn:iptplan:questionnaire:NAME:VERSION).
  if (response.contains("language") &&
      !(response["language"].is_string() && is_code_word(response["language"].get<std::string>()))) {
    r.problem("the language is not a language code (en, en-GB); leave it out");
    return std::nullopt;
  }
  if (response.contains("questionnaire")) {
    const json& q = response["questionnaire"];
    static const std::string kPrefix = "urn:iptplan:questionnaire:";
    if (!q.is_string() || q.get<std::string>().rfind(kPrefix, 0) != 0 ||
        !is_code_word(q.get<std::string>().substr(kPrefix.size()), true)) {
      r.problem("the questionnaire is not one of 'iptplan export questionnaire' (" + kPrefix +
                "NAME:VERSION); leave it out or give that one: other text may name the client and would be kept with "
                "the plan");
      return std::nullopt;
    }
  }
  if (response.contains("status")) {
    const json& st = response["status"];
    if (!st.is_string() || (st != "completed" && st != "in-progress" && st != "amended")) {
      r.problem("a response whose status is not completed, in-progress or amended (entered-in-error, stopped) is "
                "not planned");
      return std::nullopt;
    }
  }
  json out = json::object();
  if (response.contains("item")) r.items(response["item"], out, "", 0);
  if (!r.ok()) return std::nullopt;
  return out;
}

namespace {

json answer_of(const json& v, const std::string& link) {
  if (v.is_boolean()) return {{"valueBoolean", v}};
  if (v.is_number_integer()) return {{"valueInteger", v}};
  if (v.is_number()) return {{"valueDecimal", v}};
  return {{"valueCoding", {{"system", "urn:iptplan:vocabulary:" + link}, {"code", v}}}};
}

json answers_of(const finding_decl& d, const json& v, const std::string& link) {
  json out = json::array();
  auto one = [&](const json& x) {
    if (x.is_string() && d.values.empty()) out.push_back({{"valueString", x}});
    else out.push_back(answer_of(x, link));
  };
  if (v.is_array()) {
    for (const auto& x : v) one(x);
  } else {
    one(v);
  }
  return out;
}

const json* at_path(const json& root, const std::string& path) {
  const json* at = &root;
  std::size_t start = 0;
  for (;;) {
    auto dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!at->is_object() || !at->contains(part)) return nullptr;
    at = &(*at)[part];
    if (dot == std::string::npos) return at;
    start = dot + 1;
  }
}

}  // namespace

json response_of(const json& findings, const rule_set& rs) {
  json q = questionnaire(rs);
  const vocabulary& vocab = *rs.prog->vocab;
  json groups = json::array();
  for (const auto& g : q["item"]) {
    json items = json::array();
    for (const auto& it : g["item"]) {
      std::string link = it["linkId"];
      const finding_decl* d = vocab.find(link);
      const json* v = at_path(findings, link);
      if (!d || !v || v->is_null()) continue;
      if (d->type == finding_type::table_list) {
        if (!v->is_array()) continue;
        if (v->empty()) {
          items.push_back({{"linkId", link + kNoneSuffix}, {"answer", json::array({{{"valueBoolean", true}}})}});
          continue;
        }
        for (const auto& row : *v) {
          json fields = json::array();
          for (const auto& f : d->fields) {
            if (!row.is_object() || !row.contains(f.path) || row[f.path].is_null()) continue;
            fields.push_back({{"linkId", link + "." + f.path}, {"answer", answers_of(f, row[f.path], link + "." + f.path)}});
          }
          items.push_back({{"linkId", link}, {"item", fields}});
        }
        continue;
      }
      items.push_back({{"linkId", link}, {"answer", answers_of(*d, *v, link)}});
    }
    if (!items.empty()) groups.push_back({{"linkId", g["linkId"]}, {"item", items}});
  }
  return {{"resourceType", "QuestionnaireResponse"},
          {"questionnaire", q["url"]},
          {"status", "completed"},
          {"item", groups}};
}

std::optional<client_data> read_json_findings(const program& p, const std::string& name, const std::string& text,
                                              const findings_options& options, std::vector<diagnostic>& diags) {
  if (text.find("QuestionnaireResponse") == std::string::npos) return read_findings_json(p, name, text, options, diags);
  // A key given twice is refused here as the findings reader refuses it.
  auto parsed = jsonout::parse_strictly(text);
  if (!parsed || !is_questionnaire_response(*parsed)) {
    // Not a response after all (or broken): the findings reader says why.
    return read_findings_json(p, name, text, options, diags);
  }
  auto findings = response_findings(*parsed, *p.vocab, name, diags);
  if (!findings) return std::nullopt;
  std::size_t before = diags.size();
  auto c = read_findings_json(p, name, findings->dump(), options, diags);
  // The answers were read from the response's items: a line and column of
  // the findings made from them would point nowhere in the file given. The
  // message names the finding, which is the item's linkId.
  for (std::size_t i = before; i < diags.size(); ++i) {
    diags[i].line = 0;
    diags[i].column = 0;
    diags[i].source_line.clear();
    diags[i].notes.push_back("in the QuestionnaireResponse: the item whose linkId is the finding named above");
  }
  return c;
}

}  // namespace iptplan::fhir
