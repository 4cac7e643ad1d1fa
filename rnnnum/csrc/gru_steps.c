/* The GRU's step, forward and back, either placement of the reset (rnnnum.gru). */
#include "fused.h"

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
                          &N, &H, &after) || !fused_sizes_ok(N, H))
        return NULL;
    const Py_ssize_t G = 3 * H;
    const Spec specs[7] = {{"a", N * G, 1, 0}, {"v", after ? N * G : N * H, 0, 0},
                           {"bx", G, 0, 0}, {"bh", G, 0, 0}, {"h_prev", N * H, 0, 0},
                           {"vn", N * H, 1, 0}, {"h", N * H, 1, 0}};
    double *p[7];
    Held held;
    if (!fused_take_all(o, specs, 7, &held, p)) return NULL;
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
    fused_release(&held);
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
        !fused_sizes_ok(N, H))
        return NULL;
    const Py_ssize_t G = 3 * H;
    const Spec specs[6] = {{"a", N * G, 1, 0}, {"v_rz", N * 2 * H, 0, 0}, {"bx", G, 0, 0},
                           {"bh", G, 0, 0}, {"h_prev", N * H, 0, 0}, {"rh", N * H, 1, 0}};
    double *p[6];
    Held held;
    if (!fused_take_all(o, specs, 6, &held, p)) return NULL;
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
    fused_release(&held);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(gru_backward_doc,
"gru_backward_step(direct, mm, extra, carry_in, gates, h_prev, vn, du, dv, carry, su, sv,\n"
"                  N, H)\n\n"
"One step of rnnnum.gru.gru_step_back, its element-wise part.  dL/dh_t (N, H) is\n"
"direct + ((mm + extra) + carry_in): what L_t sends, and dL/dh_t through step t+1 as the\n"
"step before left it (mm its product with W_h^T, extra the reset-before path or None,\n"
"carry_in the copy's part).  Writes du (N, 3H): for reset=\"after\" (dv given, (N, 3H))\n"
"every block, and dv; for \"before\" (dv and vn None) the z and n blocks only (r needs\n"
"dL/d(r h), a product away: gru_before_reset).  carry (N, H) = dL/dh_t z.  For \"after\",\n"
"unless None, su and sv (3H,) = du and dv summed over the batch, as NumPy's sum(axis=0);\n"
"for \"before\" both must be None (gru_before_reset sums du, once it is whole).");

static PyObject *gru_backward_step(PyObject *self, PyObject *args) {
    PyObject *o[12];
    Py_ssize_t N, H;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOOnn", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5],
                          &o[6], &o[7], &o[8], &o[9], &o[10], &o[11], &N, &H) ||
        !fused_sizes_ok(N, H))
        return NULL;
    const Py_ssize_t G = 3 * H;
    const int after = o[8] != Py_None;
    if (!after && (o[10] != Py_None || o[11] != Py_None)) {
        PyErr_SetString(PyExc_ValueError,
                        "su and sv must be None for reset=\"before\" (dv None): du is whole "
                        "only after gru_before_reset, which sums it");
        return NULL;
    }
    const Spec specs[12] = {{"direct", N * H, 0, 0}, {"mm", N * H, 0, 0},
                            {"extra", N * H, 0, 1}, {"carry_in", N * H, 0, 0},
                            {"gates", N * G, 0, 0}, {"h_prev", N * H, 0, 0},
                            {"vn", N * H, 0, !after}, {"du", N * G, 1, 0},
                            {"dv", N * G, 1, 1}, {"carry", N * H, 1, 0},
                            {"su", G, 1, 1}, {"sv", G, 1, 1}};
    double *p[12];
    Held held;
    if (!fused_take_all(o, specs, 12, &held, p)) return NULL;
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
    if (p[10]) fused_sum_rows(p[10], du, N, G); /* while du and dv are in the cache */
    if (p[11]) fused_sum_rows(p[11], dv, N, G);
    Py_END_ALLOW_THREADS
    fused_release(&held);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(gru_before_reset_doc,
"gru_before_reset(d_rh, gates, h_prev, du, extra, sums, N, H)\n\n"
"The rest of a reset=\"before\" step back, given d_rh = dL/d(r h_{t-1}) (N, H):\n"
"du's r block = d_rh h_{t-1} sigma'_r, and extra = d_rh r, its part of dL/dh_{t-1};\n"
"unless None, sums (3H,) = the whole du summed over the batch, as NumPy's sum(axis=0).");

static PyObject *gru_before_reset(PyObject *self, PyObject *args) {
    PyObject *o[6];
    Py_ssize_t N, H;
    if (!PyArg_ParseTuple(args, "OOOOOOnn", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &N, &H) ||
        !fused_sizes_ok(N, H))
        return NULL;
    const Py_ssize_t G = 3 * H;
    const Spec specs[6] = {{"d_rh", N * H, 0, 0}, {"gates", N * G, 0, 0},
                           {"h_prev", N * H, 0, 0}, {"du", N * G, 1, 0},
                           {"extra", N * H, 1, 0}, {"sums", G, 1, 1}};
    double *p[6];
    Held held;
    if (!fused_take_all(o, specs, 6, &held, p)) return NULL;
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
    if (p[5]) fused_sum_rows(p[5], du, N, G); /* du is whole now */
    Py_END_ALLOW_THREADS
    fused_release(&held);
    Py_RETURN_NONE;
}

PyMethodDef fused_gru_methods[] = {
    {"gru_forward_step", gru_forward_step, METH_VARARGS, gru_forward_doc},
    {"gru_before_gates", gru_before_gates, METH_VARARGS, gru_before_gates_doc},
    {"gru_backward_step", gru_backward_step, METH_VARARGS, gru_backward_doc},
    {"gru_before_reset", gru_before_reset, METH_VARARGS, gru_before_reset_doc},
    {NULL, NULL, 0, NULL},
};
