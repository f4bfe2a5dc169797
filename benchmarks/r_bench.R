# The R side of the benchmark (called by benchmarks/run.py):
#   Rscript benchmarks/r_bench.R N OUTPUT.json
# gd_lm from R against the same fit from Python, and gd_lm to 1e-4 of the
# optimal loss against lm(), on the same data; medians of repeated runs.
suppressPackageStartupMessages(library(gradlm))
args <- commandArgs(TRUE)
n <- as.numeric(args[1])
torch$set_num_threads(as.integer(Sys.getenv("GRADLM_BENCH_THREADS", "2")))
df <- make_regression(n, 20, outputs = 2, noise = 0.5, seed = 0)
formula <- cbind(y1, y2) ~ .
median_time <- function(f, reps = 3) {
  stats::median(vapply(seq_len(reps), function(i) system.time(f())[["elapsed"]], numeric(1)))
}
settings <- list(epochs = 100, lr = 0.5, standardize = TRUE, seed = 0)

gd <- median_time(function() do.call(gd_lm, c(list(formula, data = df), settings)))

# The same fit from Python: the work gd_lm asks of the core, on the same
# float64 data, timed inside Python.
x <- as.matrix(df[, 1:20])
y <- as.matrix(df[, 21:22])
reticulate::py_run_string("
import time
from gradlm.r_bridge import fit_lm
def time_fit_lm(X, y, reps, **kw):
    times = []
    for _ in range(int(reps)):
        start = time.perf_counter()
        fit_lm(X, y, **kw)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]
")
py_fit <- reticulate::py$time_fit_lm(x, y, 3, epochs = 100, lr = 0.5, standardize = TRUE, seed = 0)

to_optimum <- list(epochs = 40, lr = 0.5, standardize = TRUE, seed = 0)
fit <- do.call(gd_lm, c(list(formula, data = df), to_optimum))
relative_gap <- glance(fit)$gap / glance(fit)$lstsq_loss
gd_opt <- median_time(function() do.call(gd_lm, c(list(formula, data = df), to_optimum)))
lm_time <- median_time(function() lm(formula, data = df))

writeLines(sprintf(
  '{"gd_lm": %.6f, "python_fit_lm": %.6f, "gd_lm_to_optimum": %.6f, "lm": %.6f, "relative_gap": %.3e}',
  gd, py_fit, gd_opt, lm_time, relative_gap), args[2])
