#include "server/jwt.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <nlohmann/json.hpp>

#include "engine/render/json_writer.hpp"

namespace iptplan::server {

using nlohmann::json;

struct trusted_key {
  std::string kid;
  std::string alg;  // the one algorithm it verifies: ES384 or RS384
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, EVP_PKEY_free};
};

namespace {

int digit_of(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

using bn_ptr = std::unique_ptr<BIGNUM, decltype(&BN_free)>;
bn_ptr bignum(const std::string& bytes) {
  return bn_ptr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()),
                          nullptr),
                BN_free);
}

// A public key from its JWK members; nullptr when they do not make one.
EVP_PKEY* key_from(const json& k, const std::string& kty) {
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  if (!bld) return nullptr;
  bn_ptr n(nullptr, BN_free), e(nullptr, BN_free);
  std::string pub;
  auto text = [&](const char* name) -> std::optional<std::string> {
    if (!k.contains(name) || !k[name].is_string()) return std::nullopt;
    return base64url_decode(k[name].get<std::string>());
  };
  if (kty == "RSA") {
    auto nb = text("n"), eb = text("e");
    if (!nb || !eb || nb->empty() || eb->empty()) return nullptr;
    n = bignum(*nb);
    e = bignum(*eb);
    if (!n || !e || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get())) {
      return nullptr;
    }
  } else {
    auto x = text("x"), y = text("y");
    if (!x || !y || x->size() != 48 || y->size() != 48) return nullptr;
    pub = std::string(1, '\x04') + *x + *y;
    if (!OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "secp384r1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size())) {
      return nullptr;
    }
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()),
                                                                  OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, kty == "RSA" ? "RSA" : "EC", nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return key;
}

// Whether `sig` signs `data` with `k` (JWS: SHA-384; ES384's signature is
// r and s, 48 bytes each, which OpenSSL wants as DER).
bool verified(const trusted_key& k, const std::string& data, std::string sig) {
  if (k.alg == "ES384") {
    if (sig.size() != 96) return false;
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> es(ECDSA_SIG_new(), ECDSA_SIG_free);
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), 48, nullptr);
    BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 48, 48, nullptr);
    if (!es || !r || !s || ECDSA_SIG_set0(es.get(), r, s) != 1) {
      BN_free(r);
      BN_free(s);
      return false;
    }
    unsigned char* der = nullptr;
    int len = i2d_ECDSA_SIG(es.get(), &der);
    if (len <= 0) return false;
    sig.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, k.key.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  // A failure leaves errors on this thread's queue, which other OpenSSL
  // users of the thread would read.
  ERR_clear_error();
  return ok;
}

// NumericDate: seconds since the epoch, a number within any clock's reach.
std::optional<std::int64_t> seconds(const json& v) {
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (u > (std::uint64_t{1} << 53)) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!(d > -9e15 && d < 9e15)) return std::nullopt;  // NaN too
    return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

// An RSA exponent odd and at least 3 (e = 1 would make any signature
// verify), and OpenSSL's own check of the key.
bool sound_public_key(EVP_PKEY* key, const std::string& kty) {
  if (kty == "RSA") {
    BIGNUM* e = nullptr;
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1) return false;
    bool ok = BN_is_odd(e) && !BN_is_one(e);
    BN_free(e);
    if (!ok) return false;
  }
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr),
                                                                  EVP_PKEY_CTX_free);
  bool ok = ctx && EVP_PKEY_public_check(ctx.get()) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace

std::optional<std::string> base64url_decode(const std::string& text) {
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int d = digit_of(c);
    if (d < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (bits >= 6) return std::nullopt;  // one digit left over: not base64url
  // The bits left over are padding and must be zero: one text per value.
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string base64url_encode(const std::string& bytes) {
  static const char* digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += digits[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += digits[(acc << (6 - bits)) & 63];
  return out;
}

std::optional<cds_trust> cds_trust::parse(const std::string& text, std::string& problem) {
  auto j = jsonout::parse_strictly(text);
  if (!j || !j->is_object()) {
    problem = "it is not a JSON object (or it gives a key twice)";
    return std::nullopt;
  }
  cds_trust t;
  if (!j->contains("audience") || !(*j)["audience"].is_string() || (*j)["audience"].get<std::string>().empty()) {
    problem = "'audience' is required: this service's base URL as CDS clients call it (https://...)";
    return std::nullopt;
  }
  t.audience_ = (*j)["audience"].get<std::string>();
  while (!t.audience_.empty() && t.audience_.back() == '/') t.audience_.pop_back();
  if (!j->contains("clients") || !(*j)["clients"].is_array() || (*j)["clients"].empty()) {
    problem = "'clients' is required: a list of {\"iss\": ..., \"jwks\": {\"keys\": [...]}}";
    return std::nullopt;
  }
  for (const auto& c : (*j)["clients"]) {
    if (!c.is_object() || !c.contains("iss") || !c["iss"].is_string() || c["iss"].get<std::string>().empty() ||
        !c.contains("jwks") || !c["jwks"].is_object() || !c["jwks"].contains("keys") ||
        !c["jwks"]["keys"].is_array()) {
      problem = "each client needs 'iss' (a text) and 'jwks' (a JWK Set: {\"keys\": [...]})";
      return std::nullopt;
    }
    std::string iss = c["iss"].get<std::string>();
    auto& keys = t.keys_[iss];
    for (const auto& k : c["jwks"]["keys"]) {
      std::string kty = k.is_object() && k.contains("kty") && k["kty"].is_string() ? k["kty"].get<std::string>() : "";
      std::string crv = k.is_object() && k.contains("crv") && k["crv"].is_string() ? k["crv"].get<std::string>() : "";
      std::string kid = k.is_object() && k.contains("kid") && k["kid"].is_string() ? k["kid"].get<std::string>() : "";
      if (kid.empty()) {
        problem = "a key of client '" + iss + "' has no 'kid': tokens name their key by it";
        return std::nullopt;
      }
      if (kty != "RSA" && !(kty == "EC" && crv == "P-384")) {
        problem = "key '" + kid + "' of client '" + iss + "' is neither RSA (RS384) nor EC P-384 (ES384)";
        return std::nullopt;
      }
      auto tk = std::make_shared<trusted_key>();
      tk->kid = kid;
      tk->alg = kty == "RSA" ? "RS384" : "ES384";
      tk->key.reset(key_from(k, kty));
      if (!tk->key) {
        problem = "key '" + kid + "' of client '" + iss + "' is not a valid public key";
        return std::nullopt;
      }
      if (kty == "RSA" && EVP_PKEY_get_bits(tk->key.get()) < 2048) {
        problem = "key '" + kid + "' of client '" + iss + "' is an RSA key shorter than 2048 bits";
        return std::nullopt;
      }
      if (!sound_public_key(tk->key.get(), kty)) {
        problem = "key '" + kid + "' of client '" + iss + "' is not a sound public key" +
                  (kty == "RSA" ? " (its exponent must be odd and at least 3)" : " (not a point of P-384)");
        return std::nullopt;
      }
      for (const auto& other : keys) {
        if (other->kid == kid) {
          problem = "client '" + iss + "' has two keys named '" + kid + "': a token could not say which";
          return std::nullopt;
        }
      }
      keys.push_back(std::move(tk));
    }
    if (keys.empty()) {
      problem = "client '" + iss + "' has no keys";
      return std::nullopt;
    }
  }
  return t;
}

std::string cds_trust::check(const std::string& authorization, const std::string& path, std::int64_t now) {
  const std::string scheme = "bearer ";
  if (authorization.size() <= scheme.size()) return "a CDS client's signed token is required (Authorization: Bearer <JWT>)";
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) {
      return "a CDS client's signed token is required (Authorization: Bearer <JWT>)";
    }
  }
  std::string token = authorization.substr(scheme.size());
  if (token.size() > 16384) return "the token is too long";
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string::npos || token.find('.', dot2 + 1) != std::string::npos) {
    return "the token is not a signed JWT (three parts separated by dots)";
  }
  auto head_text = base64url_decode(token.substr(0, dot1));
  auto body_text = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto sig = base64url_decode(token.substr(dot2 + 1));
  if (!head_text || !body_text || !sig) return "the token is not base64url";
  auto head = jsonout::parse_strictly(*head_text);
  auto body = jsonout::parse_strictly(*body_text);
  if (!head || !body || !head->is_object() || !body->is_object()) return "the token's header or claims are not a JSON object";
  auto text_of = [](const json& o, const char* name) -> std::string {
    return o.contains(name) && o[name].is_string() ? o[name].get<std::string>() : "";
  };
  std::string alg = text_of(*head, "alg"), kid = text_of(*head, "kid"), iss = text_of(*body, "iss");
  if (alg != "ES384" && alg != "RS384") return "the token must be signed with ES384 or RS384";
  if (head->contains("typ") && text_of(*head, "typ") != "JWT") return "the token's 'typ' is not JWT";
  if (head->contains("crit")) return "the token has 'crit' extensions, which this service does not understand";
  auto client = keys_.find(iss);
  if (iss.empty() || client == keys_.end()) return "the token's issuer ('iss') is not a trusted CDS client";
  const trusted_key* key = nullptr;
  for (const auto& k : client->second) {
    if (k->kid == kid) key = k.get();
  }
  if (!key) return "the token names no key ('kid') of its issuer";
  if (key->alg != alg) return "the token's algorithm does not match its key";
  if (!verified(*key, token.substr(0, dot2), *sig)) return "the token's signature does not verify";
  // Claims, once the signature shows who wrote them.
  std::string want = audience_ + path;
  bool aud = false;
  if (body->contains("aud")) {
    const json& a = (*body)["aud"];
    if (a.is_string()) aud = a.get<std::string>() == want;
    if (a.is_array()) {
      for (const auto& x : a) aud = aud || (x.is_string() && x.get<std::string>() == want);
    }
  }
  if (!aud) return "the token's audience ('aud') is not this endpoint (" + want + ")";
  auto exp = body->contains("exp") ? seconds((*body)["exp"]) : std::nullopt;
  auto iat = body->contains("iat") ? seconds((*body)["iat"]) : std::nullopt;
  std::string jti = text_of(*body, "jti");
  if (!exp || !iat || jti.empty()) return "the token needs 'exp', 'iat' and 'jti'";
  if (*exp <= now - kLeeway) return "the token has expired";
  if (*iat > now + kLeeway) return "the token was issued in the future";
  if (body->contains("nbf")) {
    auto nbf = seconds((*body)["nbf"]);
    if (!nbf) return "the token's 'nbf' is not a time";
    if (*nbf > now + kLeeway) return "the token is not valid yet ('nbf')";
  }
  if (*exp > now + kMaxLifetime + kLeeway) return "the token lives longer than 5 minutes";
  if (jti.size() > 256) return "the token's 'jti' is too long";
  auto& g = *replay_;
  std::lock_guard<std::mutex> lock(g.m);
  // Forget tokens that have expired: they are refused for that already.
  while (!g.by_expiry.empty() && g.by_expiry.begin()->first <= now - kLeeway) {
    g.seen.erase(g.by_expiry.begin()->second);
    g.by_expiry.erase(g.by_expiry.begin());
  }
  if (g.seen.size() >= 1000000) return "too many tokens at once; try again in a few minutes";
  std::string id = iss + '\n' + jti;
  if (!g.seen.insert(id).second) return "the token was used before ('jti'): send a new one";
  g.by_expiry.emplace(*exp, std::move(id));
  return "";
}

}  // namespace iptplan::server
