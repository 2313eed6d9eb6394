// CDS Hooks client authentication: the JSON Web Token a CDS client signs
// and sends on every call (`Authorization: Bearer <JWT>`), checked against
// the clients this service trusts. ES384 and RS384 signatures; the issuer,
// audience, expiry, issue time and a once-only `jti` are required.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace iptplan::server {

struct trusted_key;  // a public key from a client's JWK Set (jwt.cpp)

// The trust file (docs/api.md, "CDS Hooks"):
//   {"audience": "https://cds.clinic.example",
//    "clients": [{"iss": "https://ehr.clinic.example", "jwks": {"keys": [...]}}]}
// `audience` is this service's base URL as clients call it; a token's
// `aud` must name the endpoint called under it.
class cds_trust {
 public:
  // The trust file's text; nullopt with `problem` set when it is unusable.
  static std::optional<cds_trust> parse(const std::string& text, std::string& problem);

  // Empty when `authorization` (the header's value) carries a valid token
  // for calling `path` at `now` (seconds since the epoch); otherwise why
  // not, in words that never repeat the token. A valid token's `jti` is
  // remembered until it expires: a token is accepted once.
  std::string check(const std::string& authorization, const std::string& path, std::int64_t now);

  const std::string& audience() const { return audience_; }
  std::size_t clients() const { return keys_.size(); }

  // Tokens live at most this long (exp - now), as CDS Hooks advises, and
  // clocks may differ by this much.
  static constexpr std::int64_t kMaxLifetime = 300;
  static constexpr std::int64_t kLeeway = 60;

 private:
  std::string audience_;
  std::map<std::string, std::vector<std::shared_ptr<trusted_key>>> keys_;  // by issuer
  // Tokens accepted and not yet expired (issuer and jti), with when each
  // expires: a replayed token is refused.
  struct replay_guard {
    std::mutex m;
    std::set<std::string> seen;
    std::multimap<std::int64_t, std::string> by_expiry;
  };
  std::shared_ptr<replay_guard> replay_ = std::make_shared<replay_guard>();
};

// Base64url without padding (RFC 7515), as JWTs and JWKs write bytes.
std::optional<std::string> base64url_decode(const std::string& text);
std::string base64url_encode(const std::string& bytes);

}  // namespace iptplan::server
