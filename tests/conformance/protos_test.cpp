// PROTOS c07-sip: a selection of the 4527 INVITE robustness cases. None may crash the parser (this test
// also runs under ASan/UBSan), every rejection is a proper SIP status, and case 0 is a valid INVITE.
#include <gtest/gtest.h>

#include <set>

#include "app/check_message.hpp"
#include "sdp/sdp.hpp"
#include "sip/message.hpp"
#include "testdata.hpp"

using namespace sw::sip;

namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
    for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
        s.replace(pos, from.size(), to);
    }
}

// "<N> " + N bytes of INVITE + "<M> " + M bytes of teardown (see the corpus SOURCE.txt).
std::vector<std::string> pdus(const std::string& file) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < file.size()) {
        const auto sp = file.find(' ', pos);
        if (sp == std::string::npos) break;
        const auto n = std::stoul(file.substr(pos, sp - pos));
        out.push_back(file.substr(sp + 1, n));
        pos = sp + 1 + n;
    }
    return out;
}

std::string substitute(std::string pdu, int n) {
    replace_all(pdu, "<To>", "callee@127.0.0.1");
    replace_all(pdu, "<From>", "caller@127.0.0.2");
    replace_all(pdu, "<From-Address>", "127.0.0.2");
    replace_all(pdu, "<From-IP>", "127.0.0.2");
    replace_all(pdu, "<Local-Port>", "5070");
    replace_all(pdu, "<Branch-ID>", std::to_string(n));
    replace_all(pdu, "<Call-ID>", "protos" + std::to_string(n));
    replace_all(pdu, "<CSeq>", std::to_string(n + 1));
    replace_all(pdu, "<Teardown-Method>", "CANCEL");
    const auto hdr_end = pdu.find("\r\n\r\n");
    const std::size_t body = hdr_end == std::string::npos ? 0 : pdu.size() - hdr_end - 4;
    replace_all(pdu, "<Content-Length>", std::to_string(body));
    return pdu;
}

std::vector<std::filesystem::path> case_files() {
    std::vector<std::filesystem::path> files;
    for (const auto& e :
         std::filesystem::directory_iterator(sw::test::testdata("fuzz-corpus/protos-c07-sip"))) {
        if (e.path().filename() != "SOURCE.txt") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

TEST(Protos, CaseZeroIsAValidInvite) {
    const auto parts = pdus(sw::test::read_file(sw::test::testdata("fuzz-corpus/protos-c07-sip/0000000")));
    ASSERT_EQ(parts.size(), 2u);
    const std::string invite = substitute(parts[0], 0);
    auto m = Message::parse(invite);
    ASSERT_TRUE(m.has_value()) << m.error().reason;
    EXPECT_EQ(m->method_id(), Method::Invite);
    EXPECT_EQ(m->request_uri().user, "callee");
    EXPECT_EQ(m->cseq().number, 1u);
    EXPECT_EQ(sw::app::check_message(invite, 65536).status, 0);
    auto sdp = sw::sdp::parse(m->body());
    ASSERT_TRUE(sdp.has_value()) << sdp.error().reason;
    EXPECT_EQ(sdp->media.at(0).port, 9876u);
    auto teardown = Message::parse(substitute(parts[1], 0));
    ASSERT_TRUE(teardown.has_value());
    EXPECT_EQ(teardown->method_id(), Method::Cancel);
}

TEST(Protos, NoCaseCrashesAndEveryRejectionIsASipStatus) {
    const std::set<int> allowed = {400, 413, 416, 420, 505, 513};
    const auto files = case_files();
    ASSERT_GE(files.size(), 250u);
    int accepted = 0, rejected = 0;
    for (const auto& f : files) {
        const int n = std::stoi(f.filename().string());
        for (const auto& pdu : pdus(sw::test::read_file(f))) {
            const std::string wire = substitute(pdu, n);
            const auto v = sw::app::check_message(wire, 65536);
            if (v.status == 0) {
                ++accepted;
                auto m = Message::parse(wire);
                ASSERT_TRUE(m.has_value());
                (void)sw::sdp::parse(m->body());  // must not crash either
                // What parsed once parses again from its own serialisation.
                EXPECT_TRUE(Message::parse(m->serialize()).has_value()) << f;
            } else {
                ++rejected;
                EXPECT_TRUE(allowed.count(v.status)) << f << ": " << v.text();
                EXPECT_FALSE(v.reason.empty()) << f;
            }
        }
    }
    // The selection holds both well-formed teardowns and broken INVITEs.
    EXPECT_GT(accepted, 250);
    EXPECT_GT(rejected, 50);
    // The server still answers the valid case afterwards (the parser keeps no state).
    const auto parts = pdus(sw::test::read_file(files.front()));
    EXPECT_EQ(sw::app::check_message(substitute(parts[0], 0), 65536).status, 0);
}

}  // namespace
