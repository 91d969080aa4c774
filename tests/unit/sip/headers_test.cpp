#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "common/text.hpp"
#include "sip/header_names.hpp"
#include "sip/headers.hpp"

using namespace sw::sip;
using Values = std::vector<std::string_view>;

TEST(HeaderNames, FullCompactAndCaseInsensitive) {
    EXPECT_EQ(header_id("Via"), HeaderId::Via);
    EXPECT_EQ(header_id("v"), HeaderId::Via);
    EXPECT_EQ(header_id("V"), HeaderId::Via);
    EXPECT_EQ(header_id("cAlL-iD"), HeaderId::CallId);
    EXPECT_EQ(header_id("i"), HeaderId::CallId);
    EXPECT_EQ(header_id("m"), HeaderId::Contact);
    EXPECT_EQ(header_id("e"), HeaderId::ContentEncoding);
    EXPECT_EQ(header_id("l"), HeaderId::ContentLength);
    EXPECT_EQ(header_id("c"), HeaderId::ContentType);
    EXPECT_EQ(header_id("f"), HeaderId::From);
    EXPECT_EQ(header_id("s"), HeaderId::Subject);
    EXPECT_EQ(header_id("k"), HeaderId::Supported);
    EXPECT_EQ(header_id("t"), HeaderId::To);
    EXPECT_EQ(header_id("o"), HeaderId::Event);
    EXPECT_EQ(header_id("u"), HeaderId::AllowEvents);
    EXPECT_EQ(header_id("r"), HeaderId::ReferTo);
    EXPECT_EQ(header_id("b"), HeaderId::ReferredBy);
    EXPECT_EQ(header_id("x"), HeaderId::SessionExpires);
    EXPECT_EQ(header_id("y"), HeaderId::Identity);
    EXPECT_EQ(header_id("WWW-Authenticate"), HeaderId::WwwAuthenticate);
    EXPECT_EQ(header_id("p-asserted-identity"), HeaderId::PAssertedIdentity);
    EXPECT_EQ(header_id("Request-Disposition"), HeaderId::RequestDisposition);
    EXPECT_EQ(header_id("X-Custom"), HeaderId::Unknown);
    EXPECT_EQ(header_id("C%6Fntact"), HeaderId::Unknown);
    EXPECT_EQ(header_id("z"), HeaderId::Unknown);
    EXPECT_EQ(header_id(""), HeaderId::Unknown);
    for (int i = 1; i < static_cast<int>(HeaderId::Count_); ++i) {
        const auto id = static_cast<HeaderId>(i);
        EXPECT_EQ(header_id(header_name(id)), id) << header_name(id);
    }
}

TEST(Via, AllParts) {
    auto v = parse_via(
        "SIP/2.0/TLS [2001:db8::9]:5061;branch=z9hG4bK776;received=192.0.2.1;rport=40000;maddr=x.example");
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->transport, "TLS");
    EXPECT_EQ(v->host, "2001:db8::9");
    EXPECT_TRUE(v->ipv6);
    EXPECT_EQ(v->port, 5061);
    EXPECT_EQ(v->branch, "z9hG4bK776");
    EXPECT_TRUE(v->rfc3261_branch());
    EXPECT_EQ(v->received, "192.0.2.1");
    EXPECT_TRUE(v->has_rport);
    EXPECT_EQ(v->rport, 40000);
    EXPECT_EQ(v->maddr, "x.example");
    auto empty_rport = parse_via("SIP/2.0/UDP 10.0.0.1;rport;branch=z9hG4bKx");
    ASSERT_TRUE(empty_rport.has_value());
    EXPECT_TRUE(empty_rport->has_rport);
    EXPECT_EQ(empty_rport->rport, -1);
    EXPECT_EQ(empty_rport->port, -1);
}

TEST(Via, Rejects) {
    for (const char* bad :
         {"SIP/2.0/UDP", "SIP/2.0 host", "SIP/2.0/UDP host;;", "SIP/2.0/UDP host:99999",
          "SIP/2.0/UDP host;branch", "SIP/2.0/UDP host;received=nonsense", "SIP/2.0/UDP host;rport=abc",
          "SIP/2.0/UDP [::1", "SIP/2.0/UDP host junk", "SIP/2.0/UDPhost"}) {
        EXPECT_FALSE(parse_via(bad).has_value()) << bad;
    }
}

TEST(NameAddr, Forms) {
    auto a =
        parse_name_addr("\"Alice \\\"A\\\"\" <sip:alice@example.com;transport=tcp>;tag=88sja8x;x=\"q;r\"");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->display(), "Alice \"A\"");
    EXPECT_EQ(a->uri.param_value("transport"), "tcp");
    EXPECT_EQ(a->tag, "88sja8x");
    EXPECT_EQ(a->param("x")->value, "\"q;r\"");
    auto b = parse_name_addr("sip:bob@example.com;tag=1");
    ASSERT_TRUE(b.has_value());
    EXPECT_FALSE(b->angle_brackets);
    EXPECT_EQ(b->tag, "1");
    EXPECT_TRUE(b->uri.params.empty());
    auto c = parse_name_addr("Bob Smith <tel:+1234>");
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->display(), "Bob Smith");
    EXPECT_TRUE(c->uri.is_tel());
    EXPECT_FALSE(parse_name_addr("sip:a@b", AddrForm::NameAddrOnly).has_value());
    for (const char* bad : {"\"open <sip:a@b>", "<sip:a@b", "< sip:a@b >", "sip:a@b?x=y", "Bell, A <sip:a@b>",
                            "<sip:a@b>;", "<sip:a@b>;tag", "<sip:a@b> junk", ""}) {
        EXPECT_FALSE(parse_name_addr(bad).has_value()) << bad;
    }
}

TEST(Contact, StarQAndExpires) {
    auto star = parse_contacts(Values{"*"});
    ASSERT_TRUE(star.has_value());
    EXPECT_TRUE(star->star);
    EXPECT_FALSE(parse_contacts(Values{"*", "<sip:a@b>"}).has_value());
    auto list = parse_contacts(Values{"<sip:a@b>;q=0.7;expires=3600, \"x,y\" <sip:c@d>;q=1", "sip:e@f;q=0"});
    ASSERT_TRUE(list.has_value());
    ASSERT_EQ(list->contacts.size(), 3u);
    EXPECT_EQ(contact_q(list->contacts[0]).value(), 700);
    EXPECT_EQ(contact_expires(list->contacts[0]).value(), 3600u);
    EXPECT_EQ(list->contacts[1].display(), "x,y");
    EXPECT_EQ(contact_q(list->contacts[1]).value(), 1000);
    EXPECT_EQ(contact_q(list->contacts[2]).value(), 0);
    EXPECT_FALSE(contact_expires(list->contacts[1]).value().has_value());
    auto badq =
        parse_contacts(Values{"<sip:a@b>;q=1.5", "<sip:a@b>;q=0.1234", "<sip:a@b>;expires=99999999999"});
    ASSERT_TRUE(badq.has_value());
    EXPECT_FALSE(contact_q(badq->contacts[0]).has_value());
    EXPECT_FALSE(contact_q(badq->contacts[1]).has_value());
    EXPECT_FALSE(contact_expires(badq->contacts[2]).has_value());
    EXPECT_FALSE(parse_contacts(Values{"<sip:a@b>,,<sip:c@d>"}).has_value());
}

TEST(Headers, CSeqCallIdNumbers) {
    auto c = parse_cseq("4711 INVITE");
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->number, 4711u);
    EXPECT_EQ(c->method, "INVITE");
    EXPECT_TRUE(parse_cseq("2147483647 BYE").has_value());
    EXPECT_FALSE(parse_cseq("2147483648 BYE").has_value());
    EXPECT_FALSE(parse_cseq("1INVITE").has_value());
    EXPECT_FALSE(parse_cseq("-1 INVITE").has_value());
    EXPECT_FALSE(parse_cseq("1 INVITE x").has_value());
    EXPECT_TRUE(is_valid_call_id("a84b4c76e66710@pc33.atlanta.com"));
    EXPECT_FALSE(is_valid_call_id("a b"));
    EXPECT_FALSE(is_valid_call_id("a@b@c"));
    EXPECT_FALSE(is_valid_call_id(""));
    EXPECT_EQ(parse_delta_seconds(" 3600 ").value(), 3600u);
    EXPECT_FALSE(parse_delta_seconds("4294967296").has_value());
}

TEST(Headers, TokenListsAuthRackEventReasonRetryAfter) {
    auto t = parse_token_list(Values{"100rel, timer", "path"});
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->size(), 3u);
    EXPECT_EQ(t->at(2), "path");
    EXPECT_FALSE(parse_token_list(Values{"100rel,,timer"}).has_value());
    EXPECT_FALSE(parse_token_list(Values{"a b"}).has_value());

    auto a = parse_auth(
        "Digest username=\"bob\", realm=\"biloxi.com\", nonce=\"dcd98b\", uri=\"sip:bob@biloxi.com\", "
        "response=\"245f23415f11432b3434341c022\", algorithm=SHA-256, qop=auth, nc=00000001, "
        "cnonce=\"0a4f113b\"");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->scheme, "Digest");
    EXPECT_EQ(a->get("username"), "bob");
    EXPECT_EQ(a->get("uri"), "sip:bob@biloxi.com");
    EXPECT_EQ(a->get("algorithm"), "SHA-256");
    EXPECT_EQ(a->get("NC"), "00000001");
    EXPECT_FALSE(a->get("opaque").has_value());
    {
        // parse_auth with names: views into the header where nothing needs unescaping, storage where
        // something does; the first occurrence of a name wins, names match without case.
        const std::string_view text =
            R"(Digest username="a\"b", realm=biloxi.com, NONCE="n1", nonce="n2", uri="")";
        static constexpr std::string_view kNames[] = {"username", "realm", "nonce", "uri", "cnonce"};
        std::optional<std::string_view> v[5];
        std::string storage[5];
        auto e = parse_auth(text, true, kNames, v, storage);
        ASSERT_TRUE(e.has_value());
        EXPECT_EQ(v[0], "a\"b");
        EXPECT_EQ(storage[0], "a\"b");
        EXPECT_EQ(v[1], "biloxi.com");
        EXPECT_EQ(v[2], "n1");
        EXPECT_TRUE(storage[2].empty());
        EXPECT_EQ(v[3], "");
        EXPECT_FALSE(v[4].has_value());
        EXPECT_GE(v[2]->data(), text.data());  // a view into the header itself
        EXPECT_LT(v[2]->data(), text.data() + text.size());
        // Without a scheme (Authentication-Info) the same parameters give the same values.
        std::optional<std::string_view> w[5];
        std::string storage2[5];
        ASSERT_TRUE(parse_auth(e->params, false, kNames, w, storage2).has_value());
        for (int i = 0; i < 5; ++i)
            EXPECT_EQ(w[i], v[i]) << i;
        // Nothing is picked from a header that does not parse.
        std::optional<std::string_view> x[5];
        EXPECT_FALSE(parse_auth("Digest username=\"u\", a=b,,c=d", true, kNames, x, storage2).has_value());
        EXPECT_FALSE(x[0].has_value());
    }
    EXPECT_FALSE(parse_auth("Digest username=\"open").has_value());
    EXPECT_FALSE(parse_auth("Digest a=b,,c=d").has_value());

    auto r = parse_rack("776656 1 INVITE");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->rseq, 776656u);
    EXPECT_EQ(r->method, "INVITE");
    EXPECT_FALSE(parse_rack("1 INVITE").has_value());

    auto e = parse_value_params("presence;id=7");
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->value, "presence");
    EXPECT_EQ(e->param("id")->value, "7");
    auto ss = parse_value_params("active ;expires=3600");
    ASSERT_TRUE(ss.has_value());
    EXPECT_EQ(ss->value, "active");
    auto reason = parse_value_params("SIP;cause=200;text=\"Call completed elsewhere\"");
    ASSERT_TRUE(reason.has_value());
    EXPECT_EQ(unquote(reason->param("text")->value), "Call completed elsewhere");

    auto ra = parse_retry_after("18000 (back (soon)) ;duration=3600");
    ASSERT_TRUE(ra.has_value());
    EXPECT_EQ(ra->value, "18000");
    EXPECT_EQ(ra->comment, "(back (soon))");
    EXPECT_EQ(ra->param("duration")->value, "3600");
    EXPECT_FALSE(parse_retry_after("949302838503028349304023988").has_value());
    EXPECT_FALSE(parse_retry_after("5 (unclosed").has_value());

    auto mt = parse_media_type("multipart/mixed ; boundary=\"x y\"");
    ASSERT_TRUE(mt.has_value());
    EXPECT_TRUE(mt->is("MULTIPART", "Mixed"));
    EXPECT_EQ(unquote(find_param(mt->params, "boundary")->value), "x y");
    EXPECT_FALSE(parse_media_type("application").has_value());
}

TEST(Headers, Date) {
    EXPECT_TRUE(is_valid_sip_date("Sat, 13 Nov 2010 23:29:00 GMT"));
    EXPECT_FALSE(is_valid_sip_date("Fri, 01 Jan 2010 16:00:00 EST"));
    EXPECT_FALSE(is_valid_sip_date("Fri, 1 Jan 2010 16:00:00 GMT"));
    EXPECT_FALSE(is_valid_sip_date("Xyz, 01 Jan 2010 16:00:00 GMT"));
}

TEST(Headers, ListSplittingRespectsQuotesAndBrackets) {
    std::vector<std::string> items;
    EXPECT_TRUE(for_each_list_element("\"a, b\" <sip:x@y;p=1,2>, <sip:z@w> , c", [&](std::string_view v) {
        items.emplace_back(v);
        return true;
    }));
    ASSERT_EQ(items.size(), 3u);
    EXPECT_EQ(items[0], "\"a, b\" <sip:x@y;p=1,2>");
    EXPECT_EQ(items[1], "<sip:z@w>");
    EXPECT_EQ(items[2], "c");
    EXPECT_FALSE(for_each_list_element("a,,b", [](std::string_view) { return true; }));
    EXPECT_FALSE(for_each_list_element("", [](std::string_view) { return true; }));
}

// The table-driven scanners (for_each_list_element, the quoted-string end) against the byte-by-byte
// walks they replaced, on random text made mostly of the bytes that matter.
namespace {

bool reference_split(std::string_view value, std::vector<std::string>& out) {
    std::size_t start = 0;
    bool quoted = false;
    int angle = 0;
    auto emit = [&](std::size_t end) {
        std::string_view item = value.substr(start, end - start);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
            item.remove_suffix(1);
        if (item.empty()) return false;
        out.emplace_back(item);
        return true;
    };
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (quoted) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                quoted = false;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == '<') {
            ++angle;
        } else if (c == '>') {
            if (angle > 0) --angle;
        } else if (c == ',' && angle == 0) {
            if (!emit(i)) return false;
            start = i + 1;
        }
    }
    return emit(value.size());
}

std::size_t reference_quoted_end(std::string_view s) {
    for (std::size_t i = 1; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '\\') {
            if (i + 1 >= s.size() || s[i + 1] == '\r' || s[i + 1] == '\n') return std::string_view::npos;
            ++i;
        } else if (c == '"') {
            return i + 1;
        } else if (c == '\r' || c == '\n' || c == '\0') {
            return std::string_view::npos;
        }
    }
    return std::string_view::npos;
}

std::string random_text(std::mt19937& rng, std::string_view alphabet, std::size_t max_len) {
    std::string s(rng() % (max_len + 1), ' ');
    for (char& c : s)
        c = alphabet[rng() % alphabet.size()];
    return s;
}

}  // namespace

TEST(ListElements, SplitsLikeTheByteByByteWalkOnRandomText) {
    std::mt19937 rng(4242);
    const std::string alphabet{"ab ,\"\\<>=\t\r", 11};
    int commas = 0;
    for (int n = 0; n < 50000; ++n) {
        const std::string v = random_text(rng, alphabet, 40);
        commas += v.find(',') != std::string::npos;
        std::vector<std::string> want, got;
        const bool want_ok = reference_split(v, want);
        const bool got_ok = for_each_list_element(v, [&](std::string_view item) {
            got.emplace_back(item);
            return true;
        });
        ASSERT_EQ(got_ok, want_ok) << "'" << v << "'";
        ASSERT_EQ(got, want) << "'" << v << "'";
    }
    EXPECT_GT(commas, 30000);  // the walk, not only the no-comma shortcut, was exercised
}

TEST(AuthParams, QuotedValuesAreCheckedLikeTheByteByByteWalkOnRandomText) {
    std::mt19937 rng(777);
    const std::string alphabet{"ax\"\\\r\n\0=", 8};
    int accepted = 0;
    for (int n = 0; n < 50000; ++n) {
        const std::string v = "\"" + random_text(rng, alphabet, 24);
        const std::string_view t = sw::trim(v);  // as the header value is trimmed
        const bool want = reference_quoted_end(t) == t.size();
        const auto got = parse_auth("Digest realm=" + v, true);
        ASSERT_EQ(got.has_value(), want) << "'" << v << "'";
        accepted += want;
    }
    EXPECT_GT(accepted, 300);
    EXPECT_LT(accepted, 49000);
}
