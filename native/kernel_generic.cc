// Portable build of the block kernel (SSE2 on x86-64, NEON on arm64 via auto-vectorization).
#define ADEX_BLOCK_FN simulate_block_generic
#include "kernel_impl.h"
