// The UDP receive loop (Transports::drain_udp) on a real loopback socket: whatever the shape of the
// traffic (one datagram per wake-up, bursts a recvmmsg cannot take at once, bursts longer than one
// turn of the loop), every datagram is delivered once and in order, and the answers go out.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "transport/transports.hpp"

namespace sw::transport {
namespace {

// Echoes every datagram back to where it came from, and keeps what it got.
class Echo : public Receiver {
public:
    explicit Echo(Transports*& t) : t_(t) {}
    void on_message(const Peer& from, std::string_view bytes) override {
        got.emplace_back(bytes);
        t_->send(from, "re:" + std::string(bytes));
    }
    void end_of_burst() override { ++bursts; }
    std::vector<std::string> got;
    int bursts = 0;

private:
    Transports*& t_;
};

class UdpDrainTest : public ::testing::Test {
protected:
    void SetUp() override {
        ListenSpec spec;
        spec.protocol = Protocol::Udp;
        spec.host = "127.0.0.1";
        spec.port = 0;
        auto port = Transports::claim(spec);
        ASSERT_TRUE(port) << port.error();
        spec.port = *port;
        ASSERT_TRUE(transports_.listen(spec)) << "listen";
        server_.sin_family = AF_INET;
        server_.sin_port = htons(spec.port);
        server_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        client_ = ::socket(AF_INET, SOCK_DGRAM, 0);
        ASSERT_GE(client_, 0);
        int big = 4 << 20;
        ::setsockopt(client_, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
        timeval tv{0, 1000};  // 1 ms: reads below poll
        ::setsockopt(client_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    void TearDown() override {
        transports_.stop();
        if (client_ >= 0) ::close(client_);
    }

    void send(const std::string& text) {
        ASSERT_EQ(::sendto(client_, text.data(), text.size(), 0, reinterpret_cast<const sockaddr*>(&server_),
                           sizeof server_),
                  static_cast<ssize_t>(text.size()));
    }
    // Runs the loop until `n` datagrams arrived in all (or 5 s pass), collecting the answers.
    void run_until(std::size_t n) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while ((echo_.got.size() < n || answers_.size() < n) && std::chrono::steady_clock::now() < deadline) {
            io_.run_for(std::chrono::milliseconds(2));
            io_.restart();
            char buf[2048];
            for (;;) {
                const ssize_t r = ::recv(client_, buf, sizeof buf, MSG_DONTWAIT);
                if (r <= 0) break;
                answers_.emplace_back(buf, static_cast<std::size_t>(r));
            }
        }
    }

    asio::io_context io_;
    Transports* self_ = nullptr;
    Echo echo_{self_};
    ConnectionBudget budget_;
    Transports transports_{io_, echo_, Limits{}, budget_};
    sockaddr_in server_{};
    int client_ = -1;
    std::vector<std::string> answers_;

public:
    UdpDrainTest() { self_ = &transports_; }
};

std::vector<std::string> numbered(const std::string& prefix, std::size_t from, std::size_t n) {
    std::vector<std::string> out;
    for (std::size_t i = from; i < from + n; ++i)
        out.push_back(prefix + std::to_string(i));
    return out;
}

TEST_F(UdpDrainTest, OneDatagramPerWakeUpIsNeverLeftWaiting) {
    // Each datagram comes after the loop has gone back to waiting (it read fewer than a batch, so it
    // waits without a last read that would find the socket empty): each must still wake it.
    for (std::size_t i = 0; i < 40; ++i) {
        send("m" + std::to_string(i));
        run_until(i + 1);
        ASSERT_EQ(echo_.got.size(), i + 1) << "datagram " << i << " was not delivered";
    }
    EXPECT_EQ(echo_.got, numbered("m", 0, 40));
    ASSERT_EQ(answers_.size(), 40u);
    EXPECT_EQ(answers_.front(), "re:m0");
    EXPECT_EQ(answers_.back(), "re:m39");
}

TEST_F(UdpDrainTest, BurstsLargerThanABatchAndThanATurnArriveWholeAndInOrder) {
    // 1, 15, 16, 17, 100 and 300 datagrams sent before the loop runs: exactly one batch, one more than
    // a batch, and more than the 8 batches one turn of the loop takes before it lets other work run.
    std::vector<std::string> expected;
    std::size_t next = 0;
    for (std::size_t burst : {1u, 15u, 16u, 17u, 100u, 300u}) {
        for (const auto& m : numbered("b", next, burst)) {
            send(m);
            expected.push_back(m);
        }
        next += burst;
        run_until(expected.size());
        ASSERT_EQ(echo_.got.size(), expected.size()) << "after a burst of " << burst;
    }
    EXPECT_EQ(echo_.got, expected);
    EXPECT_EQ(answers_.size(), expected.size());
    EXPECT_EQ(transports_.counters().datagrams_in, expected.size());
    // Bursts were taken in batches, not one datagram per wake-up.
    EXPECT_LT(echo_.bursts, static_cast<int>(expected.size()) / 4);
}

}  // namespace
}  // namespace sw::transport
