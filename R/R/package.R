# man/*.Rd and NAMESPACE are generated from the #' comments by roxygen2: Rscript -e 'roxygen2::roxygenise("R")'

#' gradlm: linear regression by gradient descent on PyTorch
#'
#' The R face of the 'gradlm' Python core: every number is computed there,
#' reached through 'reticulate'. The package carries its own copy of the core
#' (in its `python` folder), so R code and core always match; only torch and
#' NumPy come from the Python environment. Python is loaded on first use, so
#' `library(gradlm)` works without it; the first call that needs it says what
#' is missing and how to install it (see [install_gradlm()]).
#'
#' Which Python: `GRADLM_PYTHON` when set, else `RETICULATE_PYTHON`, else the
#' virtual environment "gradlm" made by [install_gradlm()] (when it has
#' torch), else reticulate's own choice (with reticulate 1.41 or later, an
#' environment made from the requirements the package declares with
#' `reticulate::py_require()`). In that Python the bundled core is imported
#' ahead of any other installed copy of the module 'gradlm' (one that Python
#' imported before, as when R runs inside a Python session, stays in use).
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
#' @examplesIf gradlm_available()
#' x <- torch$from_numpy(np$array(list(list(1, 2), list(3, 4)), dtype = "float32"))
#' torch$mm(x, x$t())
#' invisible(torch$manual_seed(0))
#' w <- torch$randn(2, 3)
#' w$view(3, 2)
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

# What this session found out about its Python (see python_problem()).
the <- new.env(parent = emptyenv())

# The folder holding the copy of the core that this package carries
# (inst/python/gradlm in the sources, copied from python/gradlm at build time).
bundled_core_dir <- function() system.file("python", package = "gradlm")

install_hint <- function() {
  paste0(
    "Fix: run gradlm::install_gradlm() and restart R, or point GRADLM_PYTHON at a ",
    "Python with torch and NumPy", if (old_reticulate()) " below 2", " (then restart R)."
  )
}

# reticulate before 1.38 cannot use NumPy 2 ("incompatible NumPy binary version").
old_reticulate <- function() utils::packageVersion("reticulate") < "1.38"

choose_python <- function() {
  python <- Sys.getenv("GRADLM_PYTHON", "")
  if (nzchar(python) && !nzchar(Sys.getenv("RETICULATE_PYTHON", ""))) {
    # Before reticulate initialises; also keeps it from looking for Poetry in a
    # directory that has a pyproject.toml.
    Sys.setenv(RETICULATE_PYTHON = python)
  }
  if (!nzchar(Sys.getenv("RETICULATE_PYTHON", "")) && !reticulate::py_available()) {
    # Only an environment that install_gradlm() completed: a failed attempt is
    # not selected (it would hide a working Python).
    env <- gradlm_env_python("gradlm")
    if (!is.null(env)) try(reticulate::use_virtualenv(dirname(dirname(env)), required = FALSE), silent = TRUE)
  }
  if (utils::packageVersion("reticulate") >= "1.41") {
    # reticulate's way for packages to declare their Python needs (used when
    # nothing above chose a Python); the core itself is bundled, not required.
    getNamespace("reticulate")$py_require(c("torch", "numpy"), python_version = ">=3.9")
  }
}

# The Python of the virtual environment `envname` when it has torch, else NULL.
# Looks at files only: starts no Python.
gradlm_env_python <- function(envname) {
  root <- tryCatch(reticulate::virtualenv_root(), error = function(e) "")
  env <- file.path(root, envname)
  python <- tryCatch(reticulate::virtualenv_python(env), error = function(e) "")
  torch_init <- c(
    Sys.glob(file.path(env, "lib", "python3*", "site-packages", "torch", "__init__.py")),
    Sys.glob(file.path(env, "Lib", "site-packages", "torch", "__init__.py"))
  )
  if (nzchar(python) && file.exists(python) && length(torch_init)) python else NULL
}

# The known traps, checked on the Python reticulate has started, before torch
# or the core is imported: a Python too old for the core, NumPy missing or
# NumPy 2 with a reticulate older than 1.38, torch missing. NULL when none,
# else the message. Checked once a session (its Python cannot change).
python_problem <- function() {
  if (!is.null(the$problem)) return(if (nzchar(the$problem)) the$problem else NULL)
  code <- paste(
    "import sys",
    "version = '%d.%d.%d' % sys.version_info[:3]",
    "executable = sys.executable",
    "torch_found = numpy_found = False",
    "numpy_version = ''",
    "try:",
    "    import importlib.util, importlib.metadata",
    "    torch_found = 'torch' in sys.modules or importlib.util.find_spec('torch') is not None",
    "    numpy_found = 'numpy' in sys.modules or importlib.util.find_spec('numpy') is not None",
    "    numpy_version = importlib.metadata.version('numpy') if numpy_found else ''",
    "except Exception:",
    "    pass",
    sep = "\n"
  )
  info <- tryCatch(reticulate::py_run_string(code, local = TRUE), error = identity)
  the$problem <- if (inherits(info, "error")) {
    paste0("R could not start Python: ", conditionMessage(info), "\n", install_hint())
  } else {
    python_trap(info)
  }
  python_problem()
}

python_trap <- function(info) {
  at <- sprintf("the Python that R uses (%s, Python %s)", info$executable, info$version)
  version <- numeric_version(info$version)
  if (version < "3.9") {
    return(paste0(
      "gradlm needs Python 3.9 or newer; ", at, " is too old.\n",
      "Fix: gradlm::install_gradlm(python = \"/path/to/python3.11\"), then restart R."
    ))
  }
  if (!isTRUE(info$numpy_found)) {
    return(paste0("NumPy is not installed in ", at, ".\n", install_hint()))
  }
  if (old_reticulate() && nzchar(info$numpy_version) &&
      numeric_version(info$numpy_version, strict = FALSE) >= "2") {
    return(paste0(
      "NumPy ", info$numpy_version, " is installed in ", at, ", and reticulate ",
      utils::packageVersion("reticulate"), " needs NumPy below 2 (with NumPy 2 it fails ",
      "with 'incompatible NumPy binary version').\n",
      "Fix: run gradlm::install_gradlm() (an environment with numpy<2) and restart R, ",
      "or pip install \"numpy<2\" into that Python, or update reticulate to 1.38 or later."
    ))
  }
  if (!isTRUE(info$torch_found)) {
    return(paste0("torch is not installed in ", at, ".\n", install_hint()))
  }
  ""
}

# Run before the first Python module of the package loads: check for the
# traps, put the bundled core first on sys.path (so it wins over any other
# installed 'gradlm'; the folder holds nothing else), import torch.
prepare_python <- function() {
  problem <- python_problem()
  if (!is.null(problem)) stop(problem, call. = FALSE)
  dir <- bundled_core_dir()
  if (nzchar(dir)) {
    sys <- reticulate::import("sys", convert = FALSE)
    if (!reticulate::py_to_r(sys$path$`__contains__`(dir))) sys$path$insert(0L, dir)
  }
  import_torch_own_blas()
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

# A module that failed to import, for the one case where the import cannot
# wait (Python already running when the package loads, as under rpy2): `$`
# says why, as the delayed imports do.
unavailable_module <- function(problem) structure(list(problem = problem), class = "gradlm_unavailable")

#' @export
#' @noRd
`$.gradlm_unavailable` <- function(x, name) stop(unclass(x)$problem, call. = FALSE)

# `module`, imported on first use (reticulate's delay-load) after
# prepare_python(). A failed first use leaves the hooks in place, so that every
# later use says the same thing (reticulate runs them once).
import_module <- function(module, convert = TRUE) {
  failed <- function(e) {
    if (!is.null(python_problem())) return(python_problem())
    paste0("Python could not import '", module, "': ", py_message(e), "\n", install_hint())
  }
  if (reticulate::py_available()) {
    # Python already runs (R inside Python, or reticulate used before
    # library(gradlm)): reticulate would import at once and skip the hooks.
    return(tryCatch({
      prepare_python()
      reticulate::import(module, convert = convert)
    }, error = function(e) unavailable_module(failed(e))))
  }
  proxy <- NULL
  rearm <- function() if (is.environment(proxy)) list2env(hooks, proxy)
  hooks <- list(
    before_load = function() tryCatch(prepare_python(), error = function(e) {
      rearm()
      stop(conditionMessage(e), call. = FALSE)
    }),
    on_error = function(e) {
      rearm()
      stop(failed(e), call. = FALSE)
    }
  )
  proxy <- reticulate::import(module, convert = convert, delay_load = hooks)
  proxy
}

.onLoad <- function(libname, pkgname) {
  choose_python()
  # torch.optim imports torch's compiler, which makes a cache folder in the system's temporary
  # directory (/tmp/torchinductor_<user>) that outlives the session: keep it in R's, removed at exit.
  if (!nzchar(Sys.getenv("TORCHINDUCTOR_CACHE_DIR"))) {
    Sys.setenv(TORCHINDUCTOR_CACHE_DIR = file.path(tempdir(), "torchinductor"))
  }
  torch_module <- import_module("torch")
  class(torch_module) <- c("gradlm_torch", class(torch_module))  # for `$.gradlm_torch`
  torch <<- torch_module
  np <<- import_module("numpy", convert = FALSE)
  core <<- import_module("gradlm")
}

#' Is the Python side of gradlm available?
#'
#' Loads Python, torch and the core bundled with the package (the first call
#' takes a few seconds, most of it importing torch), and says whether that
#' worked.
#'
#' @return `TRUE` when Python, NumPy, torch and the bundled core load; else
#'   `FALSE`, with the reason (and its fix) as the attribute `"reason"`.
#' @examples
#' gradlm_available()
#' @export
gradlm_available <- function() {
  reason <- tryCatch({
    force(core$`__name__`)
    NULL
  }, error = conditionMessage)
  if (is.null(reason)) TRUE else structure(FALSE, reason = reason)
}
