"""What the R package calls: one Python call per R-level operation, plain results back.

R crosses into Python once per fit (each crossing costs 100-200 µs): the data
arrive as whatever reticulate made of the R matrices, are converted once by
:mod:`gradlm.validation`, and everything R shows afterwards (coefficients, the
exact least-squares ones, fitted values, the history) comes back in one dict
of NumPy arrays and numbers, which reticulate turns into R vectors and arrays.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Optional

import numpy as np
import torch

from .analytic import SufficientStatistics
from .design import as_weight
from .estimator import Regressor
from .exceptions import ConvergenceWarningBase, DivergenceWarning
from .history import History
from .inference import Inference, compare_nested, confint, drop_terms, sequential_anova  # noqa: F401 (R calls them)
from .interrupts import python_handles_interrupts
from .validation import check_X, check_X_y_view, check_y


def with_warnings(function):
    """Run ``function``; its result (a dict) gains ``"warnings"``, the messages of gradlm's warnings.

    R shows them as R warnings (reticulate would only print them).

    >>> import warnings
    >>> def noisy():
    ...     warnings.warn("careful", ConvergenceWarningBase)
    ...     return {}
    >>> with_warnings(noisy)()
    {'warnings': ['careful']}
    """

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        global _last_result
        _last_result = None
        with warnings.catch_warnings(record=True) as caught, python_handles_interrupts():
            # (the base of every ConvergenceWarning: the class itself would import scikit-learn)
            warnings.simplefilter("always", ConvergenceWarningBase)
            warnings.simplefilter("always", DivergenceWarning)
            result = function(*args, **kwargs)
        ours = [w for w in caught if issubclass(w.category, (ConvergenceWarningBase, DivergenceWarning))]
        for w in caught:  # others go on as they came
            if w not in ours:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        result["warnings"] = [str(w.message) for w in ours]
        history = result.get("history", result)
        if history.get("stop_reason") == "interrupted":  # only then may R need it back (and it holds memory)
            _last_result = result
        return result

    return wrapper


_last_result: Optional[dict] = None


def take_last_result() -> Optional[dict]:
    """The result of the last call R made through :func:`with_warnings`, once.

    An interrupt in R reaches Python (reticulate raises KeyboardInterrupt
    there, and the fit returns what it has), but R may also act on it once
    Python has returned, before R holds the result: R then takes it here.
    """
    global _last_result
    result, _last_result = _last_result, None
    return result


def history_dict(history: History) -> dict:
    """A History as a dict of NumPy arrays and plain values."""
    return {
        "loss": history.loss,
        "val_loss": history.val_loss,
        "weight_path": history.weight_path.astype(np.float64),
        "bias_path": history.bias_path.astype(np.float64),
        "weight": history.weight.astype(np.float64),
        "bias": history.bias.astype(np.float64),
        "epochs_run": history.epochs_run,
        "stop_reason": history.stop_reason,
        "converged": history.converged,
        "settings": dict(history.settings),
        "report": None if history.report is None else history.report.to_dict(),
    }


@with_warnings
def fit_lm(X: Any, y: Any, validation: Optional[tuple] = None, drop_column: Optional[int] = None,
           sample_weight: Any = None, offset: Any = None, fit_intercept: bool = True, assign: Any = None,
           start: Any = None, **params: Any) -> dict:
    """Fit a GDRegressor and return all an R ``gd_lm`` object holds.

    ``X`` (n, p) is the model matrix, ``y`` (n, k); ``drop_column`` (0-based)
    is its intercept column, dropped here as a view rather than by a copy in R.
    ``sample_weight`` are ``lm()``'s weights, ``offset`` its offset (the model
    is ``y = offset + X W' + b``: fitted values include it), ``fit_intercept``
    False a model without intercept; ``assign`` (R's ``attr(x, "assign")``)
    asks for the sequential anova table. ``start`` (as ``glm()``'s) are the
    coefficients to start from, one per column of ``X`` (the intercept's among
    them, where ``drop_column`` says), or (k, p) for k responses: training
    continues from them (the estimator's warm start). ``inference`` holds ``lm()``'s
    inference at the fitted coefficients (:class:`gradlm.inference.Inference`),
    its residual sums of squares taken from the rows; None for a penalized fit
    (``alpha > 0``), which has none (then ``rank`` and ``df_residual`` are
    None too).
    The data are read as they come from R (float64, not copied) for one pass of
    float64 moments, which give the standardization, the step, the exact
    solution and the report (see :class:`~gradlm.GDRegressor`); full-batch
    training runs on them, other training converts the data once to the
    model's dtype; one more pass gives the fitted values.

    >>> import numpy as np, gradlm
    >>> X, y = gradlm.datasets.crops()
    >>> out = fit_lm(X.numpy(), y.numpy(), seed=0)
    >>> out["coef"].shape, out["lstsq_weight"].shape, out["fitted"].shape, out["report"]["converged"]
    ((2, 3), (2, 3), (15, 2), True)
    >>> fit_lm(X.numpy(), y.numpy()[:, 0], epochs=5, lr=0.5)["residuals"].shape
    (15,)
    >>> penalized = fit_lm(X.numpy(), y.numpy(), alpha=0.5, l1_ratio=1.0)
    >>> penalized["fitted"].shape, penalized["inference"] is None, penalized["report"]["penalized"]
    ((15, 2), True, True)
    """
    if drop_column is not None:
        keep = [j for j in range(np.shape(X)[1]) if j != int(drop_column)]
        X = X[:, keep[0] : keep[-1] + 1] if keep == list(range(keep[0], keep[-1] + 1)) else X[:, keep]
    X64, y64 = (t.to(torch.float64) for t in check_X_y_view(X, y))  # no copy of R's float64 data
    w = as_weight(sample_weight, X64.shape[0])
    if offset is not None:
        offset = check_y(offset, n_rows=X64.shape[0], dtype=torch.float64, name="offset")
        if offset.shape[1] not in (1, y64.shape[1]):
            raise ValueError(f"offset has {offset.shape[1]} columns; the response has {y64.shape[1]}.")
        y64 = y64 - offset  # the model of y - offset, whose fitted values get the offset back
    stats = SufficientStatistics(X64, y64, sample_weight=w)
    if not fit_intercept:
        stats = stats.about_origin()
    rows: dict = {}

    def rss(coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        """The fitted values and residuals R gets, and from them the inference's exact RSS (one pass)."""
        # Computed as (k, n) and returned transposed, in R's column-major layout:
        # reticulate copies such an array once into R, a row-major one twice.
        fitted = torch.addmm(torch.from_numpy(intercept)[:, None], torch.from_numpy(coef), X64.T).T
        rows["residuals"] = residuals = (y64.T - fitted.T).T
        rows["fitted"] = fitted if offset is None else fitted.add_(offset)
        squares = residuals * residuals
        return (squares.sum(dim=0) if w is None else w @ squares).numpy()

    est = Regressor(fit_intercept=fit_intercept, **params)
    if start is not None:
        _start_from(est, start, drop_column, X64.shape[1], y64.shape[1])
    if params.get("validation_fraction") is not None:  # (trains on a part: its own moments, its own RSS)
        est.fit(X64, y64, sample_weight=w, validation=validation)
    else:
        est.fit(X64, y64, sample_weight=w, validation=validation, statistics=stats, rss=rss)
    exact, inference = est.lstsq_, est.inference_
    coef, intercept = np.atleast_2d(est.coef_), np.atleast_1d(est.intercept_)
    if "fitted" not in rows:  # (a penalized fit has no inference, whose exact RSS made them)
        rss(coef, intercept)
    fitted, residuals = rows["fitted"], rows["residuals"]
    report, history = est.report_, est.history_
    assert exact is not None and report is not None and history is not None  # (just fitted, on the moments)
    summary: Optional[dict] = None
    if inference is not None:
        summary = inference.to_dict()
        if assign is not None:
            fitted_on = est._seen  # (the moments it was fitted on: a part of them with validation_fraction)
            assert fitted_on is not None
            summary["anova"] = sequential_anova(fitted_on, assign, inference)
    return {
        "coef": coef,
        "intercept": intercept,
        "lstsq_weight": exact.weight,
        "lstsq_bias": exact.bias,
        "loss": report.loss,
        "lstsq_loss": report.optimum_loss,
        "report": report.to_dict(),
        "fitted": per_row(fitted),
        "residuals": per_row(residuals),
        "r_squared": np.asarray(report.r_squared),
        "rank": None if inference is None else inference.rank,
        "df_residual": None if inference is None else inference.df_resid,
        "inference": summary,
        "x_mean": est.x_mean_,
        "x_scale": est.x_scale_,
        "history": history_dict(history),
        "estimator": est,
    }


def _start_from(est: Regressor, start: Any, drop_column: Optional[int], d: int, k: int) -> None:
    """Set ``est`` to warm-start from R's coefficients ``start``, in ``coef()``'s order: the intercept's at
    ``drop_column`` of the model matrix, or first (the matrix method) when the model has one."""
    values = np.asarray(start, dtype=np.float64)
    at = None if not est.fit_intercept else (0 if drop_column is None else int(drop_column))
    columns = d + (at is not None)
    if values.size != columns * k or not np.isfinite(values).all():
        finite = "" if np.isfinite(values).all() else ", not all finite (an NA of lm() is an aliased column: give 0)"
        raise ValueError(f"start must hold {columns * k} finite coefficient(s), one per column of the model matrix"
                         f"{' and response' if k > 1 else ''} (as coef() gives them); got {values.size}{finite}.")
    # (R's p x k matrix of an mlm's coef() arrives as (p, k); a vector holds the responses one after another)
    values = values.T if values.shape == (columns, k) else values.reshape(k, columns)
    if at is None:
        coef, intercept = values, np.zeros(k)
    else:
        coef, intercept = np.delete(values, at, axis=1), values[:, at]
    est.warm_start = True
    est.coef_, est.intercept_ = coef, intercept


def per_row(values: torch.Tensor) -> np.ndarray:
    """(n, k) values as NumPy: 1-D for one output, which R shows as a named vector (as lm() does)."""
    return values[:, 0].numpy() if values.shape[1] == 1 else values.numpy()


@with_warnings
def fit_history(model: Any, X: Any, y: Any, **params: Any) -> dict:
    """``fit`` and its History as a dict, in one call."""
    from .fit import fit

    return history_dict(fit(model, X, y, **params))


@with_warnings
def numpy_gd_history(X: Any, y: Any, **params: Any) -> dict:
    """``numpy_gd`` and its History as a dict, in one call."""
    from .numpy_gd import numpy_gd

    return history_dict(numpy_gd(X, y, **params))


def predict_linear(weight: Any, bias: Any, X: Any) -> np.ndarray:
    """``X @ weight.T + bias`` in float64, (n, out).

    >>> predict_linear([[2.0]], [1.0], [[1.0], [3.0]]).tolist()
    [[3.0], [7.0]]
    """
    weight = np.atleast_2d(np.asarray(weight, dtype=np.float64))
    bias = np.atleast_1d(np.asarray(bias, dtype=np.float64))
    X = check_X(X, n_features=weight.shape[1], dtype=torch.float64, task="predicting").numpy()
    return X @ weight.T + bias


def predict_intervals(design: dict, weight: Any, bias: Any, X: Any, interval: str = "none", level: float = 0.95,
                      pred_weight: Any = None) -> dict:
    """``predict.lm``'s fit, se.fit and intervals for the rows of ``X`` (without intercept column or offset),
    from ``inference["design"]`` of :func:`fit_lm` (see :meth:`gradlm.inference.Inference.predict`)."""
    X = check_X(X, dtype=torch.float64, task="predicting").numpy()
    return Inference.from_design(design, weight, bias).predict(X, interval=interval, level=float(level),
                                                               pred_weight=pred_weight)


def row_diagnostics(design: dict, X: Any, residuals: Any, sample_weight: Any = None) -> dict:
    """Hat values, Cook's distances, standardized and studentized residuals and the leave-one-out sigma of
    the training rows (see :meth:`gradlm.inference.Inference.influence`)."""
    X = check_X(X, dtype=torch.float64).numpy()
    return Inference.from_design(design).influence(X, residuals, sample_weight)



def save_gd_lm(path: str, weight: Any, bias: Any, *, feature_names: list, target_names: list,
               x_mean: Any, x_scale: Any, loss: Any, lstsq_weight: Any = None, lstsq_bias: Any = None,
               settings: Optional[dict] = None, info: Optional[dict] = None, r: Optional[dict] = None) -> None:
    """Write an R ``gd_lm`` fit in gradlm's model format (see :mod:`gradlm.serialization`)."""
    from .serialization import write_model_file

    as2d = lambda a: np.asarray(a, dtype=np.float64).reshape(len(target_names), -1)  # noqa: E731
    as1d = lambda a: np.atleast_1d(np.asarray(a, dtype=np.float64))  # noqa: E731
    write_model_file(
        path,
        {"weight": as2d(weight), "bias": as1d(bias), "x_mean": as1d(x_mean), "x_scale": as1d(x_scale),
         "loss": as1d(loss), "lstsq_weight": None if lstsq_weight is None else as2d(lstsq_weight),
         "lstsq_bias": None if lstsq_bias is None else as1d(lstsq_bias)},
        {"kind": "gd_lm", "feature_names": list(np.atleast_1d(feature_names)),
         "target_names": list(np.atleast_1d(target_names)), "settings": settings, "info": info, "r": r},
    )


def read_model(path: str) -> dict:
    """A model file's arrays (float64) and metadata, for R to build its object from, and its saved
    FitReport as a dict with the verdict (None when the file has none)."""
    from .serialization import read_model_file, report_from_dict

    arrays, metadata = read_model_file(path)
    info = metadata.get("info")
    report = report_from_dict(info.get("report")) if isinstance(info, dict) else None
    return {"arrays": {k: v.astype(np.float64) for k, v in arrays.items()}, "metadata": metadata,
            "report": None if report is None else report.to_dict()}
