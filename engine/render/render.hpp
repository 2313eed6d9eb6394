// Renderers of a plan: `text` for the terminal, `markdown` for a clinician's
// notes (headed as a draft for clinical review), `json` for programs (every
// field, full explanation trees; its shape is documented in docs/json.md).
#pragma once

#include <string>

#include "engine/plan.hpp"

namespace iptplan {

std::string render_text(const plan& p);
std::string render_markdown(const plan& p);
std::string render_json(const plan& p);

// The derivation tree of one reason, indented, down to findings.
void append_reason_tree(std::string& out, const reason& r, int indent);

}  // namespace iptplan
