"""The ``gradlm`` command: ``gradlm demo`` and ``gradlm fit PATH --target ...``."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import warnings
from typing import Optional, Sequence

import numpy as np
import torch

from . import __version__, datasets, distributed
from .distributed import is_main_process
from .estimator import GDRegressor
from .exceptions import DivergenceError
from .io import read_csv
from .lstsq import lstsq
from .schedules import SCHEDULES
from .serialization import save
from .streaming import CHUNK_ROWS, Stream, statistics_of, stream


def _report_epochs(history, every: Optional[int], out, standardized: bool) -> None:
    n = history.epochs_run
    every = every or max(1, n // 20)
    # (a standardized fit's losses are in units of the targets' variance)
    val = history.val_loss  # (--validation-fraction: the held-out rows' loss, a second column)
    print(f"{'epoch':>6}  {'loss (standardized)' if standardized else 'loss':>20}"
          + ("" if val is None else f"  {'validation loss':>20}"), file=out)
    for i in range(n):
        if (i + 1) % every == 0 or i == 0 or i == n - 1:
            print(f"{i + 1:>6}  {history.loss[i]:>20.8g}" + ("" if val is None else f"  {val[i]:>20.8g}"), file=out)
    print(f"stopped after {n} epochs ({history.stop_reason})", file=out)


def _report_coefficients(est, ref, feature_names, target_names, out) -> None:
    coef = np.atleast_2d(est.coef_)
    intercept = np.atleast_1d(est.intercept_)
    header = ["coefficient"]
    for t in target_names:
        header += [f"{t} (gd)", f"{t} (lstsq)"]
    rows = []
    for i, name in enumerate(list(feature_names) + ["(bias)"]):
        row = [name]
        for j in range(len(target_names)):
            gd = coef[j, i] if i < coef.shape[1] else intercept[j]
            exact = ref.weight[j, i] if i < coef.shape[1] else ref.bias[j]
            row += [f"{gd:.6f}", f"{exact:.6f}"]
        rows.append(row)
    widths = [max(len(r[k]) for r in [header] + rows) for k in range(len(header))]
    for r in [header] + rows:
        print("  ".join(c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in enumerate(zip(r, widths))), file=out)


def _save_loss_plot(history, path: str) -> str:
    from .plot import plot_loss, pyplot

    plt = pyplot("Agg")  # (an ImportError naming the extra when matplotlib is not installed)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    ax = plot_loss(history, log=True)
    ax.figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(ax.figure)
    return path


def _run(args, X, y, feature_names, target_names, plot_path: Optional[str]) -> int:
    distributed = bool(getattr(args, "distributed", False))
    stats = statistics_of(X, distributed) if isinstance(X, Stream) else None
    est = GDRegressor(
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        momentum=args.momentum,
        tol=args.tol,
        standardize=args.standardize,
        seed=args.seed,
        progress=False,
        distributed=distributed,
        alpha=args.alpha,
        l1_ratio=args.l1_ratio,
        lr_schedule=args.lr_schedule,
        validation_fraction=args.validation_fraction,
        history=args.history,
    ).fit(X, y, statistics=stats)
    ref = est.lstsq_ if est.lstsq_ is not None else lstsq(X, y)
    report = est.report_
    if not is_main_process():
        return 0  # rank 0 alone reports and saves
    if getattr(args, "save", None):
        if not hasattr(est, "feature_names_in_"):  # the names the data gave, for whoever loads it
            est.feature_names_in_ = np.asarray(list(feature_names), dtype=object)
        est.target_names_ = est.target_names_ or list(target_names)
        save(est, args.save)
    history = est.history_
    assert history is not None  # (just fitted)
    if args.json:
        result = {
            "loss": history.loss.tolist(),
            "val_loss": None if history.val_loss is None else history.val_loss.tolist(),
            "weight": np.atleast_2d(est.coef_).tolist(),
            "bias": np.atleast_1d(est.intercept_).tolist(),
            "features": list(feature_names),
            "targets": list(target_names),
            "lstsq_weight": ref.weight.tolist(),
            "lstsq_bias": ref.bias.tolist(),
            "epochs_run": history.epochs_run,
            "stop_reason": history.stop_reason,
            "converged": est.converged_,
            "report": None if report is None else report.to_dict(),
            "inference": None if est.inference_ is None else _inference_json(est.inference_),
            "settings": history.settings | {"standardize": bool(args.standardize), "alpha": args.alpha,
                                            "l1_ratio": args.l1_ratio,
                                            "validation_fraction": args.validation_fraction},
        }
        print(json.dumps(result))
        return 0
    out = sys.stdout
    _report_epochs(history, args.every, out, bool(args.standardize))
    print(file=out)
    _report_coefficients(est, ref, feature_names, target_names, out)
    if est.inference_ is not None:
        print("\nInference at these coefficients (as lm()'s summary):", file=out)
        print(est.inference_.summary(list(feature_names), list(target_names)), end="", file=out)
    if report is not None:
        print(f"\n{report.verdict()}", file=out)
    if plot_path:
        try:
            print(f"\nloss plot written to {_save_loss_plot(history, plot_path)}", file=out)
        except ImportError as err:
            # The results stand without the plot: the demo, whose plot nobody asked for, succeeds; a fit asked
            # for one with --plot, and fails after its results.
            if args.command == "demo":
                print(f"\nno loss plot: {err}", file=out)
                return 0
            _error(f"no loss plot: {err}")
            return 1
    return 0


def _inference_json(inference) -> dict:
    """The inference's numbers as JSON (lists, one row per target; NaN as null)."""
    out: dict = {}
    for key, value in inference.to_dict().items():
        if key in ("design", "cov_unscaled"):
            continue
        array = np.asarray(value)
        flat = [None if isinstance(v, float) and not np.isfinite(v) else v for v in array.ravel().tolist()]
        out[key] = np.asarray(flat, dtype=object).reshape(array.shape).tolist() if array.ndim else flat[0]
    return out


def _auto_or(kind):
    """An argparse type: 'auto', or a number of ``kind``."""

    def parse(text: str):
        if text == "auto":
            return text
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected 'auto' or a number, got {text!r}") from None

    parse.__name__ = kind.__name__
    return parse


def _tol(text: str):
    return None if text == "none" else _auto_or(float)(text)


def _training_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--epochs", type=_auto_or(int), default="auto",
                        help="number of epochs (default auto: enough for the chosen step to reach --tol)")
    parser.add_argument("--lr", type=_auto_or(float), default="auto",
                        help="learning rate (default auto: from the data's curvature)")
    parser.add_argument("--batch-size", type=int, default=None, help="mini-batch size (default: full batch)")
    parser.add_argument("--optimizer", default="sgd", help="sgd or adam (default sgd)")
    parser.add_argument("--momentum", type=_auto_or(float), default="auto",
                        help="SGD momentum (default auto: from the curvature with --lr auto, else 0)")
    parser.add_argument("--tol", type=_tol, default="auto",
                        help="stop when every coefficient is this close to least squares (default auto: 1e-10 in "
                             "float64; none: no stopping rule)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for the start, the batch order and --validation-fraction's split (default 0)")
    parser.add_argument("--alpha", type=float, default=0.0,
                        help="elastic-net penalty's strength, as scikit-learn's ElasticNet: 1/(2n) RSS + alpha "
                             "(l1_ratio |w|_1 + (1 - l1_ratio)/2 |w|^2), on standardized predictors with "
                             "--standardize (default 0: least squares)")
    parser.add_argument("--l1-ratio", type=float, default=0.0,
                        help="the penalty's L1 share: 0 ridge (default), 1 the lasso, between them the elastic net")
    parser.add_argument("--lr-schedule", default="constant", choices=SCHEDULES,
                        help="the learning rate's schedule, stepped each epoch (torch.optim.lr_scheduler): constant "
                             "(default), step (x0.1 every epochs/3), cosine (to 0 at the last epoch), invscaling "
                             "(scikit-learn's lr / t^0.25, t in epochs)")
    parser.add_argument("--validation-fraction", type=float, default=None, metavar="F",
                        help="hold out this share of the rows (CSV data; a split seeded by --seed), record their "
                             "loss and stop when it has not improved for 10 epochs, keeping the best epoch; the "
                             "report is of the training rows")
    parser.add_argument("--history", default="loss", choices=("loss", "full"),
                        help="what the fit keeps in memory: the loss per epoch (default), or also every epoch's "
                             "parameters (full)")
    parser.add_argument(
        "--standardize",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="optimise on standardized features and targets, report on the original scale (default on)",
    )
    parser.add_argument("--every", type=int, default=None, help="print the loss every N epochs")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--save", default=None, help="save the fitted model to this file (.safetensors; "
                                                     "gradlm.load or R's load_model read it)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gradlm", description="Linear regression by gradient descent on PyTorch.")
    parser.add_argument("--version", action="version", version=f"gradlm {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="train on the crop-yield data and compare with least squares")
    _training_arguments(demo)
    demo.add_argument("--plot", default=os.path.join("gradlm-demo", "loss.png"), help="where to write the loss plot")
    fit = sub.add_parser("fit", help="train on a CSV or Parquet file, a folder of Parquet files, or .npy files")
    fit.add_argument("path", help="CSV file with a header row; a Parquet file or folder (streamed from disk); "
                                  "or a .npy file of X (streamed; then --target is the .npy file of y)")
    fit.add_argument("--target", required=True, help="target column(s), comma-separated")
    fit.add_argument("--features", default=None, help="feature columns, comma-separated (default: all other numeric)")
    fit.add_argument("--drop-missing", action="store_true",
                     help="CSV data: leave out rows with a missing value (empty, NA or NaN), as lm()'s na.omit; "
                          "without it they are an error that names them")
    _training_arguments(fit)
    fit.add_argument("--plot", default=None, help="write the loss plot to this PNG file")
    fit.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS,
                     help=f"rows read at a time from Parquet or .npy data (default {CHUNK_ROWS})")
    fit.add_argument("--nproc", type=int, default=1,
                     help="train data-parallel in this many processes on this machine (torch.distributed)")
    fit.add_argument("--distributed", action="store_true",
                     help="this process is one of a torchrun launch (set by --nproc; for multi-node torchrun)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``gradlm`` command; returns the exit status.

    >>> main(["demo", "--epochs", "2", "--json"])  # doctest: +ELLIPSIS
    {"loss": [...
    0
    """
    parser = build_parser()
    as_command = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.command == "fit" and args.nproc < 1:
        print(f"gradlm: error: --nproc must be at least 1; got {args.nproc}.", file=sys.stderr)
        return 2
    if args.command == "fit":
        try:
            _streamed(args.path)  # an unsupported file type is refused before anything reads it
        except ValueError as err:
            _error(err)
            return 2
    if args.command == "fit" and args.nproc > 1 and not args.distributed:
        if not _streamed(args.path):
            print("gradlm: error: --nproc needs Parquet or .npy data (each process reads its own part); "
                  "convert the CSV to Parquet.", file=sys.stderr)
            return 2
        return _launch(argv, args.nproc)
    with warnings.catch_warnings():
        # warnings as one line each, as the command's errors are
        warnings.showwarning = lambda message, *rest, **kw: print(f"gradlm: warning: {message}", file=sys.stderr)
        status = 1
        try:
            status = _main(args)
            return status
        finally:
            if getattr(args, "distributed", False):
                distributed.shutdown(wait=status == 0)
                if as_command:
                    # A torchrun worker whose work is done and whose group is left: end here. Interpreter
                    # finalization can still abort it (gloo's threads: "terminate called without an active
                    # exception", seen about once in 30 runs), which torchrun reports as a failed launch.
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(status)


def _main(args: argparse.Namespace) -> int:
    try:
        if args.command == "demo":
            X, y = demo = datasets.crops()  # (float32, as the tutorial has them; trained in float64)
            return _run(args, X.double(), y.double(), demo.feature_names, demo.target_names,
                        None if args.json else args.plot)
        if _streamed(args.path):
            if args.validation_fraction is not None:
                raise ValueError("--validation-fraction holds out rows of a CSV file, read whole; Parquet and .npy "
                                 "data are streamed from disk: fit a CSV, or leave --validation-fraction unset.")
            target = args.target if _suffix(args.path) == ".npy" else args.target.split(",")
            features = args.features.split(",") if args.features else None
            streamed = stream(args.path, target=target, features=features, chunk_rows=args.chunk_rows)
            names = streamed.feature_names or [f"x{i + 1}" for i in range(streamed.n_features)]
            targets = streamed.target_names or [f"y{i + 1}" for i in range(streamed.n_outputs)]
            return _run(args, streamed, None, names, targets, args.plot)
        if args.distributed:
            raise ValueError("--nproc and --distributed need Parquet or .npy data; convert the CSV to Parquet.")
        data = read_csv(args.path, target=args.target, features=args.features, dtype=torch.float64)
        data = _complete_rows(data, args.path, args.drop_missing)
        return _run(args, data.X, data.y, data.feature_names, data.target_names, args.plot)
    except (ValueError, TypeError, OSError) as err:
        _error(err)
        return 2
    except DivergenceError as err:
        _error(err)
        return 1
    except ImportError as err:  # an optional dependency (an extra) that is not installed: the message names it
        _error(err)
        return 1


def _error(err: object) -> None:
    if isinstance(err, OSError) and err.strerror and err.filename:  # ("[Errno 2] ..." is Python's, not the user's)
        err = f"{err.filename}: {err.strerror}"
    if os.environ.get("RANK", "0") == "0":  # under --nproc, the processes fail alike: rank 0 says why
        print(f"gradlm: error: {err}", file=sys.stderr)


def _complete_rows(data: datasets.Dataset, path: str, drop: bool) -> datasets.Dataset:
    """``data`` (a Dataset read from the CSV ``path``) without the rows that have a missing value when ``drop``
    (as lm()'s na.omit); otherwise such rows are an error that names the columns and the first line."""
    values = torch.cat([data.X, data.y], dim=1)
    missing = torch.isnan(values)
    if not bool(missing.any()):
        return data
    complete = ~missing.any(dim=1)
    if drop:
        if not bool(complete.any()):
            raise ValueError(f"{path}: every row has a missing value; no complete row is left to fit.")
        if is_main_process():
            print(f"gradlm: left out {int((~complete).sum())} row(s) of {path} with a missing value (--drop-missing)",
                  file=sys.stderr)
        return datasets.Dataset(data.X[complete], data.y[complete], data.feature_names, data.target_names)
    names = list(data.feature_names) + list(data.target_names)
    counts = ", ".join(f"'{name}' {int(c)}" for name, c in zip(names, missing.sum(dim=0).tolist()) if c)
    line = int(torch.nonzero(~complete)[0, 0]) + 2  # (the header is line 1)
    raise ValueError(f"{path} has missing values (empty, NA or NaN) in column(s) {counts}, the first on line {line}; "
                     "fill them, or pass --drop-missing to fit the complete rows (as lm() does).")


STREAMED = (".parquet", ".pq", ".npy")
CSV = (".csv", ".txt", "")  # (no suffix: a pipe such as /dev/stdin, or a file named without one)
TYPES_READ = ("CSV (.csv), Parquet (a .parquet or .pq file, or a folder of them) and .npy (X, with --target the .npy "
              "of y)")


def _suffix(path: str) -> str:
    return os.path.splitext(path)[1].lower()


def _streamed(path: str) -> bool:
    """Whether ``path`` is streamed from disk (Parquet, .npy) rather than read whole (CSV); a file of another type
    is refused (it would be read as a CSV, and fail with a decoding error that names neither it nor the fix)."""
    suffix = _suffix(path)
    if suffix in STREAMED or os.path.isdir(path):
        return True
    if suffix in CSV:
        return False
    fix = ("save its arrays as .npy files (np.save(\"X.npy\", X)) and pass those" if suffix == ".npz"
           else "decompress it first" if suffix in (".gz", ".bz2", ".xz", ".zip", ".zst")
           else "save the data as CSV or Parquet")
    raise ValueError(f"{path!r} is a {suffix} file, which gradlm fit does not read; it reads {TYPES_READ}: {fix}.")


def _launch(argv: list, nproc: int) -> int:
    """Run this command in ``nproc`` processes under torchrun on this machine (loopback rendezvous)."""
    rest, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            rest.append(arg)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
               "-m", "gradlm", *rest, "--distributed"]
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")  # (torchrun's own default, without its warning)
    return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main())
