# The R side of "time to the answer" (called by benchmarks/time_to_answer.py):
#   Rscript benchmarks/r_time_to_answer.R FOLDER N D K REPS
# FOLDER/data.bin holds what Python wrote once: X column by column, then y
# column by column (float64, little-endian; the suite's float32 values, exact).
# Each tool runs with its defaults, as a user writes it: gd_lm(formula, data),
# gd_lm(x, y) (also on one torch thread), lm(formula, data), lm.fit(cbind(1, x), y). Timed inside R by
# system.time() (gc first), one warm-up round dropped, then REPS rounds
# interleaved, the order turning each round; medians. Writes
# FOLDER/r_results.csv (tool, time_s, coef_file) and each tool's coefficients
# ((D + 1) x K, intercept first, column by column, float64) for Python to judge,
# and FOLDER/r_notes.txt when gradlm is not installed (the lm rows still run).
args <- commandArgs(TRUE)
folder <- args[1]
n <- as.integer(args[2])
d <- as.integer(args[3])
k <- as.integer(args[4])
reps <- as.integer(args[5])

con <- file(file.path(folder, "data.bin"), "rb")
x <- matrix(readBin(con, "double", n * d, size = 8L, endian = "little"), n, d,
            dimnames = list(NULL, paste0("x", seq_len(d))))
y <- matrix(readBin(con, "double", n * k, size = 8L, endian = "little"), n, k,
            dimnames = list(NULL, paste0("y", seq_len(k))))
close(con)
df <- data.frame(x, y)
formula <- stats::as.formula(sprintf("cbind(%s) ~ .", paste(colnames(y), collapse = ", ")))

tools <- list(
  "lm()" = function() stats::coef(stats::lm(formula, data = df)),
  "lm.fit()" = function() stats::coef(stats::lm.fit(cbind(1, x), y))
)
gradlm_missing <- tryCatch({
  suppressPackageStartupMessages(library(gradlm))
  gradlm::gd_lm(x[1:1000, ], y[1:1000, ])  # loads Python, torch and the core before any timing
  NULL
}, error = function(e) paste("gd_lm rows skipped:", conditionMessage(e)))
if (is.null(gradlm_missing)) {
  tools <- c(list(
    "gd_lm(formula, data)" = function() stats::coef(gd_lm(formula, data = df)),
    "gd_lm(x, y)" = function() stats::coef(gd_lm(x, y)),
    "gd_lm(x, y), 1 torch thread" = function() {  # (as the Python row of the same name)
      torch <- reticulate::import("torch")
      threads <- torch$get_num_threads()
      torch$set_num_threads(1L)
      on.exit(torch$set_num_threads(threads))
      stats::coef(gd_lm(x, y))
    }
  ), tools)
} else {
  writeLines(gradlm_missing, file.path(folder, "r_notes.txt"))
}

times <- matrix(NA_real_, reps + 1L, length(tools), dimnames = list(NULL, names(tools)))
coefs <- list()
for (i in seq_len(reps + 1L)) {  # the first round warms up and is dropped
  for (name in names(tools)[(seq_along(tools) + i - 2L) %% length(tools) + 1L]) {
    times[i, name] <- system.time(coefs[[name]] <- tools[[name]](), gcFirst = TRUE)[["elapsed"]]
  }
}
med <- apply(times[-1L, , drop = FALSE], 2, stats::median)
files <- sprintf("r_coef_%d.bin", seq_along(tools))
for (j in seq_along(tools)) {
  writeBin(as.numeric(as.matrix(coefs[[names(tools)[j]]])), file.path(folder, files[j]), size = 8L,
           endian = "little")
}
utils::write.csv(data.frame(tool = names(tools), time_s = unname(med[names(tools)]), coef_file = files),
                 file.path(folder, "r_results.csv"), row.names = FALSE)
