/* Shared by the files of rnnnum._fused (module.c says what the module is for): the
 * argument checks every function makes, and the row sums of the sweeps. */
#ifndef RNNNUM_FUSED_H
#define RNNNUM_FUSED_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* glibc's libmvec has vector variants of tanh; declaring it SIMD-callable lets the loops
 * call them (with -fopenmp-simd) without -ffast-math. */
#pragma omp declare simd notinbranch
extern double tanh(double);

/* One array argument: its name in messages, its number of float64 values, whether it is
 * written, and whether None may stand for it. */
typedef struct {
    const char *name;
    Py_ssize_t count;
    int writable;
    int optional;
} Spec;

#define MAX_ARGS 12

typedef struct {
    Py_buffer views[MAX_ARGS];
    int held[MAX_ARGS];
    int n;
} Held;

/* Release every buffer `held` holds. */
void fused_release(Held *held);
/* Take every argument by its spec into `out` (NULL for an optional None); 0 with an
 * exception set and nothing held otherwise. */
int fused_take_all(PyObject **objs, const Spec *specs, int n, Held *held, double **out);
/* 1 if N and H are positive, else 0 with a ValueError set. */
int fused_sizes_ok(Py_ssize_t N, Py_ssize_t H);
/* sums (K,) = the N rows of src (N, K) added in order, as NumPy's src.sum(axis=0). */
void fused_sum_rows(double *restrict sums, const double *restrict src, Py_ssize_t N,
                    Py_ssize_t K);

/* Each file's functions, added to the module by module.c. */
extern PyMethodDef fused_tanh_methods[];
extern PyMethodDef fused_lstm_methods[];
extern PyMethodDef fused_gru_methods[];
extern PyMethodDef fused_tape_methods[];
/* Bytes of the last-level cache as the C library reports it, or 0 (tapes.c). */
long fused_last_level_cache_bytes(void);

#endif
