/* The gated cells' element-wise work of one step, fused: rnnnum.lstm and rnnnum.gru.
 *
 * NumPy makes one pass over memory per operation; a step of the LSTM or the GRU is a dozen
 * element-wise operations between two matrix products, so most of its time went to those
 * passes.  Each function here does one step's element-wise work in one pass over its rows;
 * the matrix products stay in NumPy (the BLAS), and so does everything else.
 *
 * Every function computes what the NumPy step beside it in rnnnum/lstm.py or rnnnum/gru.py
 * computes, operation for operation and in the same order, with the compiler told not to
 * contract a * b + c into one rounding (-ffp-contract=off, setup.py): the reverse steps are
 * bit-identical to NumPy's, and the forward steps differ only by tanh itself (glibc's
 * vector tanh here, NumPy's own there; both within a few units in the last place).
 * inf and NaN propagate as in NumPy (no -ffast-math): the overflow reports still see them.
 *
 * Row vectors, batch first, each argument one C-contiguous block: (N, gH) for a step's row
 * of gates or signals, (N, H) for a state; gate blocks i, f, o, g (LSTM) and r, z, n (GRU).
 * The gates i, f, o (LSTM) and r, z (GRU) arrive as a/2 (their weight columns are halved
 * once per pass), so sigma(a) = (1 + tanh(a/2)) / 2, which never overflows.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

/* glibc's libmvec has vector variants of tanh; declaring it SIMD-callable lets the loops
 * below call them (with -fopenmp-simd) without -ffast-math. */
#pragma omp declare simd notinbranch
extern double tanh(double);

/* ---------------------------------------------------------------- argument handling */

typedef struct {
    Py_buffer view;
    int held;
} Arg;

/* Take `obj` as `count` doubles, writable or not; NULL with an exception set otherwise. */
static double *take(PyObject *obj, Arg *arg, Py_ssize_t count, int writable, const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &arg->view, flags) != 0) {
        PyErr_Format(PyExc_TypeError,
                     "%s must be a C-contiguous%s float64 array; rnnnum passes one block "
                     "of its step tape", name, writable ? ", writable" : "");
        return NULL;
    }
    arg->held = 1;
    if (arg->view.format == NULL || strcmp(arg->view.format, "d") != 0) {
        PyErr_Format(PyExc_TypeError, "%s must be a float64 array; got buffer format '%s'",
                     name, arg->view.format ? arg->view.format : "B");
        return NULL;
    }
    if (arg->view.len != count * (Py_ssize_t)sizeof(double)) {
        PyErr_Format(PyExc_ValueError, "%s must hold %zd float64 values; got %zd bytes",
                     name, count, arg->view.len);
        return NULL;
    }
    return (double *)arg->view.buf;
}

static void release(Arg *args, int n) {
    for (int k = 0; k < n; k++)
        if (args[k].held) PyBuffer_Release(&args[k].view);
}

static int sizes_ok(Py_ssize_t N, Py_ssize_t H) {
    if (N < 1 || H < 1) {
        PyErr_Format(PyExc_ValueError, "N and H must be positive; got N=%zd, H=%zd", N, H);
        return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------------------- LSTM */

PyDoc_STRVAR(lstm_forward_doc,
"lstm_forward_step(a, hw, c_prev, c, tanh_c, h, N, H)\n\n"
"One step of rnnnum.lstm.lstm_forward: a (N, 4H) holds x_t W_x + b and becomes the gates;\n"
"hw (N, 4H) is h_{t-1} W_h; c (N, H) = f c_prev + i g, tanh_c = tanh(c), h = o tanh(c).");

static PyObject *lstm_forward_step(PyObject *self, PyObject *args) {
    PyObject *o[6];
    Py_ssize_t N, H;
    if (!PyArg_ParseTuple(args, "OOOOOOnn", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &N, &H))
        return NULL;
    if (!sizes_ok(N, H)) return NULL;
    Arg g[6];
    memset(g, 0, sizeof g);
    double *a = take(o[0], &g[0], N * 4 * H, 1, "a");
    const double *hw = a ? take(o[1], &g[1], N * 4 * H, 0, "hw") : NULL;
    const double *cp = hw ? take(o[2], &g[2], N * H, 0, "c_prev") : NULL;
    double *c = cp ? take(o[3], &g[3], N * H, 1, "c") : NULL;
    double *tc = c ? take(o[4], &g[4], N * H, 1, "tanh_c") : NULL;
    double *h = tc ? take(o[5], &g[5], N * H, 1, "h") : NULL;
    if (h == NULL) { release(g, 6); return NULL; }
    Py_BEGIN_ALLOW_THREADS
    const Py_ssize_t G = 4 * H;
    for (Py_ssize_t n = 0; n < N; n++) {
        double *restrict ar = a + n * G;
        const double *restrict hr = hw + n * G;
        #pragma omp simd
        for (Py_ssize_t j = 0; j < 3 * H; j++)  /* i, f, o: (1 + tanh(a/2)) * 0.5 */
            ar[j] = (tanh(ar[j] + hr[j]) + 1.0) * 0.5;
        #pragma omp simd
        for (Py_ssize_t j = 3 * H; j < G; j++)  /* g = tanh(a^g) */
            ar[j] = tanh(ar[j] + hr[j]);
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
    release(g, 6);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(lstm_backward_doc,
"lstm_backward_step(direct, dh_next, dc_next, gates, tanh_c, c_prev, da, dc_prev, N, H)\n\n"
"One step of rnnnum.lstm.lstm_backward: dh = direct + dh_next (N, H); dc = dh o (1 - tanh^2 c)\n"
"+ dc_next; da (N, 4H) = the four blocks' signals; dc_prev = dc f.  dc_next may be None.");

static PyObject *lstm_backward_step(PyObject *self, PyObject *args) {
    PyObject *o[8];
    Py_ssize_t N, H;
    if (!PyArg_ParseTuple(args, "OOOOOOOOnn", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6],
                          &o[7], &N, &H))
        return NULL;
    if (!sizes_ok(N, H)) return NULL;
    Arg g[8];
    memset(g, 0, sizeof g);
    const Py_ssize_t G = 4 * H;
    const double *dd = take(o[0], &g[0], N * H, 0, "direct");
    const double *dn = dd ? take(o[1], &g[1], N * H, 0, "dh_next") : NULL;
    const double *dcn = NULL;
    int ok = dn != NULL;
    if (ok && o[2] != Py_None) ok = (dcn = take(o[2], &g[2], N * H, 0, "dc_next")) != NULL;
    const double *gt = ok ? take(o[3], &g[3], N * G, 0, "gates") : NULL;
    const double *tc = gt ? take(o[4], &g[4], N * H, 0, "tanh_c") : NULL;
    const double *cp = tc ? take(o[5], &g[5], N * H, 0, "c_prev") : NULL;
    double *da = cp ? take(o[6], &g[6], N * G, 1, "da") : NULL;
    double *dcp = da ? take(o[7], &g[7], N * H, 1, "dc_prev") : NULL;
    if (dcp == NULL) { release(g, 8); return NULL; }
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
    Py_END_ALLOW_THREADS
    release(g, 8);
    Py_RETURN_NONE;
}

/* ----------------------------------------------------------------------------- GRU */

/* h_t = (h_{t-1} - n) z + n, the NumPy step's order. */
static inline double gru_state(double h_prev, double n, double z) { return (h_prev - n) * z + n; }

PyDoc_STRVAR(gru_forward_doc,
"gru_forward_step(a, v, bh, h_prev, vn, h, N, H, after)\n\n"
"One step of rnnnum.gru.gru_forward.  a (N, 3H) holds u_t = x_t W_x + b_x and becomes the\n"
"gates.  after=True: v (N, 3H) is h_{t-1} W_h, bh (3H,); vn = v^n + b_hn is written.\n"
"after=False: v (N, 3H) holds r_t h_{t-1} W_hn in its last block, already given the\n"
"gates r, z in a (gru_before_gates), and vn = that + b_hn is written.  h = (h_prev - n) z + n.");

static PyObject *gru_forward_step(PyObject *self, PyObject *args) {
    PyObject *o[6];
    Py_ssize_t N, H;
    int after;
    if (!PyArg_ParseTuple(args, "OOOOOOnnp", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &N, &H,
                          &after))
        return NULL;
    if (!sizes_ok(N, H)) return NULL;
    Arg g[6];
    memset(g, 0, sizeof g);
    const Py_ssize_t G = 3 * H;
    double *a = take(o[0], &g[0], N * G, 1, "a");
    const double *v = a ? take(o[1], &g[1], after ? N * G : N * H, 0, "v") : NULL;
    const double *bh = v ? take(o[2], &g[2], G, 0, "bh") : NULL;
    const double *hp = bh ? take(o[3], &g[3], N * H, 0, "h_prev") : NULL;
    double *vn = hp ? take(o[4], &g[4], N * H, 1, "vn") : NULL;
    double *h = vn ? take(o[5], &g[5], N * H, 1, "h") : NULL;
    if (h == NULL) { release(g, 6); return NULL; }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t n = 0; n < N; n++) {
        double *restrict ar = a + n * G;
        const double *restrict hpr = hp + n * H;
        double *restrict vnr = vn + n * H, *restrict hr = h + n * H;
        if (after) {
            const double *restrict vr = v + n * G;
            #pragma omp simd
            for (Py_ssize_t j = 0; j < 2 * H; j++)  /* r, z = sigma(u + (v + b_h)) */
                ar[j] = (tanh(ar[j] + (vr[j] + bh[j])) + 1.0) * 0.5;
            const double *restrict r = ar, *restrict z = ar + H;
            double *restrict nr = ar + 2 * H;
            #pragma omp simd
            for (Py_ssize_t j = 0; j < H; j++) {
                double vnj = vr[2 * H + j] + bh[2 * H + j];
                double nj = tanh(nr[j] + r[j] * vnj);  /* n = tanh(u^n + r v^n) */
                vnr[j] = vnj;
                nr[j] = nj;
                hr[j] = gru_state(hpr[j], nj, z[j]);
            }
        } else {
            const double *restrict vr = v + n * H;  /* (r h_{t-1}) W_hn */
            const double *restrict z = ar + H;
            double *restrict nr = ar + 2 * H;
            #pragma omp simd
            for (Py_ssize_t j = 0; j < H; j++) {
                double vnj = vr[j] + bh[2 * H + j];
                double nj = tanh(nr[j] + vnj);  /* n = tanh(u^n + v^n) */
                vnr[j] = vnj;
                nr[j] = nj;
                hr[j] = gru_state(hpr[j], nj, z[j]);
            }
        }
    }
    Py_END_ALLOW_THREADS
    release(g, 6);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(gru_before_gates_doc,
"gru_before_gates(a, v_rz, bh, h_prev, rh, N, H)\n\n"
"The first half of a reset=\"before\" GRU step: r, z = sigma((u + v_rz) + b_h) into a's\n"
"first two blocks (a (N, 3H), v_rz (N, 2H) = h_{t-1} W_h^{rz}); rh = r h_{t-1} (N, H).");

static PyObject *gru_before_gates(PyObject *self, PyObject *args) {
    PyObject *o[5];
    Py_ssize_t N, H;
    if (!PyArg_ParseTuple(args, "OOOOOnn", &o[0], &o[1], &o[2], &o[3], &o[4], &N, &H))
        return NULL;
    if (!sizes_ok(N, H)) return NULL;
    Arg g[5];
    memset(g, 0, sizeof g);
    const Py_ssize_t G = 3 * H;
    double *a = take(o[0], &g[0], N * G, 1, "a");
    const double *v = a ? take(o[1], &g[1], N * 2 * H, 0, "v_rz") : NULL;
    const double *bh = v ? take(o[2], &g[2], G, 0, "bh") : NULL;
    const double *hp = bh ? take(o[3], &g[3], N * H, 0, "h_prev") : NULL;
    double *rh = hp ? take(o[4], &g[4], N * H, 1, "rh") : NULL;
    if (rh == NULL) { release(g, 5); return NULL; }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t n = 0; n < N; n++) {
        double *restrict ar = a + n * G;
        const double *restrict vr = v + n * 2 * H, *restrict hpr = hp + n * H;
        double *restrict rhr = rh + n * H;
        #pragma omp simd
        for (Py_ssize_t j = 0; j < 2 * H; j++)
            ar[j] = (tanh((ar[j] + vr[j]) + bh[j]) + 1.0) * 0.5;
        #pragma omp simd
        for (Py_ssize_t j = 0; j < H; j++) rhr[j] = ar[j] * hpr[j];
    }
    Py_END_ALLOW_THREADS
    release(g, 5);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(gru_backward_doc,
"gru_backward_step(dh, gates, h_prev, vn, du, dv, carry, N, H)\n\n"
"One step of rnnnum.gru.gru_step_back, its element-wise part.  dh (N, H) is dL/dh_t.\n"
"Writes du (N, 3H): for reset=\"after\" (dv given, (N, 3H)) every block, and dv; for\n"
"\"before\" (dv None, vn ignored) the z and n blocks only (r needs dL/d(r h), a product\n"
"away: gru_before_reset).  carry (N, H) = dh z, the copy's part of dL/dh_{t-1}.");

static PyObject *gru_backward_step(PyObject *self, PyObject *args) {
    PyObject *o[7];
    Py_ssize_t N, H;
    if (!PyArg_ParseTuple(args, "OOOOOOOnn", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6],
                          &N, &H))
        return NULL;
    if (!sizes_ok(N, H)) return NULL;
    Arg g[7];
    memset(g, 0, sizeof g);
    const Py_ssize_t G = 3 * H;
    const int after = o[5] != Py_None;
    const double *dh = take(o[0], &g[0], N * H, 0, "dh");
    const double *gt = dh ? take(o[1], &g[1], N * G, 0, "gates") : NULL;
    const double *hp = gt ? take(o[2], &g[2], N * H, 0, "h_prev") : NULL;
    const double *vn = hp && after ? take(o[3], &g[3], N * H, 0, "vn") : NULL;
    double *du = (after ? vn != NULL : hp != NULL) ? take(o[4], &g[4], N * G, 1, "du") : NULL;
    double *dv = du && after ? take(o[5], &g[5], N * G, 1, "dv") : NULL;
    double *carry = (after ? dv != NULL : du != NULL) ? take(o[6], &g[6], N * H, 1, "carry")
                                                       : NULL;
    if (carry == NULL) { release(g, 7); return NULL; }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t n = 0; n < N; n++) {
        const double *restrict gr = gt + n * G;
        const double *restrict r = gr, *restrict z = gr + H, *restrict nn = gr + 2 * H;
        const double *restrict dhr = dh + n * H, *restrict hpr = hp + n * H;
        double *restrict dur = du + n * G, *restrict cr = carry + n * H;
        #pragma omp simd
        for (Py_ssize_t j = 0; j < H; j++) {
            double d = dhr[j], zj = z[j], nj = nn[j];
            /* dh (1 - z) (1 - n^2): through n_t and its tanh */
            double dan = d * (1.0 - zj) * (1.0 - nj * nj);
            dur[2 * H + j] = dan;
            dur[H + j] = d * (hpr[j] - nj) * ((1.0 - zj) * zj);  /* dh (h_{t-1} - n) sigma'_z */
            cr[j] = d * zj;                                      /* the copy z h_{t-1} */
            if (after) {
                double rj = r[j];
                double *restrict dvr = dv + n * G;
                double dr = dan * vn[n * H + j] * ((1.0 - rj) * rj);  /* d/dr = v^n */
                dur[j] = dr;
                dvr[j] = dr;
                dvr[H + j] = dur[H + j];
                dvr[2 * H + j] = dan * rj;  /* d(r v^n)/dv^n = r */
            }
        }
    }
    Py_END_ALLOW_THREADS
    release(g, 7);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(gru_before_reset_doc,
"gru_before_reset(d_rh, gates, h_prev, du, extra, N, H)\n\n"
"The rest of a reset=\"before\" step back, given d_rh = dL/d(r h_{t-1}) (N, H):\n"
"du's r block = d_rh h_{t-1} sigma'_r, and extra = d_rh r, its part of dL/dh_{t-1}.");

static PyObject *gru_before_reset(PyObject *self, PyObject *args) {
    PyObject *o[5];
    Py_ssize_t N, H;
    if (!PyArg_ParseTuple(args, "OOOOOnn", &o[0], &o[1], &o[2], &o[3], &o[4], &N, &H))
        return NULL;
    if (!sizes_ok(N, H)) return NULL;
    Arg g[5];
    memset(g, 0, sizeof g);
    const Py_ssize_t G = 3 * H;
    const double *drh = take(o[0], &g[0], N * H, 0, "d_rh");
    const double *gt = drh ? take(o[1], &g[1], N * G, 0, "gates") : NULL;
    const double *hp = gt ? take(o[2], &g[2], N * H, 0, "h_prev") : NULL;
    double *du = hp ? take(o[3], &g[3], N * G, 1, "du") : NULL;
    double *extra = du ? take(o[4], &g[4], N * H, 1, "extra") : NULL;
    if (extra == NULL) { release(g, 5); return NULL; }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t n = 0; n < N; n++) {
        const double *restrict r = gt + n * G;
        const double *restrict dr = drh + n * H, *restrict hpr = hp + n * H;
        double *restrict dur = du + n * G, *restrict er = extra + n * H;
        #pragma omp simd
        for (Py_ssize_t j = 0; j < H; j++) {
            dur[j] = dr[j] * hpr[j] * ((1.0 - r[j]) * r[j]);
            er[j] = dr[j] * r[j];
        }
    }
    Py_END_ALLOW_THREADS
    release(g, 5);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"lstm_forward_step", lstm_forward_step, METH_VARARGS, lstm_forward_doc},
    {"lstm_backward_step", lstm_backward_step, METH_VARARGS, lstm_backward_doc},
    {"gru_forward_step", gru_forward_step, METH_VARARGS, gru_forward_doc},
    {"gru_before_gates", gru_before_gates, METH_VARARGS, gru_before_gates_doc},
    {"gru_backward_step", gru_backward_step, METH_VARARGS, gru_backward_doc},
    {"gru_before_reset", gru_before_reset, METH_VARARGS, gru_before_reset_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "rnnnum._fused",
    "The gated cells' element-wise work of one step, fused (rnnnum/_fused.c).", -1, methods,
};

PyMODINIT_FUNC PyInit__fused(void) { return PyModule_Create(&module); }
