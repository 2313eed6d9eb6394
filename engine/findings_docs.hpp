// How the findings reader sees a document, whatever it was written in: a
// TOML table (toml++) or a JSON object (simdjson's DOM). The reader
// (findings.cpp) is written once against these; no copy of the document is
// made to read it.
#pragma once

#include <simdjson.h>
#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iptplan::docs {

struct toml_doc {
  using node = const toml::node*;
  // toml++ refuses a key given twice; simdjson keeps both.
  static constexpr bool repeats_keys = false;
  static bool is_null(node) { return false; }
  static bool is_table(node n) { return n->is_table(); }
  static bool is_array(node n) { return n->is_array(); }
  static bool is_integer(node n) { return n->is_integer(); }
  static bool is_number(node n) { return n->is_number(); }
  static bool is_boolean(node n) { return n->is_boolean(); }
  static bool is_string(node n) { return n->is_string(); }
  static bool is_date(node n) { return n->is_date() || n->is_date_time(); }
  static std::int64_t integer(node n) { return *n->value<std::int64_t>(); }
  static double number(node n) { return *n->value<double>(); }
  static bool boolean(node n) { return *n->value<bool>(); }
  static std::string_view string(node n) { return n->as_string()->get(); }
  static std::size_t size(node n) { return n->as_array()->size(); }
  template <typename F>
  static void elements(node n, F&& f) {
    std::size_t i = 0;
    for (auto&& x : *n->as_array()) f(i++, &x);
  }
  template <typename F>
  static void members(node n, F&& f) {
    for (auto&& [k, v] : *n->as_table()) f(std::string_view(k.str()), &v);
  }
  // As members, with where each key is written (line, column).
  template <typename F>
  static void members_at(node n, F&& f) {
    for (auto&& [k, v] : *n->as_table()) {
      f(std::string_view(k.str()), &v, static_cast<int>(k.source().begin.line),
        static_cast<int>(k.source().begin.column));
    }
  }
  static std::optional<node> member(node n, std::string_view key) {
    if (node x = n->as_table()->get(key)) return x;
    return std::nullopt;
  }
  static int line(node n) { return static_cast<int>(n->source().begin.line); }
  static int column(node n) { return static_cast<int>(n->source().begin.column); }
};

struct json_doc {
  using node = simdjson::dom::element;
  static constexpr bool repeats_keys = true;
  using type = simdjson::dom::element_type;
  static bool is_null(node n) { return n.type() == type::NULL_VALUE; }
  static bool is_table(node n) { return n.type() == type::OBJECT; }
  static bool is_array(node n) { return n.type() == type::ARRAY; }
  static bool is_integer(node n) { return n.type() == type::INT64 || n.type() == type::UINT64; }
  static bool is_number(node n) { return is_integer(n) || n.type() == type::DOUBLE; }
  static bool is_boolean(node n) { return n.type() == type::BOOL; }
  static bool is_string(node n) { return n.type() == type::STRING; }
  static bool is_date(node) { return false; }  // JSON has none
  static std::int64_t integer(node n) {
    if (n.type() == type::UINT64) {
      std::uint64_t u = n.get_uint64().value_unsafe();
      return u > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(u);
    }
    return n.get_int64().value_unsafe();
  }
  static double number(node n) {
    switch (n.type()) {
      case type::INT64: return static_cast<double>(n.get_int64().value_unsafe());
      case type::UINT64: return static_cast<double>(n.get_uint64().value_unsafe());
      default: return n.get_double().value_unsafe();
    }
  }
  static bool boolean(node n) { return n.get_bool().value_unsafe(); }
  static std::string_view string(node n) { return n.get_string().value_unsafe(); }
  static simdjson::dom::array array(node n) {
    simdjson::dom::array a;
    if (n.get(a) != simdjson::SUCCESS) return {};  // only called on arrays
    return a;
  }
  static simdjson::dom::object object(node n) {
    simdjson::dom::object o;
    if (n.get(o) != simdjson::SUCCESS) return {};  // only called on objects
    return o;
  }
  static std::size_t size(node n) { return array(n).size(); }
  template <typename F>
  static void elements(node n, F&& f) {
    std::size_t i = 0;
    for (node x : array(n)) f(i++, x);
  }
  template <typename F>
  static void members(node n, F&& f) {
    for (auto field : object(n)) f(field.key, field.value);
  }
  template <typename F>
  static void members_at(node n, F&& f) {
    for (auto field : object(n)) f(field.key, field.value, 0, 0);  // no positions in the DOM
  }
  static std::optional<node> member(node n, std::string_view key) {
    node x;
    if (object(n).at_key(key).get(x) || x.type() == type::NULL_VALUE) return std::nullopt;
    return x;
  }
  static int line(node) { return 0; }
  static int column(node) { return 0; }
};

}  // namespace iptplan::docs
