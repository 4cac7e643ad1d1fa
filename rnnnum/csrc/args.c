/* The argument checks of rnnnum._fused's functions: each takes its arrays by a table of
 * specs (name, size, writable, optional), and a bad argument is a TypeError or ValueError
 * that names it, the rule and what was received. And the sweeps' row sums. */
#include "fused.h"

void fused_release(Held *held) {
    for (int k = 0; k < held->n; k++)
        if (held->held[k]) PyBuffer_Release(&held->views[k]);
}

/* Take `obj` as `spec`'s doubles into `*out` (NULL for an optional None); 0 with an
 * exception set otherwise. */
static int take(PyObject *obj, const Spec *spec, Py_buffer *view, int *held, double **out) {
    *out = NULL;
    if (obj == Py_None && spec->optional) return 1;
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (spec->writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) != 0) {
        PyErr_Format(PyExc_TypeError,
                     "%s must be a C-contiguous%s float64 array; rnnnum passes one block "
                     "of its step tape", spec->name, spec->writable ? ", writable" : "");
        return 0;
    }
    *held = 1;
    if (view->format == NULL || strcmp(view->format, "d") != 0) {
        PyErr_Format(PyExc_TypeError, "%s must be a float64 array; got buffer format '%s'",
                     spec->name, view->format ? view->format : "B");
        return 0;
    }
    if (view->len != spec->count * (Py_ssize_t)sizeof(double)) {
        PyErr_Format(PyExc_ValueError, "%s must hold %zd float64 values; got %zd bytes",
                     spec->name, spec->count, view->len);
        return 0;
    }
    *out = (double *)view->buf;
    return 1;
}

/* Take every argument by its spec; 0 with an exception set and nothing held otherwise. */
int fused_take_all(PyObject **objs, const Spec *specs, int n, Held *held, double **out) {
    memset(held, 0, sizeof *held);
    held->n = n;
    for (int k = 0; k < n; k++) {
        if (!take(objs[k], &specs[k], &held->views[k], &held->held[k], &out[k])) {
            fused_release(held);
            return 0;
        }
    }
    return 1;
}

int fused_sizes_ok(Py_ssize_t N, Py_ssize_t H) {
    if (N < 1 || H < 1) {
        PyErr_Format(PyExc_ValueError, "N and H must be positive; got N=%zd, H=%zd", N, H);
        return 0;
    }
    return 1;
}

/* sums (K,) = the N rows of src (N, K) added in order: NumPy's src.sum(axis=0), bit for bit
 * (row 0, plus row 1, plus row 2, ...). A sweep takes each step's batch sums this way while
 * the step's block is in the cache, for the biases' gradients. */
void fused_sum_rows(double *restrict sums, const double *restrict src, Py_ssize_t N,
                    Py_ssize_t K) {
    memcpy(sums, src, (size_t)K * sizeof(double));
    for (Py_ssize_t n = 1; n < N; n++) {
        const double *restrict row = src + n * K;
#pragma omp simd
        for (Py_ssize_t j = 0; j < K; j++) sums[j] += row[j];
    }
}
