# S3 methods for torch tensors, so rTorch-style code reads like R: arithmetic,
# comparison and logic with R numbers (cast to the tensor's dtype), a matrix
# product, printing, and conversion back to R arrays.

py_operator <- function(name) reticulate::import("operator")[[name]]

ops_table <- c(
  "+" = "add", "-" = "sub", "*" = "mul", "/" = "truediv", "^" = "pow",
  "%%" = "mod", "%/%" = "floordiv", "==" = "eq", "!=" = "ne", "<" = "lt",
  "<=" = "le", ">" = "gt", ">=" = "ge", "&" = "and_", "|" = "or_"
)

# An R value as a tensor like `like` (its dtype and device), for mixed operations.
as_tensor_like <- function(value, like) {
  if (inherits(value, "torch.Tensor")) return(value)
  value <- as_numeric_data(value, "operand")
  if (length(value) == 1L && is.null(dim(value))) {
    return(torch$as_tensor(value, dtype = like$dtype, device = like$device))
  }
  torch$as_tensor(np$ascontiguousarray(value), dtype = like$dtype, device = like$device)
}

#' Arithmetic, comparison and logic on torch tensors
#'
#' The `Ops` group for tensors: `+ - * / ^ %% %/%`, comparisons and `& | !`.
#' An R number or array on either side is converted to the tensor's dtype and
#' device first, so `w * 2` keeps a float32 tensor float32.
#'
#' @param e1,e2 Tensors or R numbers.
#' @return A torch tensor.
#' @examples
#' \dontrun{
#' x <- tensor(matrix(1:4, 2))
#' x * 2 + 1
#' x > 2
#' }
#' @export
Ops.torch.Tensor <- function(e1, e2) {
  if (missing(e2)) {
    return(switch(.Generic,
      "-" = py_operator("neg")(e1),
      "+" = e1,
      "!" = py_operator("invert")(e1),
      stop(sprintf("unary %s is not defined for tensors.", .Generic), call. = FALSE)
    ))
  }
  name <- ops_table[[.Generic]]
  if (is.null(name)) stop(sprintf("%s is not defined for tensors.", .Generic), call. = FALSE)
  like <- if (inherits(e1, "torch.Tensor")) e1 else e2
  call_core(py_operator(name)(as_tensor_like(e1, like), as_tensor_like(e2, like)))
}

#' Matrix product of tensors
#'
#' `x %.*% y` is `torch$matmul(x, y)`, for R 4.2, which cannot dispatch
#' `%*%` on Python objects. R matrices on either side are converted to the
#' other operand's dtype.
#'
#' @param x,y Tensors (or an R matrix and a tensor).
#' @return A torch tensor.
#' @examples
#' \dontrun{
#' w <- tensor(matrix(1, 2, 3))
#' tensor(diag(3)) %.*% w$t()
#' }
#' @export
`%.*%` <- function(x, y) {
  like <- if (inherits(x, "torch.Tensor")) x else y
  call_core(torch$matmul(as_tensor_like(x, like), as_tensor_like(y, like)))
}

#' Make a torch tensor from R data
#'
#' Doubles become float32 by default (as torch's own default), integers int64,
#' logicals bool; the dimensions of a matrix or array are kept; a data.frame
#' must be all numeric.
#'
#' @param x A vector, matrix, array or data.frame.
#' @param dtype A torch dtype name such as `"float32"` or `"float64"`; by
#'   default from the type of `x`.
#' @param requires_grad Track gradients?
#' @param device A torch device name such as `"cpu"` or `"cuda"`.
#' @return A torch tensor.
#' @examples
#' \dontrun{
#' tensor(matrix(c(1, 2, 3, 4), 2))
#' tensor(1:3)$dtype
#' }
#' @export
tensor <- function(x, dtype = NULL, requires_grad = FALSE, device = NULL) {
  if (is.data.frame(x)) x <- as_numeric_data(x, "x")
  if (!is.numeric(x) && !is.logical(x)) {
    stop(sprintf("x must be numeric or logical; got %s.", class(x)[1]), call. = FALSE)
  }
  if ((is.integer(x) || is.logical(x)) && anyNA(x)) {
    stop("x contains NA, which integer and logical tensors cannot hold; use a double vector.", call. = FALSE)
  }
  if (is.null(dtype)) {
    dtype <- if (is.integer(x)) "int64" else if (is.logical(x)) "bool" else "float32"
  }
  # reticulate hands an R array to NumPy with its dimensions (column-major);
  # one contiguous copy in the target dtype, which torch then shares.
  arr <- np$ascontiguousarray(x, dtype = dtype)
  if (is.null(dim(x))) arr <- arr$reshape(list(length(x)))
  out <- call_core(torch$from_numpy(arr))
  if (!is.null(device)) out <- out$to(device)
  if (isTRUE(requires_grad)) out$requires_grad_(TRUE)
  out
}

#' Convert tensors to R
#'
#' @param x A torch tensor.
#' @param ... Unused.
#' @return An R array, matrix or numeric vector with the tensor's values
#'   (detached, moved to the CPU).
#' @name tensor-conversion
#' @examples
#' \dontrun{
#' as.array(tensor(matrix(1:6, 2)))
#' }
NULL

r_value <- function(x) if (inherits(x, "python.builtin.object")) reticulate::py_to_r(x) else x

tensor_values <- function(x) r_value(x$detach()$cpu()$numpy())

#' @rdname tensor-conversion
#' @export
as.array.torch.Tensor <- function(x, ...) {
  out <- tensor_values(x)
  if (is.null(dim(out))) out <- array(out, dim = length(out))
  out
}

#' @rdname tensor-conversion
#' @export
as.matrix.torch.Tensor <- function(x, ...) {
  out <- tensor_values(x)
  if (is.null(dim(out))) return(matrix(out, ncol = 1L))
  if (length(dim(out)) != 2L) stop("as.matrix() needs a 2-D tensor; use as.array().", call. = FALSE)
  out
}

#' @rdname tensor-conversion
#' @aliases as.numeric.torch.Tensor
#' @export
as.double.torch.Tensor <- function(x, ...) as.double(as.vector(tensor_values(x)))

#' Dimensions, length, transpose and printing of tensors
#'
#' @param x A torch tensor.
#' @param ... Unused.
#' @return `dim()`: an integer vector (`NULL` for a 0-d tensor); `length()`:
#'   the number of elements; `t()`: the transposed tensor (`x$t()`);
#'   `print()`: `x`, invisibly.
#' @name tensor-methods
#' @examples
#' \dontrun{
#' x <- tensor(matrix(1:6, 2))
#' dim(x); length(x); t(x)
#' }
NULL

#' @rdname tensor-methods
#' @export
dim.torch.Tensor <- function(x) {
  # torch.Size is a tuple subclass, which reticulate leaves unconverted: list() it first.
  d <- as.integer(unlist(r_value(reticulate::import_builtins()$list(x$shape))))
  if (length(d) == 0L) NULL else d
}

#' @rdname tensor-methods
#' @export
length.torch.Tensor <- function(x) as.integer(r_value(x$numel()))

#' @rdname tensor-methods
#' @export
t.torch.Tensor <- function(x) x$t()

#' @rdname tensor-methods
#' @export
print.torch.Tensor <- function(x, ...) {
  cat(reticulate::py_str(x), "\n", sep = "")
  invisible(x)
}
