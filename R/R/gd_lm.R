#' Linear models fitted by gradient descent
#'
#' @description
#' `gd_lm()` fits a linear model like [stats::lm()], by gradient descent on
#' PyTorch (the Python core's `GDRegressor`). Formulas work as in `lm()`:
#' several responses with `cbind()`, factors and characters as contrasts
#' (treatment contrasts unless `contrasts` says otherwise), `na.action` and
#' `subset`.
#'
#' The fit has methods for `print()`, `summary()`, `predict()`, `fitted()`,
#' `residuals()`, `nobs()` and `plot()`, and the tidiers `tidy()`, `glance()`
#' and `augment()`; `coef()` and `df.residual()` work through R's defaults.
#' `summary()` shows the coefficients beside the exact least-squares ones,
#' which `lm()` also gives, but no standard errors; there are no `vcov()`,
#' `confint()`, `anova()` or `logLik()` methods.
#'
#' @details
#' By default no setting needs choosing: the data are standardized, the
#' step size (`lr`) and the momentum are chosen from the curvature of the loss
#' (the extreme eigenvalues of its Hessian, from the data's moments: Polyak's
#' heavy ball), the epoch budget from the rate that step converges at, and
#' training stops once every coefficient is *certified* within `tol` of the
#' exact least-squares one (which the core knows from the same moments). A
#' fit that runs out of epochs first gives a warning that says so and what to
#' change; one that diverges never reports converged. `print()`, `summary()`
#' and `glance()` show the core's report of the fit (its `report`
#' element): the loss beside the optimum's, the gap, R-squared, converged or not and
#' the verdict in one line.
#'
#' The data cross into Python once, as R's doubles (the model is float64 unless
#' `dtype` says otherwise); the loop runs in Python and everything shown
#' afterwards comes back in the same call.
#'
#' @param formula A formula, such as `cbind(mangoes, oranges) ~ .` (the
#'   formula method), or a numeric matrix or data.frame of predictors (the
#'   default method, with `y`).
#' @param data A data.frame with the formula's variables.
#' @param y For the default method: the response, a vector or a matrix.
#' @param epochs Number of epochs, or `"auto"` (the default): a budget of
#'   about twice the epochs the step needs to reach `tol`.
#' @param lr Learning rate, or `"auto"` (the default): chosen from the
#'   curvature of the loss (with `momentum = "auto"`, the heavy ball's
#'   optimal step; for mini-batches, a safe fraction of the stable bound).
#' @param batch_size `NULL` for full batch, else the mini-batch size.
#' @param optimizer `"sgd"` or `"adam"`.
#' @param momentum SGD (heavy-ball) momentum, or `"auto"` (the default):
#'   chosen with `lr = "auto"` for full batch, else 0.
#' @param standardize Optimise on predictors and responses scaled to mean 0
#'   and standard deviation 1 (`TRUE`, the default: far better conditioned;
#'   coefficients are reported on the original scale). `FALSE` trains on the
#'   data as they are.
#' @param seed Seeds the starting parameters and the batch order.
#' @param tol The certified tolerance: training stops when every coefficient
#'   is within `tol` of the least-squares one, in its own units
#'   (`stop_reason = "converged"`), and warns when the epochs run out first.
#'   `"auto"` (the default): 1e-10 for float64 (1e-6 for float32, looser on
#'   ill-conditioned data), whatever `lr` and `epochs` (a model fit promises
#'   the regression's answer; [fit()][fit.gradlm.model.LinearModel] certifies
#'   only where `lr` or `epochs` is `"auto"`). `NULL`: no stopping rule and
#'   no warning. Either way the report says whether the fit converged.
#' @param patience Early stopping: stop when the loss has not improved for
#'   `patience` epochs (`stop_reason = "patience"`).
#' @param init `"torch"`, `"randn"` or `"zeros"`.
#' @param dtype `NULL` (the default) follows the data: float64, as R's
#'   numbers are; or `"float32"`.
#' @param subset,na.action,contrasts As in [stats::lm()]: `contrasts` is a
#'   list naming, for factors, a contrast function or giving a contrast matrix.
#' @param ... Passed on: `shuffle`, `nesterov`, `weight_decay`, `progress`, `fast`, `on_divergence`
#'   (see [fit.gradlm.model.LinearModel()]).
#' @return An object of class `gd_lm`: the coefficients (`coef()`), the exact
#'   least-squares ones (`lstsq_coefficients`), fitted values and residuals,
#'   the training `history`, and the core's `report` of the fit (a list:
#'   `loss`, `optimum_loss`, `gap`, `coef_error`, `tol`, `converged`,
#'   `stop_reason`, `epochs_run`, `r_squared`, `condition_number`, `lr`,
#'   `momentum` and the one-line `verdict`).
#' @examplesIf gradlm_available()
#' fit <- gd_lm(cbind(mangoes, oranges) ~ temperature + rainfall + humidity, data = crops)
#' fit  # the verdict: converged, and how close to least squares
#' summary(fit)
#' predict(fit, crops[1:3, ])
#' plot(fit)
#' @export
gd_lm <- function(formula, ...) UseMethod("gd_lm")

#' @rdname gd_lm
#' @export
gd_lm.formula <- function(formula, data, epochs = "auto", lr = "auto", batch_size = NULL, optimizer = "sgd",
                          momentum = "auto", standardize = TRUE, seed = NULL, tol = "auto", patience = NULL,
                          init = "torch", dtype = NULL, subset, na.action, contrasts = NULL, ...) {
  refuse_lm_only_arguments(match.call(expand.dots = FALSE)$...)
  if (missing(data)) stop("data is required: the data.frame holding the formula's variables.", call. = FALSE)
  if (!is.data.frame(data)) stop(sprintf("data must be a data.frame; got %s.", class(data)[1]), call. = FALSE)
  if (nrow(data) == 0L) stop("data has 0 rows; pass a data.frame with data.", call. = FALSE)
  outside <- setdiff(all.vars(formula), c(names(data), "."))
  found <- vapply(outside, exists, logical(1), envir = environment(formula))
  missing_vars <- outside[!found]
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
  if (!is.null(attr(mt, "offset"))) {
    stop("gd_lm does not fit offset() terms yet (it would ignore them); subtract the offset from the response, ",
         "e.g. I(y - offset) ~ x, or use lm().", call. = FALSE)
  }
  if (attr(mt, "intercept") == 0L) {
    stop("gd_lm always fits an intercept (the bias); remove '- 1' or '+ 0' from the formula.", call. = FALSE)
  }
  y <- stats::model.response(mf)
  if (!is.numeric(y)) stop("the response must be numeric.", call. = FALSE)
  x <- stats::model.matrix(mt, mf, contrasts.arg = contrasts)
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
  out$session_values <- outside[found]  # names the formula takes from the session, not the data
  out$na.action <- attr(mf, "na.action")
  out$call <- gd_lm_call(match.call())
  out
}

#' @rdname gd_lm
#' @export
gd_lm.default <- function(formula, y, epochs = "auto", lr = "auto", batch_size = NULL, optimizer = "sgd",
                          momentum = "auto", standardize = TRUE, seed = NULL, tol = "auto", patience = NULL,
                          init = "torch", dtype = NULL, ...) {
  refuse_lm_only_arguments(match.call(expand.dots = FALSE)$..., also = "contrasts")
  x <- as_numeric_data(formula, "x")
  if (length(dim(x)) < 2L) x <- matrix(x, ncol = 1L, dimnames = list(NULL, "x"))
  # Names are not set on x itself: that would copy the user's matrix.
  predictors <- colnames(x)
  if (is.null(predictors)) predictors <- paste0("x", seq_len(ncol(x)))
  if ("(Intercept)" %in% predictors) {
    stop("x has a column named '(Intercept)'; gd_lm fits the intercept itself: drop that column.", call. = FALSE)
  }
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

# lm() arguments gd_lm does not have yet: a clear error, not Python's "unexpected keyword argument".
refuse_lm_only_arguments <- function(dots, also = NULL) {
  unsupported <- intersect(names(dots), c("weights", "offset", "method", "model", "qr",
                                          "singular.ok", "x", "y", also))
  if (length(unsupported)) {
    stop(sprintf("gd_lm does not support %s yet; drop %s or use lm().",
                 paste0("'", unsupported, "'", collapse = ", "), if (length(unsupported) > 1L) "them" else "it"),
         call. = FALSE)
  }
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
    report = new_report(res$report),
    history = new_history(res$history),
    standardization = list(center = as.numeric(res$x_mean), scale = as.numeric(res$x_scale)),
    predictors = predictors,
    responses = responses,
    y = y,
    rank = as.integer(res$rank) + 1L,
    df.residual = NROW(y) - as.integer(res$rank) - 1L
  ), class = "gd_lm")
}

# The core's FitReport (a list from its to_dict(), or NULL), with r_squared as
# a numeric vector; nothing in it is computed here.
new_report <- function(report) {
  if (is.null(report)) return(NULL)
  report$r_squared <- as.numeric(unlist(report$r_squared))
  report
}

# Row and response names on a per-row result: a named vector for one response
# (the core sends a 1-D array), else a matrix. Called on a fresh value, so the
# names are set without a copy.
label_rows <- function(m, rows, responses) {
  if (is.matrix(m)) {
    dimnames(m) <- list(rows, responses)
  } else {
    dim(m) <- NULL  # a plain named vector, as lm() gives (reticulate makes a 1-D array)
    names(m) <- rows
  }
  m
}

#' @rdname gd_lm
#' @param x,object A `gd_lm` fit.
#' @param digits Significant digits to print.
#' @export
print.gd_lm <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  print_call(x)
  cat(sprintf("\nFitted by gradient descent: %s\n", fit_verdict(x$report, x$history)))
  cat("\nCoefficients:\n")
  print.default(format(x$coefficients, digits = digits), print.gap = 2L, quote = FALSE)
  cat("\n")
  invisible(x)
}

# The core's verdict on a fit; a fit without a report (a file saved before
# reports existed) says only how it stopped.
fit_verdict <- function(report, history) {
  if (!is.null(report$verdict)) return(report$verdict)
  sprintf("%d epoch(s), stopped by %s (no convergence report)", length(history$loss), history$stop_reason)
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
  report <- object$report
  structure(list(
    call = object$call, saved_call = object$saved_call, coefficients = coefs, loss = object$loss, lstsq_loss = object$lstsq_loss,
    gap = report$gap %||% NA_real_, epochs = length(h$loss), stop_reason = h$stop_reason,
    converged = isTRUE(report$converged), verdict = fit_verdict(report, h), report = report,
    r.squared = object$r.squared, settings = h$settings, rank = object$rank,
    n_coef = length(object$predictors) + 1L
  ), class = "summary.gd_lm")
}

#' @rdname gd_lm
#' @export
print.summary.gd_lm <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  print_call(x)
  for (r in names(x$coefficients)) {
    cat(sprintf("\nResponse %s: gradient descent beside the exact least-squares (lm) coefficients\n", r))
    print(format(x$coefficients[[r]], digits = digits), quote = FALSE)
    cat(sprintf("R-squared: %s\n", format(x$r.squared[[r]], digits = digits)))
  }
  cat(sprintf("\nFinal loss (MSE): %s; least-squares loss: %s; gap: %s\n",
              format(x$loss, digits = digits), format(x$lstsq_loss, digits = digits),
              format(x$gap, digits = 3L)))
  cat(sprintf("Converged: %s\nVerdict: %s\n", if (x$converged) "yes" else "no", x$verdict))
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
  if (missing(newdata) || is.null(newdata)) {
    needs_training_data(object, "fitted values")
    return(stats::napredict(object$na.action, object$fitted.values))
  }
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
      one_row <- if (ncol(x) == 1L && nrow(x) == length(object$predictors)) {
        " For one row, keep it a matrix: newdata[1, , drop = FALSE]."
      } else ""
      stop(sprintf("newdata has %d column(s), but the model was fitted with %d.%s",
                   ncol(x), length(object$predictors), one_row), call. = FALSE)
    }
    storage.mode(x) <- "double"
    return(x)
  }
  if (!is.data.frame(newdata)) stop("newdata must be a data.frame for a formula fit.", call. = FALSE)
  tt <- stats::delete.response(object$terms)
  missing_vars <- setdiff(all.vars(tt), names(newdata))
  missing_vars <- missing_vars[!vapply(missing_vars, exists, logical(1), envir = environment(tt))]  # as lm()
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
  stats::napredict(object$na.action, object$fitted.values)  # na.exclude pads with NA, as lm() does
}

#' @rdname gd_lm
#' @importFrom stats residuals
#' @export
residuals.gd_lm <- function(object, ...) {
  needs_training_data(object, "residuals")
  stats::naresid(object$na.action, object$residuals)
}

# The call, as lm() prints it; a loaded fit's is the text saved (never evaluated, so update() refuses it).
print_call <- function(x) {
  text <- if (!is.null(x$call)) deparse(x$call) else x$saved_call
  if (!is.null(text)) cat("\nCall:\n", paste(text, collapse = "\n"), "\n", sep = "")
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
  report <- x$report
  number <- function(value) if (is.null(value)) NA_real_ else as.numeric(value)
  data.frame(r.squared = mean(x$r.squared), loss = x$loss, lstsq_loss = x$lstsq_loss,
             gap = number(report$gap), epochs = length(h$loss), stop_reason = h$stop_reason,
             converged = isTRUE(report$converged), nobs = nobs.gd_lm(x), df.residual = x$df.residual,
             coef_error = number(report$coef_error), tol = number(report$tol), lr = number(report$lr),
             momentum = number(report$momentum), condition_number = number(report$condition_number),
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
