/* The element-wise work of one step, fused: rnnnum.lstm, rnnnum.gru and the tanh RNN.
 *
 * NumPy makes one pass over memory per operation; a step of the LSTM or the GRU is a
 * dozen element-wise operations between two matrix products, so most of their time went
 * to those passes (the vanilla cell's tanh step has three or four, and gains less). Each
 * function here does one step's element-wise work in one pass over its rows; the matrix
 * products stay in NumPy (the BLAS), and so does everything else.
 *
 * Every function computes what the NumPy step beside it (rnnnum/lstm.py, rnnnum/gru.py,
 * rnnnum/kernel/vanilla.py) computes, operation for operation and in the same order, with
 * the compiler told not to contract a * b + c into one rounding (-ffp-contract=off,
 * pyproject.toml): the reverse steps are bit-identical to NumPy's, and the forward steps
 * differ only by tanh itself (glibc's vector tanh here, NumPy's own there; both within a
 * few units in the last place). inf and NaN propagate as in NumPy (no -ffast-math): the
 * overflow reports still see them.
 *
 * Row vectors, batch first, each argument one C-contiguous block: (N, gH) for a step's row
 * of gates or signals, (N, H) for a state; gate blocks i, f, o, g (LSTM) and r, z, n (GRU).
 * The gates i, f, o (LSTM) and r, z (GRU) arrive as a/2 (their weight columns are halved
 * once per pass), so sigma(a) = (1 + tanh(a/2)) / 2, which never overflows.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* glibc's libmvec has vector variants of tanh; declaring it SIMD-callable lets the loops
 * below call them (with -fopenmp-simd) without -ffast-math. */
#pragma omp declare simd notinbranch
extern double tanh(double);

/* ---------------------------------------------------------------- argument handling */

/* One array argument: its name in messages, its number of float64 values, whether it is
 * written, and whether None may stand for it. */
typedef struct {
    const char *name;
    Py_ssize_t count;
    int writable;
    int optional;
} Spec;

#define MAX_ARGS 10

typedef struct {
    Py_buffer views[MAX_ARGS];
    int held[MAX_ARGS];
    int n;
} Held;

static void release(Held *held) {
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
static int take_all(PyObject **objs, const Spec *specs, int n, Held *held, double **out) {
    memset(held, 0, sizeof *held);
    held->n = n;
    for (int k = 0; k < n; k++) {
        if (!take(objs[k], &specs[k], &held->views[k], &held->held[k], &out[k])) {
            release(held);
            return 0;
        }
    }
    return 1;
}

static int sizes_ok(Py_ssize_t N, Py_ssize_t H) {
    if (N < 1 || H < 1) {
        PyErr_Format(PyExc_ValueError, "N and H must be positive; got N=%zd, H=%zd", N, H);
        return 0;
    }
    return 1;
}

/* sums (K,) = the N rows of src (N, K) added in order: NumPy's src.sum(axis=0), bit for bit
 * (row 0, plus row 1, plus row 2, ...). A sweep takes each step's batch sums this way while
 * the step's block is in the cache, for the biases' gradients. */
static void sum_rows(double *restrict sums, const double *restrict src, Py_ssize_t N,
                     Py_ssize_t K) {
    memcpy(sums, src, (size_t)K * sizeof(double));
    for (Py_ssize_t n = 1; n < N; n++) {
        const double *restrict row = src + n * K;
#pragma omp simd
        for (Py_ssize_t j = 0; j < K; j++) sums[j] += row[j];
    }
}

/* ------------------------------------------------------------------- vanilla (tanh) */

PyDoc_STRVAR(tanh_forward_doc,
"tanh_forward_step(a, hw, b, h, N, H)\n\n"
"One step of rnnnum.kernel.vanilla.vanilla_states for tanh: a (N, H) holds x_t W_xh and\n"
"becomes a_t = (x_t W_xh + h_{t-1} W_hh) + b_h, with hw (N, H) = h_{t-1} W_hh and b (H,);\n"
"h (N, H) = tanh(a_t).");

static PyObject *tanh_forward_step(PyObject *self, PyObject *args) {
    PyObject *o[4];
    Py_ssize_t N, H;
    if (!PyArg_ParseTuple(args, "OOOOnn", &o[0], &o[1], &o[2], &o[3], &N, &H) ||
        !sizes_ok(N, H))
        return NULL;
    const Spec specs[4] = {{"a", N * H, 1, 0}, {"hw", N * H, 0, 0}, {"b", H, 0, 0},
                           {"h", N * H, 1, 0}};
    double *p[4];
    Held held;
    if (!take_all(o, specs, 4, &held, p)) return NULL;
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
    release(&held);
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
        !sizes_ok(N, H))
        return NULL;
    const Spec specs[4] = {{"d", N * H, 1, 0}, {"dh_next", N * H, 0, 0}, {"h", N * H, 0, 0},
                           {"sums", H, 1, 1}};
    double *p[4];
    Held held;
    if (!take_all(o, specs, 4, &held, p)) return NULL;
    double *d = p[0], *sums = p[3];
    const double *dn = p[1], *h = p[2];
    Py_BEGIN_ALLOW_THREADS
    const Py_ssize_t count = N * H;
#pragma omp simd
    for (Py_ssize_t j = 0; j < count; j++)
        d[j] = (d[j] + dn[j]) * (1.0 - h[j] * h[j]);  /* via y_t and h_{t+1}, times tanh' */
    if (sums) sum_rows(sums, d, N, H);
    Py_END_ALLOW_THREADS
    release(&held);
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------------------- LSTM */

PyDoc_STRVAR(lstm_forward_doc,
"lstm_forward_step(a, hw, b, c_prev, c, tanh_c, h, N, H)\n\n"
"One step of rnnnum.lstm.lstm_forward: a (N, 4H) holds x_t W_x and becomes the gates of\n"
"(x_t W_x + b) + h_{t-1} W_h, with hw (N, 4H) = h_{t-1} W_h and b (4H,); then\n"
"c (N, H) = f c_prev + i g, tanh_c = tanh(c), h = o tanh(c).");

static PyObject *lstm_forward_step(PyObject *self, PyObject *args) {
    PyObject *o[7];
    Py_ssize_t N, H;
    if (!PyArg_ParseTuple(args, "OOOOOOOnn", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6],
                          &N, &H) || !sizes_ok(N, H))
        return NULL;
    const Py_ssize_t G = 4 * H;
    const Spec specs[7] = {{"a", N * G, 1, 0}, {"hw", N * G, 0, 0}, {"b", G, 0, 0},
                           {"c_prev", N * H, 0, 0}, {"c", N * H, 1, 0},
                           {"tanh_c", N * H, 1, 0}, {"h", N * H, 1, 0}};
    double *p[7];
    Held held;
    if (!take_all(o, specs, 7, &held, p)) return NULL;
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
    release(&held);
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
                          &o[7], &N, &H) || !sizes_ok(N, H))
        return NULL;
    const Py_ssize_t G = 4 * H;
    const Spec specs[8] = {{"direct", N * H, 0, 0}, {"dh_next", N * H, 0, 0},
                           {"dc_next", N * H, 0, 1}, {"gates", N * G, 0, 0},
                           {"tanh_c", N * H, 0, 0}, {"c_prev", N * H, 0, 0},
                           {"da", N * G, 1, 0}, {"dc_prev", N * H, 1, 0}};
    double *p[8];
    Held held;
    if (!take_all(o, specs, 8, &held, p)) return NULL;
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
    Py_END_ALLOW_THREADS
    release(&held);
    Py_RETURN_NONE;
}

/* ----------------------------------------------------------------------------- GRU */

/* h_t = (h_{t-1} - n) z + n, the NumPy step's order. */
static inline double gru_state(double h_prev, double n, double z) { return (h_prev - n) * z + n; }

PyDoc_STRVAR(gru_forward_doc,
"gru_forward_step(a, v, bx, bh, h_prev, vn, h, N, H, after)\n\n"
"One step of rnnnum.gru.gru_forward.  a (N, 3H) holds x_t W_x and becomes the gates;\n"
"bx, bh (3H,).  after=True: v (N, 3H) is h_{t-1} W_h, r, z = sigma((x W_x + b_x) +\n"
"(v + b_h)), vn = v^n + b_hn and n = tanh((x W_xn + b_xn) + r vn).  after=False: a's r, z\n"
"blocks hold the gates already (gru_before_gates), v (N, H) is (r h_{t-1}) W_hn,\n"
"vn = v + b_hn and n = tanh((x W_xn + b_xn) + vn).  Both: h = (h_prev - n) z + n.");

static PyObject *gru_forward_step(PyObject *self, PyObject *args) {
    PyObject *o[7];
    Py_ssize_t N, H;
    int after;
    if (!PyArg_ParseTuple(args, "OOOOOOOnnp", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6],
                          &N, &H, &after) || !sizes_ok(N, H))
        return NULL;
    const Py_ssize_t G = 3 * H;
    const Spec specs[7] = {{"a", N * G, 1, 0}, {"v", after ? N * G : N * H, 0, 0},
                           {"bx", G, 0, 0}, {"bh", G, 0, 0}, {"h_prev", N * H, 0, 0},
                           {"vn", N * H, 1, 0}, {"h", N * H, 1, 0}};
    double *p[7];
    Held held;
    if (!take_all(o, specs, 7, &held, p)) return NULL;
    double *a = p[0], *vn = p[5], *h = p[6];
    const double *v = p[1], *bx = p[2], *bh = p[3], *hp = p[4];
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t n = 0; n < N; n++) {
        double *restrict ar = a + n * G;
        const double *restrict hpr = hp + n * H;
        double *restrict vnr = vn + n * H, *restrict hr = h + n * H;
        const double *restrict z = ar + H;
        double *restrict nr = ar + 2 * H;
        if (after) {
            const double *restrict vr = v + n * G;
#pragma omp simd
            for (Py_ssize_t j = 0; j < 2 * H; j++)  /* r, z = sigma(u + (v + b_h)) */
                ar[j] = (tanh((ar[j] + bx[j]) + (vr[j] + bh[j])) + 1.0) * 0.5;
            const double *restrict r = ar;
#pragma omp simd
            for (Py_ssize_t j = 0; j < H; j++) {
                double vnj = vr[2 * H + j] + bh[2 * H + j];
                double nj = tanh((nr[j] + bx[2 * H + j]) + r[j] * vnj);  /* u^n + r v^n */
                vnr[j] = vnj;
                nr[j] = nj;
                hr[j] = gru_state(hpr[j], nj, z[j]);
            }
        } else {
            const double *restrict vr = v + n * H;  /* (r h_{t-1}) W_hn */
#pragma omp simd
            for (Py_ssize_t j = 0; j < H; j++) {
                double vnj = vr[j] + bh[2 * H + j];
                double nj = tanh((nr[j] + bx[2 * H + j]) + vnj);  /* u^n + v^n */
                vnr[j] = vnj;
                nr[j] = nj;
                hr[j] = gru_state(hpr[j], nj, z[j]);
            }
        }
    }
    Py_END_ALLOW_THREADS
    release(&held);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(gru_before_gates_doc,
"gru_before_gates(a, v_rz, bx, bh, h_prev, rh, N, H)\n\n"
"The first half of a reset=\"before\" GRU step: r, z = sigma(((x W_x + b_x) + v_rz) + b_h)\n"
"into a's first two blocks (a (N, 3H) holds x_t W_x; v_rz (N, 2H) = h_{t-1} W_h^{rz});\n"
"rh = r h_{t-1} (N, H).");

static PyObject *gru_before_gates(PyObject *self, PyObject *args) {
    PyObject *o[6];
    Py_ssize_t N, H;
    if (!PyArg_ParseTuple(args, "OOOOOOnn", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &N, &H) ||
        !sizes_ok(N, H))
        return NULL;
    const Py_ssize_t G = 3 * H;
    const Spec specs[6] = {{"a", N * G, 1, 0}, {"v_rz", N * 2 * H, 0, 0}, {"bx", G, 0, 0},
                           {"bh", G, 0, 0}, {"h_prev", N * H, 0, 0}, {"rh", N * H, 1, 0}};
    double *p[6];
    Held held;
    if (!take_all(o, specs, 6, &held, p)) return NULL;
    double *a = p[0], *rh = p[5];
    const double *v = p[1], *bx = p[2], *bh = p[3], *hp = p[4];
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t n = 0; n < N; n++) {
        double *restrict ar = a + n * G;
        const double *restrict vr = v + n * 2 * H, *restrict hpr = hp + n * H;
        double *restrict rhr = rh + n * H;
#pragma omp simd
        for (Py_ssize_t j = 0; j < 2 * H; j++)
            ar[j] = (tanh(((ar[j] + bx[j]) + vr[j]) + bh[j]) + 1.0) * 0.5;
#pragma omp simd
        for (Py_ssize_t j = 0; j < H; j++) rhr[j] = ar[j] * hpr[j];
    }
    Py_END_ALLOW_THREADS
    release(&held);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(gru_backward_doc,
"gru_backward_step(direct, mm, extra, carry_in, gates, h_prev, vn, du, dv, carry, N, H)\n\n"
"One step of rnnnum.gru.gru_step_back, its element-wise part.  dL/dh_t (N, H) is\n"
"direct + ((mm + extra) + carry_in): what L_t sends, and dL/dh_t through step t+1 as the\n"
"step before left it (mm its product with W_h^T, extra the reset-before path or None,\n"
"carry_in the copy's part).  Writes du (N, 3H): for reset=\"after\" (dv given, (N, 3H))\n"
"every block, and dv; for \"before\" (dv and vn None) the z and n blocks only (r needs\n"
"dL/d(r h), a product away: gru_before_reset).  carry (N, H) = dL/dh_t z.");

static PyObject *gru_backward_step(PyObject *self, PyObject *args) {
    PyObject *o[10];
    Py_ssize_t N, H;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOnn", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6],
                          &o[7], &o[8], &o[9], &N, &H) || !sizes_ok(N, H))
        return NULL;
    const Py_ssize_t G = 3 * H;
    const int after = o[8] != Py_None;
    const Spec specs[10] = {{"direct", N * H, 0, 0}, {"mm", N * H, 0, 0},
                            {"extra", N * H, 0, 1}, {"carry_in", N * H, 0, 0},
                            {"gates", N * G, 0, 0}, {"h_prev", N * H, 0, 0},
                            {"vn", N * H, 0, !after}, {"du", N * G, 1, 0},
                            {"dv", N * G, 1, 1}, {"carry", N * H, 1, 0}};
    double *p[10];
    Held held;
    if (!take_all(o, specs, 10, &held, p)) return NULL;
    const double *dd = p[0], *mm = p[1], *ex = p[2], *ci = p[3], *gt = p[4], *hp = p[5],
                 *vn = p[6];
    double *du = p[7], *dv = p[8], *carry = p[9];
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t n = 0; n < N; n++) {
        const double *restrict gr = gt + n * G;
        const double *restrict r = gr, *restrict z = gr + H, *restrict nn = gr + 2 * H;
        const double *restrict ddr = dd + n * H, *restrict mmr = mm + n * H,
                     *restrict cir = ci + n * H, *restrict hpr = hp + n * H;
        const double *restrict exr = ex ? ex + n * H : NULL;
        double *restrict dur = du + n * G, *restrict cr = carry + n * H;
#pragma omp simd
        for (Py_ssize_t j = 0; j < H; j++) {
            double later = exr ? (mmr[j] + exr[j]) + cir[j] : mmr[j] + cir[j];
            double d = ddr[j] + later, zj = z[j], nj = nn[j];
            /* dh (1 - z) (1 - n^2): through n_t and its tanh */
            double dan = d * (1.0 - zj) * (1.0 - nj * nj);
            dur[2 * H + j] = dan;
            dur[H + j] = d * (hpr[j] - nj) * ((1.0 - zj) * zj);  /* dh (h_{t-1} - n) sigma'_z */
            cr[j] = d * zj;                                      /* the copy z h_{t-1} */
        }
        if (after) {
            const double *restrict vnr = vn + n * H;
            double *restrict dvr = dv + n * G;
#pragma omp simd
            for (Py_ssize_t j = 0; j < H; j++) {
                double rj = r[j], dan = dur[2 * H + j];
                double dr = dan * vnr[j] * ((1.0 - rj) * rj);  /* d/dr = v^n */
                dur[j] = dr;
                dvr[j] = dr;
                dvr[H + j] = dur[H + j];
                dvr[2 * H + j] = dan * rj;  /* d(r v^n)/dv^n = r */
            }
        }
    }
    Py_END_ALLOW_THREADS
    release(&held);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(gru_before_reset_doc,
"gru_before_reset(d_rh, gates, h_prev, du, extra, N, H)\n\n"
"The rest of a reset=\"before\" step back, given d_rh = dL/d(r h_{t-1}) (N, H):\n"
"du's r block = d_rh h_{t-1} sigma'_r, and extra = d_rh r, its part of dL/dh_{t-1}.");

static PyObject *gru_before_reset(PyObject *self, PyObject *args) {
    PyObject *o[5];
    Py_ssize_t N, H;
    if (!PyArg_ParseTuple(args, "OOOOOnn", &o[0], &o[1], &o[2], &o[3], &o[4], &N, &H) ||
        !sizes_ok(N, H))
        return NULL;
    const Py_ssize_t G = 3 * H;
    const Spec specs[5] = {{"d_rh", N * H, 0, 0}, {"gates", N * G, 0, 0},
                           {"h_prev", N * H, 0, 0}, {"du", N * G, 1, 0},
                           {"extra", N * H, 1, 0}};
    double *p[5];
    Held held;
    if (!take_all(o, specs, 5, &held, p)) return NULL;
    const double *drh = p[0], *gt = p[1], *hp = p[2];
    double *du = p[3], *extra = p[4];
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
    release(&held);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ the tapes' stores */

PyDoc_STRVAR(stream_out_doc,
"stream_out(dst, src, sums, N, K, bypass)\n\n"
"dst[:] = src for an (N, K) block and, unless sums is None, sums (K,) = src.sum(axis=0),\n"
"the rows added in order as NumPy adds them. With bypass true the stores go around the\n"
"cache where the CPU has such stores (x86-64: non-temporal stores, then a store fence).\n\n"
"A sweep writes each step's signals into a scratch block that stays in the cache for the\n"
"step's matrix product, then puts them out to the tape with this, and takes the batch\n"
"sums for the biases' gradients while the block is in the cache. The tape is read again\n"
"only by the products over all steps, after the sweep. Where the tapes are larger than\n"
"the cache can keep, an ordinary store would first read each line from memory\n"
"(read-for-ownership) and evict what the next step needs: the caller bypasses the cache\n"
"then (rnnnum._compiled.bypass_cache), and not for tapes the cache can hold.");

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
    PyObject *o[3];
    Py_ssize_t N, K;
    int bypass;
    if (!PyArg_ParseTuple(args, "OOOnnp", &o[0], &o[1], &o[2], &N, &K, &bypass)) return NULL;
    if (N < 1 || K < 1) {
        PyErr_Format(PyExc_ValueError, "N and K must be positive; got N=%zd, K=%zd", N, K);
        return NULL;
    }
    const Spec specs[3] = {{"dst", N * K, 1, 0}, {"src", N * K, 0, 0}, {"sums", K, 1, 1}};
    double *p[3];
    Held held;
    if (!take_all(o, specs, 3, &held, p)) return NULL;
    double *dst = p[0], *sums = p[2];
    const double *src = p[1];
    if (dst < src + N * K && src < dst + N * K) {
        release(&held);
        PyErr_SetString(PyExc_ValueError,
                        "dst and src must not overlap: dst is the tape, src a scratch block");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (bypass)
        stream_doubles(dst, src, N * K);
    else
        memcpy(dst, src, (size_t)(N * K) * sizeof(double));
    if (sums) sum_rows(sums, src, N, K);
    Py_END_ALLOW_THREADS
    release(&held);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"stream_out", stream_out, METH_VARARGS, stream_out_doc},
    {"tanh_forward_step", tanh_forward_step, METH_VARARGS, tanh_forward_doc},
    {"tanh_backward_step", tanh_backward_step, METH_VARARGS, tanh_backward_doc},
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
    NULL, NULL, NULL, NULL,
};

/* Bytes of the last-level cache as the C library reports it (glibc's sysconf), or 0. */
static long last_level_cache_bytes(void) {
    long bytes = 0;
#if defined(_SC_LEVEL3_CACHE_SIZE)
    bytes = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
#if defined(_SC_LEVEL2_CACHE_SIZE)
    if (bytes <= 0) bytes = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
    return bytes > 0 ? bytes : 0;
}

PyMODINIT_FUNC PyInit__fused(void) {
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "CACHE_BYTES", last_level_cache_bytes()) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
