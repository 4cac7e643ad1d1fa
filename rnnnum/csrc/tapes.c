/* Putting a sweep's signals out to its tapes (rnnnum.gru, rnnnum.lstm). */
#include "fused.h"
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

PyDoc_STRVAR(stream_out_doc,
"stream_out(dst, src, N, K)\n\n"
"dst[:] = src for an (N, K) block, with stores that bypass the cache where the CPU has\n"
"them (x86-64: non-temporal stores, then a store fence).\n\n"
"Where a sweep's tapes are larger than the cache can keep (rnnnum._compiled.bypass_cache),\n"
"the sweep writes each step's signals into a scratch block that stays in the cache for the\n"
"step's matrix product, then puts them out to the tape with this. The tape is read again\n"
"only by the products over all steps, after the sweep: an ordinary store would first read\n"
"each line of it from memory (read-for-ownership) and keep it in the cache, evicting what\n"
"the next step needs.");

/* n doubles from src to dst; the values are copied exactly (their bits, NaN included). */
static void stream_doubles(double *restrict dst, const double *restrict src, Py_ssize_t n) {
    Py_ssize_t k = 0;
#if defined(__x86_64__)
#if defined(__AVX512F__)
    const uintptr_t align = 64; /* a whole cache line per store */
#else
    const uintptr_t align = 16;
#endif
    for (; k < n && ((uintptr_t)(dst + k) & (align - 1)); k++)
        _mm_stream_si64((long long *)(dst + k), *(const long long *)(src + k));
#if defined(__AVX512F__)
    for (; k + 8 <= n; k += 8) _mm512_stream_pd(dst + k, _mm512_loadu_pd(src + k));
#else
    for (; k + 2 <= n; k += 2) _mm_stream_pd(dst + k, _mm_loadu_pd(src + k));
#endif
    for (; k < n; k++) _mm_stream_si64((long long *)(dst + k), *(const long long *)(src + k));
    _mm_sfence(); /* the streamed stores are ordered before anything after the call */
#else
    memcpy(dst, src, (size_t)n * sizeof(double));
#endif
}

static PyObject *stream_out(PyObject *self, PyObject *args) {
    PyObject *o[2];
    Py_ssize_t N, K;
    if (!PyArg_ParseTuple(args, "OOnn", &o[0], &o[1], &N, &K)) return NULL;
    if (N < 1 || K < 1) {
        PyErr_Format(PyExc_ValueError, "N and K must be positive; got N=%zd, K=%zd", N, K);
        return NULL;
    }
    const Spec specs[2] = {{"dst", N * K, 1, 0}, {"src", N * K, 0, 0}};
    double *p[2];
    Held held;
    if (!fused_take_all(o, specs, 2, &held, p)) return NULL;
    double *dst = p[0];
    const double *src = p[1];
    if (dst < src + N * K && src < dst + N * K) {
        fused_release(&held);
        PyErr_SetString(PyExc_ValueError,
                        "dst and src must not overlap: dst is the tape, src a scratch block");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    stream_doubles(dst, src, N * K);
    Py_END_ALLOW_THREADS
    fused_release(&held);
    Py_RETURN_NONE;
}

/* Bytes of the last-level cache as the C library reports it (glibc's sysconf), or 0. */
long fused_last_level_cache_bytes(void) {
    long bytes = 0;
#if defined(_SC_LEVEL3_CACHE_SIZE)
    bytes = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
#if defined(_SC_LEVEL2_CACHE_SIZE)
    if (bytes <= 0) bytes = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
    return bytes > 0 ? bytes : 0;
}

PyMethodDef fused_tape_methods[] = {
    {"stream_out", stream_out, METH_VARARGS, stream_out_doc},
    {NULL, NULL, 0, NULL},
};
