#' The largest stable learning rate
#'
#' Python's `gradlm.suggest_lr()`: the learning rate above which full-batch
#' gradient descent on the MSE diverges, `2 / lambda_max` of the loss's
#' Hessian, which is `n_outputs / lambda_max(M)` for `M` the second-moment
#' matrix of the rows `[x, 1]`. Train somewhat below it (at the bound the loss
#' oscillates). `fit()` and `gd_lm()` quote it when they diverge.
#'
#' @param x Inputs (n, in): a matrix, data.frame or vector.
#' @param n_outputs Number of outputs (the loss is a mean over them too).
#' @param standardize The bound for standardized inputs, as `gd_lm(standardize = TRUE)` trains on.
#' @return A number.
#' @examplesIf gradlm_available()
#' suggest_lr(as.matrix(crops[, 2:4]), n_outputs = 2)
#' suggest_lr(as.matrix(crops[, 2:4]), n_outputs = 2, standardize = TRUE)
#' @export
suggest_lr <- function(x, n_outputs = 1, standardize = FALSE) {
  data <- numeric_args(x = x)
  call_core(core$suggest_lr(data$x, n_outputs = n_outputs, standardize = standardize), data = data)
}
