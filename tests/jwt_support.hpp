// A CDS client for tests: a key pair (ES384 or RS384), its JWK, and tokens
// signed with it, as an EHR would send them.
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "server/jwt.hpp"

namespace iptplan::test_support {

struct cds_client_key {
  std::string alg, kid;
  std::shared_ptr<EVP_PKEY> key;

  // alg: "ES384" or "RS384"; bits: the RSA key's size.
  cds_client_key(std::string a, std::string k, int bits = 2048) : alg(std::move(a)), kid(std::move(k)) {
    EVP_PKEY* p = alg == "ES384" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384")
                                 : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits));
    REQUIRE(p);
    key.reset(p, EVP_PKEY_free);
  }

  nlohmann::json jwk() const {
    auto b64 = [](const std::string& s) { return server::base64url_encode(s); };
    if (alg == "ES384") {
      unsigned char buf[128];
      std::size_t len = 0;
      REQUIRE(EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf, sizeof buf,
                                              &len) == 1);
      REQUIRE(len == 97);
      std::string pt(reinterpret_cast<char*>(buf), len);
      return {{"kty", "EC"}, {"crv", "P-384"}, {"kid", kid}, {"x", b64(pt.substr(1, 48))}, {"y", b64(pt.substr(49))}};
    }
    auto bn = [&](const char* name) {
      BIGNUM* b = nullptr;
      REQUIRE(EVP_PKEY_get_bn_param(key.get(), name, &b) == 1);
      std::string out(static_cast<std::size_t>(BN_num_bytes(b)), '\0');
      BN_bn2bin(b, reinterpret_cast<unsigned char*>(out.data()));
      BN_free(b);
      return out;
    };
    return {{"kty", "RSA"}, {"kid", kid}, {"n", b64(bn(OSSL_PKEY_PARAM_RSA_N))}, {"e", b64(bn(OSSL_PKEY_PARAM_RSA_E))}};
  }

  // header.claims.signature; `header` is completed with alg and kid unless
  // they are given.
  std::string token(const nlohmann::json& claims, nlohmann::json header = nlohmann::json::object()) const {
    if (!header.contains("alg")) header["alg"] = alg;
    if (!header.contains("kid")) header["kid"] = kid;
    if (!header.contains("typ")) header["typ"] = "JWT";
    std::string data = server::base64url_encode(header.dump()) + "." + server::base64url_encode(claims.dump());
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    REQUIRE(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key.get()) == 1);
    std::size_t len = 0;
    auto bytes = reinterpret_cast<const unsigned char*>(data.data());
    REQUIRE(EVP_DigestSign(ctx.get(), nullptr, &len, bytes, data.size()) == 1);
    std::string sig(len, '\0');
    REQUIRE(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes, data.size()) == 1);
    sig.resize(len);
    if (alg == "ES384") {
      // DER to r || s, 48 bytes each, as JWS writes it.
      auto p = reinterpret_cast<const unsigned char*>(sig.data());
      ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
      REQUIRE(es);
      std::string raw(96, '\0');
      BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 48);
      BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + 48, 48);
      ECDSA_SIG_free(es);
      sig = raw;
    }
    return data + "." + server::base64url_encode(sig);
  }
};

}  // namespace iptplan::test_support
