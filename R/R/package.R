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
#' @format Python modules (reticulate objects).
#' @examples
#' \dontrun{
#' x <- torch$from_numpy(np$array(list(list(1, 2), list(3, 4)), dtype = "float32"))
#' torch$mm(x, x$t())
#' }
#' @name torch
#' @aliases np
#' @export torch np
NULL

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
  torch <<- reticulate::import("torch", delay_load = torch_first)
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
