/* Portable kernels: the same plain C compiled for any x86-64 (or other) CPU and, on x86-64, again
 * with AVX2+FMA enabled so the compiler vectorizes it for CPUs without AVX-512. */
#include "ternary_kernels.h"

#define TE_NAME(name) name##_portable
#include "portable_body.h"
#undef TE_NAME

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define TE_NAME(name) name##_avx2
#include "portable_body.h"
#undef TE_NAME
#pragma GCC pop_options
#else
void te_task_float_avx2(TE_TASK_ARGS) { te_task_float_portable(p, row0, rows, panel0, panel1, scratch); }
void te_task_int8_avx2(TE_TASK_ARGS) { te_task_int8_portable(p, row0, rows, panel0, panel1, scratch); }
#endif
