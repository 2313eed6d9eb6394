// CDS Hooks client authentication (server/jwt.cpp): the trust file, and
// every way a CDS client's signed token is accepted or refused.
#include <catch2/catch.hpp>

#include <cmath>
#include <ctime>
#include <string>

#include "jwt_support.hpp"
#include "server/jwt.hpp"

using namespace iptplan;
using namespace iptplan::test_support;
using nlohmann::json;

namespace {

const std::string kIss = "https://ehr.clinic.example";
const std::string kAudience = "https://cds.clinic.example";

struct fixture {
  cds_client_key ec{"ES384", "ec-1"};
  cds_client_key rsa{"RS384", "rsa-1"};
  cds_client_key other{"ES384", "ec-other"};  // trusted, for another issuer
  server::cds_trust trust = make();
  std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));

  server::cds_trust make() {
    json file = {{"audience", kAudience + "/"},
                 {"clients", {{{"iss", kIss}, {"jwks", {{"keys", {ec.jwk(), rsa.jwk()}}}}},
                              {{"iss", "https://other.example"}, {"jwks", {{"keys", {other.jwk()}}}}}}}};
    std::string problem;
    auto t = server::cds_trust::parse(file.dump(), problem);
    INFO(problem);
    REQUIRE(t);
    return *t;
  }
  json claims(const std::string& path = "/cds-services/iptplan") const {
    static int n = 0;
    return {{"iss", kIss}, {"aud", kAudience + path}, {"iat", now}, {"exp", now + 60},
            {"jti", "jti-" + std::to_string(++n)}};
  }
  std::string check(const std::string& token, const std::string& path = "/cds-services/iptplan") {
    return trust.check("Bearer " + token, path, now);
  }
};

}  // namespace

TEST_CASE("jwt: base64url round trips every length and refuses other alphabets") {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    bytes += static_cast<char>(i * 37);
    auto back = server::base64url_decode(server::base64url_encode(bytes));
    REQUIRE(back);
    CHECK(*back == bytes);
  }
  CHECK_FALSE(server::base64url_decode("ab+c"));
  CHECK_FALSE(server::base64url_decode("ab/c"));
  CHECK_FALSE(server::base64url_decode("abc="));
  CHECK_FALSE(server::base64url_decode("a"));
  // Padding bits must be zero: one text per value.
  CHECK(server::base64url_decode("aQ"));
  CHECK_FALSE(server::base64url_decode("ab"));
}

TEST_CASE("jwt: ES384 and RS384 tokens of a trusted client are accepted, once") {
  fixture f;
  auto es = f.ec.token(f.claims());
  CHECK(f.check(es) == "");
  CHECK(f.check(es).find("used before") != std::string::npos);
  CHECK(f.check(f.rsa.token(f.claims())) == "");
  // `aud` as a list naming this endpoint; the scheme word in any case.
  auto c = f.claims("/cds-services");
  c["aud"] = json::array({"https://elsewhere.example", kAudience + "/cds-services"});
  CHECK(f.trust.check("bearer " + f.ec.token(c), "/cds-services", f.now) == "");
  // Within the clocks' leeway.
  c = f.claims();
  c["iat"] = f.now + 30;
  c["exp"] = f.now - 30;
  CHECK(f.check(f.ec.token(c)) == "");
  // The same jti from another issuer is another token.
  c = f.claims();
  c["iss"] = "https://other.example";
  c["jti"] = "shared";
  CHECK(f.check(f.other.token(c)) == "");
  c = f.claims();
  c["jti"] = "shared";
  CHECK(f.check(f.ec.token(c)) == "");
}

TEST_CASE("jwt: every other token is refused, saying why, never repeating it") {
  fixture f;
  auto refused = [&](const std::string& token, const std::string& why, const std::string& path = "/cds-services/iptplan") {
    INFO(why);
    std::string got = f.check(token, path);
    CHECK(got.find(why) != std::string::npos);
    if (token.size() > 20) CHECK(got.find(token.substr(0, 20)) == std::string::npos);
  };
  auto with = [&](const char* claim, const json& v) {
    auto c = f.claims();
    if (v.is_null()) c.erase(claim);
    else c[claim] = v;
    return f.ec.token(c);
  };
  refused(with("aud", kAudience + "/cds-services"), "audience");
  refused(with("aud", "https://evil.example/cds-services/iptplan"), "audience");
  refused(with("aud", nullptr), "audience");
  refused(with("exp", f.now - 61), "expired");
  refused(with("iat", f.now + 61), "future");
  refused(with("exp", f.now + 3600), "longer than 5 minutes");
  refused(with("jti", nullptr), "'jti'");
  refused(with("jti", ""), "'jti'");
  refused(with("exp", "soon"), "'exp'");
  refused(with("iss", "https://unknown.example"), "issuer");
  refused(with("iss", nullptr), "issuer");
  refused(with("exp", 1e300), "'exp'");
  refused(with("iat", std::nan("")), "'exp', 'iat'");
  refused(with("nbf", f.now + 120), "not valid yet");
  refused(with("nbf", "now"), "'nbf'");
  refused(f.ec.token(f.claims(), {{"crit", {"exp"}}}), "'crit'");
  // Keys: one the issuer does not hold, another issuer's, the wrong type.
  refused(f.ec.token(f.claims(), {{"kid", "nope"}}), "names no key");
  refused(f.other.token(f.claims()), "names no key");
  refused(f.other.token(f.claims(), {{"kid", "ec-1"}}), "signature does not verify");
  refused(f.rsa.token(f.claims(), {{"kid", "ec-1"}, {"alg", "ES384"}}), "signature does not verify");
  refused(f.ec.token(f.claims(), {{"alg", "RS384"}}), "does not match its key");
  refused(f.ec.token(f.claims(), {{"typ", "JOSE+JSON"}}), "'typ'");
  // Unsigned, symmetric, or changed after signing.
  auto none = server::base64url_encode(json({{"alg", "none"}, {"kid", "ec-1"}}).dump()) + "." +
              server::base64url_encode(f.claims().dump()) + ".";
  refused(none, "ES384 or RS384");
  refused(f.ec.token(f.claims(), {{"alg", "HS256"}}), "ES384 or RS384");
  auto good = f.ec.token(f.claims());
  auto dot1 = good.find('.'), dot2 = good.rfind('.');
  auto forged = f.claims();
  forged["iss"] = kIss;
  forged["aud"] = kAudience + "/cds-services/iptplan";
  refused(good.substr(0, dot1 + 1) + server::base64url_encode(forged.dump()) + good.substr(dot2),
          "signature does not verify");
  refused(good.substr(0, dot2), "three parts");
  refused(good + ".x", "three parts");
  refused("a.b!.c", "base64url");
  refused(server::base64url_encode("[1]") + "." + server::base64url_encode("{}") + ".", "not a JSON object");
  CHECK(f.trust.check("", "/cds-services/iptplan", f.now).find("required") != std::string::npos);
  CHECK(f.trust.check("Basic dXNlcjpwYXNz", "/cds-services/iptplan", f.now).find("required") != std::string::npos);
  CHECK(f.trust.check("Bearer " + std::string(20000, 'a'), "/cds-services/iptplan", f.now).find("too long") !=
        std::string::npos);
}

TEST_CASE("jwt: a trust file that cannot be used is refused, saying why") {
  cds_client_key ec("ES384", "k");
  cds_client_key weak("RS384", "weak", 1024);
  auto problem_of = [](const json& file) {
    std::string problem;
    auto t = server::cds_trust::parse(file.dump(), problem);
    CHECK_FALSE(t);
    return problem;
  };
  json client = {{"iss", kIss}, {"jwks", {{"keys", {ec.jwk()}}}}};
  // A trust file whose one client holds `keys`.
  auto holding = [](const json& keys) {
    json c = {{"iss", kIss}, {"jwks", {{"keys", keys}}}};
    return json{{"audience", kAudience}, {"clients", json::array({c})}};
  };
  std::string problem;
  CHECK_FALSE(server::cds_trust::parse("not json", problem));
  CHECK(problem.find("JSON") != std::string::npos);
  CHECK(problem_of({{"clients", {client}}}).find("'audience'") != std::string::npos);
  CHECK(problem_of({{"audience", kAudience}}).find("'clients'") != std::string::npos);
  CHECK(problem_of({{"audience", kAudience}, {"clients", json::array()}}).find("'clients'") != std::string::npos);
  CHECK(problem_of({{"audience", kAudience}, {"clients", {{{"iss", kIss}}}}}).find("'jwks'") != std::string::npos);
  auto key = ec.jwk();
  key.erase("kid");
  CHECK(problem_of(holding(json::array({key})))
            .find("'kid'") != std::string::npos);
  key = ec.jwk();
  key["crv"] = "P-256";
  CHECK(problem_of(holding(json::array({key})))
            .find("neither RSA") != std::string::npos);
  key = ec.jwk();
  key["x"] = server::base64url_encode(std::string(48, '\x01'));
  CHECK(problem_of(holding(json::array({key})))
            .find("not a valid public key") != std::string::npos);
  CHECK(problem_of(holding(json::array({weak.jwk()})))
            .find("2048") != std::string::npos);
  auto twice = ec.jwk();
  CHECK(problem_of(holding(json::array({ec.jwk(), twice}))).find("two keys named") != std::string::npos);
  cds_client_key rsa("RS384", "r");
  key = rsa.jwk();
  key["e"] = server::base64url_encode(std::string(1, '\x01'));
  CHECK(problem_of(holding(json::array({key}))).find("key 'r'") != std::string::npos);
  key["e"] = server::base64url_encode(std::string(1, '\x04'));
  CHECK(problem_of(holding(json::array({key}))).find("key 'r'") != std::string::npos);
  CHECK(problem_of(holding(json::array()))
            .find("no keys") != std::string::npos);
}
