# migration: the old engine's names, for derive/codegen.py until it takes a derivation; removed
# before this change is committed.
from .engine import MatrixDerivation, derive_matrix as derive_layer_rules  # noqa: F401
from .naming import N  # noqa: F401
from .network import Network as MatrixNetwork  # noqa: F401
from .targets import draw_targets


def as_matrix_network(net):
    return net


def _draw_targets(domain, n, batch, rng):
    return draw_targets(domain, (n, batch), rng, soft=True)
