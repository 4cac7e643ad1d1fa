/* The tanh RNN's step, forward and back (rnnnum.kernel.vanilla). */
#include "fused.h"

PyDoc_STRVAR(tanh_forward_doc,
"tanh_forward_step(a, hw, b, h, N, H)\n\n"
"One step of rnnnum.kernel.vanilla.vanilla_states for tanh: a (N, H) holds x_t W_xh and\n"
"becomes a_t = (x_t W_xh + h_{t-1} W_hh) + b_h, with hw (N, H) = h_{t-1} W_hh and b (H,);\n"
"h (N, H) = tanh(a_t).");

static PyObject *tanh_forward_step(PyObject *self, PyObject *args) {
    PyObject *o[4];
    Py_ssize_t N, H;
    if (!PyArg_ParseTuple(args, "OOOOnn", &o[0], &o[1], &o[2], &o[3], &N, &H) ||
        !fused_sizes_ok(N, H))
        return NULL;
    const Spec specs[4] = {{"a", N * H, 1, 0}, {"hw", N * H, 0, 0}, {"b", H, 0, 0},
                           {"h", N * H, 1, 0}};
    double *p[4];
    Held held;
    if (!fused_take_all(o, specs, 4, &held, p)) return NULL;
    double *a = p[0], *h = p[3];
    const double *hw = p[1], *b = p[2];
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t n = 0; n < N; n++) {
        double *restrict ar = a + n * H, *restrict hr = h + n * H;
        const double *restrict wr = hw + n * H;
#pragma omp simd
        for (Py_ssize_t j = 0; j < H; j++) {
            double aj = (ar[j] + wr[j]) + b[j];
            ar[j] = aj;
            hr[j] = tanh(aj);
        }
    }
    Py_END_ALLOW_THREADS
    fused_release(&held);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(tanh_backward_doc,
"tanh_backward_step(d, dh_next, h, sums, N, H)\n\n"
"One step of rnnnum.kernel.vanilla.state_sweep for tanh: d (N, H) holds what L_t sends into\n"
"h_t and becomes dL/da_t = (d + dh_next) (1 - h_t^2), h (N, H) = h_t; unless sums is None,\n"
"sums (H,) = dL/da_t summed over the batch, as NumPy's d.sum(axis=0) adds the rows.");

static PyObject *tanh_backward_step(PyObject *self, PyObject *args) {
    PyObject *o[4];
    Py_ssize_t N, H;
    if (!PyArg_ParseTuple(args, "OOOOnn", &o[0], &o[1], &o[2], &o[3], &N, &H) ||
        !fused_sizes_ok(N, H))
        return NULL;
    const Spec specs[4] = {{"d", N * H, 1, 0}, {"dh_next", N * H, 0, 0}, {"h", N * H, 0, 0},
                           {"sums", H, 1, 1}};
    double *p[4];
    Held held;
    if (!fused_take_all(o, specs, 4, &held, p)) return NULL;
    double *d = p[0], *sums = p[3];
    const double *dn = p[1], *h = p[2];
    Py_BEGIN_ALLOW_THREADS
    const Py_ssize_t count = N * H;
#pragma omp simd
    for (Py_ssize_t j = 0; j < count; j++)
        d[j] = (d[j] + dn[j]) * (1.0 - h[j] * h[j]);  /* via y_t and h_{t+1}, times tanh' */
    if (sums) fused_sum_rows(sums, d, N, H);
    Py_END_ALLOW_THREADS
    fused_release(&held);
    Py_RETURN_NONE;
}

PyMethodDef fused_tanh_methods[] = {
    {"tanh_forward_step", tanh_forward_step, METH_VARARGS, tanh_forward_doc},
    {"tanh_backward_step", tanh_backward_step, METH_VARARGS, tanh_backward_doc},
    {NULL, NULL, 0, NULL},
};
