#' Inference for gd_lm fits: lm()'s methods, the core's numbers
#'
#' The methods [stats::lm()] fits have, for `gd_lm` fits. The core computes
#' every number from the data's moments (X'WX, X'Wy, y'Wy, n), at the fitted
#' (gradient-descent) coefficients; for a converged fit they agree with
#' `lm()`'s. A fit that did not converge gets them all the same, at
#' coefficients that are not the least-squares ones: `summary()` says so.
#'
#' Row diagnostics (`hatvalues()`, `cooks.distance()`, `rstandard()`,
#' `rstudent()`, `influence()`) need the training rows: a fit loaded from a
#' file has none. Rows of weight 0 are left out of them, as `lm()` leaves them
#' out; `na.exclude` pads them with `NA`, as in `lm()`.
#'
#' Several responses: `sigma()` and `deviance()` give one value per response,
#' `confint()` rows named `response:term` (as `confint.mlm`), the row
#' diagnostics one column per response (`hatvalues()` is one vector: it does
#' not depend on the response). `vcov()` needs `response`: lm's `vcov.mlm`
#' includes the covariance between responses, which gradlm does not compute.
#' `anova()` gives one table per response, in a list. `logLik()` refuses, as
#' `lm()` does; [glance()][gd_lm-tidiers] has it per response.
#'
#' A penalized fit (`penalty > 0`, see [gd_lm()]) has none of these: its
#' coefficients are shrunk on purpose, and `lm()`'s standard errors, tests and
#' intervals do not hold for them. Each method stops with an error that says
#' so (fit with `penalty = 0` for them); `nobs()` works.
#'
#' @param object,model A `gd_lm` fit.
#' @param parm Coefficients (names or positions); all by default.
#' @param level Confidence level.
#' @param response For several responses: the response (name or position)
#'   whose covariance matrix to return.
#' @param type For `rstandard()`: `"sd.1"` (standardized residuals) or
#'   `"predictive"` (leave-one-out prediction errors), as [stats::rstandard()].
#' @param do.coef Accepted for `influence()`'s signature; the leave-one-out
#'   coefficient changes are not computed (`TRUE` is refused).
#' @param REML For `logLik()`: the restricted log-likelihood, as [stats::logLik.lm()].
#' @param ... Further `gd_lm` fits (`anova()`: nested models, smallest
#'   first), or unused.
#' @return As the `lm` methods: see [stats::vcov()], [stats::confint()],
#'   [stats::logLik()], [stats::anova.lm()], [stats::influence.measures()].
#' @examplesIf gradlm_available()
#' fit <- gd_lm(mpg ~ wt + hp, data = mtcars)
#' vcov(fit)
#' confint(fit)
#' AIC(fit)
#' anova(fit)
#' anova(gd_lm(mpg ~ wt, data = mtcars), fit)
#' head(cooks.distance(fit))
#' @name gd_lm-inference
NULL

#' @rdname gd_lm-inference
#' @importFrom stats vcov
#' @export
vcov.gd_lm <- function(object, response = NULL, ...) {
  inf <- needs_inference(object, "covariance matrix")
  k <- length(object$responses)
  if (is.null(response)) {
    if (k > 1L) {
      stop(sprintf(paste0("this fit has %d responses; vcov() gives one response's matrix: vcov(fit, response = \"%s\"). ",
                          "(lm's vcov.mlm also gives the covariance between responses, which gradlm does not compute.)"),
                   k, object$responses[1L]), call. = FALSE)
    }
    response <- 1L
  }
  j <- response_index(object, response)
  vcov_slice(inf, j, coef_names(object))
}

# The position of a response given by name or number.
response_index <- function(object, response) {
  j <- if (is.character(response)) match(response, object$responses) else as.integer(response)
  if (length(j) != 1L || is.na(j) || j < 1L || j > length(object$responses)) {
    stop(sprintf("response must be one of %s (or its position).",
                 paste0("'", object$responses, "'", collapse = ", ")), call. = FALSE)
  }
  j
}

coef_names <- function(object) rownames(coef_matrix(object$coefficients, object$responses))

#' @rdname gd_lm-inference
#' @importFrom stats confint
#' @export
confint.gd_lm <- function(object, parm, level = 0.95, ...) {
  inf <- needs_inference(object, "confidence intervals")
  terms <- coef_names(object)
  responses <- object$responses
  k <- length(responses)
  ci <- call_core(bridge()$confint(inf$estimate, inf$std_error, as.integer(inf$df_residual), level = level))
  ci <- array(as.numeric(ci), c(k, length(terms), 2L))
  a <- (1 - level) / 2
  pct <- paste(format(100 * c(a, 1 - a), trim = TRUE, scientific = FALSE, digits = 3L), "%")
  rows <- if (k == 1L) terms else as.vector(t(outer(responses, terms, paste, sep = ":")))
  out <- matrix(NA_real_, k * length(terms), 2L, dimnames = list(rows, pct))
  for (j in seq_len(k)) out[(j - 1L) * length(terms) + seq_along(terms), ] <- ci[j, , ]
  out[is.nan(out)] <- NA_real_
  if (!missing(parm)) {
    keep <- if (is.numeric(parm)) {
      as.vector(outer(parm, (seq_len(k) - 1L) * length(terms), `+`))
    } else if (k == 1L) parm else rows[sub("^[^:]*:", "", rows) %in% parm | rows %in% parm]
    out <- out[keep, , drop = FALSE]
  }
  out
}

#' @rdname gd_lm-inference
#' @importFrom stats logLik
#' @export
logLik.gd_lm <- function(object, REML = FALSE, ...) {
  inf <- needs_inference(object, "log-likelihood")
  if (length(object$responses) > 1L) {
    stop("logLik() does not support several responses (nor does lm()'s logLik.lm); glance(fit) gives it per response.",
         call. = FALSE)
  }
  nall <- if (!is.null(object$residuals)) NROW(object$residuals) else nobs.gd_lm(object)
  value <- if (isTRUE(REML)) inf$log_lik_reml else inf$log_lik
  if (is.null(value)) stop("this fit's inference has no REML log-likelihood; refit it.", call. = FALSE)
  structure(as.numeric(value)[1L], nall = nall, nobs = nobs.gd_lm(object), df = as.integer(inf$rank) + 1L,
            class = "logLik")
}

#' @rdname gd_lm-inference
#' @importFrom stats deviance
#' @export
deviance.gd_lm <- function(object, ...) {
  inf <- needs_inference(object, "deviance")
  per_response(object, inf$rss)
}

#' @rdname gd_lm-inference
#' @importFrom stats sigma
#' @export
sigma.gd_lm <- function(object, ...) {
  inf <- needs_inference(object, "residual standard error")
  per_response(object, inf$sigma)
}

# A per-response value: one number for one response (as lm()), else named by response.
per_response <- function(object, value) {
  value <- as.numeric(value)
  if (length(object$responses) == 1L) value else stats::setNames(value, object$responses)
}

#' @rdname gd_lm-inference
#' @importFrom stats anova
#' @export
anova.gd_lm <- function(object, ...) {
  others <- list(...)
  fits <- Filter(function(o) inherits(o, "gd_lm"), others)
  if (length(fits)) return(anova_nested(c(list(object), fits), deparse_calls(object, substitute(list(...)), others)))
  inf <- needs_inference(object, "analysis of variance")
  a <- inf$anova
  if (is.null(a)) stop("this fit has no analysis of variance table (the core was not given the terms).", call. = FALSE)
  labels <- term_labels(object)
  term <- as.integer(a$term)
  keep <- as.integer(a$df) > 0L  # a term that adds no rank (aliased) has no row, as in anova.lm
  df <- c(as.integer(a$df)[keep], as.integer(a$residual_df))
  rows <- c(labels[term[keep]], "Residuals")
  tables <- lapply(seq_along(object$responses), function(j) {
    row <- function(v) as.numeric(as.matrix(v)[j, ])[keep]
    rss <- at(a$residual_sum_sq, j)
    table <- data.frame(Df = df, `Sum Sq` = c(row(a$sum_sq), rss), `Mean Sq` = c(row(a$mean_sq), rss / df[length(df)]),
                        `F value` = c(row(a$f_value), NA), `Pr(>F)` = c(row(a$p_value), NA),
                        check.names = FALSE, row.names = rows)
    structure(table, heading = c("Analysis of Variance Table\n", paste0("Response: ", object$responses[j])),
              class = c("anova", "data.frame"))
  })
  if (length(tables) == 1L) tables[[1L]] else stats::setNames(tables, object$responses)
}

#' @rdname gd_lm-inference
#' @param scope,test For `drop1()`: the terms to drop (default: those
#'   [stats::drop.scope()] allows), and `"none"` or `"F"`, as [stats::drop1()]
#'   for `lm`. The sums of squares come from the fit's inference (no refit).
#' @importFrom stats drop1
#' @export
drop1.gd_lm <- function(object, scope, scale = 0, test = c("none", "F"), k = 2, ...) {
  test <- match.arg(test)
  inf <- needs_inference(object, "drop1()")
  if (length(object$responses) > 1L) stop("drop1() does not support several responses (nor does lm()).", call. = FALSE)
  labels <- term_labels(object)
  model <- if (!is.null(object$terms)) stats::formula(object$terms)
  scope <- if (missing(scope)) {
    if (is.null(model)) labels else stats::drop.scope(object$terms)
  } else if (inherits(scope, "formula")) {
    attr(stats::terms(stats::update.formula(model, scope)), "term.labels")
  } else scope
  terms <- match(scope, labels)
  if (anyNA(terms)) stop(sprintf("scope names term(s) not in the model: %s.", paste(scope[is.na(terms)],
                                                                                    collapse = ", ")), call. = FALSE)
  d <- call_core(bridge()$drop_terms(inf, as_vector_arg(as.integer(object$assign)), as_vector_arg(terms)))
  edf <- extractAIC.gd_lm(object, scale = scale, k = k)[1L]
  rss <- c(as.numeric(inf$rss)[1L], as.numeric(d$rss))
  df <- c(NA, as.integer(d$df))
  aics <- lm_aic(rss, nobs.gd_lm(object), edf - c(0, df[-1L]), scale, k)  # each smaller model's
  table <- data.frame(Df = df, `Sum of Sq` = c(NA, as.numeric(d$sum_sq)), RSS = rss, AIC = aics,
                      check.names = FALSE, row.names = c("<none>", scope))
  if (test == "F") {
    table[["F value"]] <- c(NA, as.numeric(d$f_value))
    table[["Pr(>F)"]] <- c(NA, as.numeric(d$p_value))
  }
  structure(table, heading = c("Single term deletions", if (!is.null(model)) c("\nModel:", deparse(model))),
            class = c("anova", "data.frame"))
}

# The term each value of `assign` stands for.
term_labels <- function(object) {
  if (!is.null(object$terms)) attr(object$terms, "term.labels") else object$predictors
}

# How anova() names each model: its formula (as anova.lmlist), else its call.
deparse_calls <- function(object, expr, others) {
  fits <- c(list(object), Filter(function(o) inherits(o, "gd_lm"), others))
  vapply(fits, function(f) {
    text <- if (!is.null(f$terms)) deparse(stats::formula(f$terms)) else if (!is.null(f$call)) deparse(f$call) else "model"
    paste(text, collapse = " ")
  }, character(1))
}

# anova.lmlist's table for nested fits, from the core's compare_nested().
anova_nested <- function(fits, labels) {
  responses <- fits[[1L]]$responses
  for (f in fits[-1L]) {
    if (!identical(f$responses, responses)) stop("the models in anova() must have the same responses.", call. = FALSE)
  }
  n <- vapply(fits, nobs.gd_lm, numeric(1))
  if (length(unique(n)) > 1L) {
    stop(sprintf("the models in anova() were fitted to different numbers of rows (%s); fit them to the same data.",
                 paste(n, collapse = ", ")), call. = FALSE)
  }
  infs <- lapply(fits, needs_inference, what = "analysis of variance")
  k <- length(responses)
  rss <- do.call(rbind, lapply(infs, function(inf) as.numeric(inf$rss)))
  df <- vapply(infs, function(inf) as.numeric(inf$df_residual), numeric(1))
  res <- call_core(bridge()$compare_nested(matrix(rss, length(fits), k), as.integer(df)))
  tables <- lapply(seq_len(k), function(j) {
    col <- function(v) { v <- as.matrix(v); as.numeric(if (ncol(v) == k) v[, j] else v[j, ]) }
    table <- data.frame(Res.Df = as.numeric(res$res_df), RSS = col(res$rss), Df = as.numeric(res$df),
                        `Sum of Sq` = col(res$sum_sq), F = col(res$f_value), `Pr(>F)` = col(res$p_value),
                        check.names = FALSE, row.names = as.character(seq_along(fits)))
    table[1L, c("Df", "Sum of Sq", "F", "Pr(>F)")] <- NA
    heading <- c(paste0("Analysis of Variance Table", if (k > 1L) paste0(" (response ", responses[j], ")"), "\n"),
                 paste0("Model ", format(seq_along(fits)), ": ", labels, collapse = "\n"))
    structure(table, heading = heading, class = c("anova", "data.frame"))
  })
  if (k == 1L) tables[[1L]] else stats::setNames(tables, responses)
}

# The core's row diagnostics for the training rows (weight-0 rows left out, as lm.influence() leaves them).
row_diagnostics <- function(object) {
  needs_training_data(object, "row diagnostics")
  inf <- needs_inference(object, "row diagnostics")
  x <- design_x(object)
  r <- as.matrix(object$residuals)
  w <- object$weights
  res <- call_core(bridge()$row_diagnostics(inf$design, x, r, sample_weight = as_vector_arg(w)))
  rows <- rownames(r)
  if (is.null(rows)) rows <- as.character(seq_len(nrow(r)))
  keep <- if (is.null(w)) rep(TRUE, nrow(r)) else w != 0
  per_row <- function(v, matrix_out = TRUE) {
    m <- matrix(as.numeric(v), nrow(r), dimnames = list(rows, NULL))
    m <- m[keep, , drop = FALSE]
    if (ncol(m) == 1L && (!matrix_out || length(object$responses) == 1L)) return(stats::setNames(m[, 1L], rows[keep]))
    colnames(m) <- object$responses
    m
  }
  out <- list(hat = per_row(res$hat, FALSE), cooks = per_row(res$cooks_distance), rstandard = per_row(res$rstandard),
              rstudent = per_row(res$rstudent), sigma = per_row(res$sigma), wt.res = per_row(res$weighted_residuals))
  if (length(object$responses) > 1L) {  # as lm.influence() names them for several responses
    names(out$hat) <- NULL
    dimnames(out$sigma) <- NULL
  }
  out
}

# na.exclude's padding, as lm()'s diagnostics pad (not possible with rows of weight 0 left out).
# lm.influence() pads hat values with 0 and the leave-one-out sigma with the fit's sigma; others with NA.
pad_rows <- function(object, value, fill = NA) {
  if (!is.null(object$weights) && any(object$weights == 0)) return(value)
  padded <- stats::naresid(object$na.action, value)
  if (!is.na(fill[1L]) && !identical(padded, value)) {
    missing <- is.na(padded)
    padded[missing] <- if (length(fill) > 1L) fill[col(as.matrix(padded))[missing]] else fill
  }
  padded
}

#' @rdname gd_lm-inference
#' @importFrom stats hatvalues
#' @export
hatvalues.gd_lm <- function(model, ...) pad_rows(model, row_diagnostics(model)$hat, fill = 0)

#' @rdname gd_lm-inference
#' @importFrom stats cooks.distance
#' @export
cooks.distance.gd_lm <- function(model, ...) pad_rows(model, row_diagnostics(model)$cooks)

#' @rdname gd_lm-inference
#' @importFrom stats rstandard
#' @export
rstandard.gd_lm <- function(model, type = c("sd.1", "predictive"), ...) {
  type <- match.arg(type)
  d <- row_diagnostics(model)
  # the leave-one-out prediction error is the residual over 1 - h (lm's own arithmetic, on the core's h)
  value <- if (type == "sd.1") d$rstandard else ifelse(d$hat < 1, d$wt.res / (1 - d$hat), NaN)
  pad_rows(model, value)
}

#' @rdname gd_lm-inference
#' @importFrom stats rstudent
#' @export
rstudent.gd_lm <- function(model, ...) pad_rows(model, row_diagnostics(model)$rstudent)

#' @rdname gd_lm-inference
#' @importFrom stats influence
#' @export
influence.gd_lm <- function(model, do.coef = FALSE, ...) {
  if (isTRUE(do.coef)) {
    stop("influence(fit, do.coef = TRUE): gradlm does not compute the leave-one-out coefficient changes; ",
         "use do.coef = FALSE (hat, sigma and wt.res).", call. = FALSE)
  }
  d <- row_diagnostics(model)
  list(hat = pad_rows(model, d$hat, fill = 0), sigma = pad_rows(model, d$sigma, fill = as.numeric(model$inference$sigma)),
       wt.res = pad_rows(model, d$wt.res))
}

#' @rdname gd_lm-inference
#' @param fit A `gd_lm` fit (`extractAIC()`, which [stats::drop1()] and
#'   [stats::step()] use).
#' @param scale,k As [stats::extractAIC()]: the known error variance (0: estimated) and the penalty per
#'   degree of freedom.
#' @importFrom stats extractAIC
#' @export
extractAIC.gd_lm <- function(fit, scale = 0, k = 2, ...) {
  inf <- needs_inference(fit, "AIC")
  if (length(fit$responses) > 1L) stop("extractAIC() does not support several responses (nor does lm()).", call. = FALSE)
  # extractAIC.lm's arithmetic on the core's residual sum of squares
  n <- nobs.gd_lm(fit)
  edf <- n - fit$df.residual
  c(edf, lm_aic(as.numeric(inf$rss), n, edf, scale, k))
}

# extractAIC.lm's criterion for a residual sum of squares and equivalent degrees of freedom.
lm_aic <- function(rss, n, edf, scale, k) {
  dev <- if (scale > 0) rss / scale - n else n * log(rss / n)
  dev + k * edf
}
