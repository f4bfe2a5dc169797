#' Linear models fitted by gradient descent
#'
#' @description
#' `gd_lm()` fits a linear model like [stats::lm()], by gradient descent on
#' PyTorch (the Python core's `GDRegressor`). Formulas work as in `lm()`:
#' several responses with `cbind()`, factors and characters as contrasts
#' (treatment contrasts unless `contrasts` says otherwise), `weights`,
#' `offset()` terms and `offset`, models without an intercept (`- 1`, `+ 0`),
#' `na.action` (with `na.exclude`'s padding) and `subset`.
#'
#' The fit has the methods of an `lm` fit: `print()`, `summary()` (the
#' coefficient table of [stats::summary.lm()], with the exact least-squares
#' estimates and the optimality gap beside it), `predict()` (with `interval`,
#' `level` and `se.fit`), `fitted()`, `residuals()`, `model.matrix()`,
#' `weights()`, `nobs()`, `plot()` (lm's diagnostic panels and the loss curve),
#' the inference methods `vcov()`, `confint()`, `anova()`, `logLik()` (so
#' `AIC()` and `BIC()`), `deviance()`, `sigma()`, the row diagnostics
#' `hatvalues()`, `cooks.distance()`, `rstandard()`, `rstudent()`,
#' `influence()` (see [gd_lm-inference]), and the tidiers `tidy()`, `glance()`
#' and `augment()` with broom's column names (see [gd_lm-tidiers]). Every
#' number comes from the core: the inference is computed there from the
#' data's moments, at the fitted (gradient-descent) coefficients.
#'
#' Inference at coefficients that did not converge is flagged: `summary()`
#' says that the standard errors are computed at the gradient-descent
#' coefficients, which are not the least-squares ones.
#'
#' With `penalty > 0` the fit is ridge regression, the lasso or the elastic
#' net (see the section Penalties).
#'
#' Several responses (`cbind()`): per response, as `lm()`'s `mlm` fits:
#' `summary()` gives one summary per response; `sigma()`, `deviance()`,
#' `cooks.distance()`, `rstandard()`, `rstudent()` one value (column) per
#' response; `confint()` rows named `response:term` as `confint.mlm`. Where
#' `lm()` has no per-response answer gradlm decides: `vcov()` wants
#' `response =` (lm's `vcov.mlm` gives the cross-response covariance, which
#' gradlm does not compute); `predict()` with an interval or `se.fit` gives
#' one matrix (or vector) per response; `anova()` one table per response;
#' `logLik()` refuses, as `lm()` does (`glance()` has it per response).
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
#' @section Penalties:
#' With `penalty` \eqn{\lambda > 0} and `mixture` \eqn{\alpha} (the names of
#' brulee and tidymodels; the core's `alpha` and `l1_ratio`), each response
#' minimises glmnet's and scikit-learn's elastic-net objective
#' \deqn{\frac{1}{2n} \sum_i w_i (y_i - b - x_i^\top \beta)^2 + \lambda
#'   \left(\alpha \|s \beta\|_1 + \frac{1 - \alpha}{2} \|s \beta\|_2^2\right)}{
#'   1/(2n) sum w_i (y_i - b - x_i'beta)^2 + penalty * (mixture * ||s beta||_1
#'   + (1 - mixture) / 2 * ||s beta||^2)}
#' where \eqn{n} is the total weight, the intercept \eqn{b} is never
#' penalised, and \eqn{s} holds the predictors' standard deviations (divisor
#' \eqn{n}) with `standardize = TRUE` (the penalty on standardized predictors,
#' as glmnet's `standardize = TRUE`; coefficients are reported on the data's
#' scale), else 1. `mixture = 0` is ridge regression, `1` the lasso. The fit is
#' certified, as a least-squares one, against the exact penalized optimum (to
#' `tol`).
#'
#' Scaling against the peers: with `standardize = FALSE` this is exactly
#' scikit-learn's `ElasticNet(alpha = penalty, l1_ratio = mixture)`;
#' scikit-learn's `Ridge(alpha = a)` is `penalty = a / n`, `mixture = 0`.
#' `glmnet::glmnet(x, y, alpha = mixture, lambda = penalty)` has this objective
#' for the L1 part, but fits on `y / sd(y)` (divisor \eqn{n}), so that its ridge
#' part is in effect `lambda / sd(y)`: it gives these coefficients when `y` has
#' standard deviation 1, and for the lasso; otherwise pass glmnet
#' `lambda = penalty * (mixture + (1 - mixture) * sd(y))` and
#' `alpha = penalty * mixture / lambda`. `penalty = 0` is `lm()`.
#'
#' A penalized fit offers the coefficients, `print()`, `summary()` (the
#' estimates beside the least-squares ones, the penalty, R-squared and the
#' fit's convergence; no standard errors), `predict()` (point predictions),
#' `fitted()`, `residuals()`, `plot()` (panels 1, 7 and 8), `tidy()`,
#' `glance()`, `augment()` (fitted values and residuals) and
#' `save_model()`. It has no `lm()` inference: its coefficients are shrunk on
#' purpose, and standard errors, t and p values, intervals, `vcov()`,
#' `confint()`, `anova()`, `drop1()`, `logLik()` (so `AIC()`, `BIC()`),
#' `deviance()`, `sigma()` and the row diagnostics (`hatvalues()`, ...) stop
#' with an error that says so (fit with `penalty = 0` for them).
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
#' @param weights Precision weights, as in [stats::lm()]: evaluated in `data`,
#'   non-negative; the fit minimises the weighted sum of squares. Rows of
#'   weight 0 count for nothing (nor in `nobs()` and the degrees of freedom);
#'   rows with NA weights go as `na.action` says, as in `lm()`. For the
#'   default method, a numeric vector of one weight per row. In `predict()`:
#'   for prediction intervals, the variance weights of the new observations
#'   (a number, a vector, or a one-sided formula evaluated in `newdata`), as
#'   [stats::predict.lm()].
#' @param offset As in [stats::lm()]: a known part of the response, evaluated
#'   in `data` (as are `offset()` terms of the formula); fitted values and
#'   predictions include it. With an offset, R-squared, adjusted R-squared and
#'   the F statistic are those of the fitted values less the offset, as
#'   `summary.lm()` computes them from R 4.3 on (R 4.2's does not subtract
#'   the offset).
#' @param intercept For the default method: fit an intercept (`TRUE`, the
#'   default) or not.
#' @param penalty The amount of the penalty (\eqn{\lambda}, the core's
#'   `alpha`): a number \eqn{\ge 0}, or one per response; 0 (the default) is
#'   least squares. See the section Penalties.
#' @param mixture The L1 share of the penalty (\eqn{\alpha}, the core's
#'   `l1_ratio`), between 0 and 1: 0 (the default) ridge regression, 1 the
#'   lasso, between them the elastic net. The lasso part trains with proximal
#'   steps, full batch (`optimizer = "sgd"`).
#' @param start Starting values for the coefficients, as [stats::glm()]'s:
#'   one per coefficient in the order of `coef()` (a matrix of one column per
#'   response for several). Training continues from them, so that
#'   `update(fit, start = coef(fit), epochs = 100)` continues a fit. `NULL`
#'   (the default) starts from `init`.
#' @param ... Passed on: `shuffle`, `nesterov`, `weight_decay`, `progress`, `fast`, `on_divergence`
#'   (see [fit.gradlm.model.LinearModel()]); `lr_schedule` (`"constant"`,
#'   `"step"`, `"cosine"`, `"invscaling"`); `validation_fraction` (hold out
#'   that share of the rows, seeded by `seed`, and stop early on their loss,
#'   as brulee's `validation`: the inference is then the training part's);
#'   `history` (`"loss"`, the default, or `"full"` to keep every epoch's
#'   parameters).
#' @return An object of class `gd_lm`: the coefficients (`coef()`), the exact
#'   least-squares ones (`lstsq_coefficients`), fitted values and residuals,
#'   `rank` and `df.residual` (as `lm()`'s), `weights` and `offset` when given,
#'   the core's `inference` (standard errors, tests, the design's moments),
#'   the training `history`, and the core's `report` of the fit (a list:
#'   `loss`, `optimum_loss`, `gap`, `coef_error`, `tol`, `converged`,
#'   `stop_reason`, `epochs_run`, `r_squared`, `condition_number`, `lr`,
#'   `momentum` and the one-line `verdict`); `penalty`, `mixture` and
#'   `standardize` as given. For a penalized fit `inference` is `NULL`,
#'   `rank` and `df.residual` are `NA`, `lstsq_coefficients` are still the
#'   least-squares (`penalty = 0`) ones, and the report's optimum, gap and
#'   `coef_error` are the penalized objective's.
#' @examplesIf gradlm_available()
#' fit <- gd_lm(cbind(mangoes, oranges) ~ temperature + rainfall + humidity, data = crops)
#' fit  # the verdict: converged, and how close to least squares
#' summary(fit)
#' predict(fit, crops[1:3, ])
#' m <- gd_lm(mpg ~ wt + hp, data = mtcars, weights = 1 / disp)
#' summary(m)
#' confint(m)
#' predict(m, mtcars[1:3, ], interval = "confidence")
#' plot(m, which = 1)
#' # the lasso, on standardized predictors (as glmnet's default)
#' lasso <- gd_lm(mpg ~ ., data = mtcars, penalty = 0.5, mixture = 1)
#' summary(lasso)
#' tidy(lasso)
#' @export
gd_lm <- function(formula, ...) UseMethod("gd_lm")

#' @rdname gd_lm
#' @export
gd_lm.formula <- function(formula, data, epochs = "auto", lr = "auto", batch_size = NULL, optimizer = "sgd",
                          momentum = "auto", standardize = TRUE, seed = NULL, tol = "auto", patience = NULL,
                          init = "torch", dtype = NULL, subset, weights, na.action, offset, contrasts = NULL,
                          penalty = 0, mixture = 0, start = NULL, ...) {
  refuse_lm_only_arguments(match.call(expand.dots = FALSE)$...)
  penalty <- check_penalty_arg(penalty, "penalty")
  mixture <- check_penalty_arg(mixture, "mixture")
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
  mf <- mf[c(1L, match(c("formula", "data", "subset", "weights", "na.action", "offset"), names(mf), 0L))]
  mf$drop.unused.levels <- TRUE
  mf[[1L]] <- quote(stats::model.frame)
  if (!missing(weights)) {
    # Checked before model.frame: a negative weight is refused wherever it is; an NA one goes with its row,
    # as lm()'s na.action takes it (na.pass keeps it: refused after model.frame).
    raw <- eval(mf$weights, data, environment(formula))
    check_weights(raw, "")
  }
  mf <- model_frame(mf, data, parent.frame())
  if (nrow(mf) == 0L) stop("no rows are left after removing those with NA (na.action).", call. = FALSE)
  mt <- attr(mf, "terms")
  y <- stats::model.response(mf)
  if (!is.numeric(y)) stop("the response must be numeric.", call. = FALSE)
  w <- stats::model.weights(mf)
  if (!is.null(w)) w <- check_weights(w)
  off <- stats::model.offset(mf)
  if (!is.null(off) && NROW(off) != NROW(y)) {
    stop(sprintf("the offset has %d value(s) for %d row(s); give one per row of data.", NROW(off), NROW(y)),
         call. = FALSE)
  }
  x <- stats::model.matrix(mt, mf, contrasts.arg = contrasts)
  contrasts <- attr(x, "contrasts")
  assign <- attr(x, "assign")
  intercept <- attr(mt, "intercept") == 1L
  intercept_column <- if (intercept) which(colnames(x) == "(Intercept)") else integer()
  if (ncol(x) == length(intercept_column)) {
    stop(paste("the formula has no predictors; add at least one term on the right. gd_lm does not fit the",
               "intercept-only model (y ~ 1): lm(y ~ 1) does, and its coefficient is the mean of y."), call. = FALSE)
  }
  responses <- if (is.matrix(y)) colnames(y) else deparse(formula[[2L]])
  if (is.null(responses)) responses <- paste0("y", seq_len(ncol(y)))
  # The intercept column is dropped in Python, as a view: no copy of the model matrix here.
  x <- as_numeric_data(x, "x")  # Inf survives na.action
  y <- as_numeric_data(y, "y")
  predictors <- if (intercept) colnames(x)[-intercept_column] else colnames(x)
  out <- gd_lm_bridge(x, y, predictors, responses, epochs = epochs, lr = lr, batch_size = batch_size,
                      optimizer = optimizer, momentum = momentum, standardize = standardize,
                      seed = seed, tol = tol, patience = patience, init = init, dtype = dtype,
                      drop_column = if (intercept) intercept_column - 1L, weights = w, offset = off,
                      intercept = intercept, assign = assign, penalty = penalty, mixture = mixture,
                      start = start_arg(start), ...)
  out$terms <- mt
  out$model <- mf
  out$xlevels <- stats::.getXlevels(mt, mf)
  out$contrasts <- contrasts
  out$session_values <- outside[found]  # names the formula takes from the session, not the data
  out$na.action <- attr(mf, "na.action")
  out$offset_argument <- if (!missing(offset)) substitute(offset)  # predict() evaluates it in newdata
  out$call <- gd_lm_call(match.call())
  out
}

#' @rdname gd_lm
#' @export
gd_lm.default <- function(formula, y, epochs = "auto", lr = "auto", batch_size = NULL, optimizer = "sgd",
                          momentum = "auto", standardize = TRUE, seed = NULL, tol = "auto", patience = NULL,
                          init = "torch", dtype = NULL, weights = NULL, intercept = TRUE, penalty = 0, mixture = 0,
                          start = NULL, ...) {
  refuse_lm_only_arguments(match.call(expand.dots = FALSE)$..., also = c("contrasts", "offset"))
  penalty <- check_penalty_arg(penalty, "penalty")
  mixture <- check_penalty_arg(mixture, "mixture")
  if (!isTRUE(intercept) && !isFALSE(intercept)) stop("intercept must be TRUE or FALSE.", call. = FALSE)
  x <- as_numeric_data(formula, "x")
  if (length(dim(x)) < 2L) x <- matrix(x, ncol = 1L, dimnames = list(NULL, "x"))
  # Names are not set on x itself: that would copy the user's matrix.
  predictors <- colnames(x)
  if (is.null(predictors)) predictors <- paste0("x", seq_len(ncol(x)))
  if ("(Intercept)" %in% predictors) {
    stop("x has a column named '(Intercept)'; gd_lm fits the intercept itself (intercept = TRUE): drop that column.",
         call. = FALSE)
  }
  if (missing(y)) stop("y is required with a matrix of predictors.", call. = FALSE)
  responses <- if (is.matrix(y) || is.data.frame(y)) colnames(y) else "y"
  if (is.null(responses)) responses <- paste0("y", seq_len(ncol(y)))
  y <- as_numeric_data(y, "y")
  if (!is.null(weights)) {
    weights <- check_weights(weights)
    if (length(weights) != NROW(y)) {
      stop(sprintf("weights has %d value(s) for %d row(s); give one weight per row.", length(weights), NROW(y)),
           call. = FALSE)
    }
  }
  assign <- c(if (intercept) 0L, seq_along(predictors))
  out <- gd_lm_bridge(x, y, predictors, responses, epochs = epochs, lr = lr, batch_size = batch_size,
                      optimizer = optimizer, momentum = momentum, standardize = standardize,
                      seed = seed, tol = tol, patience = patience, init = init, dtype = dtype,
                      weights = weights, intercept = intercept, assign = assign, penalty = penalty,
                      mixture = mixture, start = start_arg(start), ...)
  out$predictor_matrix <- x  # for model.matrix() and the row diagnostics (not a copy)
  call <- gd_lm_call(match.call())
  if (identical(names(call)[2L], "formula")) names(call)[2L] <- ""  # gd_lm(x, y = ...), not gd_lm(formula = x, ...)
  out$call <- call
  out
}

# eval(call), `call` a stats::model.frame() call on `data`, in `env`, without na.omit's copy of every column when no
# row has an NA: the frame is built with na.action = na.pass first and returned when no column holds an NA
# (then na.omit, na.exclude and na.fail return the frame as it is, after that copy: na.omit.data.frame
# subsets it with every row kept); with an NA, or another na.action, the call as written.
model_frame <- function(call, data, env) {
  action <- if (!is.null(call$na.action)) eval(call$na.action, env) else getOption("na.action")
  stock <- c("na.omit", "na.exclude", "na.fail", "na.pass")
  is_stock <- is.null(action) || is.character(action) && length(action) == 1L && action %in% stock ||
    is.function(action) && any(vapply(mget(stock, envir = asNamespace("stats")), identical, logical(1), action))
  if (!is_stock || !is.null(attr(data, "na.action"))) return(eval(call, env))  # (model.frame() would use that)
  first <- call
  first$na.action <- quote(stats::na.pass)
  frame <- eval(first, env)
  clean <- all(vapply(frame, function(column) is.atomic(column) && !anyNA(column), logical(1)))
  if (clean) frame else eval(call, env)
}

# Weights as lm() takes them: numeric, finite, >= 0. `subset`: NULL when all rows are used (an NA is then
# refused); else NA is let through here, to be checked on the rows kept.
check_weights <- function(w, subset = NULL) {
  if (is.null(w)) return(NULL)
  if (!is.numeric(w) || !is.null(dim(w)) && NCOL(w) != 1L) {
    stop("weights must be a numeric vector, one weight per row.", call. = FALSE)
  }
  w <- as.double(w)
  if (is.null(subset) && anyNA(w)) {
    stop(sprintf("weights has %d NA value(s), the first in row %d; weights must be known (drop those rows).",
                 sum(is.na(w)), which(is.na(w))[1L]), call. = FALSE)
  }
  if (any(w < 0 | is.infinite(w), na.rm = TRUE)) {
    bad <- which(w < 0 | is.infinite(w))
    stop(sprintf("weights must be finite and >= 0; %d are not, the first in row %d (value %s).",
                 length(bad), bad[1L], format(w[bad[1L]])), call. = FALSE)
  }
  w
}

# lm() arguments gd_lm does not have: a clear error, not Python's "unexpected keyword argument". The
# core's names of the penalty are refused too: alpha is the amount in scikit-learn but the L1 share in glmnet.
refuse_lm_only_arguments <- function(dots, also = NULL) {
  core_names <- intersect(names(dots), c("alpha", "l1_ratio", "lambda"))
  if (length(core_names)) {
    stop(sprintf(paste0("gd_lm does not take %s: give the penalty's amount as penalty = (scikit-learn's alpha, ",
                        "glmnet's lambda) and its L1 share as mixture = (glmnet's alpha, scikit-learn's l1_ratio)."),
                 paste0("'", core_names, "'", collapse = ", ")), call. = FALSE)
  }
  unsupported <- intersect(names(dots), c("method", "model", "qr", "singular.ok", "x", "y", also))
  if (length(unsupported)) {
    stop(sprintf("gd_lm does not support %s; drop %s or use lm().",
                 paste0("'", unsupported, "'", collapse = ", "), if (length(unsupported) > 1L) "them" else "it"),
         call. = FALSE)
  }
}

# The call as the user wrote it (gd_lm(...), not the method's name), as lm() shows it.
# `start` for the core: a numeric matrix (one column per response), or NULL; its length is checked there.
start_arg <- function(start) {
  if (is.null(start)) return(NULL)
  if (!is.numeric(start)) {
    stop(sprintf("start must be numeric coefficients, as coef() gives them; got %s.", class(start)[1]), call. = FALSE)
  }
  start <- as.matrix(start)
  storage.mode(start) <- "double"
  start
}

gd_lm_call <- function(call) {
  call[[1L]] <- as.name("gd_lm")
  call
}

# The one crossing into Python: fit, exact solution, fitted values, history and inference.
# `x` and `y` have been through as_numeric_data() (once: the NA screen reads all of x).
gd_lm_bridge <- function(x, y, predictors, responses, ..., drop_column = NULL, weights = NULL, offset = NULL,
                         intercept = TRUE, assign = NULL, standardize = TRUE, penalty = 0, mixture = 0) {
  settings <- list(...)
  for (name in names(settings)) {
    # (reticulate passes a logical NA to Python as True: the core would then speak of True)
    if (length(settings[[name]]) == 1L && is.logical(settings[[name]]) && is.na(settings[[name]])) {
      stop(sprintf("%s is NA; give it a value (or leave it out for its default).", name), call. = FALSE)
    }
  }
  data <- list(x = x, y = y)
  if (!is.null(offset)) data$offset <- offset <- as_numeric_data(offset, "offset")
  # (as arrays: reticulate would pass one number as a scalar, not a vector of one; penalty and mixture are
  # the core's alpha and l1_ratio, and its messages about them are given in these names)
  fit <- function() {
    tryCatch(call_core(bridge(convert = FALSE)$fit_lm(x, y, ..., drop_column = drop_column,
                                                      sample_weight = as_vector_arg(weights), offset = offset,
                                                      fit_intercept = intercept,
                                                      assign = as_vector_arg(as.integer(assign)),
                                                      standardize = standardize, alpha = penalty,
                                                      l1_ratio = mixture),
                       data = data),
             error = function(e) stop(gd_lm_names(conditionMessage(e)), call. = FALSE))
  }
  interruptible(fit(),
                function(res) {
                  out <- new_gd_lm(res, predictors, responses, y, intercept = intercept)
                  if (!is.null(weights)) out$weights <- weights  # unnamed, as lm()'s
                  if (!is.null(offset)) out$offset <- offset
                  out$assign <- assign
                  out$standardize <- standardize
                  out$penalty <- as.numeric(penalty)
                  out$mixture <- as.numeric(mixture)
                  out
                }, convert = FALSE)
}

# A vector for the core as a 1-D array, also when it has one element (reticulate passes that as a scalar).
as_vector_arg <- function(x) {
  if (is.null(x) || !length(x)) return(NULL)
  x <- as.vector(x)
  dim(x) <- length(x)
  x
}

# Coefficients in lm's layout: (Intercept) (when fitted) then the predictors, one column per response.
lm_layout <- function(weight, bias, predictors, responses, intercept = TRUE) {
  coef <- t(matrix(weight, nrow = length(responses)))
  if (intercept) coef <- rbind(matrix(bias, nrow = 1L), coef)
  dimnames(coef) <- list(c(if (intercept) "(Intercept)", predictors), responses)
  if (length(responses) == 1L) stats::setNames(coef[, 1L], rownames(coef)) else coef
}

# Coefficients as a matrix (terms x responses) for one response as for several.
coef_matrix <- function(coef, responses) {
  m <- as.matrix(coef)
  colnames(m) <- responses
  m
}

# Does the fit have an intercept? (Fits and files from before no-intercept models always do.)
has_intercept <- function(object) !isFALSE(object[["intercept"]])

# weight (responses x predictors) and bias (0 without an intercept) from lm's coefficient layout.
weight_bias <- function(object, field = "coefficients") {
  coef <- object[[field]]
  if (is.null(coef)) return(list(weight = NULL, bias = NULL))
  m <- coef_matrix(coef, object$responses)
  if (has_intercept(object)) {
    list(weight = t(m[-1L, , drop = FALSE]), bias = unname(m[1L, ]))
  } else {
    list(weight = t(m), bias = rep(0, ncol(m)))
  }
}

# `res` is fit_lm's Python dict. The fitted values and residuals (n x k each)
# are converted one at a time and labelled in place: converted with the rest of
# the dict, labelling them would copy them once more.
new_gd_lm <- function(res, predictors, responses, y, intercept = TRUE) {
  rows <- if (is.matrix(y)) rownames(y) else names(y)
  per_row <- function(key) {
    label_rows(reticulate::py_to_r(reticulate::py_get_item(res, key)), rows, responses)
  }
  fitted <- per_row("fitted")
  residuals <- per_row("residuals")
  rest <- res$copy()  # (a shallow copy: an interrupted fit's result may be finished again)
  for (key in c("fitted", "residuals")) reticulate::py_del_item(rest, key)  # (else converted a second time)
  res <- reticulate::py_to_r(rest)
  relay_warnings(res$warnings)
  structure(list(
    coefficients = lm_layout(res$coef, res$intercept, predictors, responses, intercept),
    lstsq_coefficients = lm_layout(res$lstsq_weight, res$lstsq_bias, predictors, responses, intercept),
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
    intercept = intercept,
    y = y,
    # the core's: the model matrix's rank, intercept column included, as lm()'s (NA for a penalized fit)
    rank = if (is.null(res$rank)) NA_integer_ else as.integer(res$rank),
    df.residual = if (is.null(res$df_residual)) NA_integer_ else as.integer(res$df_residual),
    inference = res$inference
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
  if (is_penalized(x)) cat(sprintf("Penalty: %s\n", penalty_label(x)))
  cat(if (is_penalized(x)) "\nCoefficients (penalized):\n" else "\nCoefficients:\n")
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
#' @return `summary()`: for one response, a `summary.gd_lm` with the
#'   components of [stats::summary.lm()] (`coefficients`, a matrix with
#'   columns `Estimate`, `Std. Error`, `t value`, `Pr(>|t|)`; `aliased`,
#'   `sigma`, `df`, `r.squared`, `adj.r.squared`, `fstatistic`,
#'   `cov.unscaled`, `residuals`, `weights`), computed by the core at the
#'   gradient-descent coefficients (with collinear predictors, at `lm()`'s
#'   solution of the model without the aliased columns, which predicts the
#'   same; `coef()` keeps gradient descent's own), and gradlm's: `lstsq_coefficients`,
#'   `loss`, `lstsq_loss`, `gap`, `converged`, `verdict`, `report`. For
#'   several responses, a list of those, one per response (named
#'   `"Response name"`, as [stats::summary.mlm()]'s), of class
#'   `summary.gd_mlm`.
#' @export
summary.gd_lm <- function(object, ...) {
  per <- lapply(seq_along(object$responses), function(j) summary_response(object, j))
  if (length(per) == 1L) return(per[[1L]])
  names(per) <- paste("Response", object$responses)
  structure(per, class = c("summary.gd_mlm", "listof"))
}

# One response's summary: lm's components from the core's inference, then gradlm's.
summary_response <- function(object, j) {
  responses <- object$responses
  coef <- coef_matrix(object$coefficients, responses)
  terms <- rownames(coef)
  coef <- stats::setNames(coef[, j], terms)
  exact <- stats::setNames(coef_matrix(object$lstsq_coefficients, responses)[, j], terms)
  h <- object$history
  report <- object$report
  ans <- list(call = object$call, saved_call = object$saved_call, terms = object$terms, response = responses[j])
  if (!is.null(object$weights)) ans$weights <- object$weights
  if (is.null(object[["loaded_from"]])) {
    r <- as.matrix(object$residuals)[, j]
    ans$residuals <- if (is.null(object$weights)) r else sqrt(object$weights) * r
  }
  inf <- object$inference
  if (is_penalized(object)) {
    ans$coefficients <- cbind(Estimate = coef)
    ans$r.squared <- as.numeric(object$r.squared)[j]
    ans$penalty <- rep_len(object$penalty, length(responses))[j]
    ans$mixture <- rep_len(object$mixture %||% 0, length(responses))[j]
    ans$penalty_label <- penalty_label(object, j)
    ans$no_inference <- "a penalized fit (penalty > 0) has no lm() inference; fit with penalty = 0 for them"
  } else if (!is.null(inf)) {
    aliased <- stats::setNames(as.logical(inf$aliased), terms)
    row <- function(value) as.numeric(as.matrix(value)[j, ])
    table <- cbind(Estimate = row(inf$estimate), `Std. Error` = row(inf$std_error),
                   `t value` = row(inf$statistic), `Pr(>|t|)` = row(inf$p_value))
    rownames(table) <- terms
    ans$coefficients <- table[!aliased, , drop = FALSE]
    ans$aliased <- aliased
    ans$sigma <- at(inf$sigma, j)
    ans$df <- c(as.integer(inf$rank), as.integer(inf$df_residual), length(terms))
    ans$r.squared <- at(inf$r_squared, j)
    ans$adj.r.squared <- at(inf$adj_r_squared, j)
    f <- at(inf$f_statistic, j)
    if (is.finite(f)) {
      ans$fstatistic <- c(value = f, numdf = as.numeric(inf$f_df[1L]), dendf = as.numeric(inf$f_df[2L]))
      ans$f_p_value <- at(inf$f_p_value, j)
    }
    v <- vcov_slice(inf, j, terms)[!aliased, !aliased, drop = FALSE]
    ans$cov.unscaled <- v / ans$sigma^2  # lm's (X'WX)^-1: the core's vcov without its sigma^2
  } else {
    ans$coefficients <- cbind(Estimate = coef)
    ans$r.squared <- as.numeric(object$r.squared)[j]
    ans$no_inference <- inference_missing_reason(object)
  }
  if (!is.null(object$na.action)) ans$na.action <- object$na.action
  c_gd <- list(lstsq_coefficients = exact, gd_coefficients = coef, loss = object$loss,
               lstsq_loss = object$lstsq_loss, gap = report$gap %||% NA_real_, epochs = length(h$loss),
               stop_reason = h$stop_reason, converged = isTRUE(report$converged),
               verdict = fit_verdict(report, h), report = report, settings = h$settings, rank = object$rank,
               n_coef = length(terms))
  structure(c(ans, c_gd), class = "summary.gd_lm")
}

# Element j of a per-response value from the core (a scalar for one response).
at <- function(value, j) as.numeric(value)[j]

# The core's covariance matrix of response j's coefficients, named; NA (not NaN) for aliased ones, as lm().
vcov_slice <- function(inf, j, terms) {
  v <- inf$vcov
  p <- length(terms)
  m <- if (length(dim(v)) == 3L) v[j, , , drop = TRUE] else matrix(v, p, p)
  m <- matrix(as.numeric(m), p, p, dimnames = list(terms, terms))
  m[is.nan(m)] <- NA_real_
  m
}

#' @rdname gd_lm
#' @param signif.stars Print significance stars, as [stats::printCoefmat()].
#' @export
print.summary.gd_lm <- function(x, digits = max(3L, getOption("digits") - 3L),
                                signif.stars = getOption("show.signif.stars"), ...) {
  print_call(x)
  print_lm_part(x, digits, signif.stars, ...)
  print_gd_part(x, digits)
  print_fit_part(x, digits)
  invisible(x)
}

#' @rdname gd_lm
#' @export
print.summary.gd_mlm <- function(x, digits = max(3L, getOption("digits") - 3L),
                                 signif.stars = getOption("show.signif.stars"), ...) {
  print_call(x[[1L]])
  for (name in names(x)) {
    cat("\n", name, " :", sep = "")
    print_lm_part(x[[name]], digits, signif.stars, ...)
    print_gd_part(x[[name]], digits)
  }
  print_fit_part(x[[1L]], digits)
  invisible(x)
}

# What summary.lm prints (its layout; the numbers are the core's).
print_lm_part <- function(x, digits, signif.stars, ...) {
  cat("\n")
  if (!is.null(x$penalty)) return(print_penalized_part(x, digits))
  if (!is.null(x$no_inference)) {
    cat("Coefficients (gradient descent):\n")
    print(x$coefficients, digits = digits)
    cat(sprintf("R-squared: %s\n", formatC(x$r.squared, digits = digits)))
    cat(sprintf("\nNo standard errors, tests or intervals: %s.\n", x$no_inference))
    return(invisible())
  }
  rdf <- x$df[2L]
  if (!is.null(x$residuals)) {
    resid <- x$residuals
    cat(if (!is.null(x$weights) && diff(range(x$weights))) "Weighted ", "Residuals:\n", sep = "")
    if (rdf > 5L) {
      zz <- zapsmall(stats::quantile(resid), digits + 1L)
      print(structure(zz, names = c("Min", "1Q", "Median", "3Q", "Max")), digits = digits, ...)
    } else if (rdf > 0L) {
      print(resid, digits = digits, ...)
    } else {
      cat("ALL", x$df[1L], "residuals are 0: no residual degrees of freedom!\n")
    }
  }
  nsingular <- x$df[3L] - x$df[1L]
  if (nsingular) {
    cat("\nCoefficients: (", nsingular, " not defined because of singularities)\n", sep = "")
  } else {
    cat("\nCoefficients:\n")
  }
  coefs <- x$coefficients
  if (any(aliased <- x$aliased)) {
    coefs <- matrix(NA, length(aliased), 4L, dimnames = list(names(aliased), colnames(coefs)))
    coefs[!aliased, ] <- x$coefficients
  }
  stats::printCoefmat(coefs, digits = digits, signif.stars = signif.stars, na.print = "NA", ...)
  cat("\nResidual standard error:", format(signif(x$sigma, digits)), "on", rdf, "degrees of freedom\n")
  if (nzchar(mess <- stats::naprint(x$na.action))) cat("  (", mess, ")\n", sep = "")
  if (!is.null(x$fstatistic)) {
    cat("Multiple R-squared: ", formatC(x$r.squared, digits = digits))
    if (isTRUE(x$fstatistic[1L] < 0)) {
      # (only short of least squares: lm()'s F is never negative, so no F test is shown for these coefficients)
      cat(",\tAdjusted R-squared: ", formatC(x$adj.r.squared, digits = digits),
          "\nF-statistic: none: these coefficients fit worse than the mean alone (R-squared below 0)")
    } else {  # (as summary.lm prints it, to the space)
      cat(",\tAdjusted R-squared: ", formatC(x$adj.r.squared, digits = digits),
          "\nF-statistic:", formatC(x$fstatistic[1L], digits = digits), "on", x$fstatistic[2L], "and",
          x$fstatistic[3L], "DF,  p-value:", format.pval(x$f_p_value, digits = digits))
    }
    cat("\n")
  }
  if (!x$converged) cat("\n", paste(strwrap(not_converged_note(), width = 0.9 * getOption("width")), collapse = "\n"),
                        "\n", sep = "")
}

# A penalized fit's summary: the penalty, the coefficients beside least squares' (what the penalty changed),
# R-squared; no standard errors.
print_penalized_part <- function(x, digits) {
  cat(sprintf("Penalty: %s\n", x$penalty_label))
  cat("\nCoefficients (penalized), beside least squares (lm(), penalty = 0):\n")
  table <- data.frame(Estimate = x$gd_coefficients, `least squares` = x$lstsq_coefficients, check.names = FALSE,
                      row.names = names(x$gd_coefficients))
  print(format(table, digits = digits), quote = FALSE)
  slopes <- x$gd_coefficients[names(x$gd_coefficients) != "(Intercept)"]
  if (x$mixture > 0) cat(sprintf("Nonzero coefficients: %d of %d (the intercept not counted)\n", sum(slopes != 0),
                                 length(slopes)))
  cat(sprintf("R-squared: %s\n", formatC(x$r.squared, digits = digits)))
  cat(sprintf("\nNo standard errors, t values or p values: %s.\n", x$no_inference))
  if (nzchar(mess <- stats::naprint(x$na.action))) cat("  (", mess, ")\n", sep = "")
  invisible()
}

not_converged_note <- function() {
  paste0("Note: gradient descent did not converge: the standard errors, t values, p values and R-squared are ",
         "computed at the gradient-descent coefficients, which are not the least-squares ones (see the ",
         "least-squares column below); train longer (epochs) or leave lr and tol at \"auto\".")
}

# gradlm's lines: the coefficients beside the exact least-squares ones.
print_gd_part <- function(x, digits) {
  if (!is.null(x$penalty)) return(invisible())  # (print_penalized_part() has shown them)
  cat(sprintf("\nGradient descent beside the exact least-squares (lm) coefficients%s:\n",
              if (!is.null(x$response)) paste0(" of ", x$response) else ""))
  table <- data.frame(`gradient descent` = x$gd_coefficients, `least squares` = x$lstsq_coefficients,
                      difference = x$gd_coefficients - x$lstsq_coefficients, check.names = FALSE,
                      row.names = names(x$gd_coefficients))
  print(format(table, digits = digits), quote = FALSE)
}

# gradlm's lines on the fit as a whole: losses, the gap, the verdict.
print_fit_part <- function(x, digits) {
  cat(sprintf(if (!is.null(x$penalty)) {
    "\nFinal loss (MSE): %s; the penalized optimum's: %s; gap in the penalized objective: %s\n"
  } else "\nFinal loss (MSE): %s; least-squares loss: %s; gap: %s\n",
  format(x$loss, digits = digits), format(x$lstsq_loss, digits = digits), format(x$gap, digits = 3L)))
  cat(sprintf("Converged: %s\nVerdict: %s\n", if (x$converged) "yes" else "no", x$verdict))
  if (isTRUE(x$rank < x$n_coef)) {
    cat(sprintf(paste0("The predictors are collinear (rank %d of %d): least squares is not unique; the ",
                       "least-squares column is its minimum-norm solution, where lm() reports NA for aliased ",
                       "terms.\n"), x$rank, x$n_coef))
  }
  cat("\n")
}

# Why a fit has no inference (only a loaded one lacks it).
inference_missing_reason <- function(object) {
  if (!is.null(object[["loaded_from"]])) {
    sprintf("%s was saved without the inference (the data's moments it is computed from); refit with gd_lm()",
            object[["loaded_from"]])
  } else {
    "this fit has no inference (it was made by an older gradlm); refit with gd_lm()"
  }
}

# Stop with that reason when a method needs the core's inference.
needs_inference <- function(object, what) {
  if (is_penalized(object)) stop(penalized_no_inference(what), call. = FALSE)
  if (is.null(object$inference)) stop(sprintf("no %s: %s.", what, inference_missing_reason(object)), call. = FALSE)
  object$inference
}

#' @rdname gd_lm
#' @param newdata A data.frame (formula fits) or matrix (default-method fits)
#'   to predict for; rows with NA predict NA. Omitted: the training data.
#' @param se.fit Also return the standard errors of the predictions (a list
#'   with `fit`, `se.fit`, `df` and `residual.scale`, as [stats::predict.lm()]).
#' @param interval `"none"`, `"confidence"` or `"prediction"`: columns `fit`,
#'   `lwr`, `upr` as [stats::predict.lm()]'s (for several responses, one such
#'   matrix per response, in a list).
#' @param level Confidence level of the intervals.
#' @export
predict.gd_lm <- function(object, newdata, se.fit = FALSE, interval = c("none", "confidence", "prediction"),
                          level = 0.95, weights = 1, ...) {
  type <- list(...)$type
  if (!is.null(type) && !identical(type, "response")) {
    stop(sprintf("predict() for gd_lm gives type = \"response\" only; type = \"%s\" is not supported (use lm()).",
                 type[1L]), call. = FALSE)
  }
  interval <- match.arg(interval)
  training <- missing(newdata) || is.null(newdata)
  if (training) {
    needs_training_data(object, "fitted values")
    if (!se.fit && interval == "none") return(stats::napredict(object$na.action, object$fitted.values))
    x <- design_x(object)
    off <- object$offset
    rows <- rownames(as.matrix(object$fitted.values))
  } else {
    x <- model_matrix_for(object, newdata)
    off <- attr(x, "offset")
    attr(x, "offset") <- NULL
    rows <- rownames(x)
    # (rows with NA predict NA, as in lm(); an infinite value has no prediction: named here, counting from 1)
    infinite <- which(rowSums(is.infinite(x)) > 0)
    if (length(infinite)) {
      stop(sprintf("newdata has %d row(s) with infinite values, the first row %d; remove or impute them before ",
                   length(infinite), infinite[1L]), "predicting.", call. = FALSE)
    }
  }
  responses <- object$responses
  k <- length(responses)
  ok <- stats::complete.cases(x)
  if (!is.null(off)) ok <- ok & stats::complete.cases(off)
  wb <- weight_bias(object)
  filled <- function(values) {
    m <- matrix(NA_real_, nrow(x), k, dimnames = list(rows, responses))
    if (any(ok)) m[ok, ] <- values
    if (!is.null(off) && !all(is.na(values))) m <- m + as.numeric(off)  # (an offset matrix adds per column)
    m
  }
  if (!se.fit && interval == "none") {
    pred <- filled(if (any(ok)) call_core(bridge()$predict_linear(wb$weight, wb$bias, x[ok, , drop = FALSE])))
    return(if (k == 1L) stats::setNames(pred[, 1L], rows) else pred)
  }
  inf <- needs_inference(object, "intervals or standard errors of predictions")
  pred_weight <- NULL
  if (interval == "prediction") {
    if (training) warning("predictions on current data refer to _future_ responses", call. = FALSE)
    if (missing(weights) && !is.null(object$weights)) {
      if (training) {
        weights <- object$weights
        warning("Assuming prediction variance inversely proportional to weights used for fitting", call. = FALSE)
      } else {
        warning("Assuming constant prediction variance even though model fit is weighted", call. = FALSE)
      }
    }
    if (inherits(weights, "formula")) {
      if (length(weights) != 2L) stop("weights must be a one-sided formula, such as ~ 1 / x.", call. = FALSE)
      weights <- eval(weights[[2L]], if (training) object$model else newdata, environment(weights))
    }
    if (!is.numeric(weights) || !(length(weights) %in% c(1L, nrow(x)))) {
      stop(sprintf("weights must be one number or one per row of newdata (%d).", nrow(x)), call. = FALSE)
    }
    pred_weight <- as_vector_arg(rep_len(as.double(weights), nrow(x))[ok])
  }
  res <- if (any(ok)) {
    call_core(bridge()$predict_intervals(inf$design, wb$weight, wb$bias, x[ok, , drop = FALSE],
                                         interval = interval, level = level, pred_weight = pred_weight))
  }
  fit <- filled(res$fit)
  se <- matrix(NA_real_, nrow(x), k, dimnames = list(rows, responses))
  if (any(ok)) se[ok, ] <- res$se_fit
  pad <- function(v) if (training) stats::napredict(object$na.action, v) else v
  one <- function(m, j) stats::setNames(m[, j], rows)
  if (interval != "none") {
    lower <- filled(res$lower)
    upper <- filled(res$upper)
    per <- lapply(seq_len(k), function(j) {
      pad(cbind(fit = one(fit, j), lwr = one(lower, j), upr = one(upper, j)))
    })
    fit_out <- if (k == 1L) per[[1L]] else stats::setNames(per, responses)
  } else {
    fit_out <- pad(if (k == 1L) one(fit, 1L) else fit)
  }
  if (!se.fit) return(fit_out)
  scale <- stats::setNames(as.numeric(res$residual_scale %||% inf$sigma), responses)
  se_out <- if (k == 1L) one(se, 1L) else se
  if (training && k == 1L) names(se_out) <- NULL  # as predict.lm() on the training data
  list(fit = fit_out, se.fit = pad(se_out),
       df = as.integer(res$df %||% inf$df_residual), residual.scale = if (k == 1L) unname(scale) else scale)
}

# The predictors' model matrix of new data (rows x predictors, no intercept
# column) with, for formula fits, the offset of those rows as its "offset"
# attribute (offset() terms and the `offset` argument, evaluated in newdata as
# predict.lm() does).
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
  wanted <- c(all.vars(tt), all.vars(object$offset_argument))
  missing_vars <- setdiff(wanted, names(newdata))
  missing_vars <- missing_vars[!vapply(missing_vars, exists, logical(1), envir = environment(tt))]  # as lm()
  if (length(missing_vars)) {
    stop(sprintf("newdata lacks column(s) %s.", paste0("'", missing_vars, "'", collapse = ", ")), call. = FALSE)
  }
  mf <- stats::model.frame(tt, newdata, na.action = stats::na.pass, xlev = object$xlevels)
  # a column of another type than at fitting (text for a number): lm()'s own message, naming it
  if (!is.null(classes <- attr(tt, "dataClasses"))) stats::.checkMFClasses(classes, mf)
  x <- stats::model.matrix(tt, mf, contrasts.arg = object$contrasts)
  off <- stats::model.offset(mf)
  if (!is.null(object$offset_argument)) {
    off <- (if (is.null(off)) 0 else off) + eval(object$offset_argument, newdata, environment(tt))
  }
  x <- x[, colnames(x) != "(Intercept)", drop = FALSE]
  attr(x, "offset") <- off
  x
}

# The training model matrix without its intercept column, as the core's row functions take it.
design_x <- function(object) {
  x <- stats::model.matrix(object)
  if (has_intercept(object)) x[, colnames(x) != "(Intercept)", drop = FALSE] else x
}

#' @rdname gd_lm
#' @export
model.matrix.gd_lm <- function(object, ...) {
  needs_training_data(object, "model matrix")
  if (!is.null(object$terms)) {
    return(stats::model.matrix(object$terms, object$model, contrasts.arg = object$contrasts))
  }
  x <- as.matrix(object$predictor_matrix)
  colnames(x) <- object$predictors
  if (has_intercept(object)) {
    x <- cbind(`(Intercept)` = 1, x)
    attr(x, "assign") <- c(0L, seq_along(object$predictors))
  } else {
    attr(x, "assign") <- seq_along(object$predictors)
  }
  x
}

#' @rdname gd_lm
#' @importFrom stats nobs
#' @export
nobs.gd_lm <- function(object, ...) {
  if (!is.null(object$inference$nobs)) return(as.integer(object$inference$nobs))
  if (!is.null(object[["n_obs"]])) return(object[["n_obs"]])
  if (!is.null(object$weights)) return(sum(object$weights != 0))  # as lm(): rows of weight 0 do not count
  NROW(object$y)
}

#' @rdname gd_lm
#' @importFrom stats fitted
#' @export
fitted.gd_lm <- function(object, ...) {
  needs_training_data(object, "fitted values")
  stats::napredict(object$na.action, object$fitted.values)  # na.exclude pads with NA, as lm() does
}

#' @rdname gd_lm
#' @param type For `residuals()`: `"response"` (or `"working"`), y minus the
#'   fitted values; `"pearson"` or `"deviance"`, those times the square root of
#'   the weights (as [stats::residuals.lm()]).
#' @importFrom stats residuals
#' @export
residuals.gd_lm <- function(object, type = c("working", "response", "deviance", "pearson"), ...) {
  type <- match.arg(type)
  needs_training_data(object, "residuals")
  r <- object$residuals
  if (type %in% c("deviance", "pearson") && !is.null(object$weights)) r <- r * sqrt(object$weights)
  stats::naresid(object$na.action, r)
}

#' @rdname gd_lm
#' @importFrom stats weights
#' @export
weights.gd_lm <- function(object, ...) {
  if (is.null(object$weights)) return(NULL)
  stats::naresid(object$na.action, object$weights)
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
