#include "transport/steering.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF 51
#endif

namespace sw::transport {

namespace {

constexpr std::uint32_t word(const char (&s)[5]) {
    return (static_cast<std::uint32_t>(static_cast<unsigned char>(s[0])) << 24) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(s[1])) << 16) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(s[2])) << 8) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[3]));
}

sock_filter stmt(std::uint16_t code, std::uint32_t k) {
    return sock_filter{code, 0, 0, k};
}
sock_filter jump(std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
    return sock_filter{code, jt, jf, k};
}

}  // namespace

std::vector<sock_filter> response_steering_program(unsigned workers) {
    // The program sees the datagram from its UDP payload on. Classic BPF has no loops: the search for
    // the cookie is unrolled over the window, 4 instructions per byte position (the kernel JITs it; a
    // request stops at the first test). A load past the end would end the program with 0 (socket 0),
    // so the length is checked first and every load stays inside kSteeringWindow + kMarkOffset + 1.
    constexpr std::uint32_t kFallback = 0xffffffffu;  // not a socket index: the kernel's hash decides
    const std::uint32_t steered = workers < kMarkedWorkers ? workers : kMarkedWorkers;
    std::vector<sock_filter> p;
    // Filled in at the end: the index of the fallback and of the check after a cookie's first word.
    std::vector<std::size_t> to_fallback, to_check;
    auto ja_fallback = [&] {
        to_fallback.push_back(p.size());
        p.push_back(stmt(BPF_JMP | BPF_JA, 0));
    };
    p.push_back(stmt(BPF_LD | BPF_W | BPF_LEN, 0));
    p.push_back(jump(BPF_JMP | BPF_JGE | BPF_K, kSteeringWindow + kMarkOffset + 1, 1, 0));
    ja_fallback();
    p.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, 0));
    p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, word("SIP/"), 1, 0));  // responses only
    ja_fallback();
    for (std::uint32_t at = 0; at < kSteeringWindow; ++at) {
        p.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, at));
        p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, word("z9hG"), 0, 2));
        p.push_back(stmt(BPF_LDX | BPF_W | BPF_IMM, at));
        to_check.push_back(p.size());
        p.push_back(stmt(BPF_JMP | BPF_JA, 0));
    }
    ja_fallback();  // no cookie in the window
    const std::size_t check = p.size();
    // X = the cookie's offset. "4bK" follows "z9hG"; the dot and the mark sit after the 16 hex digits.
    p.push_back(stmt(BPF_LD | BPF_W | BPF_IND, 4));
    p.push_back(stmt(BPF_ALU | BPF_RSH | BPF_K, 8));
    p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, (word("4bK ") >> 8), 1, 0));
    ja_fallback();
    p.push_back(stmt(BPF_LD | BPF_B | BPF_IND, kMarkOffset - 1));
    p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, '.', 1, 0));
    ja_fallback();
    p.push_back(stmt(BPF_LD | BPF_B | BPF_IND, kMarkOffset));
    p.push_back(stmt(BPF_ALU | BPF_SUB | BPF_K, 'A'));  // below 'A' wraps to a large number
    p.push_back(jump(BPF_JMP | BPF_JGE | BPF_K, steered, 1, 0));
    p.push_back(stmt(BPF_RET | BPF_A, 0));
    const std::size_t fallback = p.size();
    p.push_back(stmt(BPF_RET | BPF_K, kFallback));
    for (std::size_t i : to_fallback)
        p[i].k = static_cast<std::uint32_t>(fallback - i - 1);
    for (std::size_t i : to_check)
        p[i].k = static_cast<std::uint32_t>(check - i - 1);
    return p;
}

bool attach_response_steering(int fd, unsigned workers, std::string& error) {
    auto program = response_steering_program(workers);
    sock_fprog prog{static_cast<unsigned short>(program.size()), program.data()};
    if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) != 0) {
        error = std::strerror(errno);
        return false;
    }
    return true;
}

}  // namespace sw::transport
