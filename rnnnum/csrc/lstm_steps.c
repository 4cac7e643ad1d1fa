/* The LSTM's step, forward and back (rnnnum.lstm). */
#include "fused.h"

PyDoc_STRVAR(lstm_forward_doc,
"lstm_forward_step(a, hw, b, c_prev, c, tanh_c, h, N, H)\n\n"
"One step of rnnnum.lstm.lstm_forward: a (N, 4H) holds x_t W_x and becomes the gates of\n"
"(x_t W_x + b) + h_{t-1} W_h, with hw (N, 4H) = h_{t-1} W_h and b (4H,); then\n"
"c (N, H) = f c_prev + i g, tanh_c = tanh(c), h = o tanh(c).");

static PyObject *lstm_forward_step(PyObject *self, PyObject *args) {
    PyObject *o[7];
    Py_ssize_t N, H;
    if (!PyArg_ParseTuple(args, "OOOOOOOnn", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6],
                          &N, &H) || !fused_sizes_ok(N, H))
        return NULL;
    const Py_ssize_t G = 4 * H;
    const Spec specs[7] = {{"a", N * G, 1, 0}, {"hw", N * G, 0, 0}, {"b", G, 0, 0},
                           {"c_prev", N * H, 0, 0}, {"c", N * H, 1, 0},
                           {"tanh_c", N * H, 1, 0}, {"h", N * H, 1, 0}};
    double *p[7];
    Held held;
    if (!fused_take_all(o, specs, 7, &held, p)) return NULL;
    double *a = p[0], *c = p[4], *tc = p[5], *h = p[6];
    const double *hw = p[1], *b = p[2], *cp = p[3];
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t n = 0; n < N; n++) {
        double *restrict ar = a + n * G;
        const double *restrict hr = hw + n * G;
#pragma omp simd
        for (Py_ssize_t j = 0; j < 3 * H; j++)  /* i, f, o: (1 + tanh(a/2)) * 0.5 */
            ar[j] = (tanh((ar[j] + b[j]) + hr[j]) + 1.0) * 0.5;
#pragma omp simd
        for (Py_ssize_t j = 3 * H; j < G; j++)  /* g = tanh(a^g) */
            ar[j] = tanh((ar[j] + b[j]) + hr[j]);
        const double *restrict i = ar, *restrict f = ar + H, *restrict og = ar + 2 * H,
                     *restrict gg = ar + 3 * H, *restrict cpr = cp + n * H;
        double *restrict cr = c + n * H, *restrict tr = tc + n * H, *restrict hr2 = h + n * H;
#pragma omp simd
        for (Py_ssize_t j = 0; j < H; j++) {
            double cj = f[j] * cpr[j] + i[j] * gg[j];  /* f * c_{t-1}, then + i * g */
            double t = tanh(cj);
            cr[j] = cj;
            tr[j] = t;
            hr2[j] = og[j] * t;
        }
    }
    Py_END_ALLOW_THREADS
    fused_release(&held);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(lstm_backward_doc,
"lstm_backward_step(direct, dh_next, dc_next, gates, tanh_c, c_prev, da, dc_prev, sums,\n"
"                   N, H)\n\n"
"One step of rnnnum.lstm.lstm_backward: dh = direct + dh_next (N, H); dc = dh o (1 - tanh^2 c)\n"
"+ dc_next; da (N, 4H) = the four blocks' signals; dc_prev = dc f.  dc_next may be None;\n"
"unless None, sums (4H,) = da summed over the batch, as NumPy's da.sum(axis=0).");

static PyObject *lstm_backward_step(PyObject *self, PyObject *args) {
    PyObject *o[9];
    Py_ssize_t N, H;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOnn", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6],
                          &o[7], &o[8], &N, &H) || !fused_sizes_ok(N, H))
        return NULL;
    const Py_ssize_t G = 4 * H;
    const Spec specs[9] = {{"direct", N * H, 0, 0}, {"dh_next", N * H, 0, 0},
                           {"dc_next", N * H, 0, 1}, {"gates", N * G, 0, 0},
                           {"tanh_c", N * H, 0, 0}, {"c_prev", N * H, 0, 0},
                           {"da", N * G, 1, 0}, {"dc_prev", N * H, 1, 0},
                           {"sums", G, 1, 1}};
    double *p[9];
    Held held;
    if (!fused_take_all(o, specs, 9, &held, p)) return NULL;
    const double *dd = p[0], *dn = p[1], *dcn = p[2], *gt = p[3], *tc = p[4], *cp = p[5];
    double *da = p[6], *dcp = p[7];
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t n = 0; n < N; n++) {
        const double *restrict gr = gt + n * G;
        const double *restrict i = gr, *restrict f = gr + H, *restrict og = gr + 2 * H,
                     *restrict gg = gr + 3 * H;
        const double *restrict ddr = dd + n * H, *restrict dnr = dn + n * H,
                     *restrict tcr = tc + n * H, *restrict cpr = cp + n * H;
        const double *restrict dcnr = dcn ? dcn + n * H : NULL;
        double *restrict dar = da + n * G, *restrict dcpr = dcp + n * H;
#pragma omp simd
        for (Py_ssize_t j = 0; j < H; j++) {
            double dh = ddr[j] + dnr[j];
            double dc = dh * og[j] * (1.0 - tcr[j] * tcr[j]);  /* via h_t */
            if (dcnr) dc = dc + dcnr[j];                        /* via c_{t+1} */
            /* each block's signal times its slope: (1 - s) s for i, f, o; 1 - g^2 for g */
            dar[j] = dc * gg[j] * ((1.0 - i[j]) * i[j]);
            dar[H + j] = dc * cpr[j] * ((1.0 - f[j]) * f[j]);
            dar[2 * H + j] = dh * tcr[j] * ((1.0 - og[j]) * og[j]);
            dar[3 * H + j] = dc * i[j] * (-gg[j] * gg[j] + 1.0);
            dcpr[j] = dc * f[j];
        }
    }
    if (p[8]) fused_sum_rows(p[8], da, N, G); /* while da is in the cache */
    Py_END_ALLOW_THREADS
    fused_release(&held);
    Py_RETURN_NONE;
}

PyMethodDef fused_lstm_methods[] = {
    {"lstm_forward_step", lstm_forward_step, METH_VARARGS, lstm_forward_doc},
    {"lstm_backward_step", lstm_backward_step, METH_VARARGS, lstm_backward_doc},
    {NULL, NULL, 0, NULL},
};
