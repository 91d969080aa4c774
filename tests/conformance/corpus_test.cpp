// Replays the fuzzing seeds (PJSIP's OSS-Fuzz corpus) and the fuzz corpus kept in the repository
// through every parser: nothing may crash, and what parses must parse again from its serialisation.
#include <gtest/gtest.h>

#include "app/check_message.hpp"
#include "sdp/sdp.hpp"
#include "sip/framing.hpp"
#include "sip/message.hpp"
#include "testdata.hpp"

using namespace sw::sip;

namespace {

std::vector<std::filesystem::path> files_under(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> out;
    if (!std::filesystem::exists(dir)) return out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        if (e.is_regular_file() && e.path().filename() != "SOURCE.txt") out.push_back(e.path());
    }
    return out;
}

void exercise(const std::string& bytes) {
    (void)sw::app::check_message(bytes, 65536);
    auto m = Message::parse(bytes);
    if (m) {
        auto again = Message::parse(m->serialize());
        ASSERT_TRUE(again.has_value());
        EXPECT_EQ(again->serialize(), m->serialize());
        (void)m->contacts();
        (void)m->addresses(HeaderId::Route);
        (void)m->auth(HeaderId::Authorization);
        (void)sw::sdp::parse(m->body());
    }
    (void)parse_uri(bytes.substr(0, bytes.find_first_of("\r\n")));
    StreamFramer framer(65536);
    framer.append(bytes);
    for (int i = 0; i < 64; ++i) {
        auto f = framer.next();
        if (f.kind == StreamFramer::Kind::NeedMore || f.kind == StreamFramer::Kind::Error) break;
    }
}

TEST(Corpus, PjsipSeeds) {
    auto files = files_under(sw::test::testdata("fuzz-corpus/pjproject-fuzz-sip"));
    ASSERT_GE(files.size(), 15u);
    int parsed = 0;
    for (const auto& f : files) {
        const std::string bytes = sw::test::read_file(f);
        exercise(bytes);
        if (Message::parse(bytes)) ++parsed;
    }
    EXPECT_GT(parsed, 5);  // most seeds are real messages
}

TEST(Corpus, PjsipDialogSeeds) {
    for (const auto& f : files_under(sw::test::testdata("fuzz-corpus/pjproject-fuzz-sip-dialog"))) {
        exercise(sw::test::read_file(f));
    }
}

TEST(Corpus, SimpleUrisParse) {
    // The file is three URIs written back to back with no separator.
    const std::string list =
        sw::test::read_file(sw::test::testdata("fuzz-corpus/pjproject-fuzz-sip-dialog/simple_uris.txt"));
    std::vector<std::string> uris;
    for (std::size_t pos = list.find("sip:"); pos != std::string::npos;) {
        const auto next = list.find("sip:", pos + 4);
        uris.push_back(list.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
        pos = next;
    }
    ASSERT_EQ(uris.size(), 3u);
    for (const auto& u : uris)
        EXPECT_TRUE(parse_uri(u).has_value()) << u;
    EXPECT_EQ(parse_uri(uris[0])->host, "atlanta.com");
    EXPECT_TRUE(uri_equal(*parse_uri(uris[1]), *parse_uri(uris[2])));
}

TEST(Corpus, RepositoryFuzzCorpus) {
    // Inputs the fuzzers found interesting, kept as regression cases.
    for (const auto& f : files_under(SW_FUZZ_CORPUS_DIR))
        exercise(sw::test::read_file(f));
}

}  // namespace
