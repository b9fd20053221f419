// Chunk driver: splits lanes into blocks, runs them on a small thread pool and merges the spikes.
#include <algorithm>
#include <atomic>
#include <thread>

#include "kernel.h"

namespace adex {

namespace {
bool has_avx2() {
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}
const bool kAvx2 = has_avx2();
}  // namespace

const char* kernel_isa() { return kAvx2 ? "avx2" : "generic"; }

void simulate_chunk(const Config& cfg, const Batch& b, int threads, int32_t* counts, std::vector<float>& times) {
  const int64_t blocks = (b.m + kBlock - 1) / kBlock;
  const int nt = (int)std::max<int64_t>(1, std::min<int64_t>(threads, blocks));
  // One spike list per thread, each on its own cache line (no false sharing on push_back).
  struct alignas(64) ThreadSpikes {
    std::vector<Spike> list;
  };
  std::vector<ThreadSpikes> per_thread(nt);
  std::atomic<int64_t> next{0};
  auto work = [&](int t) {
    for (int64_t blk; (blk = next.fetch_add(1)) < blocks;) {
      const int64_t b0 = blk * kBlock, b1 = std::min(b.m, b0 + kBlock);
      if (kAvx2 && !cfg.force_generic) {
        simulate_block_avx2(cfg, b, b0, b1, per_thread[t].list);
      } else {
        simulate_block_generic(cfg, b, b0, b1, per_thread[t].list);
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < nt; t++) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();

  // Stable counting sort by lane: each lane's spikes come from one block, already in time order.
  std::fill(counts, counts + b.m, 0);
  size_t total = 0;
  for (const auto& t : per_thread) {
    total += t.list.size();
    for (const Spike& s : t.list) counts[s.lane]++;
  }
  std::vector<int64_t> offset(b.m + 1, 0);
  for (int64_t i = 0; i < b.m; i++) offset[i + 1] = offset[i] + counts[i];
  times.assign(total, 0.0f);
  for (const auto& t : per_thread)
    for (const Spike& s : t.list) times[offset[s.lane]++] = s.time;
}

}  // namespace adex
