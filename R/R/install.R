#' Install the Python side of gradlm into a virtual environment
#'
#' Creates (or reuses) the virtual environment `envname` and installs the
#' 'gradlm' Python module with the pins that 'reticulate' 1.28 needs
#' (NumPy below 2) and the CPU build of torch. Restart R afterwards;
#' [gradlm_available()] then returns `TRUE`.
#'
#' @param envname Name of the virtual environment.
#' @param source What pip installs for the module: a path to a gradlm
#'   checkout or a package name.
#' @param torch The torch requirement.
#' @param python The Python used to create the environment.
#' @return The path of the environment's Python, invisibly.
#' @examples
#' \dontrun{
#' install_gradlm(source = "~/src/gradlm")
#' }
#' @export
install_gradlm <- function(envname = "gradlm", source = Sys.getenv("GRADLM_SOURCE", "gradlm"),
                           torch = "torch==2.13.0", python = NULL) {
  if (!reticulate::virtualenv_exists(envname)) {
    reticulate::virtualenv_create(envname, python = python)
  }
  reticulate::virtualenv_install(envname, c(torch, "numpy<2", source), ignore_installed = FALSE)
  invisible(reticulate::virtualenv_python(envname))
}
