// The findings as they are kept and hashed: without their comments.
//
// A findings file is written by a clinician, and a comment is free text:
// "# Mary Smith, seen 3 March" is exactly what no record may keep. The
// findings hash, and the findings a plan store records, cover the findings
// without their comments, so a plan is the same, and has the same findings
// hash, whatever its comments say (a comment added on a line of its own adds
// a line, which the hash sees: lines are kept so that every position in the
// findings stays where it was), and no comment is ever stored.
#pragma once

#include <string>
#include <string_view>

namespace iptplan {

// The text with every TOML comment's text removed (from '#' outside a
// string to the end of its line), and the spaces before it: line breaks
// are kept, so every line and column of the content stays where it was.
// Strings (basic, literal, multi-line) are kept whole, '#' and all. JSON has
// no comments and comes back unchanged. Idempotent.
std::string without_comments(std::string_view text);

// The findings hash: sha256 of without_comments(text), in hex.
std::string findings_sha256(std::string_view text);

}  // namespace iptplan
