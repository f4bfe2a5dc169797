# Penalized fits (ridge, lasso, elastic net): R's names for the core's penalty, and what such a fit lacks.
# The core (python/gradlm/penalty.py) defines the objective, solves it and certifies the fit; R only passes
# `penalty` (the core's alpha) and `mixture` (its l1_ratio) and presents the result.

# What only R has: NA (reticulate passes a logical NA as True), NULL, logicals and non-numbers. The range
# (>= 0, mixture <= 1, finite, one value or one per response) is the core's check, in its words with R's
# names (see gd_lm_names()).
check_penalty_arg <- function(value, name) {
  what <- if (name == "mixture") "a number between 0 and 1 (0 ridge, 1 lasso)" else "a number >= 0"
  if (!is.numeric(value) || !length(value) || anyNA(value)) {
    got <- if (is.null(value)) "NULL" else if (!length(value)) "a length-0 value" else
      paste(format(utils::head(value, 3L)), collapse = ", ")
    stop(sprintf("%s must be %s (or one per response); got %s.", name, what, got), call. = FALSE)
  }
  if (length(value) == 1L) as.double(value) else as_vector_arg(as.double(value))  # (one number as Python's float)
}


# Is the fit penalized? (Fits and files from before penalties are not.)
is_penalized <- function(object) any(object[["penalty"]] > 0)

# The error of every method that needs lm()'s inference, on a penalized fit.
penalized_no_inference <- function(what) {
  sprintf(paste0("a penalized fit (penalty > 0) has no lm() inference, so no %s: lm()'s standard errors, tests ",
                 "and intervals do not hold for coefficients shrunk on purpose. Fit with penalty = 0 for them."), what)
}

# The penalty in one line, as print() and summary() show it: "0.5, mixture 0.5 (elastic net) on the
# standardized predictors". Per response when they differ.
penalty_label <- function(object, j = NULL) {
  k <- length(object$responses)
  penalty <- rep_len(object$penalty, k)
  mixture <- rep_len(object$mixture %||% 0, k)
  if (!is.null(j)) {
    penalty <- penalty[j]
    mixture <- mixture[j]
  }
  kind <- ifelse(penalty == 0, "none: least squares",
                 ifelse(mixture == 0, "ridge", ifelse(mixture == 1, "lasso", "elastic net")))
  each <- sprintf("%s, mixture %s (%s)", format(penalty, digits = 4L), format(mixture, digits = 4L), kind)
  if (length(unique(each)) > 1L) each <- paste0(object$responses, ": ", each) else each <- each[1L]
  scale <- if (isFALSE(object$standardize)) "on the predictors as given (standardize = FALSE)" else
    if (isTRUE(object$standardize)) "on the standardized predictors (standardize = TRUE)" else ""
  paste(c(paste(each, collapse = "; "), scale)[nzchar(c("x", scale))], collapse = " ")
}
