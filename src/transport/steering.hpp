// Steering of UDP responses to the worker that sent the request, in the kernel.
//
// Each worker has its own socket on a UDP listen address (SO_REUSEPORT), and the kernel picks the socket
// of a datagram by a hash of its source. A call belongs to the worker that received its first request, so
// the callee's answers, which come from another address, reached the other worker half of the time and
// were handed over (a post and a wake-up each). Every branch this server writes carries its worker's
// mark at a fixed place (proxy::branch_id), and a classic BPF program attached to the listener's
// reuseport group finds the mark in a response's top Via and returns that worker's socket. Requests,
// responses without our mark, short datagrams and marks of workers that do not exist get -1 from it,
// which makes the kernel fall back to its hash: at worst, what happened before.
#pragma once

#include <linux/filter.h>

#include <cstddef>
#include <string>
#include <vector>

namespace sw::transport {

// Workers that get a mark: 'A' + w; the others write kNoMark and are never steered to.
inline constexpr unsigned kMarkedWorkers = 26;
inline constexpr char kNoMark = '-';
inline constexpr char worker_mark(unsigned worker) {
    return worker < kMarkedWorkers ? static_cast<char>('A' + worker) : kNoMark;
}
// The mark's place in a branch: the magic cookie "z9hG4bK", 16 hex digits, a dot, then the mark.
inline constexpr std::size_t kMarkOffset = 7 + 16 + 1;
// How far into a response the program looks for the cookie (the top Via of a response is near its start).
inline constexpr std::size_t kSteeringWindow = 192;

// The program for a reuseport group of `workers` sockets bound in worker order.
std::vector<sock_filter> response_steering_program(unsigned workers);

// Attaches it to the group of the bound UDP socket `fd`. False, with the reason in `error`, when the
// kernel refuses (older than Linux 4.5): the kernel's hash then picks the socket, as without it.
bool attach_response_steering(int fd, unsigned workers, std::string& error);

}  // namespace sw::transport
