# Writes data/crops.rda from the Python core's gradlm.datasets.crops(), the one
# source of these numbers (tests/test_r_package.py checks that they agree).
# Run from R/ with GRADLM_PYTHON set: Rscript data-raw/crops.R
Sys.setenv(RETICULATE_PYTHON = Sys.getenv("GRADLM_PYTHON"))
core <- reticulate::import("gradlm")
data <- core$datasets$crops()
x <- data$X$numpy()
y <- data$y$numpy()
crops <- data.frame(region = unlist(data$row_names), stringsAsFactors = FALSE)
for (j in seq_along(data$feature_names)) crops[[data$feature_names[[j]]]] <- as.integer(x[, j])
for (j in seq_along(data$target_names)) crops[[data$target_names[[j]]]] <- as.integer(y[, j])
save(crops, file = "data/crops.rda", compress = "xz", version = 2)
