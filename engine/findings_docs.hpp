// How the findings reader sees a document, whatever it was written in: a
// TOML table (toml++) or a JSON object (simdjson's DOM). The reader
// (findings.cpp) is written once against these; no copy of the document is
// made to read it.
#pragma once

#include "engine/json_places.hpp"

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
  static location place(node n) {
    return {static_cast<int>(n->source().begin.line), static_cast<int>(n->source().begin.column)};
  }
  static location key_place(node) { return {}; }  // members_at gives it
};

struct json_doc {
  // A value, with where it sits in the document (json_places), so that a
  // message about it can give its line and column.
  struct node {
    simdjson::dom::element e;
    json_places* places = nullptr;
    std::uint32_t id = 0;
  };
  static constexpr bool repeats_keys = true;
  using type = simdjson::dom::element_type;
  static bool is_null(node n) { return n.e.type() == type::NULL_VALUE; }
  static bool is_table(node n) { return n.e.type() == type::OBJECT; }
  static bool is_array(node n) { return n.e.type() == type::ARRAY; }
  static bool is_integer(node n) { return n.e.type() == type::INT64 || n.e.type() == type::UINT64; }
  static bool is_number(node n) { return is_integer(n) || n.e.type() == type::DOUBLE; }
  static bool is_boolean(node n) { return n.e.type() == type::BOOL; }
  static bool is_string(node n) { return n.e.type() == type::STRING; }
  static bool is_date(node) { return false; }  // JSON has none
  static std::int64_t integer(node n) {
    if (n.e.type() == type::UINT64) {
      std::uint64_t u = n.e.get_uint64().value_unsafe();
      return u > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(u);
    }
    return n.e.get_int64().value_unsafe();
  }
  static double number(node n) {
    switch (n.e.type()) {
      case type::INT64: return static_cast<double>(n.e.get_int64().value_unsafe());
      case type::UINT64: return static_cast<double>(n.e.get_uint64().value_unsafe());
      default: return n.e.get_double().value_unsafe();
    }
  }
  static bool boolean(node n) { return n.e.get_bool().value_unsafe(); }
  static std::string_view string(node n) { return n.e.get_string().value_unsafe(); }
  static simdjson::dom::array array(node n) {
    simdjson::dom::array a;
    if (n.e.get(a) != simdjson::SUCCESS) return {};  // only called on arrays
    return a;
  }
  static simdjson::dom::object object(node n) {
    simdjson::dom::object o;
    if (n.e.get(o) != simdjson::SUCCESS) return {};  // only called on objects
    return o;
  }
  static node child(node parent, std::uint32_t ordinal, simdjson::dom::element e) {
    return {e, parent.places, parent.places ? parent.places->child(parent.id, ordinal) : 0};
  }
  static std::size_t size(node n) { return array(n).size(); }
  template <typename F>
  static void elements(node n, F&& f) {
    std::uint32_t i = 0;
    for (simdjson::dom::element x : array(n)) {
      f(i, child(n, i, x));
      ++i;
    }
  }
  template <typename F>
  static void members(node n, F&& f) {
    std::uint32_t k = 0;
    for (auto field : object(n)) f(field.key, child(n, k++, field.value));
  }
  // As members; the key's place is not known until asked (key_place), so
  // it is given as 0, 0.
  template <typename F>
  static void members_at(node n, F&& f) {
    std::uint32_t k = 0;
    for (auto field : object(n)) f(field.key, child(n, k++, field.value), 0, 0);
  }
  // The first member named `key` (as simdjson's at_key), unless null.
  static std::optional<node> member(node n, std::string_view key) {
    std::uint32_t k = 0;
    for (auto field : object(n)) {
      if (field.key == key) {
        if (field.value.type() == type::NULL_VALUE) return std::nullopt;
        return child(n, k, field.value);
      }
      ++k;
    }
    return std::nullopt;
  }
  static location place(node n) { return n.places ? n.places->where(n.id) : location{}; }
  static location key_place(node n) { return n.places ? n.places->where(n.id, true) : location{}; }
  static int line(node) { return 0; }  // see place()
};

}  // namespace iptplan::docs
