#' gradlm: linear regression by gradient descent on PyTorch
#'
#' The R face of the 'gradlm' Python module: every number is computed there,
#' reached through 'reticulate'. Python is loaded on first use, so
#' `library(gradlm)` works without it; the first call that needs it says how
#' to install it (see [install_gradlm()]).
#'
#' Which Python: `GRADLM_PYTHON` when set, else `RETICULATE_PYTHON`, else the
#' virtual environment "gradlm" made by [install_gradlm()], else reticulate's
#' own choice.
#'
#' @keywords internal
"_PACKAGE"

#' rTorch-style access to torch and NumPy
#'
#' `torch` is the Python module `torch`; `np` is NumPy with its results kept
#' as NumPy objects (so `np$array(..., dtype = "float32")` stays float32 and
#' `torch$from_numpy()` of it gives a float32 tensor). Both load on first use.
#'
#' R's numbers are doubles, and torch wants Python integers for sizes,
#' dimensions and indices: in Python `torch.randn(2.0, 3.0)` is a TypeError.
#' So that `torch$randn(2, 3)`, `torch$zeros(c(2, 3))`, `x$view(3, 2)`,
#' `x$reshape(c(3, -1))` or `x$sum(dim = 1)` work as rTorch users write them,
#' a call of one of torch's built-in (C++) functions, `torch$name(...)`, or of
#' a tensor's built-in method, `x$name(...)`, that fails with a TypeError is
#' made again with whole-number doubles as integers: first the R vectors and
#' lists of whole numbers (sizes such as `c(2, 3)`), then, if that fails too,
#' every whole-number double. A call that works as written is never changed:
#' `torch$full(c(2, 3), 1)` is float32, `torch$arange(0, 5)` is float32 as
#' `torch.arange(0.0, 5.0)` is (write `0L, 5L` for int64). torch's argument
#' parser refuses a call before running it, so the second try repeats no
#' work; other callables (Python functions, classes such as `torch$nn$Linear`,
#' the submodules `torch$nn`, `torch$linalg`, ...) are left as they are and
#' want integers (`3L`). The cost is an R function around each built-in:
#' 3 to 8 microseconds a call, next to some 100 for the call through
#' reticulate; `torch$name` is looked up once and kept, which saves more.
#'
#' @param x The `torch` module or a tensor.
#' @param name The attribute's name.
#' @format Python modules (reticulate objects).
#' @examples
#' \dontrun{
#' x <- torch$from_numpy(np$array(list(list(1, 2), list(3, 4)), dtype = "float32"))
#' torch$mm(x, x$t())
#' torch$manual_seed(0)
#' w <- torch$randn(2, 3)
#' w$view(3, 2)
#' }
#' @name torch
#' @aliases np
#' @export torch np
NULL

#' @rdname torch
#' @export
`$.gradlm_torch` <- function(x, name) {
  value <- torch_functions[[name]]
  if (!is.null(value)) return(value)
  value <- NextMethod()
  if (inherits(value, "python.builtin.builtin_function_or_method")) {
    value <- torch_functions[[name]] <- whole_numbers_as_int(value)
  }
  value
}

# torch's built-in functions, wrapped, by name: looked up once each (a lookup
# through reticulate costs some 65 microseconds, more than the wrapper saves).
torch_functions <- new.env(parent = emptyenv())

# A built-in torch function `f` (an R function from reticulate) that, when
# refused with a TypeError, is called again with whole-number doubles as
# integers (see ?torch). It keeps f's class and Python object, so reticulate
# still passes it to Python as the function itself.
whole_numbers_as_int <- function(f) {
  wrapper <- function(...) {
    # only a call with a double or a list can need it (list() evaluates each argument once)
    if (!any(vapply(list(...), function(a) is.double(a) || is.list(a), NA))) return(f(...))
    tryCatch(f(...), error = function(e) retry_as_int(f, list(...), e))
  }
  attributes(wrapper) <- attributes(f)
  wrapper
}

is_type_error <- function(e) {
  inherits(e, "python.builtin.TypeError") || startsWith(conditionMessage(e), "TypeError")
}

retry_as_int <- function(f, args, error) {
  if (!is_type_error(error)) stop(error)
  for (scalars in c(FALSE, TRUE)) {
    converted <- lapply(args, whole_as_int, scalars = scalars)
    if (identical(converted, args)) next
    args <- converted
    ok <- FALSE
    result <- tryCatch({
      value <- do.call(f, converted)
      ok <- TRUE
      value
    }, error = identity)
    if (ok) return(result)
    if (!is_type_error(result)) stop(result)
  }
  stop(error)
}

is_whole <- function(x) {
  is.double(x) && !is.object(x) && is.null(dim(x)) && length(x) > 0L && all(is.finite(x)) &&
    all(x == trunc(x)) && all(abs(x) <= .Machine$integer.max)
}

# Whole-number doubles as integers: vectors of length other than 1 and lists of
# single whole numbers (sizes) always, single numbers when `scalars`.
whole_as_int <- function(x, scalars) {
  if (is.list(x) && !is.object(x) && length(x) > 0L &&
      all(vapply(x, function(v) is_whole(v) && length(v) == 1L, NA))) {
    return(lapply(x, as.integer))
  }
  if (is_whole(x) && (scalars || length(x) != 1L)) as.integer(x) else x
}

torch <- NULL
np <- NULL
core <- NULL

install_hint <- function() {
  paste0(
    "The Python module 'gradlm' (with torch and numpy < 2) is not available to R.\n",
    "Install it with gradlm::install_gradlm(), or point GRADLM_PYTHON at a Python ",
    "that has it (for the repository: `make test` sets this up)."
  )
}

choose_python <- function() {
  python <- Sys.getenv("GRADLM_PYTHON", "")
  if (nzchar(python) && !nzchar(Sys.getenv("RETICULATE_PYTHON", ""))) {
    # Before reticulate initialises; also keeps it from looking for Poetry in a
    # directory that has a pyproject.toml.
    Sys.setenv(RETICULATE_PYTHON = python)
  }
  if (!nzchar(Sys.getenv("RETICULATE_PYTHON", "")) && !reticulate::py_available()) {
    envs <- tryCatch(reticulate::virtualenv_list(), error = function(e) character())
    if ("gradlm" %in% envs) {
      try(reticulate::use_virtualenv("gradlm", required = FALSE), silent = TRUE)
    }
  }
}

# torch's libraries define BLAS symbols (sgemm_, dgemm_) that R's own BLAS,
# loaded first, would otherwise serve: torch's matrix products would then run
# 5 to 15 times slower in R than in Python, with other rounding. Loaded with
# RTLD_DEEPBIND, torch binds its own. Only for this one import.
import_torch_own_blas <- function() {
  code <- paste(
    "import os, sys",
    "if 'torch' not in sys.modules:",
    "    _flags = sys.getdlopenflags()",
    "    sys.setdlopenflags(_flags | os.RTLD_DEEPBIND)",
    "    try:",
    "        import torch",
    "    finally:",
    "        sys.setdlopenflags(_flags)",
    sep = "\n"
  )
  try(reticulate::py_run_string(code, local = TRUE), silent = TRUE)
  invisible()
}

.onLoad <- function(libname, pkgname) {
  choose_python()
  on_error <- function(e) stop(install_hint(), call. = FALSE)
  torch_first <- list(before_load = import_torch_own_blas, on_error = on_error)
  torch_module <- reticulate::import("torch", delay_load = torch_first)
  class(torch_module) <- c("gradlm_torch", class(torch_module))  # for `$.gradlm_torch`
  torch <<- torch_module
  np <<- reticulate::import("numpy", convert = FALSE, delay_load = list(on_error = on_error))
  core <<- reticulate::import("gradlm", delay_load = torch_first)
}

#' Is the Python side of gradlm available?
#'
#' @return `TRUE` when Python, torch and the 'gradlm' module can be loaded.
#' @examples
#' gradlm_available()
#' @export
gradlm_available <- function() {
  isTRUE(tryCatch(
    reticulate::py_module_available("torch") && reticulate::py_module_available("gradlm"),
    error = function(e) FALSE
  ))
}
