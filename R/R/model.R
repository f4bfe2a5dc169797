#' The tensor model and the loss
#'
#' `linear_model()` builds the model `x %*% t(weight) + bias` with `weight`
#' (out, in) and `bias` (out): the Python `gradlm.LinearModel`, trained with
#' [fit()][fit.gradlm.model.LinearModel]. `init = "torch"` draws exactly what
#' `torch.nn.Linear` draws under the same torch seed
#' (`torch$manual_seed(59L)`), `"randn"` what the from-scratch tutorial
#' draws, `"zeros"` zeros.
#'
#' @param in_features,out_features Number of inputs and outputs.
#' @param init `"torch"`, `"randn"` or `"zeros"`.
#' @param dtype `"float32"` or `"float64"`.
#' @param device A torch device name, such as `"cpu"` or `"cuda"`.
#' @return A `gradlm.model.LinearModel` (a torch module); `model$weight` and
#'   `model$bias` are its parameters.
#' @examplesIf gradlm_available()
#' invisible(torch$manual_seed(59L))
#' model <- linear_model(1, 1)
#' as.numeric(model$weight)   # 0.1059781
#' @export
linear_model <- function(in_features, out_features = 1, init = "torch", dtype = "float32", device = NULL) {
  call_core(core$LinearModel(in_features, out_features, init = init, dtype = dtype, device = device))
}

#' @rdname linear_model
#' @param weight,bias Starting parameters: a matrix (out, in) and a vector (out).
#' @export
linear_model_from_params <- function(weight, bias, dtype = "float32", device = NULL) {
  weight <- as_numeric_data(weight, "weight")
  if (is.null(dim(weight))) weight <- matrix(weight, nrow = 1L)
  data <- list(weight = weight, bias = as_numeric_data(bias, "bias"))
  call_core(core$LinearModel$from_params(data$weight, data$bias, dtype = dtype, device = device), data = data)
}

#' @rdname linear_model
#' @param x Inputs (n, in): a tensor, or an R matrix for `predict()`.
#' @export
linear <- function(x, weight, bias) call_core(core$linear(x, weight, bias))

#' Mean squared error
#'
#' `mse()` is the sum of squared differences divided by the number of
#' elements (torch's `nn.MSELoss()`); the shapes must match exactly, so a
#' target vector against a one-column prediction is an error, never a
#' broadcast. `loss_at()` is the float64 MSE of given parameters on data.
#'
#' @param pred,target Tensors (keeps gradients) or R arrays of the same shape.
#' @return `mse()`: a 0-d tensor; `loss_at()`: a number.
#' @examplesIf gradlm_available()
#' mse(tensor(matrix(c(1, 3))), tensor(matrix(c(0, 1))))   # 2.5
#' @export
mse <- function(pred, target) {
  call_core(core$mse(as_numeric_data(pred, "pred"), as_numeric_data(target, "target")))
}

#' @rdname mse
#' @param weight,bias Parameters: a matrix (out, in) and a vector (out).
#' @param x,y Data: inputs (n, in) and targets (n, out).
#' @export
loss_at <- function(weight, bias, x, y) {
  data <- numeric_args(weight = weight, bias = bias, x = x, y = y)
  call_core(core$loss_at(data$weight, data$bias, data$x, data$y), data = data)
}

#' @rdname linear_model
#' @param object A `gradlm.model.LinearModel`.
#' @param newdata Inputs (n, in) as an R matrix or data.frame.
#' @param ... Unused.
#' @return `predict()`: a matrix (n, out).
#' @export
predict.gradlm.model.LinearModel <- function(object, newdata, ...) {
  data <- numeric_args(newdata = newdata)
  as.matrix(call_core(object$predict(data$newdata), data = data))
}
