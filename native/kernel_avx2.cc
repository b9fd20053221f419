// AVX2 build of the block kernel (compiled with -mavx2; chosen at run time when the CPU has it).
#if defined(__x86_64__) || defined(_M_X64)
#define ADEX_BLOCK_FN simulate_block_avx2
#include "kernel_impl.h"
#else
#include "kernel.h"
namespace adex {
void simulate_block_avx2(const Config& cfg, const Batch& b, int64_t b0, int64_t b1, std::vector<Spike>& out) {
  simulate_block_generic(cfg, b, b0, b1, out);
}
}  // namespace adex
#endif
