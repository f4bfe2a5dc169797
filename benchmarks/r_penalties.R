# The R side of "time to a penalized solution" (called by benchmarks/penalties.py):
#   Rscript benchmarks/r_penalties.R FOLDER N D REPS "THRESH THRESH ..."
# FOLDER holds what Python wrote: data.bin (X column by column, then y; float64
# little-endian), cases.csv (case, alpha, l1_ratio) and exact.bin (the exact
# optimum's D weights per case, in the order of cases.csv). For each case,
# glmnet's thresh is searched once, outside the timing: the loosest of the list
# (loosest first) that reaches 1e-6 of the optimum; then that setting is timed,
# REPS times (after one warm-up), each by system.time(); medians. gd_lm(x, y,
# penalty =, mixture =) with its defaults too, interleaved with glmnet, when the
# installed gradlm has them (else why not, in FOLDER/r_notes.txt). Writes FOLDER/r_results.csv
# (case, tool, setting, time_s, coef_file) and, per row, the coefficients it
# reached (coef_file, D float64), from which Python measures the accuracy.
#
# The problem is gradlm's: 1/(2n) ||y - Xw - b||^2 + alpha (l1_ratio ||s w||_1 + (1 - l1_ratio)/2 ||s w||^2),
# s the features' population sds. glmnet's gaussian fit scales y to unit sd
# (divisor n) and divides lambda by that sd: exact for the L1 part, not for
# the ridge part (python/gradlm/penalty.py). On y / sd(y) that scaling does
# nothing and glmnet solves its documented objective, in which the problem
# above, divided by sd(y)^2, has L1 weight alpha * l1_ratio / sd(y) and ridge
# weight alpha * (1 - l1_ratio): glmnet's lambda is their sum, its alpha the L1
# share; the coefficients are then multiplied by sd(y).
suppressPackageStartupMessages(library(glmnet))
args <- commandArgs(TRUE)
folder <- args[1]
n <- as.integer(args[2])
d <- as.integer(args[3])
reps <- as.integer(args[4])
threshs <- as.numeric(strsplit(args[5], " ")[[1]])
target <- 1e-6

con <- file(file.path(folder, "data.bin"), "rb")
x <- matrix(readBin(con, "double", n * d, size = 8L, endian = "little"), n, d)
y <- readBin(con, "double", n, size = 8L, endian = "little")
close(con)
cases <- utils::read.csv(file.path(folder, "cases.csv"), stringsAsFactors = FALSE)
exact <- matrix(readBin(file.path(folder, "exact.bin"), "double", d * nrow(cases), size = 8L, endian = "little"), d)

glmnet_fit <- function(alpha, l1_ratio, thresh) {
  sy <- sqrt(mean((y - mean(y))^2))
  l1 <- alpha * l1_ratio / sy
  l2 <- alpha * (1 - l1_ratio)
  fit <- glmnet(x, y / sy, alpha = l1 / (l1 + l2), lambda = l1 + l2, standardize = TRUE, thresh = thresh)
  as.numeric(fit$beta[, 1]) * sy
}
# gd_lm(x, y, penalty =, mixture =) (the core's alpha and l1_ratio) with its defaults, when the installed
# gradlm has them and a small fit works; else why not, in FOLDER/r_notes.txt.
gd_lm_fit <- function(alpha, l1_ratio, xx = x, yy = y) {
  as.numeric(stats::coef(gradlm::gd_lm(xx, yy, penalty = alpha, mixture = l1_ratio)))[-1L]  # (Intercept) first
}
gd_lm_missing <- tryCatch({
  if (!"penalty" %in% names(formals(utils::getS3method("gd_lm", "default", envir = asNamespace("gradlm"))))) {
    "the installed gradlm's gd_lm has no penalty argument"
  } else {
    stopifnot(length(gd_lm_fit(0.2, 0.5, x[1:1000, ], y[1:1000])) == d)
    NULL
  }
}, error = function(e) paste("a small gd_lm(x, y, penalty =, mixture =) fit failed:", conditionMessage(e)))
if (!is.null(gd_lm_missing)) writeLines(gd_lm_missing, file.path(folder, "r_notes.txt"))
accuracy <- function(coef, ref) max(abs(coef - ref)) / max(abs(ref))

rows <- list()
for (i in seq_len(nrow(cases))) {
  case <- cases[i, ]
  # bisection over the list (loosest first): a tighter thresh only gets closer
  lo <- 1L
  hi <- length(threshs)
  while (lo < hi) {
    mid <- (lo + hi) %/% 2L
    reached <- accuracy(glmnet_fit(case$alpha, case$l1_ratio, threshs[mid]), exact[, i]) <= target
    if (reached) hi <- mid else lo <- mid + 1L
  }
  thresh <- threshs[lo]
  tools <- list(list(tool = "glmnet (R)", setting = sprintf("thresh=%.0e", thresh), file = sprintf("glmnet_%d.bin", i),
                     f = function() glmnet_fit(case$alpha, case$l1_ratio, thresh)))
  if (is.null(gd_lm_missing)) {
    tools[[2L]] <- list(tool = "gradlm gd_lm (R)", setting = "defaults", file = sprintf("gd_lm_%d.bin", i),
                        f = function() gd_lm_fit(case$alpha, case$l1_ratio))
  }
  # one call each first (a warm-up, whose coefficients are kept), then REPS rounds, interleaved
  for (t in tools) writeBin(t$f(), file.path(folder, t$file), size = 8L, endian = "little")
  times <- matrix(NA_real_, reps, length(tools))
  for (r in seq_len(reps)) {
    for (k in seq_along(tools)) times[r, k] <- system.time(tools[[k]]$f(), gcFirst = TRUE)[["elapsed"]]
  }
  for (k in seq_along(tools)) {
    rows[[length(rows) + 1L]] <- data.frame(case = case$case, tool = tools[[k]]$tool, setting = tools[[k]]$setting,
                                            time_s = stats::median(times[, k]), coef_file = tools[[k]]$file)
  }
}
utils::write.csv(do.call(rbind, rows), file.path(folder, "r_results.csv"), row.names = FALSE)
