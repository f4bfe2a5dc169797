#' Install torch and NumPy for gradlm into a virtual environment
#'
#' Creates the virtual environment `envname` with the two Python packages
#' that gradlm needs: torch and NumPy. The gradlm core itself is not
#' installed: it comes with this R package. Then restart R; gradlm selects the
#' environment by itself and [gradlm_available()] returns `TRUE`.
#'
#' torch comes from PyTorch's own package index, by default its CPU build
#' (some 200 MB; from PyPI on Linux pip would fetch the CUDA build, about
#' 3 GB). For an NVIDIA GPU give the index of a CUDA build, for example
#' `index_url = "https://download.pytorch.org/whl/cu126"` (PyTorch's
#' installation page lists the others), or `index_url = NULL` for PyPI's
#' default. NumPy is pinned below 2 when 'reticulate' is older than
#' 1.38 (older versions fail with "incompatible NumPy binary version").
#'
#' An environment left incomplete by an earlier attempt (torch missing or
#' not importable) is removed and made again; so is any environment when
#' `force = TRUE`. When an installation fails, the environment is removed, so
#' that gradlm never selects a broken one.
#'
#' @param envname Name of (or path to) the virtual environment.
#' @param index_url The package index torch is installed from: PyTorch's CPU
#'   index by default; a CUDA index for a GPU; `NULL` for PyPI.
#' @param torch The torch requirement given to pip, for example
#'   `"torch==2.5.1"`.
#' @param python The Python (3.9 or newer) the environment is made from;
#'   `NULL` lets 'reticulate' choose.
#' @param force Make the environment again even if it is complete.
#' @return The path of the environment's Python, invisibly.
#' @examples
#' \dontrun{
#' install_gradlm()                 # CPU build of torch
#' install_gradlm(index_url = "https://download.pytorch.org/whl/cu126")   # CUDA 12.6
#' }
#' @export
install_gradlm <- function(envname = "gradlm", index_url = "https://download.pytorch.org/whl/cpu",
                           torch = "torch", python = NULL, force = FALSE) {
  numpy <- if (old_reticulate()) "numpy<2" else "numpy"
  if (reticulate::virtualenv_exists(envname)) {
    if (!force && is.null(env_problem(reticulate::virtualenv_python(envname), numpy))) {
      message("The virtual environment '", envname, "' already has torch and NumPy; ",
              "use force = TRUE to make it again.")
      return(invisible(reticulate::virtualenv_python(envname)))
    }
    message("Removing the virtual environment '", envname, "' to make it again.")
    reticulate::virtualenv_remove(envname, confirm = FALSE)
  }
  removed_on_failure <- function(e) {
    if (reticulate::virtualenv_exists(envname)) {
      try(reticulate::virtualenv_remove(envname, confirm = FALSE), silent = TRUE)
    }
    stop("install_gradlm() failed, and removed the unfinished environment '", envname, "': ",
         conditionMessage(e), call. = FALSE)
  }
  python_path <- tryCatch({
    reticulate::virtualenv_create(envname, python = python, packages = numpy)
    reticulate::virtualenv_install(envname, c(torch, numpy), ignore_installed = FALSE,
                                   pip_options = if (is.null(index_url)) character() else c("--index-url", index_url))
    python_path <- reticulate::virtualenv_python(envname)
    problem <- env_problem(python_path, numpy)
    if (!is.null(problem)) stop(problem, call. = FALSE)
    python_path
  }, error = removed_on_failure, interrupt = function(e) removed_on_failure(simpleError("interrupted")))
  message("Installed torch and NumPy into ", dirname(dirname(python_path)), ".")
  if (reticulate::py_available()) message("Restart R so that gradlm uses it.")
  invisible(python_path)
}

# Why the Python `python` cannot serve gradlm (too old, torch or NumPy missing
# or not importable, NumPy outside `numpy`), or NULL. Runs that Python once.
env_problem <- function(python, numpy) {
  code <- paste(
    "import sys",
    "assert sys.version_info >= (3, 9), 'Python %d.%d is too old: gradlm needs 3.9 or newer' % sys.version_info[:2]",
    "import numpy, torch",
    "assert int(numpy.__version__.split('.')[0]) < 2 or sys.argv[1] == 'numpy', 'NumPy %s: reticulate before 1.38 needs NumPy below 2' % numpy.__version__",
    sep = "\n"
  )
  script <- tempfile(fileext = ".py")
  on.exit(unlink(script))
  writeLines(code, script)
  out <- tryCatch(
    suppressWarnings(system2(python, shQuote(c(script, numpy)), stdout = TRUE, stderr = TRUE)),
    error = function(e) structure("", status = 127L)
  )
  if (is.null(attr(out, "status"))) return(NULL)
  out <- out[nzchar(out)]
  paste0(python, ": ", if (length(out)) out[length(out)] else "does not run")
}
