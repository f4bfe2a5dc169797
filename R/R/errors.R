# Calling the core: Python exceptions become R errors with the Python message
# and no traceback noise. An error never ends the R session.

# The Python message of an error raised in Python, without its type and
# reticulate's pointer to the traceback. (py_last_error() is not used: it can
# still hold an earlier error.)
py_message <- function(e) {
  msg <- conditionMessage(e)
  msg <- sub("^([A-Za-z_][A-Za-z0-9_.]*(Error|Exception)): ", "", msg)
  msg <- sub("^\\[Errno [0-9]+\\] ", "", msg)  # (an OSError's number is Python's, not the user's)
  msg <- sub("\\n+Run `reticulate::py_last_error\\(\\)` for details\\.?\\s*$", "", msg)
  sub("\\s+$", "", msg)
}

# Evaluate `expr` (a call into Python); a Python exception (reticulate 1.28
# raises it as an Rcpp::exception) becomes a plain R error with its message.
# R errors raised while evaluating the arguments pass through untouched.
# `data`, a named list of the R arrays sent, serves the core's NaN/Inf error:
# the core screens every array it receives (one pass, which R need not repeat
# on the way in), and on that error R finds the first bad row in its own terms
# (counted from 1, NA named).
call_core <- function(expr, data = NULL) {
  python_error <- function(e) {
    msg <- py_message(e)
    if (grepl("^KeyboardInterrupt", msg)) r_interrupt()  # Ctrl-C outside the epochs: an interrupt, not an error
    if (grepl("NaN or infinite", msg, fixed = TRUE)) {
      for (name in names(data)) check_finite(data[[name]], name)
    }
    stop(msg, call. = FALSE)
  }
  # reticulate 1.28 signals Python errors as Rcpp::exception; later versions as python.builtin.Exception
  tryCatch(expr, "Rcpp::exception" = python_error, "python.builtin.Exception" = python_error)
}

# An error naming the count and the first row (from 1) of NA, NaN or infinite values.
check_finite <- function(x, name) {
  if (!is.numeric(x) || is.finite(sum(x))) return(invisible())
  bad <- !is.finite(x)
  if (!any(bad)) return(invisible())  # (a sum of huge finite values can overflow too)
  rows <- if (is.matrix(bad)) which(rowSums(bad) > 0) else which(bad)
  stop(sprintf(
    "%s contains %d NA, NaN or infinite value(s), the first in row %d; remove or impute those rows.",
    name, sum(bad), rows[1]
  ), call. = FALSE)
}

# R data to what the core takes: a numeric matrix (or vector), checked for what
# only R has (factors, character columns). NA and Inf are screened by the core
# (see call_core()); shapes, dtypes and the float32 conversion are the core's
# too (gradlm.validation).
as_numeric_data <- function(x, name) {
  if (is.null(x)) stop(sprintf("%s is NULL; pass a numeric matrix, vector or data.frame.", name), call. = FALSE)
  if (inherits(x, "python.builtin.object")) return(x)
  if (is.data.frame(x)) {
    if (nrow(x) == 0L) stop(sprintf("%s has 0 rows; pass at least one row of data.", name), call. = FALSE)
    ok <- vapply(x, function(col) is.numeric(col) || is.logical(col), logical(1))
    if (!all(ok)) {
      stop(sprintf(
        "%s has non-numeric column(s) %s; convert them (for example with model.matrix()) or drop them.",
        name, paste0("'", names(x)[!ok], "'", collapse = ", ")
      ), call. = FALSE)
    }
    x <- as.matrix(x)
  }
  if (!is.numeric(x) && !is.logical(x)) {
    stop(sprintf("%s must be numeric; got %s.", name, class(x)[1]), call. = FALSE)
  }
  if (length(x) == 0L) stop(sprintf("%s is empty; pass at least one row of data.", name), call. = FALSE)
  if (!is.double(x)) storage.mode(x) <- "double"
  if (is.null(dim(x)) && length(x) == 1L) dim(x) <- 1L  # one value is data too (reticulate would pass a scalar)
  x
}

# as_numeric_data() on each named argument (NULL stays NULL): the list that
# both goes to the core and serves call_core()'s `data`.
numeric_args <- function(...) {
  args <- list(...)
  Map(function(value, name) if (is.null(value)) NULL else as_numeric_data(value, name), args, names(args))
}

# What R itself does on Ctrl-C: an "interrupt" condition for the handlers
# (tryCatch(interrupt = )), then back to the top level.
r_interrupt <- function() {
  signalCondition(structure(class = c("interrupt", "condition"), list(message = "interrupted", call = NULL)))
  invokeRestart("abort")
}

# The core's ConvergenceWarning and DivergenceWarning messages, as R warnings.
relay_warnings <- function(messages) {
  for (message in unlist(messages)) warning(message, call. = FALSE)
  invisible()
}

# Run `expr`, a training call into the core, and `finish(result)`. An
# interrupt (Ctrl-C, Esc, Stop) stops the training in Python, which returns
# what it has (python/gradlm/interrupts.py keeps reticulate's handler from
# calling back into R meanwhile); R may then also see the interrupt before it
# holds that result:
# the result is taken back from the core and finished all the same. An
# interrupt before the core returned anything aborts, as interrupts do.
interruptible <- function(expr, finish, convert = TRUE) {
  bridge(convert = FALSE)$take_last_result()  # drop what an earlier call left, unconverted
  tryCatch(finish(expr), interrupt = function(e) {
    result <- bridge(convert = convert)$take_last_result()
    if (is.null(result) || inherits(result, "python.builtin.NoneType")) invokeRestart("abort")
    finish(result)
  })
}

# The core's messages in gd_lm()'s argument names: its alpha and l1_ratio are penalty and mixture, sample_weight
# is weights, batch_size=None is batch_size = NULL, and fit_intercept=False a model with - 1.
gd_lm_names <- function(message) {
  message <- gsub("\\balpha\\b", "penalty", message)
  message <- gsub("\\bl1_ratio\\b", "mixture", message)
  message <- gsub("\\bsample_weight\\b", "weights", message)
  message <- gsub("fit_intercept=False", "no intercept (- 1)", message, fixed = TRUE)
  message <- gsub("batch_size=None", "batch_size = NULL", message, fixed = TRUE)
  gsub("one per output", "one per response", message, fixed = TRUE)
}
