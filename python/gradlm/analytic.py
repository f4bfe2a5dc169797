"""Closed-form MSE gradients of the linear model: the fast path of :func:`gradlm.fit`.

For ``L = sum((X W' + b - y)^2) / (n k)`` (``n`` rows, ``k`` outputs) and the
residual ``r = X W' + b - y``:

    dL/dW = 2 / (n k) * r' X        dL/db = 2 / (n k) * sum over rows of r

Mini-batch steps compute ``r`` once per batch and need no autograd graph.
Full-batch steps need no pass over the data at all: with the column means
``mx``, ``my``, the centred cross-products ``Gc = Xc'Xc``, ``Cc = Xc'yc``
and ``yyc = sum(yc^2)`` (one float64 pass, in chunks), and ``e = b + W mx - my``,

    n k L      = sum_j (W_j Gc W_j' - 2 W_j Cc_j + yyc_j) + n |e|^2
    n k dL/dW  = 2 (W Gc - Cc' + n e mx')
    n k dL/db  = 2 n e

so an epoch costs O(d^2 k) instead of O(n d k). Centring keeps the loss free
of the cancellation that ``X'X`` itself would bring. The tests check both
paths against autograd.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Optional

import torch

if TYPE_CHECKING:
    from .stability import Curvature

CHUNK_ROWS = 1 << 16
# On a GPU, chunks of about this many float64 numbers (256 MiB): the pass is launch-bound at CHUNK_ROWS rows
# (measured on an H200, 1e7 x 100 float32: 41.7 ms at 65,536 rows a chunk, 29.5 ms at 262,144, 25.7 ms at 2^20).
GPU_CHUNK_NUMBERS = 1 << 25
# A column whose centred spread is below this share of its mean is constant: what is left is rounding.
CONSTANT_RTOL = 1e3 * float(torch.finfo(torch.float64).eps)
# Columns of X on a smaller scale than this have squares below float64's smallest normal number.
UNDERFLOW_SCALE = 1e-150


def batch_loss_and_grads(X: torch.Tensor, y: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> tuple:
    """``(loss, dW, db)`` on one batch, in the parameters' dtype.

    >>> X = torch.tensor([[1.0], [2.0]]); y = torch.tensor([[3.0], [5.0]])
    >>> loss, dW, db = batch_loss_and_grads(X, y, torch.tensor([[2.0]]), torch.tensor([0.0]))
    >>> float(loss), dW.tolist(), db.tolist()
    (1.0, [[-3.0]], [-2.0])
    """
    r = torch.addmm(bias, X, weight.T).sub_(y)
    scale = 2.0 / r.numel()
    flat = r.reshape(-1)
    loss = torch.dot(flat, flat) / r.numel()
    return loss, torch.mm(r.T, X).mul_(scale), r.sum(dim=0).mul_(scale)


class SufficientStatistics:
    """The full-batch MSE problem reduced to float64 moments of ``(X, y)``.

    With ``sample_weight`` (``w_i >= 0``), the moments are weighted: the means
    are ``sum(w x) / sum(w)``, ``G = sum w (x - mx)(x - mx)'`` and so on, and
    ``n`` is the total weight, so that every formula below (the loss is then
    ``sum(w r^2) / (sum(w) k)``, scikit-learn's weighted MSE) and every
    solution from them is weighted least squares. ``rows`` counts the rows of
    nonzero weight (all rows without weights): the observations inference
    counts, as ``lm()`` does; ``sum_log_weight`` is ``sum(log w)`` over them
    (for the log-likelihood).

    ``centered`` is False for the moments about the origin
    (:meth:`about_origin`: a model without intercept). ``origin`` is None, or
    for :meth:`standardized` statistics
    ``(original statistics, center, scale, y_center, y_scale)``.

    >>> X = torch.tensor([[1.0], [2.0], [4.0]]); y = 2 * X + 1
    >>> stats = SufficientStatistics(X, y)
    >>> loss, dW, db = stats.loss_and_grads(torch.tensor([[2.0]]), torch.tensor([1.0]))
    >>> abs(float(loss)) < 1e-12, dW.abs().max().item() < 1e-12
    (True, True)
    """

    origin: Optional[tuple] = None
    _centered_std: Optional[torch.Tensor] = None  # (kept by about_origin)
    _curvature: Optional[Curvature] = None  # (gradlm.stability.Curvature.of caches it here)
    # what besides the tensors makes the statistics (merged, copied and sent between processes)
    SCALARS = ("n", "k", "rows", "sum_log_weight", "weighted", "centered")

    def __init__(self, X: torch.Tensor, y: Optional[torch.Tensor], chunk_rows: int = CHUNK_ROWS,
                 sample_weight: Optional[torch.Tensor] = None) -> None:
        if y is None:  # the moments of X alone (as for the learning-rate bound)
            y = X[:, :0]
        n, d = X.shape
        k = y.shape[1]
        if X.device.type == "cuda" and chunk_rows == CHUNK_ROWS:
            chunk_rows = max(CHUNK_ROWS, GPU_CHUNK_NUMBERS // max(d + k, 1))
        f64: dict[str, Any] = {"dtype": torch.float64, "device": X.device}
        w = None if sample_weight is None else sample_weight.to(**f64).reshape(-1)
        sx = torch.zeros(d, **f64)
        sy = torch.zeros(k, **f64)
        for start in range(0, n, chunk_rows):
            if w is None:
                sx += X[start : start + chunk_rows].sum(dim=0, dtype=torch.float64)
                sy += y[start : start + chunk_rows].sum(dim=0, dtype=torch.float64)
            else:
                wc = w[start : start + chunk_rows]
                sx += wc @ X[start : start + chunk_rows].to(torch.float64)
                sy += wc @ y[start : start + chunk_rows].to(torch.float64)
        total: Any = n if w is None else float(w.sum())
        self.mx, self.my = sx / total, sy / total
        self.G = torch.zeros(d, d, **f64)
        self.C = torch.zeros(d, k, **f64)
        self.yy = torch.zeros(k, **f64)
        # One pair of float64 buffers, reused chunk after chunk: memory stays at
        # a chunk's size, and fresh allocations (page faults) are avoided.
        xbuf = torch.empty(min(n, chunk_rows), d, **f64)
        ybuf = torch.empty(min(n, chunk_rows), k, **f64)
        for start in range(0, n, chunk_rows):
            rows = min(chunk_rows, n - start)
            xc = xbuf[:rows].copy_(X[start : start + rows]).sub_(self.mx)
            yc = ybuf[:rows].copy_(y[start : start + rows]).sub_(self.my)
            if w is not None:  # rows times sqrt(w): the products below are then the weighted sums
                root = w[start : start + rows].sqrt()[:, None]
                xc.mul_(root)
                yc.mul_(root)
            self.G.addmm_(xc.T, xc)
            self.C.addmm_(xc.T, yc)
            self.yy += (yc * yc).sum(dim=0)
        self.n, self.k = total, k
        self.weighted = w is not None
        self.rows = n if w is None else int((w > 0).sum())
        self.sum_log_weight = 0.0 if w is None else float(w[w > 0].log().sum())
        self.centered = True
        self.origin = None
        self._zero_rounding_residue()
        if not (torch.isfinite(self.G).all() and torch.isfinite(self.C).all() and torch.isfinite(self.yy).all()):
            raise ValueError(
                "the data's sums of squares overflow float64 (values of about 1e154 or more); "
                "rescale X and y, for example to standard units."
            )
        # values so small that their squares underflow float64 would look constant (or collinear)
        variance = self.G.diagonal() / n
        tiny = (((self.mx.abs() > 0) & (self.mx.abs() < UNDERFLOW_SCALE))
                | ((variance > 0) & (variance < UNDERFLOW_SCALE ** 2)))
        if bool(tiny.any()):
            j = int(tiny.nonzero()[0, 0])
            raise ValueError(
                f"column {j} of X has values of about {float(self.mx[j].abs()) or float(variance[j].sqrt()):.1e}: "
                "their squares underflow float64; rescale it (multiply it by a power of 10)."
            )

    @classmethod
    def from_chunks(cls, chunks, allow_empty: bool = False) -> Optional["SufficientStatistics"]:
        """The statistics of the rows of all ``(X, y)`` (or ``(X, y, w)``) chunks together, one chunk in memory
        at a time.

        Each chunk's centred moments are merged into the running ones
        (:meth:`merge`), so the result equals the statistics of the stacked
        data to float64 rounding, however the rows are split.

        >>> X = torch.arange(10.0).reshape(5, 2); y = X[:, :1] * 3
        >>> whole = SufficientStatistics(X, y)
        >>> parts = SufficientStatistics.from_chunks([(X[:2], y[:2]), (X[2:], y[2:])])
        >>> torch.allclose(whole.G, parts.G), torch.allclose(whole.C, parts.C)
        (True, True)
        """
        total = None
        for chunk in chunks:  # (X, y), or (X, y, sample_weight or None)
            X, y = chunk[0], chunk[1]
            w = chunk[2] if len(chunk) > 2 else None
            if X.shape[0] == 0 or (w is not None and not bool((w > 0).any())):  # (rows of weight 0 count for nothing)
                continue
            part = cls(X, y, sample_weight=w)
            total = part if total is None else total.merge(part)
        if total is None and not allow_empty:  # (allowed for a process's shard: another may hold the rows)
            raise ValueError("the data have 0 rows (or none of positive weight); pass at least one row of data.")
        return total

    def fingerprint(self) -> str:
        """A digest of the moments: the same rows in the same order give the same one (the same arithmetic on
        the same numbers), so that ``partial_fit`` can tell a chunk it has seen from new data.

        >>> X = torch.arange(6.0).reshape(3, 2); y = X[:, :1]
        >>> a, b = SufficientStatistics(X, y), SufficientStatistics(X.clone(), y.clone())
        >>> a.fingerprint() == b.fingerprint(), a.fingerprint() == SufficientStatistics(X + 1, y).fingerprint()
        (True, False)
        """
        digest = hashlib.sha256(repr([getattr(self, name) for name in self.SCALARS]).encode())
        for tensor in (self.mx, self.my, self.G, self.C, self.yy):
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()

    def merge(self, other: "SufficientStatistics") -> "SufficientStatistics":
        """The statistics of both row sets together (Chan et al.'s pairwise update of centred moments).

        Used to stream chunks from disk and to combine the shards of
        distributed training; neither operand is modified.
        """
        if self.G.shape != other.G.shape or self.C.shape != other.C.shape:
            raise ValueError(
                f"cannot merge statistics of {self.G.shape[0]} feature(s) and {self.k} output(s) with "
                f"{other.G.shape[0]} and {other.k}; the chunks must have the same columns."
            )
        if not (self.centered and other.centered):
            raise ValueError("statistics about the origin (about_origin()) cannot be merged; merge, then take them.")
        out = object.__new__(SufficientStatistics)
        n = self.n + other.n
        dx = other.mx.to(self.mx) - self.mx
        dy = other.my.to(self.my) - self.my
        w = self.n * other.n / n
        out.mx = self.mx + dx * (other.n / n)
        out.my = self.my + dy * (other.n / n)
        out.G = self.G + other.G.to(self.G) + w * torch.outer(dx, dx)
        out.C = self.C + other.C.to(self.C) + w * torch.outer(dx, dy)
        out.yy = self.yy + other.yy.to(self.yy) + w * dy * dy
        out.n, out.k = n, self.k
        out.rows = self.rows + other.rows
        out.sum_log_weight = self.sum_log_weight + other.sum_log_weight
        out.weighted = self.weighted or other.weighted
        out.centered = True
        out.origin = None
        out._zero_rounding_residue()
        return out

    def _zero_rounding_residue(self) -> None:
        """A constant column's centred moments are rounding (about ``n (eps mean)^2``, never 0 for a mean such as
        0.1): set them to 0, so that the column reads as constant. Scaled to unit length, the residue would look
        like a genuine column, uncorrelated with the rest."""
        constant = self.G.diagonal() <= self.n * (CONSTANT_RTOL * self.mx) ** 2
        if bool(constant.any()):
            self.G[constant, :] = 0.0
            self.G[:, constant] = 0.0
            self.C[constant, :] = 0.0

    def about_origin(self) -> "SufficientStatistics":
        """The moments about 0 instead of the means: the statistics of a model without intercept.

        ``G + n mx mx'`` etc., with zero means: every formula of this class
        then holds with the bias fixed at 0 (its gradient stays 0), the
        least-squares solution is that of ``y = X W'``, and R² is measured
        from 0, as ``lm()`` does for a model without intercept.

        >>> X = torch.tensor([[1.0], [2.0]], dtype=torch.float64)
        >>> s = SufficientStatistics(X, 3 * X).about_origin()
        >>> s.G.tolist(), s.C.tolist(), s.mx.tolist(), s.centered
        ([[5.0]], [[15.0]], [0.0], False)
        """
        if self.origin is not None:
            raise ValueError("take about_origin() of the original statistics, then standardize them.")
        if not self.centered:
            return self
        out = self._copy()
        out.G = self.G + self.n * torch.outer(self.mx, self.mx)
        out.C = self.C + self.n * torch.outer(self.mx, self.my)
        out.yy = self.yy + self.n * self.my * self.my
        out.mx, out.my = torch.zeros_like(self.mx), torch.zeros_like(self.my)
        out.centered = False
        out._centered_std = self.std
        return out

    def _copy(self) -> "SufficientStatistics":
        out = object.__new__(SufficientStatistics)
        for key in ("mx", "my", "G", "C", "yy") + self.SCALARS:
            setattr(out, key, getattr(self, key))
        out.origin = self.origin
        out._centered_std = self._centered_std
        return out

    def standardized(self, center: torch.Tensor, scale: torch.Tensor, y_center: Optional[torch.Tensor] = None,
                     y_scale: Optional[torch.Tensor] = None) -> "SufficientStatistics":
        """The statistics of ``(X - center) / scale`` (and of ``(y - y_center) / y_scale``), without another pass.

        >>> X = torch.tensor([[1.0], [3.0]], dtype=torch.float64)
        >>> s = SufficientStatistics(X, X).standardized(torch.tensor([2.0]), torch.tensor([1.0]))
        >>> s.mx.tolist(), s.G.tolist()
        ([0.0], [[2.0]])
        """
        out = self._copy()
        center = center.to(self.G)
        scale = scale.to(self.G)
        out.mx = (self.mx - center) / scale
        out.G = self.G / torch.outer(scale, scale)
        out.C = self.C / scale[:, None]
        # how they were made: the certified distance is measured on the original scale (gradlm.report)
        if y_scale is None:
            out.origin = (self, center, scale, torch.zeros_like(self.my), torch.ones_like(self.my))
        else:
            assert y_center is not None, "y_scale comes with y_center"
            out.origin = (self, center, scale, y_center.to(self.G), y_scale.to(self.G))
            y_scale = y_scale.to(self.G)
            out.my = (self.my - y_center.to(self.G)) / y_scale
            out.C = out.C / y_scale[None, :]
            out.yy = self.yy / (y_scale * y_scale)
        return out

    def to(self, device) -> "SufficientStatistics":
        """The same statistics on ``device`` (float64 kept); themselves when already there (they are never
        modified in place)."""
        if self.G.device == torch.device(device):
            return self
        out = self._copy()
        for key in ("mx", "my", "G", "C", "yy"):
            setattr(out, key, getattr(self, key).to(device))
        if self.origin is not None:
            out.origin = (self.origin[0].to(device),) + tuple(t.to(device) for t in self.origin[1:])
        return out

    @property
    def std(self) -> torch.Tensor:
        """Population standard deviation of each column of ``X`` (for moments about the origin: their root mean
        square)."""
        return (self.G.diagonal() / self.n).sqrt()

    @property
    def centered_std(self) -> torch.Tensor:
        """Population standard deviation of each column of ``X`` about its mean, also for moments about the
        origin (glmnet scales its penalty by it, with or without intercept)."""
        return self.std if self._centered_std is None else self._centered_std

    def sse(self, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """The sum of squared residuals of each output at ``(weight, bias)`` (float64, shape (k,)).

        >>> X = torch.tensor([[0.0], [1.0]]); y = torch.tensor([[1.0], [1.0]])
        >>> SufficientStatistics(X, y).sse(torch.tensor([[1.0]]), torch.tensor([1.0])).tolist()
        [1.0]
        """
        W = weight.to(torch.float64)
        e = bias.to(torch.float64) + W @ self.mx - self.my
        return (W @ self.G * W).sum(dim=1) - 2 * (W * self.C.T).sum(dim=1) + self.yy + self.n * e * e

    def loss_and_grads(self, weight: torch.Tensor, bias: torch.Tensor) -> tuple:
        """``(loss, dW, db)`` at ``(weight, bias)``: float64 loss, gradients in the parameters' dtype.

        (Called once an epoch, thousands of times on ill-conditioned data: few
        tensor calls, as each costs microseconds for these small matrices.)
        """
        W = weight.to(torch.float64)
        e = torch.addmv(bias.to(torch.float64) - self.my, W, self.mx)
        WG = W @ self.G
        nk = self.n * self.k
        CT = self.C.T
        loss = (torch.dot((WG - 2 * CT).reshape(-1), W.reshape(-1)) + self.yy.sum() + self.n * torch.dot(e, e)) / nk
        dW = torch.addr(WG - CT, e, self.mx, alpha=self.n).mul_(2.0 / nk)
        db = (2.0 * self.n / nk) * e
        return loss, dW.to(weight.dtype), db.to(bias.dtype)


def sgd_epoch(X: torch.Tensor, y: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, blocks, batch_size: int,
              lr: float) -> float:
    """One epoch of plain mini-batch SGD, each update fused into two in-place calls.

    ``blocks`` yields the epoch's rows (slices or index tensors, whole batches
    each; see :meth:`gradlm.batches.BatchOrder.blocks`). Per batch: the
    residual (``addmm``, ``sub_``), its squared norm (``dot``), then
    ``W -= rate * r' X`` (``addmm_``) and ``b -= rate * r' 1`` (``addmv_``),
    with ``rate = 2 lr / numel``. Returns the mean of the batch losses.
    Call without gradient tracking.
    """
    k = y.shape[1]
    ones = torch.ones(batch_size, dtype=X.dtype, device=X.device)
    squares, sizes = [], []
    buffers = None
    for rows in blocks:
        if isinstance(rows, slice):
            Xblock, yblock = X[rows], y[rows]
        else:
            # One pair of block buffers for the epoch: fresh memory costs page faults.
            if buffers is None:
                buffers = (X.new_empty((len(rows), X.shape[1])), y.new_empty((len(rows), y.shape[1])))
            m = len(rows)
            Xblock = torch.index_select(X, 0, rows, out=buffers[0][:m])
            yblock = torch.index_select(y, 0, rows, out=buffers[1][:m])
        for start in range(0, Xblock.shape[0], batch_size):
            Xb = Xblock[start : start + batch_size]
            m = Xb.shape[0]
            r = torch.addmm(bias, Xb, weight.T).sub_(yblock[start : start + batch_size])
            flat = r.view(-1)
            squares.append(torch.dot(flat, flat))
            rate = 2.0 * lr / (m * k)
            weight.addmm_(r.T, Xb, alpha=-rate)
            bias.addmv_(r.T, ones if m == batch_size else ones[:m], alpha=-rate)
            sizes.append(m * k)
    losses = torch.stack(squares).to(torch.float64).cpu() / torch.tensor(sizes, dtype=torch.float64)
    return float(losses.mean())
