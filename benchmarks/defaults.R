# The R side of "defaults against the exact answer" (called by benchmarks/defaults.py):
#   Rscript benchmarks/defaults.R FOLDER REPS
# FOLDER holds what Python wrote (diabetes.csv, linnerud.csv, poly.csv). This
# script
#   - exports R's datasets as Python fits them: FOLDER/<name>_x.csv (the model
#     matrix without its intercept column), <name>_y.csv (the response) and
#     <name>_lm.csv (lm()'s coefficients, (Intercept) first, one column per
#     response), all with 17 significant digits (they read back exactly), and
#     FOLDER/datasets.csv, their list;
#   - fits each case with gd_lm(formula, data) and nothing else, against
#     lm(formula, data), and writes FOLDER/r_results.csv (one row per case).
# A case that fails is a row with its error message, never a stop.
suppressPackageStartupMessages(library(gradlm))
args <- commandArgs(TRUE)
folder <- args[1]
reps <- as.integer(args[2])

r_cases <- list(
  mtcars = list(formula = mpg ~ ., data = datasets::mtcars),
  cars = list(formula = dist ~ speed, data = datasets::cars),
  trees = list(formula = Volume ~ ., data = datasets::trees),
  swiss = list(formula = Fertility ~ ., data = datasets::swiss),
  stackloss = list(formula = stack.loss ~ ., data = datasets::stackloss),
  airquality = list(formula = Ozone ~ ., data = datasets::airquality),
  longley = list(formula = Employed ~ ., data = datasets::longley),
  iris = list(formula = Sepal.Length ~ ., data = datasets::iris)
)
read_python <- function(name) utils::read.csv(file.path(folder, paste0(name, ".csv")))
py_cases <- list(
  diabetes = list(formula = target ~ ., data = read_python("diabetes")),
  linnerud = list(formula = cbind(Weight, Waist, Pulse) ~ ., data = read_python("linnerud")),
  poly5 = list(formula = y ~ poly(x, 5, raw = TRUE), data = read_python("poly"))
)

write_exact <- function(m, path) {
  m <- as.matrix(m)
  out <- matrix(sprintf("%.17g", m), nrow(m), dimnames = list(NULL, colnames(m)))
  utils::write.table(out, path, sep = ",", quote = FALSE, row.names = FALSE)
}

# The model matrix and response lm() sees (its default na.action, na.omit), and lm()'s coefficients.
export <- function(name, case) {
  mf <- stats::model.frame(case$formula, case$data)
  x <- stats::model.matrix(attr(mf, "terms"), mf)
  y <- as.matrix(stats::model.response(mf))
  if (is.null(colnames(y))) colnames(y) <- deparse(case$formula[[2L]])
  write_exact(x[, colnames(x) != "(Intercept)", drop = FALSE], file.path(folder, paste0(name, "_x.csv")))
  write_exact(y, file.path(folder, paste0(name, "_y.csv")))
  write_exact(as.matrix(stats::coef(stats::lm(case$formula, case$data))), file.path(folder, paste0(name, "_lm.csv")))
}
for (name in c(names(r_cases), "poly5")) export(name, c(r_cases, py_cases)[[name]])
utils::write.csv(data.frame(name = names(r_cases), formula = vapply(r_cases, function(c) deparse(c$formula), ""),
                            n_outputs = 1L), file.path(folder, "datasets.csv"), row.names = FALSE)

rel_errors <- function(b, ref) abs(as.matrix(b) - as.matrix(ref)) / abs(as.matrix(ref))
seconds <- function(f) {
  start <- Sys.time()
  f()
  as.numeric(Sys.time() - start, units = "secs")
}

run_case <- function(name, case) {
  formula <- case$formula
  data <- case$data
  fit_default <- function() gd_lm(formula, data)
  messages <- character()
  fit <- tryCatch(withCallingHandlers(fit_default(), warning = function(w) {
    messages <<- c(messages, conditionMessage(w))
    invokeRestart("muffleWarning")
  }), error = function(e) e)
  ref <- stats::coef(stats::lm(formula, data))
  mf <- stats::model.frame(formula, data)
  row <- data.frame(dataset = name, n = nrow(mf), p = ncol(stats::model.matrix(attr(mf, "terms"), mf)) - 1L,
                    epochs = NA_integer_, time_ms = NA_real_, error_ref = NA_real_, worst_ref = NA_real_,
                    error_lstsq = NA_real_,
                    converged = NA, warnings = length(messages), coef_error = NA_real_, tol = NA_real_,
                    stop_reason = NA_character_, messages = paste(messages, collapse = " | "),
                    failure = NA_character_, stringsAsFactors = FALSE)
  if (inherits(fit, "error")) {
    row$failure <- conditionMessage(fit)
    return(row)
  }
  report <- if (!is.null(fit$report)) fit$report else fit$history$report
  # the slow ill-conditioned case is timed half as often (as in Python)
  n_times <- if (name == "poly5") max(1L, reps %/% 2L) else reps
  times <- vapply(seq_len(n_times), function(i) seconds(function() suppressWarnings(fit_default())), 0)
  row$epochs <- if (!is.null(report$epochs_run)) report$epochs_run else length(fit$history$loss)
  row$time_ms <- stats::median(times) * 1000
  errors <- rel_errors(stats::coef(fit), ref)
  row$error_ref <- max(errors)
  row$worst_ref <- as.matrix(ref)[which.max(errors)]
  row$error_lstsq <- max(rel_errors(stats::coef(fit), fit$lstsq_coefficients))
  row$converged <- if (!is.null(report$converged)) isTRUE(report$converged) else isTRUE(glance(fit)$converged)
  if (!is.null(report$coef_error)) row$coef_error <- report$coef_error
  if (!is.null(report$tol)) row$tol <- report$tol
  row$stop_reason <- if (!is.null(report$stop_reason)) report$stop_reason else NA_character_
  row
}

# warm-up: Python, torch and the bridge load once
invisible(try(suppressWarnings(gd_lm(dist ~ speed, datasets::cars)), silent = TRUE))
rows <- do.call(rbind, Map(run_case, names(c(r_cases, py_cases)), c(r_cases, py_cases)))
utils::write.csv(rows, file.path(folder, "r_results.csv"), row.names = FALSE)
