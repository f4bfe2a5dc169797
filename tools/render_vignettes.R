# Renders every vignette (vignettes/*.Rmd) to self-contained HTML in the
# folder given as the first argument. A failed chunk (an R/Python agreement
# assertion among them) stops the render and exits non-zero.
#   Rscript vignettes/render.R build/vignettes
args <- commandArgs(TRUE)
out_dir <- normalizePath(if (length(args)) args[1] else "build/vignettes", mustWork = FALSE)
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
for (rmd in list.files(here, pattern = "[.]Rmd$", full.names = TRUE)) {
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
