#' Crop yields: the from-scratch tutorial's data
#'
#' Temperature (F), rainfall (mm) and humidity (%) of 15 regions, with their
#' yields of mangoes and oranges (tons), in the tutorial's row order. The same
#' numbers as Python's `gradlm.datasets.crops()` (a test keeps them equal).
#'
#' @format A data.frame with 15 rows and 6 columns: `region` (character),
#'   `temperature`, `rainfall`, `humidity`, `mangoes`, `oranges` (integers).
#' @examples
#' head(crops)
#' lm(cbind(mangoes, oranges) ~ temperature + rainfall + humidity, data = crops)
#' @docType data
#' @name crops
NULL

#' The tutorials' other data, and synthetic data
#'
#' `line_data()` is the nn.Linear tutorial's data (`x = 1..50`,
#' `y = 2 x + 1 + e` with the tutorial's seed-71 integer noise);
#' `numpy_points()` the NumPy tutorial's 15 points; `make_regression()`
#' linear data with Gaussian features and noise. All come from the Python core.
#'
#' @param n Number of rows.
#' @param d Number of features.
#' @param outputs Number of targets.
#' @param noise Standard deviation of the noise.
#' @param seed Seed for the draws (the global torch RNG is left alone).
#' @return A data.frame: `x`, `y` for `line_data()` and `numpy_points()`;
#'   `x1..xd`, `y1..yk` for `make_regression()`, whose true coefficients are
#'   the attributes `coef` and `intercept`.
#' @examplesIf gradlm_available()
#' d <- line_data()
#' plot(d$x, d$y)
#' @export
line_data <- function(n = 50) {
  data <- call_core(core$datasets$line(n))
  data.frame(x = as.numeric(tensor_values(data$X)), y = as.numeric(tensor_values(data$y)))
}

#' @rdname line_data
#' @export
numpy_points <- function() {
  data <- call_core(core$datasets$numpy_points())
  data.frame(x = as.numeric(r_value(data$X)), y = as.numeric(r_value(data$y)))
}

#' @rdname line_data
#' @export
make_regression <- function(n = 1000, d = 10, outputs = 1, noise = 0.1, seed = NULL) {
  data <- call_core(core$datasets$make_regression(n, d, outputs = outputs, noise = noise, seed = seed))
  x <- tensor_values(data$X)
  y <- tensor_values(data$y)
  colnames(x) <- unlist(data$feature_names)
  colnames(y) <- unlist(data$target_names)
  structure(as.data.frame(cbind(x, y)), coef = tensor_values(data$coef),
            intercept = as.numeric(tensor_values(data$intercept)))
}
