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
 * The files: args.c (the argument checks), tanh_steps.c, lstm_steps.c, gru_steps.c (the
 * steps), tapes.c (putting a sweep's signals out to its tapes), fused.h (what they share).
 *
 * Row vectors, batch first, each argument one C-contiguous block: (N, gH) for a step's row
 * of gates or signals, (N, H) for a state; gate blocks i, f, o, g (LSTM) and r, z, n (GRU).
 * The gates i, f, o (LSTM) and r, z (GRU) arrive as a/2 (their weight columns are halved
 * once per pass), so sigma(a) = (1 + tanh(a/2)) / 2, which never overflows.
 */
#include "fused.h"

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "rnnnum._fused",
    "The cells' element-wise work of one step, fused (rnnnum/csrc/).", -1, NULL,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fused(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    PyMethodDef *tables[] = {fused_tanh_methods, fused_lstm_methods, fused_gru_methods,
                             fused_tape_methods};
    for (size_t k = 0; k < sizeof tables / sizeof tables[0]; k++) {
        if (PyModule_AddFunctions(m, tables[k]) < 0) {
            Py_DECREF(m);
            return NULL;
        }
    }
    if (PyModule_AddIntConstant(m, "CACHE_BYTES", fused_last_level_cache_bytes()) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
