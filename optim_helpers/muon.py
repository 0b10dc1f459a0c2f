r"""Muon: momentum whose update is orthogonalized by a few Newton-Schulz steps.

For a weight matrix, the steepest-descent direction under the spectral norm is not the gradient :math:`G` but its
orthogonal factor :math:`U V^\top`, where :math:`G = U S V^\top` is the SVD (Bernstein & Newhouse): every singular
direction of the gradient gets a step of the same size. Muon (Jordan et al.) applies that to its momentum,
approximating :math:`U V^\top` by :func:`newton_schulz`, which needs only matrix products.
"""

import math
import numbers

import torch

from .after_adam import _moments
from .optimizers import OptimizerBase, _check_beta, _check_betas, _check_lr, _check_nonnegative

__all__ = ["newton_schulz", "Muon"]

NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)  # (a, b, c) of PyTorch's Muon and Keller Jordan's Muon
ADJUST_LR_FNS = (None, "original", "match_rms_adamw")


def _check_steps(name):
    def check(steps):
        if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
            raise ValueError(f"Invalid {name} value: {steps} (must be an int >= 1)")

    return check


def newton_schulz(G, steps=5, eps=1e-7):
    r"""Approximately orthogonalize ``G``: about :math:`U V^\top` where :math:`G = U S V^\top` is its SVD.

    :math:`U V^\top` is the orthogonal (polar) factor of :math:`G`: the same singular vectors with every singular
    value set to 1. Starting from :math:`X_0 = G / \lVert G \rVert_F` (so every singular value is at most 1), each
    step applies the odd quintic

    .. math::
        X \leftarrow a X + b (X X^\top) X + c (X X^\top)^2 X, \qquad (a, b, c) = (3.4445, -4.7750, 2.0315),

    which maps each singular value :math:`\sigma` to :math:`p(\sigma) = a\sigma + b\sigma^3 + c\sigma^5` and leaves
    the singular vectors alone. The coefficients are tuned for speed, not for convergence: the slope
    :math:`p'(0) = a` is large, so small singular values grow quickly, and after five steps every singular value
    above about :math:`\lVert G \rVert_F / 500` lies in about :math:`[0.68, 1.2]` instead of converging to 1
    (more steps keep it in that band). That is close enough for an update direction.

    Same iteration, coefficients, normalization and transposition of tall matrices (the products use the
    smaller Gram matrix) as PyTorch's ``Muon``, but computed in ``G``'s dtype (torch computes in ``bfloat16``:
    ``newton_schulz(G.bfloat16())`` gives its result). ``G`` may be a batch of matrices of shape ``(..., m, n)``:
    each is orthogonalized on its own.

    Args:
        G: a tensor of shape ``(m, n)`` or ``(..., m, n)``.
        steps: number of iterations (PyTorch's ``ns_steps``).
        eps: floor of the Frobenius norm, so that a zero matrix stays zero.

    Returns:
        A tensor of ``G``'s shape and dtype.
    """
    if not isinstance(G, torch.Tensor) or G.ndim < 2:
        raise ValueError(f"Invalid G: need a tensor of shape (m, n) or (..., m, n), got {getattr(G, 'shape', G)}")
    _check_steps("steps")(steps)
    _check_nonnegative("eps")(eps)
    a, b, c = NS_COEFFICIENTS
    tall = G.size(-2) > G.size(-1)
    X = G.mT if tall else G
    batch = X.shape[:-2]
    if X.ndim > 2:
        X = X.reshape(-1, *X.shape[-2:])
    X = X / torch.linalg.vector_norm(X, dim=(-2, -1), keepdim=True).clamp(min=eps)  # singular values <= 1
    addmm = torch.addmm if X.ndim == 2 else torch.baddbmm  # torch's fused products, batched where needed
    for _ in range(steps):
        gram = X @ X.mT
        poly = addmm(gram, gram, gram, beta=b, alpha=c)  # b (X X^T) + c (X X^T)^2
        X = addmm(X, poly, X, beta=a)  # a X + poly X
    X = X.reshape(*batch, *X.shape[-2:])
    return X.mT if tall else X


def _lr_ratio(adjust_lr_fn, shape):
    """How PyTorch's ``Muon`` scales the learning rate of an (m, n) matrix."""
    m, n = shape[-2:]
    if adjust_lr_fn == "match_rms_adamw":
        return 0.2 * math.sqrt(max(m, n))
    return math.sqrt(max(1, m / n))  # None or "original"


def _check_adjust_lr_fn(adjust_lr_fn):
    if adjust_lr_fn not in ADJUST_LR_FNS:
        raise ValueError(f"Invalid adjust_lr_fn value: {adjust_lr_fn!r} (must be one of {ADJUST_LR_FNS})")


def _check_bool_or_none(name):
    def check(value):
        if value not in (None, True, False) or isinstance(value, numbers.Number) and not isinstance(value, bool):
            raise ValueError(f"Invalid {name} value: {value!r} (must be None, True or False)")

    return check


def _check_bool(name):
    def check(value):
        if not isinstance(value, bool):
            raise ValueError(f"Invalid {name} value: {value!r} (must be True or False)")

    return check


def _check_adamw_lr(lr):
    try:
        _check_lr(lr)
    except ValueError:
        raise ValueError(f"Invalid adamw_lr value: {lr} (must be finite and >= 0)") from None


def _check_adamw_betas(betas):
    try:
        _check_betas(betas)
    except ValueError as error:
        raise ValueError(f"Invalid adamw_betas value: {betas}: {error}") from None


def _uses_muon(p, group):
    """Whether ``p`` takes Muon's update (else AdamW's); a parameter it cannot place is a ValueError."""
    use_muon = group["use_muon"]
    if use_muon is None:
        if p.ndim > 2:
            raise ValueError(f"A parameter of shape {tuple(p.shape)} is neither a matrix nor a vector: put it in a "
                             "group with use_muon=True (a batch of matrices, one per index of the leading "
                             "dimensions) or use_muon=False (AdamW)")
        return p.ndim == 2
    if use_muon and p.ndim < 2:
        raise ValueError(f"use_muon=True needs matrices (..., m, n), got a parameter of shape {tuple(p.shape)}")
    return use_muon


class Muon(OptimizerBase):
    r"""Muon for the matrices, AdamW for everything else (biases, gains, scalars).

    A matrix parameter :math:`\Theta` with gradient :math:`g^t` keeps a momentum buffer and steps along its
    orthogonalized version,

    .. math::
        m^t = \mu\, m^{t-1} + (1 - \mu)\, g^t, \qquad
        u^t = \begin{cases} \mu\, m^t + (1 - \mu)\, g^t & \text{(Nesterov)} \\ m^t & \text{otherwise,} \end{cases}

        O^t = \mathrm{NS}_k(u^t) \approx U V^\top \ (u^t = U S V^\top), \qquad
        \Theta^t = \Theta^{t-1} (1 - \eta \lambda) - \eta' O^t,

    with :math:`m^0 = 0`, :math:`k` = ``ns_steps`` iterations of :func:`newton_schulz`, decoupled weight decay
    :math:`\lambda` and :math:`\eta' = \eta \sqrt{\max(1, m/n)}` for an :math:`m \times n` matrix
    (``adjust_lr_fn=None`` or ``"original"``), or :math:`\eta' = 0.2\, \eta \sqrt{\max(m, n)}`
    (``"match_rms_adamw"``: the update's RMS then matches a typical AdamW update's, so AdamW's learning rate and
    weight decay carry over). Torch's documentation writes the momentum as the sum
    :math:`m^t = \mu m^{t-1} + g^t` (the Nesterov look-ahead as :math:`g^t + \mu m^t`); its code keeps the
    average above, which is that sum times :math:`1 - \mu`. The orthogonalization does not see the scale, so both
    give the same :math:`O^t`.

    Why: under the spectral norm (the largest singular value, the norm that bounds how much a layer can change its
    output), the steepest-descent step of size :math:`\eta` against a gradient :math:`G = U S V^\top` is
    :math:`-\eta U V^\top` (Bernstein & Newhouse). The orthogonalized update moves every singular direction by the
    same amount, so directions with small singular values, which plain momentum barely moves, are not starved.

    Every other parameter follows AdamW with its own settings (``adamw_lr``, ``adamw_betas``, ``adamw_eps``,
    ``adamw_weight_decay``), as in the usual pairing of PyTorch's ``Muon`` on the matrices with
    ``torch.optim.AdamW`` on the rest. Matrices equal PyTorch's ``Muon`` step for step: like torch, the
    orthogonalization runs in ``bfloat16``. A scheduler writes ``lr``, so it changes Muon's rate only.

    Which parameters are matrices: ``ndim == 2`` (what torch's Muon takes). A group may say so itself with
    ``use_muon``: ``False`` sends its matrices to AdamW; ``True`` also takes tensors of shape ``(..., m, n)`` as
    batches of matrices, each orthogonalized on its own, for training several networks at once (the
    :math:`\eta'` ratio uses the last two dimensions, as stored). A parameter with ``ndim > 2`` outside such a
    group is an error.
    """

    SETTINGS = {"lr": _check_lr, "momentum": _check_beta("momentum"), "nesterov": _check_bool("nesterov"),
                "ns_steps": _check_steps("ns_steps"), "weight_decay": _check_nonnegative("weight_decay"),
                "adjust_lr_fn": _check_adjust_lr_fn, "adamw_lr": _check_adamw_lr, "adamw_betas": _check_adamw_betas,
                "adamw_eps": _check_nonnegative("adamw_eps"),
                "adamw_weight_decay": _check_nonnegative("adamw_weight_decay"),
                "use_muon": _check_bool_or_none("use_muon")}

    def __init__(self, params, lr=1e-3, momentum=0.95, nesterov=True, ns_steps=5, weight_decay=0.1,
                 adjust_lr_fn=None, adamw_lr=1e-3, adamw_betas=(0.9, 0.999), adamw_eps=1e-8,
                 adamw_weight_decay=0.0, use_muon=None):
        super().__init__(params, dict(lr=lr, momentum=momentum, nesterov=nesterov, ns_steps=ns_steps,
                                      weight_decay=weight_decay, adjust_lr_fn=adjust_lr_fn, adamw_lr=adamw_lr,
                                      adamw_betas=adamw_betas, adamw_eps=adamw_eps,
                                      adamw_weight_decay=adamw_weight_decay, use_muon=use_muon))

    def add_param_group(self, param_group):
        """Add a group; a parameter that is neither a matrix nor a vector needs the group's ``use_muon``."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            _uses_muon(p, group)

    def update_param(self, p, grad, state, group):
        if _uses_muon(p, group):
            self._muon(p, grad, state, group)
        else:
            self._adamw(p, grad, state, group)

    def _muon(self, p, grad, state, group):
        lr, mu = group["lr"], group["momentum"]
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = torch.zeros_like(grad)
        m = state["momentum_buffer"].lerp_(grad, 1 - mu)  # m = mu*m + (1-mu)*g
        update = grad.lerp(m, mu) if group["nesterov"] else m  # Nesterov: mu*m + (1-mu)*g
        direction = newton_schulz(update.bfloat16(), group["ns_steps"]).to(p.dtype)  # exact widening
        _shrink(p, lr * group["weight_decay"])
        self.descend(p, direction, lr * _lr_ratio(group["adjust_lr_fn"], p.shape))

    def _adamw(self, p, grad, state, group):
        lr, (beta1, beta2) = group["adamw_lr"], group["adamw_betas"]
        _shrink(p, lr * group["adamw_weight_decay"])
        t, m, v = _moments(state, p, grad, group["adamw_betas"])
        denominator = (v.sqrt() / math.sqrt(1 - beta2**t)).add_(group["adamw_eps"])
        self.descend(p, m, lr / (1 - beta1**t), denominator)


def _shrink(p, decay):
    """Decoupled weight decay, in place: p <- p (1 - decay)."""
    shrink = 1 - decay
    p.mul_(shrink.to(p.dtype) if isinstance(shrink, torch.Tensor) else shrink)
