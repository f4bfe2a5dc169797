#' Tidy a gd_lm fit: broom's columns for lm, then gradlm's
#'
#' `tidy()`, `glance()` and `augment()` with the column names and meanings
#' broom gives `lm` fits, then gradlm's own columns. Every number comes from
#' the core (as in [summary()][gd_lm]). The results are data.frames.
#'
#' - `tidy()`: `term`, `estimate`, `std.error`, `statistic` (t), `p.value`,
#'   with `conf.int = TRUE` also `conf.low`, `conf.high`; then `lm_estimate`,
#'   the exact least-squares coefficient. For a converged fit `estimate` is the
#'   fitted coefficient; with collinear predictors it is, as in `lm()`, the
#'   solution of the model without the aliased terms (the same predictions),
#'   and aliased terms have `NA` there, as in broom's `tidy.lm` (a fit loaded
#'   without its inference shows the fitted coefficients). Several responses:
#'   a `response` column first, as broom's `tidy.mlm`.
#' - `glance()`: `r.squared`, `adj.r.squared`, `sigma`, `statistic` (F),
#'   `p.value`, `df` (the F statistic's numerator degrees of freedom),
#'   `logLik`, `AIC`, `BIC`, `deviance`, `df.residual`, `nobs`; then `loss`,
#'   `lstsq_loss`, `gap`, `epochs`, `stop_reason`, `converged`,
#'   `coef_error`, `tol`, `lr`, `momentum`, `condition_number`. Several
#'   responses: one row per response, with a `response` column first (the
#'   fit-wide columns repeated).
#' - `augment()`: the data with `.fitted`, `.resid`, `.hat`, `.sigma`,
#'   `.cooksd`, `.std.resid` (training data), and, when asked, `.se.fit`
#'   (`se_fit = TRUE`) and `.lower`, `.upper` (`interval`), as broom's
#'   `augment.lm`. Several responses: each column once per response, suffixed
#'   `_response`.
#'
#' A fit loaded from a file without its inference has `NA` in the columns that
#' need it.
#'
#' A penalized fit (`penalty > 0`) has no `lm()` inference, and its tidiers
#' leave those columns out, as broom's `tidy.glmnet()` and `glance.glmnet()`
#' do: `tidy()` gives `term`, `estimate`, `penalty` (as parsnip's `tidy()` of
#' a glmnet fit; coefficients the lasso set to 0 are kept, with estimate 0),
#' then `lm_estimate`, the least-squares (`penalty = 0`) coefficient
#' (`conf.int = TRUE` is refused); `glance()` gives `r.squared`, `nobs`,
#' `penalty`, `mixture`, then gradlm's columns (`lstsq_loss` and `gap` are then
#' the penalized optimum's loss and the gap in the penalized objective);
#' `augment()` gives `.fitted` and `.resid` (no `.hat`, `.sigma`, `.cooksd`,
#' `.std.resid`; `se_fit` and `interval` are refused).
#'
#' @param x A `gd_lm` fit.
#' @param conf.int Add confidence intervals (`conf.low`, `conf.high`).
#' @param conf.level Their level.
#' @param newdata For `augment()`: new data to predict for (training data when
#'   omitted).
#' @param se_fit For `augment()`: add `.se.fit`.
#' @param interval For `augment()`: `"none"`, `"confidence"` or
#'   `"prediction"`, adding `.lower` and `.upper`.
#' @param ... Unused.
#' @return A data.frame.
#' @examplesIf gradlm_available()
#' fit <- gd_lm(mpg ~ wt + hp, data = mtcars)
#' tidy(fit, conf.int = TRUE)
#' glance(fit)
#' head(augment(fit))
#' @name gd_lm-tidiers
NULL

#' @importFrom generics tidy glance augment
#' @export
generics::tidy

#' @export
generics::glance

#' @export
generics::augment

#' @rdname gd_lm-tidiers
#' @export
tidy.gd_lm <- function(x, conf.int = FALSE, conf.level = 0.95, ...) {
  if (is_penalized(x)) return(tidy_penalized(x, conf.int))
  coef <- coef_matrix(x$coefficients, x$responses)
  exact <- coef_matrix(x$lstsq_coefficients, x$responses)
  inf <- x$inference
  k <- length(x$responses)
  ci <- if (conf.int && !is.null(inf)) confint.gd_lm(x, level = conf.level)
  rows <- lapply(seq_len(k), function(j) {
    value <- function(v) if (is.null(inf)) rep(NA_real_, nrow(coef)) else as.numeric(as.matrix(v)[j, ])
    estimate <- if (is.null(inf)) unname(coef[, j]) else value(inf$estimate)
    out <- data.frame(response = x$responses[j], term = rownames(coef), estimate = estimate,
                      std.error = value(inf$std_error), statistic = value(inf$statistic),
                      p.value = value(inf$p_value), stringsAsFactors = FALSE)
    if (conf.int) {
      block <- if (is.null(ci)) matrix(NA_real_, nrow(coef), 2L) else ci[(j - 1L) * nrow(coef) + seq_len(nrow(coef)), , drop = FALSE]
      out$conf.low <- unname(block[, 1L])
      out$conf.high <- unname(block[, 2L])
    }
    out$lm_estimate <- unname(exact[, j])
    out
  })
  out <- do.call(rbind, rows)
  for (name in c("estimate", "std.error", "statistic", "p.value")) out[[name]][is.nan(out[[name]])] <- NA_real_
  if (k == 1L) out$response <- NULL
  rownames(out) <- NULL
  as_broom_table(out)
}

# tidy() of a penalized fit, as parsnip's tidy() of a glmnet fit: term, estimate, penalty (zeros kept: a
# lasso's zero is an answer); then the least-squares coefficient. No inference columns.
tidy_penalized <- function(x, conf.int) {
  if (isTRUE(conf.int)) stop(penalized_no_inference("confidence intervals (conf.int = TRUE)"), call. = FALSE)
  coef <- coef_matrix(x$coefficients, x$responses)
  exact <- coef_matrix(x$lstsq_coefficients, x$responses)
  k <- length(x$responses)
  penalty <- rep_len(x$penalty, k)
  out <- data.frame(response = rep(x$responses, each = nrow(coef)), term = rep(rownames(coef), k),
                    estimate = as.numeric(coef), penalty = rep(penalty, each = nrow(coef)),
                    lm_estimate = as.numeric(exact), stringsAsFactors = FALSE)
  if (k == 1L) out$response <- NULL
  as_broom_table(out)
}

#' @rdname gd_lm-tidiers
#' @export
glance.gd_lm <- function(x, ...) {
  h <- x$history
  report <- x$report
  inf <- x$inference
  k <- length(x$responses)
  number <- function(value) if (is.null(value)) NA_real_ else as.numeric(value)
  per <- function(value) if (is.null(inf) || is.null(value)) rep(NA_real_, k) else as.numeric(value)
  r2 <- if (!is.null(inf)) per(inf$r_squared) else as.numeric(x$r.squared)
  out <- if (is_penalized(x)) {
    # no lm() inference: its columns are left out, as broom's glance.glmnet has none
    data.frame(response = x$responses, r.squared = r2, nobs = as.integer(nobs.gd_lm(x)),
               penalty = rep_len(x$penalty, k), mixture = rep_len(x$mixture %||% 0, k), stringsAsFactors = FALSE)
  } else {
    data.frame(response = x$responses, r.squared = r2, adj.r.squared = per(inf$adj_r_squared),
               sigma = per(inf$sigma), statistic = per(inf$f_statistic), p.value = per(inf$f_p_value),
               df = if (is.null(inf)) NA_real_ else as.numeric(inf$f_df[1L]),
               logLik = per(inf$log_lik), AIC = per(inf$aic), BIC = per(inf$bic), deviance = per(inf$rss),
               df.residual = as.integer(x$df.residual), nobs = as.integer(nobs.gd_lm(x)), stringsAsFactors = FALSE)
  }
  out <- data.frame(out, loss = x$loss, lstsq_loss = x$lstsq_loss, gap = number(report$gap), epochs = length(h$loss),
                    stop_reason = h$stop_reason, converged = isTRUE(report$converged),
                    coef_error = number(report$coef_error), tol = number(report$tol), lr = number(report$lr),
                    momentum = number(report$momentum), condition_number = number(report$condition_number),
                    stringsAsFactors = FALSE, check.names = FALSE)
  if (k == 1L) out$response <- NULL
  as_broom_table(out)
}

#' @rdname gd_lm-tidiers
#' @export
augment.gd_lm <- function(x, newdata = NULL, se_fit = FALSE, interval = c("none", "confidence", "prediction"), ...) {
  interval <- match.arg(interval)
  training <- is.null(newdata)
  if (training) {
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
    if (length(x$responses) == 1L && x$responses %in% names(newdata)) {
      resid <- as.matrix(newdata[[x$responses]] - fitted[, 1L])
    }
  }
  k <- length(x$responses)
  one <- k == 1L
  extra <- NULL
  if (se_fit || interval != "none") {
    p <- if (training) predict_rows(x, interval) else predict.gd_lm(x, newdata, se.fit = TRUE, interval = interval)
    extra <- p
  }
  diag <- if (training && !is.null(x$inference)) row_diagnostics(x)
  if (!is.null(diag) && !is.null(x$weights) && any(x$weights == 0)) {
    keep <- x$weights != 0  # lm's diagnostics leave these rows out: NA here
    diag <- lapply(diag, function(v) {
      m <- matrix(NA_real_, length(keep), NCOL(v))
      m[keep, ] <- as.matrix(v)
      m
    })
  }
  column <- function(v, j) as.numeric(as.matrix(v)[, min(j, NCOL(v))])
  for (j in seq_len(k)) {
    suffix <- if (one) "" else paste0("_", x$responses[j])
    put <- function(name, v) data[[paste0(name, suffix)]] <<- v
    put(".fitted", fitted[, j])
    if (interval != "none") {
      band <- if (one) extra$fit else extra$fit[[j]]
      put(".lower", unname(band[, "lwr"]))
      put(".upper", unname(band[, "upr"]))
    }
    if (se_fit) put(".se.fit", column(extra$se.fit, j))
    if (!is.null(resid)) put(".resid", resid[, j])
    if (!is.null(diag)) {
      put(".hat", column(diag$hat, 1L))
      put(".sigma", column(diag$sigma, j))
      put(".cooksd", column(diag$cooks, j))
      put(".std.resid", column(diag$rstandard, j))
    }
  }
  # row names that say something (mtcars' cars) become a first column .rownames, as broom's augment() makes them
  if (!identical(rownames(data), as.character(seq_len(nrow(data))))) {
    data <- cbind(data.frame(.rownames = rownames(data)), data)
  }
  as_broom_table(data)
}

# A tidier's table as broom gives it: a tibble when the tibble package is installed (broom's own dependency),
# else a data.frame with the same columns.
as_broom_table <- function(table) {
  rownames(table) <- NULL
  if (requireNamespace("tibble", quietly = TRUE)) tibble::as_tibble(table) else table
}

# predict() on the training rows without na.exclude's padding (augment() has a row per model-frame row),
# and without predict()'s warnings for prediction intervals on the training data.
predict_rows <- function(x, interval) {
  x$na.action <- NULL
  suppressWarnings(predict.gd_lm(x, se.fit = TRUE, interval = interval))
}
