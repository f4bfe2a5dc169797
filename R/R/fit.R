#' @importFrom generics fit
#' @export
generics::fit

#' Train a linear model by gradient descent
#'
#' The R face of Python's `gradlm.fit()`: the same arguments and defaults.
#' The data cross into Python once, the whole loop runs there, and the
#' history comes back once.
#'
#' @param object A model from [linear_model()], trained in place.
#' @param x Inputs (n, in): a matrix, data.frame or vector (one feature), or a tensor.
#' @param y Targets (n, out); a vector for a one-output model.
#' @param epochs Number of epochs, or `"auto"` (the default): about twice the
#'   epochs the step needs to reach `tol` (full-batch SGD), else 1,000 full
#'   batch or 100 mini-batch epochs.
#' @param lr Learning rate, or `"auto"` (the default): chosen from the
#'   curvature of the loss, the extreme eigenvalues of its Hessian (full-batch
#'   SGD: Polyak's heavy ball, with `momentum = "auto"`; mini-batches: a safe
#'   fraction of the stable bound). A number keeps it, as the tutorials' loops
#'   do. Leave it unset when `optimizer` is a torch optimizer object.
#' @param batch_size `NULL` for full batch, else the mini-batch size.
#' @param shuffle Reshuffle the rows every epoch (mini-batch), in the order
#'   torch's `DataLoader(shuffle = TRUE)` draws; `"batches"`: contiguous
#'   batches, cut once, in a random order each epoch (no rows gathered: about
#'   0.6 times the time, as good on rows in a random order; on sorted data,
#'   shuffle them once first); `FALSE`: in order.
#' @param optimizer `"sgd"`, `"adam"`, or a torch optimizer object built on
#'   `object$parameters()`.
#' @param momentum SGD (heavy-ball) momentum, or `"auto"` (the default):
#'   chosen with `lr = "auto"` for full batch, else 0.
#' @param nesterov,weight_decay SGD settings (`weight_decay` also for Adam).
#' @param update `"optimizer"`, or `"manual"` for the tutorials' step
#'   `p -= p$grad * lr` under `torch$no_grad()`.
#' @param seed Seeds the batch order; `NULL` draws it from torch's global RNG.
#' @param validation `list(x_val, y_val)`, whose loss is recorded each epoch.
#' @param tol The certified tolerance: training stops when every coefficient
#'   is within `tol` of the least-squares one, in its own units
#'   (`stop_reason = "converged"`); when the epochs run out first, a warning
#'   gives the distance, the gap and the fix. `"auto"` (the default): the
#'   dtype's tolerance (float64 1e-10, float32 1e-6, looser on ill-conditioned
#'   data) when `lr` or `epochs` is `"auto"`; with both given, as in the
#'   tutorials' loops, no stopping rule and no warning. `NULL`: none. Either
#'   way the history's `report` holds the verdict.
#' @param patience Early stopping: stop when the monitored loss (the
#'   validation loss if given) has not improved for `patience` epochs
#'   (`stop_reason = "patience"`); the model goes back to the best epoch's
#'   parameters.
#' @param progress Show a progress bar: `TRUE` (it needs the Python package
#'   tqdm; without it a warning says so), `FALSE`, or `NULL` (the default):
#'   only when Python's standard error is a terminal (not under CI).
#' @param fast Closed-form gradients (`TRUE`), autograd (`FALSE`), or
#'   `NULL`: closed form from 10,000 rows up (see Python's `gradlm.fit`).
#' @param on_divergence When the loss becomes NaN or infinite, or rises where
#'   it must diverge (full-batch SGD beyond its stable bound) or, where theory
#'   cannot tell (Adam, mini-batches), ten epochs in a row above the first
#'   epoch's, training stops and the model goes back to the best parameters
#'   seen; `"raise"` (the default) then gives an error naming the cause (the
#'   learning rate beyond its stable bound, see [suggest_lr()], or a data
#'   scale the dtype cannot hold) and the fix, `"warn"` a warning and the
#'   history (`stop_reason = "diverged"`), `"ignore"` keeps only the NaN/Inf
#'   rule. A diverged run never reports converged.
#' @param ... Unused.
#' @section Interrupting: An interrupt (Ctrl-C, Esc, the Stop button) during
#'   training returns the history so far with `stop_reason = "interrupted"`,
#'   the model at the end of the last whole epoch.
#' @return A `gradlm_history`: `loss` (per epoch), `val_loss`, `weight_path`
#'   (epochs x out x in), `bias_path`, final `weight` and `bias`,
#'   `epochs_run`, `stop_reason` (`"epochs"`, `"converged"`, `"patience"`,
#'   `"callback"`, `"interrupted"` or `"diverged"`), `converged` (certified:
#'   the report's), `settings` and `report`, the core's report of the fit
#'   (`loss`, `optimum_loss`, `gap`, `coef_error`, `tol`, `converged`,
#'   `r_squared`, `condition_number`, `lr`, `momentum`, `verdict`; `NULL`
#'   where the data's moments were not at hand, as for large mini-batch data
#'   with a given `lr` and `epochs`). See [as.data.frame.gradlm_history()].
#' @examplesIf gradlm_available()
#' d <- line_data()
#' invisible(torch$manual_seed(59L))
#' h <- fit(linear_model(1, 1), d$x, d$y, epochs = 50, lr = 0.001)
#' head(as.data.frame(h))
#' # by default the step is chosen from the data, and training stops when certified
#' fit(linear_model(1, 1, dtype = "float64"), d$x, d$y)
#' @export
fit.gradlm.model.LinearModel <- function(object, x, y, epochs = "auto", lr = "auto", batch_size = NULL,
                                         shuffle = TRUE, optimizer = "sgd", momentum = "auto", nesterov = FALSE,
                                         weight_decay = 0, update = "optimizer", seed = NULL,
                                         validation = NULL, tol = "auto", patience = NULL,
                                         progress = NULL, fast = NULL, on_divergence = "raise", ...) {
  if (!is.null(validation) && (!is.list(validation) || length(validation) != 2L)) {
    stop("validation must be list(x_val, y_val).", call. = FALSE)
  }
  data <- numeric_args(x = x, y = y, `validation x` = validation[[1]], `validation y` = validation[[2]])
  interruptible(call_core(bridge()$fit_history(
    object, data$x, data$y,
    epochs = epochs, lr = lr, batch_size = batch_size, shuffle = shuffle, optimizer = optimizer,
    momentum = momentum, nesterov = nesterov, weight_decay = weight_decay, update = update,
    seed = seed, validation = if (!is.null(validation)) reticulate::tuple(data[[3L]], data[[4L]]),
    tol = tol, patience = patience, progress = progress, fast = fast, on_divergence = on_divergence
  ), data = data), finish_history)
}

# The Python module R calls (imported after the core, so after torch).
bridge <- function(convert = TRUE) {
  force(core$`__name__`)
  reticulate::import("gradlm.r_bridge", convert = convert)
}

finish_history <- function(history) {
  relay_warnings(history$warnings)
  new_history(history)
}

new_history <- function(h) {
  h$weight_path <- array(h$weight_path, dim = dim(h$weight_path))
  h$weight <- as.matrix(h$weight)
  h$bias_path <- as.matrix(h$bias_path)
  h$bias <- as.numeric(h$bias)
  h$loss <- as.numeric(h$loss)
  if (!is.null(h$val_loss)) h$val_loss <- as.numeric(h$val_loss)
  h$report <- new_report(h$report)
  structure(h, class = "gradlm_history")
}

#' Training histories
#'
#' `as.data.frame()` gives one row per epoch: `epoch`, `loss`, `val_loss`
#' (when recorded) and the parameters at the start of the epoch (`weight`
#' and `bias` for a one-in, one-out model, else `weight_i_j` and `bias_i`).
#' `print()` says how training stopped, with the core's verdict (converged
#' or not, and how close to least squares) when the history has a report.
#' `plot()` draws the loss curve.
#'
#' @param x A `gradlm_history`.
#' @param row.names,optional Unused (for the generic).
#' @param log Log scale for the loss axis? (`plot()`)
#' @param ... Passed to [graphics::plot()] (`plot()`); unused otherwise.
#' @return `as.data.frame()`: a data.frame; `print()` and `plot()`: `x`, invisibly.
#' @examplesIf gradlm_available()
#' d <- line_data()
#' h <- fit(linear_model(1, 1), d$x, d$y, epochs = 50, lr = 0.001)
#' plot(h)
#' @export
as.data.frame.gradlm_history <- function(x, row.names = NULL, optional = FALSE, ...) {
  n <- length(x$loss)
  out <- data.frame(epoch = seq_len(n), loss = x$loss)
  if (!is.null(x$val_loss)) out$val_loss <- x$val_loss
  dims <- dim(x$weight_path)
  if (dims[1] != n) return(out)  # a loaded model's history: the losses only
  if (dims[2] == 1L && dims[3] == 1L) {
    out$weight <- x$weight_path[, 1, 1]
    out$bias <- x$bias_path[, 1]
  } else {
    for (i in seq_len(dims[2])) for (j in seq_len(dims[3])) {
      out[[sprintf("weight_%d_%d", i, j)]] <- x$weight_path[, i, j]
    }
    for (i in seq_len(dims[2])) out[[sprintf("bias_%d", i)]] <- x$bias_path[, i]
  }
  out
}

#' @rdname as.data.frame.gradlm_history
#' @export
print.gradlm_history <- function(x, ...) {
  n <- length(x$loss)
  cat(sprintf("gradlm history: %d epoch(s), stopped by %s\n", n, x$stop_reason))
  if (!is.null(x$report$verdict)) cat(x$report$verdict, "\n", sep = "")
  if (n > 0) cat(sprintf("loss: %.8g (first) -> %.8g (last)\n", x$loss[1], x$loss[n]))
  cat("final weight:\n")
  print(x$weight)
  cat("final bias:", format(x$bias), "\n")
  invisible(x)
}

#' @rdname as.data.frame.gradlm_history
#' @export
plot.gradlm_history <- function(x, log = FALSE, ...) {
  epochs <- seq_along(x$loss)
  ylim <- range(c(x$loss, x$val_loss))
  graphics::plot(epochs, x$loss, type = "l", xlab = "epoch", ylab = "MSE loss", main = "Loss",
                 log = if (log) "y" else "", ylim = ylim, ...)
  if (!is.null(x$val_loss)) {
    graphics::lines(epochs, x$val_loss, lty = 2)
    graphics::legend("topright", c("training", "validation"), lty = c(1, 2), bty = "n")
  }
  invisible(x)
}

#' Exact least squares and the optimality gap
#'
#' `lstsq()` is Python's `gradlm.lstsq()`: the least-squares weight (out, in)
#' and bias (out), in float64 (R's `lm()` gives the same coefficients).
#' `optimality_gap()` is the loss of given parameters minus the least-squares loss.
#'
#' @param x Inputs (n, in).
#' @param y Targets (n, out) or a vector.
#' @return `lstsq()`: a list with `weight` (matrix) and `bias`;
#'   `optimality_gap()`: a number.
#' @examplesIf gradlm_available()
#' lstsq(as.matrix(crops[, 2:4]), as.matrix(crops[, 5:6]))
#' @export
lstsq <- function(x, y) {
  data <- numeric_args(x = x, y = y)
  out <- call_core(core$lstsq(data$x, data$y), data = data)
  # a NamedTuple, which reticulate leaves unconverted: read its fields by name
  list(weight = as.matrix(r_value(out$weight)), bias = as.numeric(r_value(out$bias)))
}

#' @rdname lstsq
#' @param weight,bias Parameters to assess.
#' @export
optimality_gap <- function(weight, bias, x, y) {
  data <- numeric_args(weight = weight, bias = bias, x = x, y = y)
  call_core(core$optimality_gap(data$weight, data$bias, data$x, data$y), data = data)
}

#' Gradient descent in NumPy with hand-written gradients
#'
#' Python's `gradlm.numpy_gd()`, the NumPy tutorial's loop: same arguments,
#' same history as [fit()][fit.gradlm.model.LinearModel].
#'
#' @inheritParams fit.gradlm.model.LinearModel
#' @param x,y Data: inputs (n, in) and targets (n, out); vectors are one column.
#' @param epochs,lr Number of epochs and learning rate, both required (the
#'   tutorial's loop).
#' @param tol `NULL` (the default): no stopping rule; a number stops training
#'   once every coefficient is certified within `tol` of least squares, and
#'   warns when the epochs run out first (as in
#'   [fit()][fit.gradlm.model.LinearModel]). The history's `report` says
#'   whether the run converged either way.
#' @param weight,bias Starting parameters; otherwise drawn by `init`.
#' @param init `"randn"` or `"zeros"`.
#' @param dtype `"float64"` (NumPy's default) or `"float32"`.
#' @return A `gradlm_history`.
#' @examplesIf gradlm_available()
#' p <- numpy_points()
#' numpy_gd(p$x, p$y, epochs = 100, lr = 0.001, seed = 0)
#' @export
numpy_gd <- function(x, y, epochs, lr, weight = NULL, bias = NULL, init = "randn", seed = NULL,
                     batch_size = NULL, shuffle = TRUE, dtype = "float64", tol = NULL, patience = NULL,
                     progress = NULL, on_divergence = "raise") {
  data <- numeric_args(x = x, y = y, weight = weight, bias = bias)
  interruptible(call_core(bridge()$numpy_gd_history(
    data$x, data$y, epochs = epochs, lr = lr, weight = data$weight,
    bias = data$bias, init = init, seed = seed, batch_size = batch_size, shuffle = shuffle, dtype = dtype,
    tol = tol, patience = patience, progress = progress, on_divergence = on_divergence
  ), data = data), finish_history)
}
