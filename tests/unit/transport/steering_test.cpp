// The response-steering program on real sockets: a reuseport group of three UDP sockets on loopback,
// datagrams from many source ports, and where the kernel delivered each.
#include "transport/steering.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <set>
#include <string>

namespace {

using sw::transport::worker_mark;

struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
};

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

class SteeringTest : public ::testing::Test {
protected:
    static constexpr unsigned kWorkers = 3;

    void SetUp() override {
        for (unsigned i = 0; i < kWorkers; ++i) {
            const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
            ASSERT_GE(fd, 0);
            group_[i] = fd;
            const int one = 1;
            ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one), 0);
            sockaddr_in a = loopback(port_);
            ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << "socket " << i;
            if (i == 0) {
                socklen_t len = sizeof a;
                ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
                port_ = ntohs(a.sin_port);
            }
        }
    }
    void TearDown() override {
        for (int fd : group_)
            if (fd >= 0) ::close(fd);
    }

    // Sends `text` from a new socket (a new source port) and returns the index of the group socket that
    // received it, or -1 when none did within a second.
    int deliver(const std::string& text) {
        Fd client(::socket(AF_INET, SOCK_DGRAM, 0));
        const sockaddr_in to = loopback(port_);
        EXPECT_EQ(::sendto(client.fd, text.data(), text.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                           sizeof to),
                  static_cast<ssize_t>(text.size()));
        std::array<pollfd, kWorkers> fds{};
        for (unsigned i = 0; i < kWorkers; ++i)
            fds[i] = pollfd{group_[i], POLLIN, 0};
        if (::poll(fds.data(), fds.size(), 1000) <= 0) return -1;
        int where = -1;
        for (unsigned i = 0; i < kWorkers; ++i) {
            char buf[2048];
            while (::recv(group_[i], buf, sizeof buf, 0) >= 0) {
                EXPECT_EQ(where, -1) << "delivered twice";
                where = static_cast<int>(i);
            }
        }
        return where;
    }

    std::array<int, kWorkers> group_{-1, -1, -1};
    std::uint16_t port_ = 0;
};

std::string message(std::string_view start, std::string_view branch, std::size_t before_via = 0) {
    std::string m(start);
    m += "\r\n";
    if (before_via > 0) m += "X-Padding: " + std::string(before_via, 'p') + "\r\n";
    m += "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=";
    m += branch;
    m += "\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKphone.1\r\nFrom: <sip:a@example.test>;tag=1\r\n"
         "To: <sip:b@example.test>;tag=2\r\nCall-ID: steer@example.test\r\nCSeq: 1 INVITE\r\n"
         "Content-Length: 0\r\n\r\n";
    return m;
}

std::string our_branch(char mark) {
    return std::string("z9hG4bK0123456789abcdef.") + mark + "42";
}

}  // namespace

TEST(Steering, MarksSitWhereTheProgramLooks) {
    EXPECT_EQ(worker_mark(0), 'A');
    EXPECT_EQ(worker_mark(25), 'Z');
    EXPECT_EQ(worker_mark(26), sw::transport::kNoMark);
    EXPECT_EQ(our_branch('C').find('C'), sw::transport::kMarkOffset);
    EXPECT_LT(sw::transport::response_steering_program(64).size(), 4096u);  // BPF_MAXINSNS
}

TEST_F(SteeringTest, ResponsesReachTheWorkerOfTheirMarkAndTheRestTheKernelsHash) {
    std::string error;
    ASSERT_TRUE(sw::transport::attach_response_steering(group_[0], kWorkers, error)) << error;

    // Every response with our mark reaches that worker's socket, whatever its source port.
    for (int i = 0; i < 30; ++i) {
        const unsigned w = static_cast<unsigned>(i) % kWorkers;
        EXPECT_EQ(deliver(message("SIP/2.0 180 Ringing", our_branch(worker_mark(w)))), static_cast<int>(w))
            << "response " << i;
    }
    // Requests carrying the same branch are not steered: the kernel's hash spreads them over the group.
    std::set<int> requests;
    for (int i = 0; i < 30; ++i) {
        const int at = deliver(message("INVITE sip:b@example.test SIP/2.0", our_branch('B')));
        ASSERT_NE(at, -1);
        requests.insert(at);
    }
    EXPECT_GE(requests.size(), 2u) << "30 requests from 30 ports all reached one socket";

    // What the program cannot place still arrives somewhere: a mark of no worker, no mark, a branch that is
    // not ours, a short response, an empty datagram, and a Via beyond the window.
    for (const std::string& m :
         {message("SIP/2.0 200 OK", our_branch('D')), message("SIP/2.0 200 OK", our_branch('-')),
          message("SIP/2.0 200 OK", our_branch('a')), message("SIP/2.0 200 OK", "z9hG4bKphone.7"),
          message("SIP/2.0 200 OK", "z9hG4bK0123456789abcdef:A1"), std::string("SIP/2.0 200 OK\r\n\r\n"),
          std::string(), std::string("SIP/"), message("SIP/2.0 200 OK", our_branch('B'), 400)}) {
        EXPECT_NE(deliver(m), -1) << "dropped: '" << m.substr(0, 60) << "'";
    }
    // A response whose Via sits beyond the window falls back to the hash: over 30 ports, not one socket.
    std::set<int> far;
    for (int i = 0; i < 30; ++i)
        far.insert(deliver(message("SIP/2.0 200 OK", our_branch('B'), 400)));
    EXPECT_GE(far.size(), 2u);
    EXPECT_EQ(far.count(-1), 0u);
}
