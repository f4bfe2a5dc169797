# The R side of the benchmark (called by benchmarks/run.py):
#   Rscript benchmarks/r_bench.R N OUTPUT.json
# gd_lm from R against the same fit from Python, and gd_lm with its defaults
# (certified at 1e-10 of least squares) against lm(), on the same data. The cases are interleaved,
# repeat by repeat, so that a slow spell of the machine hits them alike;
# medians are reported.
suppressPackageStartupMessages(library(gradlm))
args <- commandArgs(TRUE)
n <- as.numeric(args[1])
reps <- 5L
df <- make_regression(n, 20, outputs = 2, noise = 0.5, seed = 0)
x <- as.matrix(df[, 1:20])
y <- as.matrix(df[, 21:22])
formula <- cbind(y1, y2) ~ .
# A fixed amount of work (100 epochs, no certified stop), the same in both languages.
settings <- list(epochs = 100, lr = 0.5, standardize = TRUE, seed = 0, tol = NULL)

# The same fit from Python: the work gd_lm asks of the core, on the same
# float64 data (converted once, outside the timing), timed inside Python.
reticulate::py_run_string("
import time
from gradlm.r_bridge import fit_lm
def time_fit_lm(X, y, **kw):
    start = time.perf_counter()
    fit_lm(X, y, **kw)
    return time.perf_counter() - start
")
px <- reticulate::r_to_py(x)
py <- reticulate::r_to_py(y)
# gc() first: R's collection of earlier garbage is not charged to whichever case triggers it.
elapsed <- function(f) system.time(f(), gcFirst = TRUE)[["elapsed"]]
# Called as a user writes them: through do.call() the data would be inlined
# into the call that gd_lm() records, which costs R time of its own.
cases <- list(
  gd_lm = function() gd_lm(formula, data = df, epochs = 100, lr = 0.5, standardize = TRUE, seed = 0, tol = NULL),
  gd_lm_matrix = function() gd_lm(x, y, epochs = 100, lr = 0.5, standardize = TRUE, seed = 0, tol = NULL),
  python_fit_lm = function() NULL,
  gd_lm_to_optimum = function() gd_lm(formula, data = df),  # the defaults: certified at 1e-10
  lm = function() lm(formula, data = df)
)
times <- matrix(NA_real_, reps + 1L, length(cases), dimnames = list(NULL, names(cases)))
for (i in seq_len(reps + 1L)) {  # the first round warms up and is dropped
  # the order turns each round, so no case always follows the same one
  for (name in names(cases)[(seq_along(cases) + i - 2L) %% length(cases) + 1L]) {
    times[i, name] <- if (name == "python_fit_lm") {
      invisible(gc())
      do.call(reticulate::py$time_fit_lm, c(list(px, py), settings))
    } else {
      elapsed(cases[[name]])
    }
  }
}
med <- apply(times[-1L, , drop = FALSE], 2, stats::median)
fit <- cases$gd_lm_to_optimum()
relative_gap <- max(glance(fit)$gap / glance(fit)$lstsq_loss)  # (glance() has a row per response)
writeLines(sprintf(
  '{"gd_lm": %.6f, "gd_lm_matrix": %.6f, "python_fit_lm": %.6f, "gd_lm_to_optimum": %.6f, "lm": %.6f, "relative_gap": %.3e}',
  med[["gd_lm"]], med[["gd_lm_matrix"]], med[["python_fit_lm"]], med[["gd_lm_to_optimum"]], med[["lm"]],
  relative_gap), args[2])
