r"""rnnnum: the numeric twin of the derivations, in NumPy and float64.

Row-vector convention, batch first (the notation of the whole project):

$$a_t = x_t W_{xh} + h_{t-1} W_{hh} + b_h,\quad h_t = f(a_t),\quad
y_t = h_t W_{yh} + b_y,\quad L = \sum_t L_t.$$

Data flow, one module per stage: `params`/`init` -> `forward` -> `bptt` ->
`components` (per-(loss, step) terms) and `jacobians` -> `gradcheck`,
`clipping`, `truncation`. The laboratory adds `cells` -> `tasks` -> `training` ->
`horizon` (the trained memory horizon) and the gradient experiments in `lab`.
"""

from rnnnum.activations import ACTIVATIONS, LEAKY_SLOPE, Activation, get_activation
from rnnnum.bptt import Gradients, bptt
from rnnnum.cells import Cell, VanillaCell
from rnnnum.clipping import clip_by_norm, clip_by_value, global_norm
from rnnnum.components import (
    Components,
    all_component_norms,
    backward_signals,
    component_norms,
    components,
)
from rnnnum.errors import (
    CellMismatchError,
    DTypeError,
    MismatchedCacheError,
    NonFiniteError,
    NumericalOverflowError,
    NumericalOverflowWarning,
    OutOfRangeError,
    RNNNumError,
    ShapeError,
    TargetRangeError,
    UnknownChoiceError,
)
from rnnnum.forward import ForwardCache, forward
from rnnnum.gated import GRUCache, GRUGradients, LSTMCache, LSTMGradients
from rnnnum.gated_cells import GRUCell, LSTMCell
from rnnnum.gated_init import GATED_INITS, init_gru, init_lstm
from rnnnum.gated_params import (
    GRU_GATES,
    LSTM_GATES,
    RESETS,
    TORCH_LSTM_GATES,
    GRUParams,
    LSTMParams,
)
from rnnnum.gradcheck import (
    FD_ATOL,
    FD_RTOL,
    FD_STEP,
    DirectionalCheck,
    directional_checks,
    distance_to_kink,
    numerical_gradients,
)
from rnnnum.gru import GRUTape
from rnnnum.init import (
    INITIALISERS,
    init_identity,
    init_normal,
    init_orthogonal,
    init_params,
    init_spectral,
    init_xavier,
    orthogonal_matrix,
)
from rnnnum.jacobians import (
    JacobianProducts,
    cell_state_path,
    jacobian_products,
    step_jacobians,
)
from rnnnum.losses import LOSSES, Loss, get_loss
from rnnnum.lstm import LSTMTape
from rnnnum.optimisers import SGD, Adam
from rnnnum.params import GRADIENT_NAMES, PARAM_NAMES, RNNParams
from rnnnum.tasks import RecallTask, SelectiveRecallTask
from rnnnum.training import Model, TrainConfig, TrainResult, train
from rnnnum.truncation import chunked_bptt, truncated_bptt

__all__ = [
    "ACTIVATIONS",
    "FD_ATOL",
    "FD_RTOL",
    "FD_STEP",
    "GATED_INITS",
    "GRADIENT_NAMES",
    "GRU_GATES",
    "INITIALISERS",
    "LEAKY_SLOPE",
    "LOSSES",
    "LSTM_GATES",
    "PARAM_NAMES",
    "RESETS",
    "SGD",
    "TORCH_LSTM_GATES",
    "Activation",
    "Adam",
    "Cell",
    "CellMismatchError",
    "Components",
    "DTypeError",
    "DirectionalCheck",
    "ForwardCache",
    "GRUCache",
    "GRUCell",
    "GRUGradients",
    "GRUParams",
    "GRUTape",
    "Gradients",
    "JacobianProducts",
    "LSTMCache",
    "LSTMCell",
    "LSTMGradients",
    "LSTMParams",
    "LSTMTape",
    "Loss",
    "MismatchedCacheError",
    "Model",
    "NonFiniteError",
    "NumericalOverflowError",
    "NumericalOverflowWarning",
    "OutOfRangeError",
    "RNNNumError",
    "RNNParams",
    "RecallTask",
    "SelectiveRecallTask",
    "ShapeError",
    "TargetRangeError",
    "TrainConfig",
    "TrainResult",
    "UnknownChoiceError",
    "VanillaCell",
    "all_component_norms",
    "backward_signals",
    "bptt",
    "cell_state_path",
    "chunked_bptt",
    "clip_by_norm",
    "clip_by_value",
    "component_norms",
    "components",
    "directional_checks",
    "distance_to_kink",
    "forward",
    "get_activation",
    "get_loss",
    "global_norm",
    "init_gru",
    "init_identity",
    "init_lstm",
    "init_normal",
    "init_orthogonal",
    "init_params",
    "init_spectral",
    "init_xavier",
    "jacobian_products",
    "numerical_gradients",
    "orthogonal_matrix",
    "step_jacobians",
    "train",
    "truncated_bptt",
]
