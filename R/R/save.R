#' Save and load models, portably between R and Python
#'
#' `save_model()` writes a `gd_lm` fit, a `linear_model()` or a Python
#' `GDRegressor` to one file in gradlm's model format, which Python's
#' `gradlm.load()` reads too (and the other way round: `load_model()` reads
#' what `gradlm.save()` wrote). The file is a safetensors file: the
#' coefficients as raw float64 arrays and a JSON header with the feature and
#' response names, the training settings, a checksum and, for formula fits,
#' what `predict()` needs: the formula, the parameters that `poly()`, `scale()`,
#' `splines::ns()` and `splines::bs()` terms learnt (written exactly), factor
#' levels and contrast matrices, so that a loaded fit predicts bit for bit what
#' the fitted one did; a term that could not be rebuilt so is refused when
#' saving. Loading never runs code from the file (it never unpickles, and a
#' formula may call only a fixed list of functions); a file altered since it
#' was saved is refused as damaged. Files are written to a temporary name and
#' then renamed, so a failure leaves no half-written model.
#'
#' A loaded `gd_lm` has the coefficients, the loss curve, the summary
#' numbers and the core's report of the fit (converged or not, and the gap;
#' files written before reports existed have none, and `print()` says only how
#' the fit stopped), but not the training data: `predict()` with `newdata`, `coef()`,
#' `print()`, `summary()`, `tidy()` and `glance()` work; `fitted()`,
#' `residuals()`, `augment()` without `newdata` and the row diagnostics
#' (`hatvalues()`, `plot()`'s panels 1 to 6) say so. The inference (standard
#' errors, `vcov()`, `confint()`, intervals) is not saved yet: on a loaded fit
#' the methods that need it stop with an error that says so (refit on the
#' data), and `summary()` shows the coefficients without standard errors. A
#' penalized fit's `penalty`, `mixture` and `standardize` are saved with it (as
#' a `GDRegressor` file holds them: `alpha`, `l1_ratio`), so the loaded fit
#' prints its penalty and predicts as the fitted one did. Formulas with `offset()`
#' terms (and `offset =`, saved as an `offset()` term) and without an
#' intercept save and predict as fitted.
#'
#' @param object A `gd_lm` fit, a `linear_model()`, or a Python `GDRegressor`.
#' @param path The file to write or read (by convention `.safetensors`).
#' @return `save_model()`: `path`, invisibly. `load_model()`: a `gd_lm`
#'   (from a `gd_lm` or a `GDRegressor`) or a `linear_model()`.
#' @examplesIf gradlm_available()
#' fit <- gd_lm(cbind(mangoes, oranges) ~ ., data = crops[-1], seed = 0)
#' path <- tempfile(fileext = ".safetensors")
#' save_model(fit, path)
#' predict(load_model(path), crops[1:3, ])
#' @export
save_model <- function(object, path) {
  if (!is.character(path) || length(path) != 1L || is.na(path)) {
    stop("path must be one file name, such as \"model.safetensors\".", call. = FALSE)
  }
  path <- path.expand(path)
  if (inherits(object, "gd_lm")) {
    if (!is.null(object[["loaded_from"]])) stop("this gd_lm was loaded from a file; save the original fit.", call. = FALSE)
    coef <- weight_bias(object)
    exact <- weight_bias(object, "lstsq_coefficients")
    args <- list(path, coef$weight, coef$bias, feature_names = as.list(object$predictors),
                 target_names = as.list(object$responses),
                 x_mean = object$standardization$center, x_scale = object$standardization$scale,
                 loss = object$history$loss, lstsq_weight = exact$weight, lstsq_bias = exact$bias,
                 settings = saved_settings(object), info = saved_info(object), r = saved_formula(object))
    # The inference (and the design's moments it is computed from), where the core's file format holds it.
    if (!is.null(object$inference) && core_accepts(bridge()$save_gd_lm, "inference")) args$inference <- object$inference
    call_core(do.call(bridge()$save_gd_lm, args))
  } else if (inherits(object, c("gradlm.model.LinearModel", "gradlm.estimator.GDRegressor"))) {
    call_core(core$save(object, path))
  } else {
    stop(sprintf("object must be a gd_lm fit, a linear_model() or a GDRegressor; got %s.", class(object)[1]),
         call. = FALSE)
  }
  invisible(path)
}

# Does the core's Python function take an argument of that name?
core_accepts <- function(f, name) {
  inspect <- reticulate::import("inspect", convert = FALSE)
  params <- reticulate::import_builtins(convert = FALSE)$list(inspect$signature(f)$parameters)
  name %in% reticulate::py_to_r(params)
}

# The training settings, with the penalty under the names a GDRegressor's file gives it (its alpha and
# l1_ratio: Python's gradlm.load() makes a GDRegressor of them) and standardize, which says what the penalty
# is on. Fits from before penalties have none (least squares).
saved_settings <- function(object) {
  settings <- object$history$settings
  if (!is.null(object$standardize)) settings$standardize <- object$standardize
  if (!is.null(object$penalty)) {
    settings$alpha <- as_json_number(object$penalty)
    settings$l1_ratio <- as_json_number(object$mixture %||% 0)
  }
  settings
}

# One number as a number, several as a list (JSON has no vectors).
as_json_number <- function(x) if (length(x) == 1L) x else as.list(x)

# The saved penalty (the core's alpha, l1_ratio) as R's penalty and mixture; 0 for files without one.
loaded_penalty <- function(settings, damaged) {
  number <- function(value) {
    if (is.null(value)) return(0)
    x <- suppressWarnings(as.numeric(unlist(value)))
    if (!length(x) || !all(is.finite(x) & x >= 0)) damaged("its penalty (alpha, l1_ratio) is not numbers >= 0")
    x
  }
  list(penalty = number(settings[["alpha"]]), mixture = number(settings[["l1_ratio"]]),
       standardize = if (is.logical(settings[["standardize"]])) settings[["standardize"]])
}

saved_info <- function(object) {
  known <- function(value) if (length(value) == 1L && !is.na(value)) value  # (no rank for a penalized fit)
  list(stop_reason = object$history$stop_reason, converged = isTRUE(object$report$converged),
       report = saved_report(object$report),
       n = nobs.gd_lm(object), loss = object$loss, lstsq_loss = object$lstsq_loss,
       r_squared = as.list(unname(object$r.squared)), rank = known(object$rank),
       df_residual = known(object$df.residual),
       intercept = has_intercept(object),
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

# What predict() needs of a formula fit, as data: the formula; its "predvars"
# (the formula's variables with the parameters data-dependent terms such as
# poly(), scale() and splines::ns() learnt from the training data, written
# exactly, in hexadecimal); the factors' levels; and each factor's contrast
# matrix as numbers. Anything that could not be rebuilt exactly from these is
# refused here, at save time.
saved_formula <- function(object) {
  if (is.null(object$terms)) return(NULL)
  refuse <- function(why) {
    stop(sprintf("save_model() cannot save this fit faithfully: %s. Compute the term as a column of the data and refit.",
                 why), call. = FALSE)
  }
  own <- Filter(function(name) !exists(name, envir = baseenv()), object$session_values)
  if (length(own)) {
    refuse(sprintf("its formula uses %s from your session, not from the data, and the file cannot carry %s",
                   paste0("'", own, "'", collapse = ", "), if (length(own) > 1L) "them" else "it"))
  }
  # Checked as they will be read back: the values the terms learnt are in predvars as numbers.
  formula <- stats::formula(object$terms)
  predvars <- qualified_splines(attr(object$terms, "predvars"))
  if (!is.null(object$offset_argument)) {
    # lm()'s `offset =` is saved as an offset() term, which predict() evaluates in newdata the same way.
    formula[[3L]] <- call("+", formula[[3L]], call("offset", object$offset_argument))
    predvars <- as.call(c(as.list(predvars), call("offset", object$offset_argument)))
  }
  formula <- exact_text(formula)
  predvars <- exact_text(predvars)
  check_formula_code(str2lang(formula), refuse)
  term_parameters(check_formula_code(str2lang(predvars), refuse), refuse)  # what load_model() will check
  contrasts <- Map(function(spec, name) {
    m <- contrast_matrix(object$xlevels[[name]], spec)
    list(levels = as.list(rownames(m)), values = as.list(as.numeric(m)), columns = ncol(m),
         names = if (!is.null(colnames(m))) as.list(colnames(m)))
  }, object$contrasts, names(object$contrasts))
  list(formula = formula, predvars = predvars,
       xlevels = lapply(object$xlevels, as.list), contrasts = contrasts)
}

# Code as text that parses back to the same numbers, bit for bit.
exact_text <- function(expr) {
  paste(deparse(expr, width.cutoff = 500L, control = c("keepNA", "keepInteger", "niceNames", "hexNumeric")),
        collapse = " ")
}

# The contrast matrix model.matrix() used for a factor with these levels (spec:
# the name of a contrast function, or a matrix, as lm()'s `contrasts` takes).
contrast_matrix <- function(levels, spec) {
  f <- factor(levels, levels = levels)
  stats::contrasts(f) <- spec
  m <- stats::contrasts(f)
  rownames(m) <- levels
  m
}

# ns() and bs() written as splines::ns() and splines::bs(), so that a loaded
# model predicts in a session that has not attached splines.
qualified_splines <- function(expr) {
  if (!is.call(expr)) return(expr)
  head <- expr[[1L]]
  if (is.name(head) && as.character(head) %in% c("ns", "bs")) {
    expr[[1L]] <- call("::", as.name("splines"), head)
  }
  for (i in seq_along(expr)[-1L]) if (!is.null(expr[[i]])) expr[[i]] <- qualified_splines(expr[[i]])
  expr
}

#' @rdname save_model
#' @export
load_model <- function(path) {
  if (!is.character(path) || length(path) != 1L || is.na(path)) {
    stop("path must be one file name, such as \"model.safetensors\".", call. = FALSE)
  }
  path <- path.expand(path)
  # Worded as the core words the files it refuses (a file that is no model at all has its own message there).
  damaged <- function(why) {
    stop(sprintf("'%s' is a damaged model file: %s; save the model again from the fit, or restore the file from a copy.",
                 path, why), call. = FALSE)
  }
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
  r <- meta[["r"]]
  penalty <- loaded_penalty(meta[["settings"]], damaged)
  terms <- if (!is.null(r)) saved_terms(r, damaged)
  intercept <- if (!is.null(terms)) attr(terms, "intercept") == 1L else !isFALSE(info[["intercept"]])
  out <- structure(list(
    coefficients = lm_layout(a[["weight"]], a[["bias"]], predictors, responses, intercept),
    lstsq_coefficients = lm_layout(exact[[1L]], exact[[2L]], predictors, responses, intercept),
    r.squared = stats::setNames(as.numeric(unlist(info[["r_squared"]] %||% report$r_squared %||%
                                                    rep(NA, length(responses)))), responses),
    loss = info[["loss"]] %||% report$loss %||% (if (length(a[["loss"]])) a[["loss"]][length(a[["loss"]])] else NA_real_),
    lstsq_loss = info[["lstsq_loss"]] %||% report$optimum_loss %||% NA_real_,
    report = report,
    history = history,
    standardization = list(center = as.numeric(a[["x_mean"]]), scale = as.numeric(a[["x_scale"]])),
    predictors = predictors,
    responses = responses,
    intercept = intercept,
    inference = saved$inference,
    rank = info[["rank"]] %||% NA_integer_,
    df.residual = info[["df_residual"]] %||% NA_integer_,
    n_obs = info[["n"]] %||% NA_integer_,
    penalty = penalty$penalty,
    mixture = penalty$mixture,
    standardize = penalty$standardize,
    loaded_from = path
  ), class = "gd_lm")
  if (!is.null(r)) {
    out$terms <- terms
    if (length(r$contrasts)) out$contrasts <- lapply(r$contrasts, saved_contrast, damaged = damaged)
    if (length(r$xlevels)) out$xlevels <- saved_xlevels(r$xlevels, out$contrasts, damaged)
  }
  # The call stays text: update() would evaluate it (arguments and all).
  if (is.character(info[["call"]]) && length(info[["call"]]) == 1L) out$saved_call <- info[["call"]]
  out
}

`%||%` <- function(a, b) if (is.null(a)) b else a

# The functions a saved formula may call: operators, the usual transformations,
# and the data-dependent terms whose parameters the file holds. Anything else
# is refused unread: a model file never runs code, neither when loaded nor
# when predict() evaluates its formula.
FORMULA_FUNCTIONS <- c("~", "+", "-", "*", "/", ":", "^", "(", "%in%", "cbind", "I", "log", "log1p", "log2",
                       "log10", "exp", "sqrt", "abs", "poly", "sin", "cos", "tan", "factor",
                       "as.numeric", "as.factor", "scale", "ns", "bs", "c", "list", "offset")
# Functions a saved formula may name with their package.
QUALIFIED_FUNCTIONS <- list(splines = c("ns", "bs"), stats = c("poly"), base = c("scale", "log", "exp", "sqrt"))

# The contrasts a file from before contrast matrices were saved may name: predict() calls the named function.
CONTRAST_FUNCTIONS <- c("contr.treatment", "contr.sum", "contr.helmert", "contr.poly", "contr.SAS")

saved_contrast <- function(value, damaged) {
  if (is.list(value) && !is.null(value$values)) {
    levels <- as.character(unlist(value$levels))
    values <- suppressWarnings(as.numeric(unlist(value$values)))
    columns <- suppressWarnings(as.integer(unlist(value$columns)))
    if (length(columns) != 1L || is.na(columns) || length(levels) * columns != length(values) ||
        !all(is.finite(values))) {
      damaged("a contrast matrix is not a matrix of numbers")
    }
    m <- matrix(values, length(levels), columns, dimnames = list(levels, as.character(unlist(value$names))))
    return(m)
  }
  value <- as.character(unlist(value))
  if (length(value) != 1L || !(value %in% CONTRAST_FUNCTIONS)) {
    damaged(sprintf("it names the contrasts %s, not one of %s", paste0("'", value, "'", collapse = ", "),
                    paste(CONTRAST_FUNCTIONS, collapse = ", ")))
  }
  value
}

# The factors' levels: distinct strings, and the rows of the factor's contrast matrix where the file has one
# (else model.frame() and model.matrix() fail at predict() with R's own errors, or pair levels and rows wrongly).
saved_xlevels <- function(xlevels, contrasts, damaged) {
  if (!is.list(xlevels) || is.null(names(xlevels))) damaged("its factor levels (xlevels) are not named lists of levels")
  xlevels <- lapply(xlevels, unlist)
  quoted <- function(x) if (length(x)) paste0("'", x, "'", collapse = ", ") else "none"
  for (name in names(xlevels)) {
    levels <- xlevels[[name]]
    if (!is.character(levels) || !length(levels) || anyNA(levels) || anyDuplicated(levels)) {
      damaged(sprintf("the levels of factor '%s' are not distinct strings", name))
    }
  }
  for (name in names(contrasts)) {
    m <- contrasts[[name]]
    if (is.matrix(m) && !identical(rownames(m), xlevels[[name]])) {
      damaged(sprintf("factor '%s' has levels %s, but its contrast matrix has rows %s", name,
                      quoted(xlevels[[name]]), quoted(rownames(m))))
    }
  }
  xlevels
}

# Is `expr` only calls of the functions above, on names, numbers and logical constants?
# `refuse(why)` is called with the reason when it is not.
check_formula_code <- function(expr, refuse) {
  check <- function(e) {
    if (identical(e, quote(numeric(0)))) return()  # no knots, as deparse() writes them (not a call of the user's)
    if (is.call(e)) {
      f <- e[[1L]]
      qualified <- is.call(f) && identical(f[[1L]], as.name("::")) && is.name(f[[2L]]) && is.name(f[[3L]]) &&
        as.character(f[[3L]]) %in% QUALIFIED_FUNCTIONS[[as.character(f[[2L]])]]
      if (!qualified && (!is.name(f) || !(as.character(f) %in% FORMULA_FUNCTIONS))) {
        refuse(sprintf("its formula calls %s, which is not among the functions a saved formula may use (%s)",
                       paste(deparse(f), collapse = ""), "arithmetic, log, exp, sqrt, I, offset, poly, scale, splines::ns, splines::bs, factor"))
      }
      for (a in as.list(e)[-1L]) check(a)
    } else if (!is.name(e) && !is.null(e) && !((is.numeric(e) || is.logical(e) || is.character(e)) && length(e) == 1L)) {
      refuse("its formula holds something other than names, numbers, strings and TRUE/FALSE")
    }
  }
  check(expr)
  invisible(expr)
}

safe_code <- function(text, damaged, formula = FALSE) {
  expr <- tryCatch(str2lang(text), error = function(e) NULL)
  if (is.null(expr)) damaged("its formula does not parse")
  if (formula && (!is.call(expr) || !identical(expr[[1L]], as.name("~")))) damaged("its formula is not a formula")
  check_formula_code(expr, damaged)
}

# The terms of a saved formula fit, with its predvars: checked to agree (one
# predvar per variable of the formula, on the formula's variables only).
saved_terms <- function(r, damaged) {
  formula <- safe_formula(r$formula, damaged)
  if (length(formula) != 3L) damaged("its formula has no response")
  tt <- tryCatch(stats::terms(formula), error = function(e) damaged(paste("its formula:", conditionMessage(e))))
  if (is.null(r$predvars)) term_parameters(formula, damaged)  # (then predict() evaluates the formula's own terms)
  if (!is.null(r$predvars)) {
    predvars <- term_parameters(safe_code(r$predvars, damaged), damaged)
    variables <- attr(tt, "variables")
    if (!is.call(predvars) || !identical(predvars[[1L]], as.name("list")) || length(predvars) != length(variables) ||
        !all(all.vars(predvars) %in% all.vars(variables))) {
      damaged("its predvars do not match its formula's variables")
    }
    attr(tt, "predvars") <- predvars
  }
  tt
}

# The parameters of the data-dependent terms (learnt from the training data, or written by the user), in the
# order of the functions' arguments after the variable. Each must be finite numbers (knots may be none), the switches
# TRUE or FALSE, and scale()'s center and scale either: anything else (NaN, NA, Inf, a string) would predict NA or
# fail inside R's code.
TERM_PARAMETERS <- list(scale = c("center", "scale"), poly = c("degree", "coefs", "raw", "simple"),
                        ns = c("df", "knots", "intercept", "Boundary.knots"),
                        bs = c("df", "knots", "degree", "intercept", "Boundary.knots"))
TERM_SWITCHES <- c("intercept", "raw", "simple")

# `expr` (code check_formula_code() passed) with the parameters of its scale(), poly(), ns() and bs() terms checked
# as above and put in as values, so that predict() evaluates no c(), list() or numeric() of the session either.
# `damaged(why)` when one is not.
term_parameters <- function(expr, damaged) {
  if (!is.call(expr)) return(expr)
  for (i in seq_along(expr)[-1L]) if (!is.null(expr[[i]])) expr[[i]] <- term_parameters(expr[[i]], damaged)
  f <- expr[[1L]]
  fun <- as.character(if (is.call(f)) f[[3L]] else f)  # (check_formula_code() let only pkg::name through)
  params <- if (fun %in% names(TERM_PARAMETERS)) TERM_PARAMETERS[[fun]]
  if (is.null(params) || length(expr) < 3L) return(expr)
  given <- names(expr) %||% character(length(expr))
  free <- setdiff(params, given)  # unnamed arguments are matched to these in order, as R matches them
  for (i in 3:length(expr)) {
    name <- given[i]
    if (!nzchar(name)) {
      if (fun == "poly" && length(all.vars(expr[[i]]))) next  # poly()'s further variables
      name <- if (fun == "poly") "degree" else free[1L]
      free <- free[-1L]
    }
    if (is.na(name) || !(name %in% params)) {
      damaged(sprintf("its %s() term has %s, not one of %s", fun,
                      if (is.na(name)) "too many arguments" else paste0("an argument '", name, "'"),
                      paste(params, collapse = ", ")))
    }
    value <- literal(expr[[i]])
    numbers <- unlist(value)
    switch_value <- is.logical(value) && length(value) == 1L && !is.na(value)
    finite <- is.numeric(numbers) && all(is.finite(numbers)) && (length(numbers) > 0L || name == "knots")
    if (!(if (name %in% TERM_SWITCHES) switch_value else finite || (fun == "scale" && switch_value))) {
      damaged(sprintf("its %s() term has %s = %s, not %s", fun, name, paste(deparse(expr[[i]]), collapse = " "),
                      if (name %in% TERM_SWITCHES) "TRUE or FALSE" else if (fun == "scale") "finite numbers or TRUE/FALSE"
                      else "finite numbers"))
    }
    expr[[i]] <- value
  }
  expr
}

# The value of a constant as deparse() writes it: a number, -number, TRUE/FALSE, NA, numeric(0), or c() and
# list() of those; NULL for anything else. Computed here, never evaluated.
literal <- function(e) {
  if ((is.numeric(e) || is.logical(e)) && length(e) == 1L) return(e)
  if (identical(e, quote(numeric(0)))) return(numeric(0))
  if (!is.call(e)) return(NULL)
  args <- lapply(as.list(e)[-1L], literal)
  if (any(vapply(args, is.null, logical(1)))) return(NULL)
  f <- e[[1L]]
  if (identical(f, as.name("-")) && length(args) == 1L && is.numeric(args[[1L]])) return(-args[[1L]])
  if (identical(f, as.name("c"))) return(do.call(c, args))
  if (identical(f, as.name("list"))) return(args)
  NULL
}

safe_formula <- function(text, damaged) {
  stats::as.formula(safe_code(text, damaged, formula = TRUE), env = globalenv())  # `~` itself evaluates nothing
}
