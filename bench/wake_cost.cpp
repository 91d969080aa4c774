// wake_cost: what a thread's sleep and wake-up cost in CPU on this machine, the floor under every
// hand-off between threads (docs/performance.md). Two threads pass a turn back and forth over a
// condition variable (each round trip: two sleeps, two wake-ups), then one thread sleeps on a timed wait.
//   build/bench/wake_cost [--quick]
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>

namespace {

double process_cpu_s() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
    const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    const int rounds = quick ? 500 : 20000;
    const int sleeps = quick ? 100 : 2000;

    std::mutex m;
    std::condition_variable cv;
    int turn = 0;
    double c0 = process_cpu_s();
    auto w0 = std::chrono::steady_clock::now();
    std::thread other([&] {
        for (int i = 0; i < rounds; ++i) {
            std::unique_lock lock(m);
            cv.wait(lock, [&] { return turn == 1; });
            turn = 0;
            cv.notify_all();
        }
    });
    for (int i = 0; i < rounds; ++i) {
        std::unique_lock lock(m);
        turn = 1;
        cv.notify_all();
        cv.wait(lock, [&] { return turn == 0; });
    }
    other.join();
    double cpu = process_cpu_s() - c0;
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    std::printf("round trip between two threads: %.1f us CPU, %.1f us wall\n", cpu * 1e6 / rounds,
                wall * 1e6 / rounds);

    c0 = process_cpu_s();
    w0 = std::chrono::steady_clock::now();
    for (int i = 0; i < sleeps; ++i) {
        std::unique_lock lock(m);
        cv.wait_for(lock, std::chrono::microseconds(500), [] { return false; });
    }
    cpu = process_cpu_s() - c0;
    wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    std::printf("timed 500 us sleep: %.1f us CPU, %.1f us wall\n", cpu * 1e6 / sleeps, wall * 1e6 / sleeps);
    return cpu > 0 ? 0 : 1;
}
