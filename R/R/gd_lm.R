#' Linear models fitted by gradient descent
#'
#' `gd_lm()` fits a linear model like [stats::lm()], by gradient descent on
#' PyTorch (the Python core's `GDRegressor`). Formulas work as in `lm()`:
#' several responses with `cbind()`, factors and characters as treatment
#' contrasts, `na.action` and `subset`. The fit has the methods of an `lm`
#' object (`print`, `summary`, `coef`, `predict`, `fitted`, `residuals`,
#' `plot`) and `tidy()`, `glance()`, `augment()`; `summary()` shows the
#' coefficients beside the exact least-squares ones, which `lm()` also gives.
#'
#' The data cross into Python once, as one float32 tensor; the loop runs in
#' Python and everything shown afterwards comes back in the same call.
#'
#' @param formula A formula, such as `cbind(mangoes, oranges) ~ .` (the
#'   formula method), or a numeric matrix or data.frame of predictors (the
#'   default method, with `y`).
#' @param data A data.frame with the formula's variables.
#' @param y For the default method: the response, a vector or a matrix.
#' @param epochs Number of epochs.
#' @param lr Learning rate.
#' @param batch_size `NULL` for full batch, else the mini-batch size.
#' @param optimizer `"sgd"` or `"adam"`.
#' @param momentum SGD momentum.
#' @param standardize Optimise on standardized predictors (much better
#'   conditioned; coefficients are reported on the original scale).
#' @param seed Seeds the starting parameters and the batch order.
#' @param tol,patience Stop when the loss has not improved by `tol` for
#'   `patience` epochs.
#' @param init `"torch"`, `"randn"` or `"zeros"`.
#' @param dtype `"float32"` or `"float64"`.
#' @param subset,na.action As in [stats::lm()].
#' @param ... Passed on: `shuffle`, `nesterov`, `weight_decay`, `progress`, `fast`, `on_divergence`
#'   (see [fit.gradlm.model.LinearModel()]).
#' @return An object of class `gd_lm`.
#' @examples
#' \dontrun{
#' fit <- gd_lm(cbind(mangoes, oranges) ~ temperature + rainfall + humidity, data = crops,
#'              epochs = 500, lr = 0.5, standardize = TRUE, seed = 0)
#' summary(fit)
#' predict(fit, crops[1:3, ])
#' plot(fit)
#' }
#' @export
gd_lm <- function(formula, ...) UseMethod("gd_lm")

#' @rdname gd_lm
#' @export
gd_lm.formula <- function(formula, data, epochs = 1000, lr = 0.01, batch_size = NULL, optimizer = "sgd",
                          momentum = 0, standardize = FALSE, seed = NULL, tol = NULL, patience = NULL,
                          init = "torch", dtype = "float32", subset, na.action, ...) {
  if (missing(data)) stop("data is required: the data.frame holding the formula's variables.", call. = FALSE)
  if (!is.data.frame(data)) stop(sprintf("data must be a data.frame; got %s.", class(data)[1]), call. = FALSE)
  if (nrow(data) == 0L) stop("data has 0 rows; pass a data.frame with data.", call. = FALSE)
  missing_vars <- setdiff(all.vars(formula), c(names(data), "."))
  missing_vars <- missing_vars[!vapply(missing_vars, exists, logical(1), envir = environment(formula))]
  if (length(missing_vars)) {
    stop(sprintf("column(s) %s of the formula are not in data; its columns are %s.",
                 paste0("'", missing_vars, "'", collapse = ", "), paste(names(data), collapse = ", ")),
         call. = FALSE)
  }
  mf <- match.call(expand.dots = FALSE)
  mf <- mf[c(1L, match(c("formula", "data", "subset", "na.action"), names(mf), 0L))]
  mf$drop.unused.levels <- TRUE
  mf[[1L]] <- quote(stats::model.frame)
  mf <- eval(mf, parent.frame())
  if (nrow(mf) == 0L) stop("no rows are left after removing those with NA (na.action).", call. = FALSE)
  mt <- attr(mf, "terms")
  if (attr(mt, "intercept") == 0L) {
    stop("gd_lm always fits an intercept (the bias); remove '- 1' or '+ 0' from the formula.", call. = FALSE)
  }
  y <- stats::model.response(mf)
  if (!is.numeric(y)) stop("the response must be numeric.", call. = FALSE)
  x <- stats::model.matrix(mt, mf)
  contrasts <- attr(x, "contrasts")
  intercept <- which(colnames(x) == "(Intercept)")
  if (ncol(x) == length(intercept)) {
    stop("the formula has no predictors; add at least one term on the right.", call. = FALSE)
  }
  responses <- if (is.matrix(y)) colnames(y) else deparse(formula[[2L]])
  if (is.null(responses)) responses <- paste0("y", seq_len(ncol(y)))
  # The intercept column is dropped in Python, as a view: no copy of the model matrix here.
  x <- as_numeric_data(x, "x")  # Inf survives na.action
  y <- as_numeric_data(y, "y")
  predictors <- colnames(x)[-intercept]
  out <- gd_lm_bridge(x, y, predictors, responses, epochs = epochs, lr = lr, batch_size = batch_size,
                      optimizer = optimizer, momentum = momentum, standardize = standardize,
                      seed = seed, tol = tol, patience = patience, init = init, dtype = dtype,
                      drop_column = intercept - 1L, ...)
  out$terms <- mt
  out$model <- mf
  out$xlevels <- stats::.getXlevels(mt, mf)
  out$contrasts <- contrasts
  out$na.action <- attr(mf, "na.action")
  out$call <- gd_lm_call(match.call())
  out
}

#' @rdname gd_lm
#' @export
gd_lm.default <- function(formula, y, epochs = 1000, lr = 0.01, batch_size = NULL, optimizer = "sgd",
                          momentum = 0, standardize = FALSE, seed = NULL, tol = NULL, patience = NULL,
                          init = "torch", dtype = "float32", ...) {
  x <- as_numeric_data(formula, "x")
  if (is.null(dim(x))) x <- matrix(x, ncol = 1L, dimnames = list(NULL, "x"))
  # Names are not set on x itself: that would copy the user's matrix.
  predictors <- colnames(x)
  if (is.null(predictors)) predictors <- paste0("x", seq_len(ncol(x)))
  if (missing(y)) stop("y is required with a matrix of predictors.", call. = FALSE)
  responses <- if (is.matrix(y) || is.data.frame(y)) colnames(y) else "y"
  if (is.null(responses)) responses <- paste0("y", seq_len(ncol(y)))
  y <- as_numeric_data(y, "y")
  out <- gd_lm_bridge(x, y, predictors, responses, epochs = epochs, lr = lr, batch_size = batch_size,
                      optimizer = optimizer, momentum = momentum, standardize = standardize,
                      seed = seed, tol = tol, patience = patience, init = init, dtype = dtype, ...)
  out$call <- gd_lm_call(match.call())
  out
}

# The call as the user wrote it (gd_lm(...), not the method's name), as lm() shows it.
gd_lm_call <- function(call) {
  call[[1L]] <- as.name("gd_lm")
  call
}

# The one crossing into Python: fit, exact solution, fitted values and history.
# `x` and `y` have been through as_numeric_data() (once: the NA screen reads all of x).
gd_lm_bridge <- function(x, y, predictors, responses, ..., drop_column = NULL) {
  interruptible(call_core(bridge(convert = FALSE)$fit_lm(x, y, ..., drop_column = drop_column),
                          data = list(x = x, y = y)),
                function(res) new_gd_lm(res, predictors, responses, y), convert = FALSE)
}

# Coefficients in lm's layout: (Intercept) then the predictors, one column per response.
lm_layout <- function(weight, bias, predictors, responses) {
  coef <- rbind(matrix(bias, nrow = 1L), t(matrix(weight, nrow = length(responses))))
  dimnames(coef) <- list(c("(Intercept)", predictors), responses)
  if (length(responses) == 1L) stats::setNames(coef[, 1L], rownames(coef)) else coef
}

# Coefficients as a matrix (terms x responses) for one response as for several.
coef_matrix <- function(coef, responses) {
  m <- as.matrix(coef)
  colnames(m) <- responses
  m
}

# `res` is fit_lm's Python dict. The fitted values and residuals (n x k each)
# are converted one at a time and labelled in place: converted with the rest of
# the dict, labelling them would copy them once more.
new_gd_lm <- function(res, predictors, responses, y) {
  rows <- if (is.matrix(y)) rownames(y) else names(y)
  per_row <- function(key) {
    label_rows(reticulate::py_to_r(reticulate::py_get_item(res, key)), rows, responses)
  }
  fitted <- per_row("fitted")
  residuals <- per_row("residuals")
  res <- reticulate::py_to_r(res)
  relay_warnings(res$warnings)
  structure(list(
    coefficients = lm_layout(res$coef, res$intercept, predictors, responses),
    lstsq_coefficients = lm_layout(res$lstsq_weight, res$lstsq_bias, predictors, responses),
    fitted.values = fitted,
    residuals = residuals,
    r.squared = stats::setNames(as.numeric(res$r_squared), responses),
    loss = res$loss,
    lstsq_loss = res$lstsq_loss,
    history = new_history(res$history),
    standardization = list(center = as.numeric(res$x_mean), scale = as.numeric(res$x_scale)),
    predictors = predictors,
    responses = responses,
    y = y,
    rank = as.integer(res$rank) + 1L,
    df.residual = NROW(y) - as.integer(res$rank) - 1L
  ), class = "gd_lm")
}

# Row and response names on a per-row result: a named vector for one response
# (the core sends a 1-D array), else a matrix. Called on a fresh value, so the
# names are set without a copy.
label_rows <- function(m, rows, responses) {
  if (is.matrix(m)) dimnames(m) <- list(rows, responses) else names(m) <- rows
  m
}

#' @rdname gd_lm
#' @param x,object A `gd_lm` fit.
#' @param digits Significant digits to print.
#' @export
print.gd_lm <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  if (!is.null(x$call)) cat("\nCall:\n", paste(deparse(x$call), collapse = "\n"), "\n", sep = "")
  h <- x$history
  cat(sprintf("\nFitted by gradient descent: %d epoch(s), stopped by %s, final loss %.6g\n",
              length(h$loss), h$stop_reason, x$loss))
  cat("\nCoefficients:\n")
  print.default(format(x$coefficients, digits = digits), print.gap = 2L, quote = FALSE)
  cat("\n")
  invisible(x)
}

#' @rdname gd_lm
#' @export
summary.gd_lm <- function(object, ...) {
  gd <- coef_matrix(object$coefficients, object$responses)
  exact <- coef_matrix(object$lstsq_coefficients, object$responses)
  coefs <- lapply(object$responses, function(r) {
    data.frame(estimate = gd[, r], lm = exact[, r], difference = gd[, r] - exact[, r], row.names = rownames(gd))
  })
  names(coefs) <- object$responses
  h <- object$history
  structure(list(
    call = object$call, coefficients = coefs, loss = object$loss, lstsq_loss = object$lstsq_loss,
    gap = object$loss - object$lstsq_loss, epochs = length(h$loss), stop_reason = h$stop_reason,
    converged = isTRUE(h$converged), r.squared = object$r.squared, settings = h$settings,
    rank = object$rank, n_coef = length(object$predictors) + 1L
  ), class = "summary.gd_lm")
}

#' @rdname gd_lm
#' @export
print.summary.gd_lm <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  if (!is.null(x$call)) cat("\nCall:\n", paste(deparse(x$call), collapse = "\n"), "\n", sep = "")
  for (r in names(x$coefficients)) {
    cat(sprintf("\nResponse %s: gradient descent beside the exact least-squares (lm) coefficients\n", r))
    print(format(x$coefficients[[r]], digits = digits), quote = FALSE)
    cat(sprintf("R-squared: %s\n", format(x$r.squared[[r]], digits = digits)))
  }
  cat(sprintf("\nFinal loss (MSE): %s; least-squares loss: %s; gap: %s\n",
              format(x$loss, digits = digits), format(x$lstsq_loss, digits = digits),
              format(x$gap, digits = 3L)))
  conv <- if (x$converged) {
    "converged (the loss stopped improving by tol)"
  } else if (identical(x$stop_reason, "epochs")) {
    sprintf("ran all %d epochs (no tol given, or tol not met)", x$epochs)
  } else {
    sprintf("stopped early (%s)", x$stop_reason)
  }
  cat(sprintf("Epochs: %d, %s\n", x$epochs, conv))
  if (isTRUE(x$rank < x$n_coef)) {
    cat(sprintf(paste0("The predictors are collinear (rank %d of %d): least squares is not unique; the lm column ",
                       "is its minimum-norm solution, where lm() reports NA for aliased terms.\n"),
                x$rank, x$n_coef))
  }
  cat("\n")
  invisible(x)
}

#' @rdname gd_lm
#' @param newdata A data.frame (formula fits) or matrix (default-method fits)
#'   to predict for; rows with NA predict NA.
#' @export
predict.gd_lm <- function(object, newdata, ...) {
  if (missing(newdata) || is.null(newdata)) return(object$fitted.values)
  x <- model_matrix_for(object, newdata)
  ok <- stats::complete.cases(x)
  pred <- matrix(NA_real_, nrow(x), length(object$responses),
                 dimnames = list(rownames(x), object$responses))
  if (any(ok)) {
    coef <- coef_matrix(object$coefficients, object$responses)
    pred[ok, ] <- call_core(bridge()$predict_linear(
      t(coef[-1L, , drop = FALSE]), coef[1L, ], x[ok, , drop = FALSE]
    ))
  }
  if (length(object$responses) == 1L) stats::setNames(pred[, 1L], rownames(x)) else pred
}

model_matrix_for <- function(object, newdata) {
  if (is.null(object$terms)) {
    # Columns named like the predictors are taken by name (in the fit's order), others by position.
    if (!is.null(colnames(newdata)) && all(object$predictors %in% colnames(newdata))) {
      newdata <- newdata[, object$predictors, drop = FALSE]
    }
    x <- if (is.data.frame(newdata)) as.matrix(newdata) else newdata
    if (is.null(dim(x))) x <- matrix(x, ncol = 1L)
    if (ncol(x) != length(object$predictors)) {
      stop(sprintf("newdata has %d column(s), but the model was fitted with %d.",
                   ncol(x), length(object$predictors)), call. = FALSE)
    }
    storage.mode(x) <- "double"
    return(x)
  }
  if (!is.data.frame(newdata)) stop("newdata must be a data.frame for a formula fit.", call. = FALSE)
  tt <- stats::delete.response(object$terms)
  missing_vars <- setdiff(all.vars(tt), names(newdata))
  if (length(missing_vars)) {
    stop(sprintf("newdata lacks column(s) %s.", paste0("'", missing_vars, "'", collapse = ", ")), call. = FALSE)
  }
  mf <- stats::model.frame(tt, newdata, na.action = stats::na.pass, xlev = object$xlevels)
  x <- stats::model.matrix(tt, mf, contrasts.arg = object$contrasts)
  x[, colnames(x) != "(Intercept)", drop = FALSE]
}

#' @rdname gd_lm
#' @importFrom stats nobs
#' @export
nobs.gd_lm <- function(object, ...) if (!is.null(object[["n_obs"]])) object[["n_obs"]] else NROW(object$y)

#' @rdname gd_lm
#' @importFrom stats fitted
#' @export
fitted.gd_lm <- function(object, ...) {
  needs_training_data(object, "fitted values")
  object$fitted.values
}

#' @rdname gd_lm
#' @importFrom stats residuals
#' @export
residuals.gd_lm <- function(object, ...) {
  needs_training_data(object, "residuals")
  object$residuals
}

# A fit read by load_model() has no training data: say so rather than return NULL.
needs_training_data <- function(object, what) {
  if (!is.null(object[["loaded_from"]])) {
    stop(sprintf("this gd_lm was loaded from %s, which holds no training data, so no %s; ", object[["loaded_from"]],
                 what), "use predict(fit, newdata) with the data.", call. = FALSE)
  }
}

#' @rdname gd_lm
#' @param which Which plots: 1, the loss curve; 2, the data with the fitted
#'   line (one predictor, one response) or predicted against actual values.
#' @export
plot.gd_lm <- function(x, which = c(1L, 2L), ...) {
  if (length(which) > 1L && grDevices::dev.interactive()) {
    oask <- grDevices::devAskNewPage(TRUE)
    on.exit(grDevices::devAskNewPage(oask))
  }
  if (1L %in% which) plot(x$history, log = TRUE, ...)
  if (2L %in% which) {
    needs_training_data(x, "data to plot against")
    y <- as.matrix(x$y)
    fitted <- as.matrix(x$fitted.values)
    if (length(x$predictors) == 1L && ncol(y) == 1L && !is.null(x$model)) {
      xs <- stats::model.matrix(x$terms, x$model)[, 2L]
      graphics::plot(xs, y[, 1L], xlab = x$predictors, ylab = x$responses, main = "Fit")
      o <- order(xs)
      graphics::lines(xs[o], fitted[o, 1L], col = "red")
    } else {
      lims <- range(c(y, fitted))
      graphics::plot(NA, xlim = lims, ylim = lims, xlab = "actual", ylab = "predicted",
                     main = "Predicted vs actual")
      for (j in seq_len(ncol(y))) graphics::points(y[, j], fitted[, j], col = j, pch = 19)
      graphics::abline(0, 1, lty = 2)
      if (ncol(y) > 1L) graphics::legend("topleft", x$responses, col = seq_len(ncol(y)), pch = 19, bty = "n")
    }
  }
  invisible(x)
}

#' @importFrom generics tidy glance augment
#' @export
generics::tidy

#' @export
generics::glance

#' @export
generics::augment

#' @rdname gd_lm
#' @export
tidy.gd_lm <- function(x, ...) {
  coef <- coef_matrix(x$coefficients, x$responses)
  exact <- coef_matrix(x$lstsq_coefficients, x$responses)
  rows <- lapply(seq_along(x$responses), function(j) {
    data.frame(response = x$responses[j], term = rownames(coef), estimate = unname(coef[, j]),
               lm_estimate = unname(exact[, j]), stringsAsFactors = FALSE)
  })
  out <- do.call(rbind, rows)
  rownames(out) <- NULL
  out
}

#' @rdname gd_lm
#' @export
glance.gd_lm <- function(x, ...) {
  h <- x$history
  data.frame(r.squared = mean(x$r.squared), loss = x$loss, lstsq_loss = x$lstsq_loss,
             gap = x$loss - x$lstsq_loss, epochs = length(h$loss), stop_reason = h$stop_reason,
             converged = isTRUE(h$converged), nobs = nobs.gd_lm(x), df.residual = x$df.residual,
             stringsAsFactors = FALSE)
}

#' @rdname gd_lm
#' @export
augment.gd_lm <- function(x, newdata = NULL, ...) {
  if (is.null(newdata)) {
    needs_training_data(x, "fitted values or residuals to augment")
    data <- if (!is.null(x$model)) x$model else as.data.frame(x$y)
    if (is.matrix(data[[1L]])) {  # a cbind() response: one column per response
      data <- cbind(as.data.frame(data[[1L]]), data[-1L])
    }
    fitted <- as.matrix(x$fitted.values)
    resid <- as.matrix(x$residuals)
  } else {
    data <- newdata
    fitted <- as.matrix(predict.gd_lm(x, newdata))
    resid <- NULL
  }
  one <- length(x$responses) == 1L
  for (j in seq_along(x$responses)) {
    suffix <- if (one) "" else paste0("_", x$responses[j])
    data[[paste0(".fitted", suffix)]] <- fitted[, j]
    if (!is.null(resid)) data[[paste0(".resid", suffix)]] <- resid[, j]
  }
  data
}
