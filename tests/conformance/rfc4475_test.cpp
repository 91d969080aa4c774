// RFC 4475: every torture message, with the verdict the RFC's section expects and the fields it calls out.
#include <gtest/gtest.h>

#include <functional>

#include "app/check_message.hpp"
#include "sip/message.hpp"
#include "sip/validate.hpp"
#include "testdata.hpp"

using namespace sw::sip;
using sw::test::read_file;
using sw::test::testdata;

namespace {

struct Case {
    const char* file;
    int status;                                  // 0: accepted
    const char* reason_part;                     // substring of the reason for rejected ones
    std::function<void(const Message&)> fields;  // checks on accepted ones
};

// Names the case in test output instead of dumping its bytes.
void PrintTo(const Case& c, std::ostream* os) {
    *os << c.file;
}

std::string load(const char* name) {
    return read_file(testdata(std::string("rfc4475/") + name + ".dat"));
}

const std::vector<Case>& cases() {
    static const std::vector<Case> kCases = {
        // 3.1.1 valid messages
        {"wsinv", 0, "",
         [](const Message& m) {
             EXPECT_EQ(m.method(), "INVITE");
             EXPECT_EQ(m.to().uri.host, "chair-dnrc.example.com");
             EXPECT_EQ(m.to().tag, "1918181833n");
             EXPECT_EQ(m.from().display(), "J Rosenberg \\\"");
             EXPECT_EQ(m.from().tag, "98asjd8");
             EXPECT_EQ(m.max_forwards(), 68);
             EXPECT_EQ(m.cseq().number, 9u);
             EXPECT_EQ(m.cseq().method, "INVITE");
             ASSERT_EQ(m.vias().size(), 3u);
             EXPECT_EQ(m.vias()[0].transport, "UDP");
             EXPECT_EQ(m.vias()[0].host, "192.0.2.2");
             EXPECT_EQ(m.vias()[0].branch, "390skdjuw");
             EXPECT_EQ(m.vias()[1].transport, "TCP");
             EXPECT_EQ(m.vias()[1].host, "spindle.example.com");
             EXPECT_EQ(m.vias()[1].branch, "z9hG4bK9ikj8");
             EXPECT_EQ(m.vias()[2].host, "192.168.255.111");
             EXPECT_EQ(m.vias()[2].branch, "z9hG4bK30239");
             EXPECT_EQ(m.header(HeaderId::Subject), "");
             EXPECT_TRUE(m.has(HeaderId::Subject));
             EXPECT_EQ(m.find("NewFangledHeader")->value, "newfangled value   continued newfangled value");
             EXPECT_EQ(m.find("UnknownHeaderWithUnusualValue")->value, ";;,,;;,;");
             const auto& c = m.contacts();
             ASSERT_EQ(c.contacts.size(), 1u);
             EXPECT_EQ(c.contacts[0].display(), "Quoted string \"\"");
             EXPECT_EQ(contact_q(c.contacts[0]).value(), 330);
             EXPECT_EQ(c.contacts[0].param("newparam")->value, "newvalue");
             auto routes = m.addresses(HeaderId::Route);
             ASSERT_TRUE(routes.has_value());
             EXPECT_TRUE(routes->at(0).uri.has_param("lr"));
             EXPECT_EQ(m.body().size(), 150u);
         }},
        {"intmeth", 0, "",
         [](const Message& m) {
             EXPECT_EQ(m.method(), "!interesting-Method0123456789_*+`.%indeed'~");
             EXPECT_EQ(m.method_id(), Method::Extension);
             EXPECT_EQ(m.cseq().method, m.method());
             EXPECT_EQ(m.request_uri().user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
             EXPECT_EQ(m.request_uri().password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
             EXPECT_EQ(m.from().display_name, "token1~` token2'+_ token3*%!.-");
             EXPECT_EQ(m.from().tag, "_token~1'+`*%!-.");
             EXPECT_EQ(m.call_id(), "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
             EXPECT_NE(m.find("extensionHeader-!.%*+_`'~"), nullptr);
             EXPECT_EQ(m.to().display(), std::string("BEL:\a NUL:") + '\0' + " DEL:\x7f");
         }},
        {"esc01", 0, "",
         [](const Message& m) {
             EXPECT_EQ(unescape(m.request_uri().user), "sips:user@example.com");
             EXPECT_EQ(unescape(m.to().uri.user), "user");
             EXPECT_EQ(unescape(m.from().uri.user), "I have spaces");
             const auto& c = m.contacts();
             EXPECT_EQ(unescape(c.contacts[0].uri.user), "caller");
             // %6C%72 is "lr"; n%61me=v%61lue%25%34%31 is name=value%41
             auto contact_uri = parse_uri("sip:caller@host5.example.net;lr;name=value%2541").value();
             EXPECT_TRUE(uri_equal(c.contacts[0].uri, contact_uri));
         }},
        {"escnull", 0, "",
         [](const Message& m) {
             EXPECT_EQ(unescape(m.to().uri.user), std::string("null-\0-null", 11));
             const auto& c = m.contacts();
             ASSERT_EQ(c.contacts.size(), 2u);
             EXPECT_EQ(unescape(c.contacts[1].uri.user), std::string("\0\0", 2));
         }},
        {"esc02", 0, "",
         [](const Message& m) {
             EXPECT_EQ(m.method(), "RE%47IST%45R");  // not REGISTER: methods are not unescaped
             EXPECT_EQ(m.method_id(), Method::Extension);
             EXPECT_EQ(m.to().display(), "%Z%45");
             EXPECT_EQ(m.values(HeaderId::Contact).size(), 2u);  // C%6Fntact is another header
             EXPECT_NE(m.find("C%6Fntact"), nullptr);
         }},
        {"lwsdisp", 0, "",
         [](const Message& m) {
             EXPECT_EQ(m.from().display(), "caller");
             EXPECT_EQ(m.from().uri.user, "caller");
         }},
        {"longreq", 0, "",
         [](const Message& m) {
             EXPECT_EQ(m.to().display().size(), 103u);
             EXPECT_EQ(m.to().uri.port, 6000);
             EXPECT_EQ(m.vias().size(), 34u);  // RFC 4475 3.1.1.7: 34 Via values
             EXPECT_EQ(m.from().tag.size(), 155u);
             EXPECT_EQ(m.body().size(), 150u);
         }},
        {"dblreq", 0, "",
         [](const Message& m) {
             EXPECT_EQ(m.method(), "REGISTER");  // the second request in the datagram is ignored
             EXPECT_EQ(m.body().size(), 0u);
             EXPECT_EQ(m.serialize().find("INVITE"), std::string::npos);
         }},
        {"semiuri", 0, "",
         [](const Message& m) {
             EXPECT_EQ(m.request_uri().user, "user;par=u%40example.net");
             EXPECT_EQ(m.request_uri().host, "example.com");
             EXPECT_TRUE(m.request_uri().params.empty());
             EXPECT_EQ(m.values(HeaderId::Accept).size(), 1u);
         }},
        {"transports", 0, "",
         [](const Message& m) {
             ASSERT_EQ(m.vias().size(), 5u);
             EXPECT_EQ(m.vias()[1].transport, "SCTP");
             EXPECT_EQ(m.vias()[2].transport, "TLS");
             EXPECT_EQ(m.vias()[3].transport, "UNKNOWN");
             EXPECT_EQ(m.vias()[4].transport, "TCP");
         }},
        {"mpart01", 0, "",
         [](const Message& m) {
             EXPECT_EQ(m.method_id(), Method::Message);
             auto ct = m.content_type();
             ASSERT_TRUE(ct.has_value());
             EXPECT_EQ(ct->value().type, "multipart");
             EXPECT_EQ(m.body().size(), 553u);
         }},
        {"unreason", 0, "",
         [](const Message& m) {
             EXPECT_TRUE(m.is_response());
             EXPECT_EQ(m.status(), 200);
             EXPECT_EQ(m.reason(),
                       "= 2**3 * 5**2 \xd0\xbd\xd0\xbe \xd1\x81\xd1\x82\xd0\xbe "
                       "\xd0\xb4\xd0\xb5\xd0\xb2\xd1\x8f\xd0\xbd\xd0\xbe\xd1\x81\xd1\x82\xd0\xbe "
                       "\xd0\xb4\xd0\xb5\xd0\xb2\xd1\x8f\xd1\x82\xd1\x8c - "
                       "\xd0\xbf\xd1\x80\xd0\xbe\xd1\x81\xd1\x82\xd0\xbe\xd0\xb5");
         }},
        {"noreason", 0, "",
         [](const Message& m) {
             EXPECT_EQ(m.status(), 100);
             EXPECT_EQ(m.reason(), "");
         }},
        // 3.1.2 invalid messages
        {"badinv01", 400, "Via", nullptr},
        {"clerr", 400, "Content-Length", nullptr},
        {"ncl", 400, "Content-Length", nullptr},
        {"scalar02", 400, "CSeq", nullptr},
        {"scalarlg", 400, "CSeq", nullptr},
        {"quotbal", 400, "To", nullptr},
        {"ltgtruri", 400, "Request-URI", nullptr},
        {"lwsruri", 400, "request line", nullptr},
        {"lwsstart", 400, "request line", nullptr},
        {"trws", 400, "version", nullptr},
        {"escruri", 400, "Request-URI", nullptr},
        {"baddate", 400, "Date", nullptr},
        {"regbadct", 400, "Contact", nullptr},
        {"badaspec", 400, "To", nullptr},
        {"baddn", 400, "From", nullptr},
        {"badvers", 505, "Version Not Supported", nullptr},
        {"mismatch01", 400, "CSeq method", nullptr},
        {"mismatch02", 400, "CSeq method", nullptr},
        {"bigcode", 400, "status code", nullptr},
        // 3.2 transaction layer
        {"badbranch", 0, "",
         [](const Message& m) {
             EXPECT_EQ(m.top_via().branch, "z9hG4bK");
             EXPECT_FALSE(m.top_via().rfc3261_branch());  // the cookie alone is no RFC 3261 branch
         }},
        // 3.3 application layer
        {"insuf", 400, "Missing", nullptr},
        {"unkscm", 416, "Unsupported URI Scheme", nullptr},
        {"novelsc", 416, "Unsupported URI Scheme", nullptr},
        {"unksm2", 0, "",
         [](const Message& m) {
             EXPECT_EQ(m.to().uri.scheme, UriScheme::Other);
             EXPECT_EQ(m.to().uri.scheme_text, "isbn");
             EXPECT_EQ(m.from().uri.scheme_text, "http");
             EXPECT_EQ(m.contacts().contacts[0].uri.scheme_text, "name");
         }},
        {"bext01", 420, "nothingSupportsThis, nothingSupportsThisEither, noProxiesSupportThis", nullptr},
        {"invut", 0, "",
         [](const Message& m) { EXPECT_EQ(m.content_type()->value().subtype, "unknownformat"); }},
        {"regaut01", 0, "",
         [](const Message& m) {
             auto a = m.auth(HeaderId::Authorization);
             ASSERT_TRUE(a.has_value());
             EXPECT_EQ(a->at(0).scheme, "NoOneKnowsThisScheme");
         }},
        {"multi01", 400, "Multiple", nullptr},
        {"mcl01", 400, "Multiple Content-Length", nullptr},
        {"bcast", 0, "", [](const Message& m) { EXPECT_EQ(m.vias()[1].host, "255.255.255.255"); }},
        {"zeromf", 0, "", [](const Message& m) { EXPECT_EQ(m.max_forwards(), 0); }},
        {"cparam01", 0, "",
         [](const Message& m) {
             auto c = m.contacts().contacts.at(0);
             EXPECT_FALSE(c.angle_brackets);
             EXPECT_TRUE(c.uri.params.empty());  // addr-spec: the parameter belongs to the header
             EXPECT_TRUE(c.param("unknownparam").has_value());
         }},
        {"cparam02", 0, "",
         [](const Message& m) {
             auto c = m.contacts().contacts.at(0);
             EXPECT_TRUE(c.uri.has_param("unknownparam"));  // inside <>: a URI parameter
             EXPECT_FALSE(c.param("unknownparam").has_value());
         }},
        {"regescrt", 0, "",
         [](const Message& m) {
             auto c = m.contacts().contacts.at(0);
             EXPECT_EQ(unescape(c.uri.headers), "Route=<sip:sip.example.com>");
         }},
        {"sdp01", 0, "",
         [](const Message& m) { EXPECT_EQ(m.header(HeaderId::Accept), "text/nobodyKnowsThis"); }},
        // 3.4 backward compatibility
        {"inv2543", 0, "",
         [](const Message& m) {
             EXPECT_TRUE(m.top_via().branch.empty());
             EXPECT_FALSE(m.max_forwards().has_value());
             EXPECT_FALSE(m.has(HeaderId::ContentLength));
             EXPECT_GT(m.body().size(), 100u);  // datagram without Content-Length: the rest is the body
         }},
    };
    return kCases;
}

class Rfc4475 : public ::testing::TestWithParam<Case> {};

TEST_P(Rfc4475, VerdictAndFields) {
    const Case& c = GetParam();
    const std::string bytes = load(c.file);
    ASSERT_FALSE(bytes.empty()) << c.file;
    const auto verdict = sw::app::check_message(bytes, 64 * 1024);
    EXPECT_EQ(verdict.status, c.status) << c.file << ": " << verdict.text();
    if (c.status != 0) {
        EXPECT_NE(verdict.reason.find(c.reason_part), std::string::npos) << c.file << ": " << verdict.reason;
    } else {
        auto m = Message::parse(bytes);
        ASSERT_TRUE(m.has_value()) << c.file;
        // Unchanged messages serialise byte for byte.
        const std::string out = m->serialize();
        EXPECT_EQ(out, bytes.substr(0, out.size())) << c.file;
        if (c.fields) c.fields(*m);
    }
}

INSTANTIATE_TEST_SUITE_P(Torture, Rfc4475, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& p) { return std::string(p.param.file); });

TEST(Rfc4475, EveryFileIsCovered) {
    std::size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(testdata("rfc4475"))) {
        if (e.path().extension() != ".dat" || e.path().stem() == "test") continue;
        ++files;
        bool found = false;
        for (const auto& c : cases())
            found = found || e.path().stem() == c.file;
        EXPECT_TRUE(found) << e.path();
    }
    EXPECT_EQ(files, 49u);
}

TEST(Rfc4475, TestDatDoesNotCrash) {
    const auto verdict = sw::app::check_message(load("test"), 64 * 1024);
    EXPECT_EQ(verdict.status, 400);  // "Foobar roobar" has no colon
}

}  // namespace
