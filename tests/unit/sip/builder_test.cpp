#include <gtest/gtest.h>

#include "sip/builder.hpp"

using namespace sw::sip;

TEST(ResponseBuilder, CopiesHeadersPerRfc3261_8_2_6) {
    auto req = Message::parse(
        "INVITE sip:bob@b SIP/2.0\r\n"
        "v: SIP/2.0/UDP p1;branch=z9hG4bKp1;received=192.0.2.1\r\n"
        "Via: SIP/2.0/UDP ua;branch=z9hG4bKua\r\n"
        "From: <sip:a@b>;tag=ft\r\nTo: <sip:bob@b>\r\nCall-ID: cid\r\nCSeq: 7 INVITE\r\n"
        "Timestamp: 54\r\nContact: <sip:a@ua>\r\nContent-Length: 0\r\n\r\n");
    ASSERT_TRUE(req.has_value());

    const std::string ringing =
        ResponseBuilder(*req, 180).to_tag("tt").header("Allow", "INVITE, ACK").build();
    auto r = Message::parse(ringing);
    ASSERT_TRUE(r.has_value()) << ringing;
    EXPECT_EQ(r->status(), 180);
    EXPECT_EQ(r->reason(), "Ringing");
    ASSERT_EQ(r->vias().size(), 2u);
    EXPECT_EQ(r->vias()[0].branch, "z9hG4bKp1");
    EXPECT_EQ(r->vias()[0].received, "192.0.2.1");
    EXPECT_EQ(r->vias()[1].branch, "z9hG4bKua");
    EXPECT_EQ(r->from().tag, "ft");
    EXPECT_EQ(r->to().tag, "tt");
    EXPECT_EQ(r->call_id(), "cid");
    EXPECT_EQ(r->cseq().number, 7u);
    EXPECT_EQ(r->header(HeaderId::Allow), "INVITE, ACK");
    EXPECT_FALSE(r->has(HeaderId::Timestamp));
    EXPECT_FALSE(r->has(HeaderId::Contact));

    auto trying = Message::parse(ResponseBuilder(*req, 100).to_tag("tt").build());
    ASSERT_TRUE(trying.has_value());
    EXPECT_FALSE(trying->to().has_tag);  // no tag on 100 Trying
    EXPECT_EQ(trying->header(HeaderId::Timestamp), "54");

    auto with_body = Message::parse(ResponseBuilder(*req, 200, "Fine").body("text/plain", "hi").build());
    ASSERT_TRUE(with_body.has_value());
    EXPECT_EQ(with_body->reason(), "Fine");
    EXPECT_EQ(with_body->body(), "hi");
    EXPECT_EQ(default_reason(181), "Call Is Being Forwarded");
}

TEST(ResponseBuilder, KeepsExistingToTag) {
    auto req = Message::parse(
        "BYE sip:bob@b SIP/2.0\r\nVia: SIP/2.0/UDP ua;branch=z9hG4bKua\r\nFrom: <sip:a@b>;tag=ft\r\n"
        "To: <sip:bob@b>;tag=existing\r\nCall-ID: cid\r\nCSeq: 8 BYE\r\nContent-Length: 0\r\n\r\n");
    ASSERT_TRUE(req.has_value());
    auto r = Message::parse(ResponseBuilder(*req, 200).to_tag("new").build());
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->to().tag, "existing");
}
