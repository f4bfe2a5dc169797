#' Save and load models, portably between R and Python
#'
#' `save_model()` writes a `gd_lm` fit, a `linear_model()` or a Python
#' `GDRegressor` to one file in gradlm's model format, which Python's
#' `gradlm.load()` reads too (and the other way round: `load_model()` reads
#' what `gradlm.save()` wrote). The file is a safetensors file: the
#' coefficients as raw float64 arrays and a JSON header with the feature and
#' response names, the training settings and, for formula fits, the formula
#' and factor levels that `predict()` needs. Loading never runs code from the
#' file (it never unpickles); anything else is refused. Files are written to a
#' temporary name and then renamed, so a failure leaves no half-written model.
#'
#' A loaded `gd_lm` has the coefficients, the loss curve, the summary
#' numbers and the core's report of the fit (converged or not, and the gap;
#' files written before reports existed have none, and `print()` says only how
#' the fit stopped), but not the training data: `predict()` with `newdata`, `coef()`,
#' `print()`, `summary()`, `tidy()` and `glance()` work; `fitted()`,
#' `residuals()` and `augment()` without `newdata` say so.
#'
#' @param object A `gd_lm` fit, a `linear_model()`, or a Python `GDRegressor`.
#' @param path The file to write or read (by convention `.safetensors`).
#' @return `save_model()`: `path`, invisibly. `load_model()`: a `gd_lm`
#'   (from a `gd_lm` or a `GDRegressor`) or a `linear_model()`.
#' @examples
#' \dontrun{
#' fit <- gd_lm(cbind(mangoes, oranges) ~ ., data = crops[-1], seed = 0)
#' path <- tempfile(fileext = ".safetensors")
#' save_model(fit, path)
#' predict(load_model(path), crops[1:3, ])
#' }
#' @export
save_model <- function(object, path) {
  if (!is.character(path) || length(path) != 1L || is.na(path)) {
    stop("path must be one file name, such as \"model.safetensors\".", call. = FALSE)
  }
  path <- path.expand(path)
  if (inherits(object, "gd_lm")) {
    if (!is.null(object[["loaded_from"]])) stop("this gd_lm was loaded from a file; save the original fit.", call. = FALSE)
    coef <- saved_fields(object)
    exact <- saved_fields(object, "lstsq_coefficients")
    call_core(bridge()$save_gd_lm(path, coef$weight, coef$bias, feature_names = as.list(object$predictors),
                                  target_names = as.list(object$responses),
                                  x_mean = object$standardization$center, x_scale = object$standardization$scale,
                                  loss = object$history$loss, lstsq_weight = exact$weight, lstsq_bias = exact$bias,
                                  settings = object$history$settings, info = saved_info(object),
                                  r = saved_formula(object)))
  } else if (inherits(object, c("gradlm.model.LinearModel", "gradlm.estimator.GDRegressor"))) {
    call_core(core$save(object, path))
  } else {
    stop(sprintf("object must be a gd_lm fit, a linear_model() or a GDRegressor; got %s.", class(object)[1]),
         call. = FALSE)
  }
  invisible(path)
}

# weight (responses x predictors) and bias from lm's coefficient layout.
saved_fields <- function(object, field = "coefficients") {
  coef <- object[[field]]
  if (is.null(coef)) return(list(weight = NULL, bias = NULL))
  m <- coef_matrix(coef, object$responses)
  list(weight = t(m[-1L, , drop = FALSE]), bias = unname(m[1L, ]))
}

saved_info <- function(object) {
  list(stop_reason = object$history$stop_reason, converged = isTRUE(object$report$converged),
       report = saved_report(object$report),
       n = nobs.gd_lm(object), loss = object$loss, lstsq_loss = object$lstsq_loss,
       r_squared = as.list(unname(object$r.squared)), rank = object$rank, df_residual = object$df.residual,
       call = if (!is.null(object$call)) paste(deparse(object$call), collapse = " "))
}

# The core's report as gradlm.save() writes a GDRegressor's: its fields, without
# the verdict (the core words it again on loading).
saved_report <- function(report) {
  if (is.null(report)) return(NULL)
  report$verdict <- NULL
  report$r_squared <- as.list(report$r_squared)
  report
}

# What predict() needs of a formula fit: the expanded formula, factor levels, contrasts.
saved_formula <- function(object) {
  if (is.null(object$terms)) return(NULL)
  contrasts <- object$contrasts[vapply(object$contrasts, is.character, logical(1))]
  list(formula = paste(deparse(stats::formula(object$terms)), collapse = " "),
       xlevels = lapply(object$xlevels, as.list), contrasts = contrasts)
}

#' @rdname save_model
#' @export
load_model <- function(path) {
  if (!is.character(path) || length(path) != 1L || is.na(path)) {
    stop("path must be one file name, such as \"model.safetensors\".", call. = FALSE)
  }
  path <- path.expand(path)
  saved <- call_core(bridge()$read_model(path))
  meta <- saved$metadata
  if (identical(meta[["kind"]], "LinearModel")) return(call_core(core$load(path)))
  a <- saved$arrays
  responses <- as.character(unlist(meta[["target_names"]]))
  weight <- as.matrix(a[["weight"]])
  if (!length(responses)) {
    responses <- if (nrow(weight) == 1L) "y" else paste0("y", seq_len(nrow(weight)))
  }
  predictors <- as.character(unlist(meta[["feature_names"]]))
  if (!length(predictors)) predictors <- paste0("x", seq_len(ncol(weight)))
  info <- meta[["info"]]
  training <- if (identical(meta[["kind"]], "gd_lm")) meta[["settings"]] else info[["training"]]
  history <- new_history(list(
    loss = a[["loss"]], weight_path = array(0, c(0L, dim(weight))), bias_path = matrix(0, 0L, nrow(weight)),
    weight = weight, bias = a[["bias"]], stop_reason = info[["stop_reason"]] %||% "epochs",
    converged = isTRUE(saved$report$converged), settings = training, report = saved$report
  ))
  report <- history$report
  # A GDRegressor's file lacks the exact solution (NA); its loss, the optimum's and R-squared are in its
  # report (files from before reports: NA, and the last epoch's loss).
  exact <- if (!is.null(a[["lstsq_weight"]])) list(a[["lstsq_weight"]], a[["lstsq_bias"]]) else list(weight * NA, a[["bias"]] * NA)
  out <- structure(list(
    coefficients = lm_layout(a[["weight"]], a[["bias"]], predictors, responses),
    lstsq_coefficients = lm_layout(exact[[1L]], exact[[2L]], predictors, responses),
    r.squared = stats::setNames(as.numeric(unlist(info[["r_squared"]] %||% report$r_squared %||%
                                                    rep(NA, length(responses)))), responses),
    loss = info[["loss"]] %||% report$loss %||% (if (length(a[["loss"]])) a[["loss"]][length(a[["loss"]])] else NA_real_),
    lstsq_loss = info[["lstsq_loss"]] %||% report$optimum_loss %||% NA_real_,
    report = report,
    history = history,
    standardization = list(center = as.numeric(a[["x_mean"]]), scale = as.numeric(a[["x_scale"]])),
    predictors = predictors,
    responses = responses,
    rank = info[["rank"]] %||% NA_integer_,
    df.residual = info[["df_residual"]] %||% NA_integer_,
    n_obs = info[["n"]] %||% NA_integer_,
    loaded_from = path
  ), class = "gd_lm")
  r <- meta[["r"]]
  if (!is.null(r)) {
    out$terms <- stats::terms(safe_formula(r$formula, path))
    if (length(r$xlevels)) out$xlevels <- lapply(r$xlevels, function(levels) as.character(unlist(levels)))
    if (length(r$contrasts)) out$contrasts <- lapply(r$contrasts, safe_contrast, path = path)
  }
  if (!is.null(info[["call"]])) out$call <- str2lang(info[["call"]])
  out
}

`%||%` <- function(a, b) if (is.null(a)) b else a

# The functions a saved formula may call: operators and the usual
# transformations. Anything else is refused unread: a model file never runs
# code, neither when loaded nor when predict() evaluates its formula.
FORMULA_FUNCTIONS <- c("~", "+", "-", "*", "/", ":", "^", "(", "%in%", "cbind", "I", "log", "log1p", "log2",
                       "log10", "exp", "sqrt", "abs", "poly", "offset", "sin", "cos", "tan", "factor",
                       "as.numeric", "as.factor", "scale")

# The contrasts a saved fit may name: predict() calls the named function on the factor's levels.
CONTRAST_FUNCTIONS <- c("contr.treatment", "contr.sum", "contr.helmert", "contr.poly", "contr.SAS")

safe_contrast <- function(value, path) {
  value <- as.character(unlist(value))
  if (length(value) != 1L || !(value %in% CONTRAST_FUNCTIONS)) {
    stop(sprintf("%s is not a model load_model() accepts: it names the contrasts %s, not one of %s.", path,
                 paste0("'", value, "'", collapse = ", "), paste(CONTRAST_FUNCTIONS, collapse = ", ")),
         call. = FALSE)
  }
  value
}

safe_formula <- function(text, path) {
  damaged <- function(why) stop(sprintf("%s is not a model load_model() accepts: %s.", path, why), call. = FALSE)
  expr <- tryCatch(str2lang(text), error = function(e) NULL)
  if (!is.call(expr) || !identical(expr[[1L]], as.name("~"))) damaged("its formula is not a formula")
  check <- function(e) {
    if (is.call(e)) {
      f <- e[[1L]]
      if (!is.name(f) || !(as.character(f) %in% FORMULA_FUNCTIONS)) {
        damaged(sprintf("its formula calls %s, which is not among the functions a saved formula may use",
                        paste(deparse(f), collapse = "")))
      }
      for (a in as.list(e)[-1L]) check(a)
    } else if (!is.name(e) && !(is.numeric(e) && length(e) == 1L)) {
      damaged("its formula holds something other than names and numbers")
    }
  }
  check(expr)
  stats::as.formula(expr, env = globalenv())  # `~` itself evaluates nothing
}
