// The toll-fraud guard's cost per outbound call, alone (no SIP, no sockets): classify the number,
// check the rights, and the TollGuard's admit + ended, for many users calling at once. The figure to
// compare with is a trunk call's whole server CPU (bench/trunk_load, about 300 us).
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>
#include <vector>

#include "app/toll_setup.hpp"

namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void BM_Classify(benchmark::State& state) {
    sw::security::NumberingPlan plan;
    plan.country_code = "49";
    const auto list = sw::security::HighRiskList::builtin();
    const std::vector<std::string> numbers{"+49301234567", "+442071234567", "+8816123456",
                                           "0301234567",   "+18765551234",  "112"};
    std::size_t i = 0;
    for (auto _ : state) {
        auto d = sw::security::classify(numbers[i++ % numbers.size()], std::nullopt, plan, list);
        benchmark::DoNotOptimize(d);
    }
}
BENCHMARK(BM_Classify);

void BM_JudgeOutbound(benchmark::State& state) {
    sw::app::TollOptions o;
    o.country_code = "49";
    o.default_class = "international";
    o.limits.per_minute = 0;
    o.limits.per_hour = 0;
    o.detector.burst_min = 1000000;
    sw::app::TollPolicy policy(o);
    std::vector<sw::storage::RightsRecord> rows;
    for (int u = 0; u < 1000; ++u) {
        sw::storage::RightsRecord r;
        r.user = std::to_string(1000 + u);
        r.allowed_prefixes = {"881"};
        rows.push_back(std::move(r));
    }
    policy.set_rights(rows);
    sw::b2bua::DialChoice choice;
    choice.route.trunk = "prov";
    std::size_t i = 0;
    const std::int64_t t = now_ms();
    for (auto _ : state) {
        choice.number = (i % 2) ? "+442071234567" : "+49301234567";
        auto d = sw::app::judge_outbound(policy, rows[i % rows.size()].user, choice.number, choice, t);
        policy.guard().ended(d.ticket, t);
        ++i;
        benchmark::DoNotOptimize(d);
    }
}
BENCHMARK(BM_JudgeOutbound);

}  // namespace

BENCHMARK_MAIN();
