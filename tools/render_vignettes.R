# Renders every vignette of the R package (R/vignettes/*.Rmd, their one
# source) to self-contained HTML in the folder given as the first argument,
# R and Python chunks in one session. A failed chunk (an R/Python agreement
# assertion among them) stops the render and exits non-zero.
#   Rscript tools/render_vignettes.R build/vignettes
# (make vignettes). The R package's own build (R CMD build R) renders the
# same files into the package, where vignette(package = "gradlm") finds them.
args <- commandArgs(TRUE)
out_dir <- normalizePath(if (length(args)) args[1] else "build/vignettes", mustWork = FALSE)
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
src <- file.path(dirname(here), "R", "vignettes")
rmds <- list.files(src, pattern = "[.]Rmd$", full.names = TRUE)
if (!length(rmds)) stop("no vignettes in ", src)
for (rmd in rmds) {
  message("rendering ", basename(rmd))
  # Rendered in a scratch copy: reticulate's matplotlib figures are written
  # relative to the document, which breaks with a separate output folder.
  work <- tempfile("vignette-")
  dir.create(work)
  file.copy(rmd, work)
  html <- rmarkdown::render(file.path(work, basename(rmd)), quiet = TRUE, envir = new.env(parent = globalenv()))
  file.copy(html, out_dir, overwrite = TRUE)
  unlink(work, recursive = TRUE)
}
