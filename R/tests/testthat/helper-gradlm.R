# The suite needs the Python side; without it the tests are skipped, not failed.
skip_if_no_gradlm <- function() {
  if (!gradlm_available()) skip("the Python module gradlm (with torch) is not available")
}

# The nn.Linear tutorial's printed table, rows 1-3 and 50 (epoch, loss, weight, bias).
tutorial_rows <- rbind(
  c(1, 3057.21679688, 0.10597813, 0.96379614),
  c(2, 1588.53100586, 3.33490038, 1.06046367),
  c(3, 830.30010986, 1.01483274, 0.99226278),
  c(50, 21.05850983, 1.98384094, 1.05503750)
)

# The largest relative error of a fit's coefficients against lm()'s: max |b - b_lm| / |b_lm|.
max_relative_error <- function(coef, reference) max(abs(coef - reference) / abs(reference))


# A gd_lm model file written directly, as a crafted one would be: features `features`, response y, and `...`
# in its metadata (r = the formula part, info = ...).
write_model_file <- function(path, ..., weight = matrix(1, 1, 1), features = list("x")) {
  reticulate::import("gradlm.serialization")$write_model_file(
    path, list(weight = weight, bias = array(0, 1)),
    list(kind = "gd_lm", feature_names = features, target_names = list("y"), ...)
  )
}
