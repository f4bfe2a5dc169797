# S3 methods for torch tensors, so rTorch-style code reads like R and computes
# what PyTorch computes: arithmetic, comparison and logic with R values (by
# torch's type promotion), the Math and Summary groups and mean(), indexing
# from 1, a matrix product, printing, and conversion back to R arrays.

# The functions of Python's operator module, looked up once each (a lookup
# costs some 450 microseconds, the call 60).
py_operators <- new.env(parent = emptyenv())
py_operator <- function(name) {
  f <- py_operators[[name]]
  if (is.null(f)) f <- py_operators[[name]] <- reticulate::import("operator")[[name]]
  f
}

ops_table <- c(
  "+" = "add", "-" = "sub", "*" = "mul", "/" = "truediv", "^" = "pow",
  "%%" = "mod", "%/%" = "floordiv", "==" = "eq", "!=" = "ne", "<" = "lt",
  "<=" = "le", ">" = "gt", ">=" = "ge", "&" = "and_", "|" = "or_"
)

is_tensor <- function(x) inherits(x, "torch.Tensor")
is_bool_tensor <- function(x) is_tensor(x) && identical(reticulate::py_str(x$dtype), "torch.bool")

# An R value as an operand of a torch operation with the tensor `like`.
# - One number or logical (length 1, no dim) is a Python scalar: float, int or
#   bool. torch's promotion for "wrapped numbers" applies: it never raises the
#   precision of a tensor of its own kind (float32 * 2.5 is float32) and lifts
#   the kind when it is higher (int64 * 0.5 is float32, bool + 2L is int64);
#   a comparison is made in that promoted dtype.
# - A vector or array is a tensor on like's device: doubles in like's dtype
#   when like is floating (so no precision is added or lost), else in torch's
#   default float dtype (float32, as torch.tensor() of Python floats gives);
#   integers int64, logicals bool. torch then promotes the two tensors as usual.
# Python objects (tensors, NumPy arrays) pass unchanged.
as_operand <- function(value, like) {
  if (inherits(value, "python.builtin.object")) return(value)
  if (!is.numeric(value) && !is.logical(value) || is.object(value)) {
    stop(sprintf("a tensor operand must be a tensor, a number or a logical; got %s.", class(value)[1]), call. = FALSE)
  }
  if (!is.double(value) && anyNA(value)) {
    stop("an integer or logical NA has no tensor value; use NaN (a double) or drop it.", call. = FALSE)
  }
  if (length(value) == 1L && is.null(dim(value))) return(value)
  r_array_tensor(value, like)
}

# The dtype an R value takes as a tensor next to the tensor `like` (see above).
r_dtype <- function(value, like) {
  if (is.integer(value)) return(torch$int64)
  if (is.logical(value)) return(torch$bool)
  if (is_tensor(like) && isTRUE(like$is_floating_point())) like$dtype else torch$get_default_dtype()
}

r_array_tensor <- function(value, like) {
  # One contiguous (C-order, writable) copy; reticulate hands R arrays over
  # column-major and read-only.
  arr <- np$ascontiguousarray(value)
  if (is.null(dim(value))) arr <- arr$reshape(list(length(value)))
  device <- if (is_tensor(like)) like$device else NULL
  call_core(torch$as_tensor(arr, dtype = r_dtype(value, like), device = device))
}

#' Arithmetic, comparison and logic on torch tensors
#'
#' The `Ops` group for tensors: `+ - * / ^ %% %/%`, comparisons and `& | !`,
#' computed by torch with PyTorch's type promotion, so that R code gives what
#' the same expression gives in Python.
#'
#' How an R value enters:
#' \itemize{
#'   \item one number or logical (length 1, no `dim`) is a Python scalar
#'     (`float`, `int` or `bool`), as in Python: it does not raise the
#'     precision of a tensor of its own kind (`x * 2` keeps float32 float32)
#'     but lifts the kind when its own is higher: for an int64 tensor `i`,
#'     `i * 0.5` is float32 (R's `0.5` is a double, a Python float), `i * 2L`
#'     stays int64; `i == 1.9` is `FALSE` for 1; for a boolean tensor `b`,
#'     `b + 2L` is int64 and `b + 2` float32. Comparisons are made in the
#'     promoted dtype, as in torch (`tensor(0.1) == 0.1` is `TRUE` in float32);
#'   \item an R vector or array becomes a tensor on the other operand's
#'     device: doubles in the tensor's dtype when that is floating (so a
#'     float32 tensor plus an R matrix stays float32 and a float64 tensor keeps
#'     every digit of the R values), else in torch's default float dtype
#'     (float32, what `torch.tensor()` makes of Python floats); integers int64,
#'     logicals bool. torch then promotes the two tensors as usual, and
#'     broadcasts them as torch does (an R vector of length n matches the last
#'     dimension; there is no recycling).
#' }
#' An integer or logical `NA` is refused (tensors of those dtypes have none);
#' a double `NA` is `NaN`.
#'
#' @param e1,e2 Tensors, or R numbers, logicals, vectors or arrays.
#' @return A torch tensor.
#' @examplesIf gradlm_available()
#' x <- tensor(matrix(1:4, 2))      # int64
#' x * 2 + 1                        # float32, as torch gives for x * 2.0 + 1.0
#' x * 2L                           # int64
#' x > 2
#' @export
Ops.torch.Tensor <- function(e1, e2) {
  if (missing(e2)) {
    return(switch(.Generic,
      "-" = call_core(py_operator("neg")(e1)),
      "+" = e1,
      "!" = call_core(py_operator("invert")(e1)),
      stop(sprintf("unary %s is not defined for tensors.", .Generic), call. = FALSE)
    ))
  }
  name <- ops_table[.Generic]
  if (is.na(name)) stop(sprintf("%s is not defined for tensors.", .Generic), call. = FALSE)
  like <- if (is_tensor(e1)) e1 else e2
  call_core(py_operator(name)(as_operand(e1, like), as_operand(e2, like)))
}

#' Matrix product of tensors
#'
#' `x %.*% y` is `torch$matmul(x, y)`, for R 4.2, which cannot dispatch
#' `%*%` on Python objects. An R matrix on either side becomes a tensor as in
#' the arithmetic operators ([Ops.torch.Tensor]): doubles in the other
#' operand's dtype when that is floating.
#'
#' @param x,y Tensors (or an R matrix and a tensor).
#' @return A torch tensor.
#' @examplesIf gradlm_available()
#' w <- tensor(matrix(1, 2, 3))
#' tensor(diag(3)) %.*% w$t()
#' @export
`%.*%` <- function(x, y) {
  like <- if (is_tensor(x)) x else y
  if (!is_tensor(like)) stop("%.*% needs a tensor on one side; for R matrices use %*%.", call. = FALSE)
  to_tensor <- function(v) if (inherits(v, "python.builtin.object")) v else r_array_tensor(as_operand(v, like), like)
  call_core(torch$matmul(to_tensor(x), to_tensor(y)))
}

#' Mathematical functions and reductions of tensors
#'
#' R's `Math` and `Summary` groups and [mean()] on a tensor call torch and
#' return tensors; the dtype of the result is torch's (`sqrt()` of an int64
#' tensor is float32, `sum()` of a boolean one int64).
#'
#' `Math`: `abs`, `sign`, `sqrt`, `floor`, `ceiling`, `trunc`,
#' `round(x, digits)` (torch rounds halves to even, as R does), `exp`,
#' `expm1`, `log(x, base)`, `log2`, `log10`, `log1p`, `cos`, `sin`, `tan`,
#' `acos`, `asin`, `atan`, `cosh`, `sinh`, `tanh`, `acosh`, `asinh`,
#' `atanh`, `lgamma`, `digamma`, `trigamma`, and the cumulative `cumsum`,
#' `cumprod`, `cummax`, `cummin` along a 1-D tensor (for more dimensions name
#' the dimension: `torch$cumsum(x, 0L)`). `signif`, `gamma` and the `*pi`
#' functions have no torch counterpart and are refused.
#'
#' `Summary` (`sum`, `prod`, `max`, `min`, `range`, `any`, `all`) and `mean`
#' reduce over all elements to a 0-d tensor, as torch does (`range` gives a
#' 1-D tensor of two); several arguments are reduced together, as in R (the
#' first must be a tensor). `na.rm = TRUE` leaves out `NaN` values. `mean()`
#' of an integer or boolean tensor is computed in torch's default float dtype
#' (float32), as torch's true division promotes. For a reduction along a
#' dimension, use torch: `x$sum(0L)`, `torch$mean(x, dim = 1L)`. A 0-d
#' tensor is not an R value: `as.numeric()`, `as.logical()` or `x$item()`
#' make one (`if (as.logical(any(x > 0)))`).
#'
#' @param x A torch tensor.
#' @param ... `Math`: `base` for `log`, `digits` for `round`; `Summary`:
#'   tensors and R values to reduce together; `mean`: unused.
#' @param na.rm Leave out `NaN` (and R's `NA`) values?
#' @return A torch tensor.
#' @name tensor-math
#' @examplesIf gradlm_available()
#' x <- tensor(c(1, 4, 9))
#' sqrt(x); log(x, base = 3); cumsum(x)
#' sum(x); max(x); mean(x); range(x)
#' as.numeric(sum(x))
NULL

math_table <- c(
  abs = "abs", sign = "sign", sqrt = "sqrt", floor = "floor", ceiling = "ceil", trunc = "trunc",
  exp = "exp", expm1 = "expm1", log2 = "log2", log10 = "log10", log1p = "log1p",
  cos = "cos", sin = "sin", tan = "tan", acos = "acos", asin = "asin", atan = "atan",
  cosh = "cosh", sinh = "sinh", tanh = "tanh", acosh = "acosh", asinh = "asinh", atanh = "atanh",
  lgamma = "lgamma", digamma = "digamma", cumsum = "cumsum", cumprod = "cumprod",
  cummax = "cummax", cummin = "cummin"
)

#' @rdname tensor-math
#' @export
Math.torch.Tensor <- function(x, ...) {
  args <- list(...)
  call_core(switch(.Generic,
    log = {
      base <- if (length(args)) args[[1]] else exp(1)
      if (identical(base, exp(1))) torch$log(x)
      else if (identical(base, 2)) torch$log2(x)
      else if (identical(base, 10)) torch$log10(x)
      else torch$log(x) / log(base)
    },
    round = {
      digits <- if (length(args)) as.integer(args[[1]]) else 0L
      if (digits == 0L) torch$round(x) else torch$round(x, decimals = digits)
    },
    trigamma = torch$polygamma(1L, x),
    cumsum = , cumprod = , cummax = , cummin = {
      if (length(dim(x)) > 1L) {
        stop(sprintf(
          "%s() of a tensor with %d dimensions: name the dimension, e.g. torch$%s(x, 0L) along the first.",
          .Generic, length(dim(x)), .Generic
        ), call. = FALSE)
      }
      out <- torch[[.Generic]](x, 0L)
      if (.Generic %in% c("cummax", "cummin")) out$values else out  # (values, indices)
    },
    {
      fun <- math_table[.Generic]
      if (is.na(fun)) {
        stop(sprintf("%s() has no torch counterpart for tensors; convert with as.array() first.", .Generic), call. = FALSE)
      }
      torch[[fun]](x)
    }
  ))
}

# A tensor without its NaN values (flattened), for na.rm = TRUE.
drop_nan <- function(x) if (isTRUE(x$is_floating_point())) x$masked_select(x$isnan()$logical_not()) else x

#' @rdname tensor-math
#' @export
Summary.torch.Tensor <- function(..., na.rm = FALSE) {
  args <- list(...)
  like <- Find(is_tensor, args)
  # each argument reduced to a list of 0-d tensors (two for range)
  parts <- lapply(args, function(value) {
    if (!is_tensor(value)) {
      if (!is.numeric(value) && !is.logical(value) || is.object(value)) {
        stop(sprintf("%s() of a tensor and a %s.", .Generic, class(value)[1]), call. = FALSE)
      }
      # R's own reduction, then each value as a 0-d tensor next to `like`
      values <- do.call(.Generic, list(value, na.rm = na.rm))
      return(lapply(values, function(v) {
        call_core(torch$as_tensor(as_operand(v, like), dtype = r_dtype(v, like), device = like$device))
      }))
    }
    if (na.rm) value <- drop_nan(value)
    call_core(switch(.Generic,
      range = {
        both <- torch$aminmax(value)  # a named tuple, which reticulate leaves unconverted
        list(both$min, both$max)
      },
      list(torch[[summary_table[[.Generic]]]](value))
    ))
  })
  fold <- function(op, k = 1L) {
    call_core(Reduce(function(a, b) torch[[op]](a, b), lapply(parts, `[[`, k)))
  }
  switch(.Generic,
    range = call_core(torch$stack(list(fold("minimum", 1L), fold("maximum", 2L)))),
    fold(summary_combine[[.Generic]])
  )
}

summary_table <- c(sum = "sum", prod = "prod", max = "max", min = "min", any = "any", all = "all")
summary_combine <- c(sum = "add", prod = "mul", max = "maximum", min = "minimum", any = "logical_or", all = "logical_and")

#' @rdname tensor-math
#' @export
mean.torch.Tensor <- function(x, ..., na.rm = FALSE) {
  if (...length()) {
    stop("mean() of a tensor takes only na.rm; for a mean along a dimension use x$mean(dim) or torch$mean(x, dim = 0L).", call. = FALSE)
  }
  dtype <- if (isTRUE(x$is_floating_point()) || isTRUE(x$is_complex())) NULL else torch$get_default_dtype()
  if (na.rm) call_core(torch$nanmean(x, dtype = dtype)) else call_core(torch$mean(x, dtype = dtype))
}

#' Index tensors from 1, as in R
#'
#' `x[i, j, ...]` counts from 1 like R and the torch package for R: `x[1, ]`
#' is the first row, `x[, 2]` the second column, `x[1:2, ]` the first two
#' rows, `x[-1, ]` all rows but the first, and `x[i]` with one index on a
#' tensor of several dimensions indexes the first (`x[1]` is `x[1, ]`, as in
#' Python's `x[0]`). An index is a missing argument (everything), whole
#' numbers (all positive to keep, all negative to leave out), an R logical
#' vector or a boolean tensor of the dimension's length (`TRUE` and `FALSE`
#' alone stand for every index or none), or, as the only index, a logical
#' array or boolean tensor of `x`'s shape: then `x[mask]` is the 1-D tensor of
#' the selected elements in torch's (row-major) order. Index 0, an index beyond
#' the dimension, a non-whole number and `NA` are errors that name the index
#' and the dimension; so is a tensor of numbers (torch counts from 0, R from
#' 1: pass R numbers, or use `x$index_select()`).
#'
#' `x[[i]]`, `x[[i, j]]` take one number per dimension, counted from 1 (they
#' are `x[i]`, `x[i, j]`: not Python's 0-based `x[i]`, which reticulate's own
#' `[[` would give); `x[["name"]]` is still the attribute.
#'
#' `drop = TRUE` drops each dimension indexed by a single number (as torch for
#' R does, and Python's `x[0]`); no other dimension is dropped, even of
#' extent 1. A range of consecutive indices gives a view of `x`, other indices a copy.
#'
#' `x[i, j] <- value` assigns in place, as `x[i, j] = value` does in Python:
#' every R name bound to the tensor sees the change (a tensor is not copied on
#' modification as R vectors are). `value` is a number (filled in) or a tensor
#' or R array that broadcasts to the selected block; at most one dimension may
#' have an index other than a number or consecutive range.
#'
#' @param x A torch tensor.
#' @param ... One index per dimension (fewer: the remaining are whole).
#' @param drop Drop the dimensions indexed by a single number?
#' @param value A number, tensor or R array.
#' @return `[`, `[[`: a tensor; `[<-`: `x`, modified.
#' @name tensor-index
#' @examplesIf gradlm_available()
#' x <- tensor(matrix(1:6, 2))
#' x[1, ]                 # tensor([1, 3, 5])
#' x[, 2:3]
#' x[1, , drop = FALSE]   # 1 x 3
#' x[x > 2]
#' x[2, 1] <- 0L
NULL

# The arguments in `...` of a `[` method: a list with NULL for a missing one.
index_args <- function(env) {
  n <- eval(quote(...length()), env)
  lapply(seq_len(n), function(k) {
    if (eval(call("missing", as.name(paste0("..", k))), env)) NULL else eval(call("...elt", k), env)
  })
}

# One index for dimension k (of `size`): 0-based positions, and whether it was
# a single number (a dimension that drop = TRUE drops). NULL: the whole dimension.
index_positions <- function(i, size, k) {
  if (is.null(i)) return(NULL)
  where <- sprintf("dimension %d (of size %d)", k, size)
  if (is_tensor(i)) {
    if (!is_bool_tensor(i)) {
      stop(sprintf(
        "the index for %s is a tensor of %s; a tensor index must be boolean. torch counts from 0 and R from 1: pass R numbers (as.numeric(i) + 1) or use x$index_select().",
        where, reticulate::py_str(i$dtype)
      ), call. = FALSE)
    }
    i <- as.vector(tensor_values(i))
  }
  if (is.logical(i)) {
    if (anyNA(i)) stop(sprintf("the logical index for %s contains NA.", where), call. = FALSE)
    if (length(i) == 1L) i <- rep(i, size)
    if (length(i) != size) {
      stop(sprintf("the logical index for %s has length %d; it needs %d.", where, length(i), size), call. = FALSE)
    }
    return(list(pos = which(i) - 1L, one = FALSE))
  }
  if (!is.numeric(i) || is.object(i)) {
    stop(sprintf("the index for %s must be numbers or logicals; got %s.", where, class(i)[1]), call. = FALSE)
  }
  if (length(i) == 0L) return(list(pos = integer(), one = FALSE))
  if (anyNA(i)) stop(sprintf("the index for %s contains NA.", where), call. = FALSE)
  bad <- i[i != trunc(i)]
  if (length(bad)) stop(sprintf("index %s for %s is not a whole number.", format(bad[1]), where), call. = FALSE)
  if (any(i == 0)) {
    stop(sprintf("index 0 for %s: R indices start at 1 (x[1, ] is the first row).", where), call. = FALSE)
  }
  bad <- i[abs(i) > size]
  if (length(bad)) stop(sprintf("index %s is out of range for %s.", format(bad[1]), where), call. = FALSE)
  if (all(i > 0)) return(list(pos = as.integer(i) - 1L, one = length(i) == 1L))
  if (all(i < 0)) return(list(pos = setdiff(seq_len(size), -i) - 1L, one = FALSE))
  stop(sprintf("the index for %s mixes positive and negative numbers.", where), call. = FALSE)
}

# A single index that is a mask of x's whole shape (2 or more dimensions), as a bool tensor; else NULL.
whole_mask <- function(index, shape, x) {
  if (length(index) != 1L || length(shape) < 2L) return(NULL)
  i <- index[[1]]
  if (is_bool_tensor(i) && identical(dim(i), shape)) return(i)
  if (is.logical(i) && identical(as.integer(dim(i)), shape)) {
    if (anyNA(i)) stop("the logical index contains NA.", call. = FALSE)
    return(tensor(i, device = x$device))
  }
  NULL
}

# Per-dimension positions for the indices of x; checks their number.
index_specs <- function(index, shape) {
  if (is.null(shape)) stop("a 0-d tensor has no dimension to index; use x$item() or as.numeric(x).", call. = FALSE)
  if (length(index) > length(shape)) {
    stop(sprintf("%d indices for a tensor of %d dimension(s).", length(index), length(shape)), call. = FALSE)
  }
  Map(index_positions, index, shape[seq_along(index)], seq_along(index))
}

is_range <- function(pos) length(pos) == 0L || all(diff(pos) == 1L)

# x along dimension d (0-based) at the consecutive positions `pos`, as a view.
narrow_to <- function(x, d, pos) x$narrow(d, if (length(pos)) pos[1] else 0L, length(pos))

index_tensor <- function(pos, x) x$new_tensor(as.list(pos), dtype = torch$int64)

#' @rdname tensor-index
#' @export
`[.torch.Tensor` <- function(x, ..., drop = TRUE) {
  index <- index_args(environment())
  shape <- dim(x)
  mask <- whole_mask(index, shape, x)
  if (!is.null(mask)) return(call_core(x$masked_select(mask)))
  specs <- index_specs(index, shape)
  call_core({
    # from the last dimension, so that a dropped one does not move the others
    for (k in rev(seq_along(specs))) {
      s <- specs[[k]]
      if (is.null(s)) next
      d <- k - 1L
      x <- if (s$one && drop) {
        x$select(d, s$pos)
      } else if (is_range(s$pos)) {
        narrow_to(x, d, s$pos)
      } else {
        x$index_select(d, index_tensor(s$pos, x))
      }
    }
    x
  })
}

#' @rdname tensor-index
#' @export
`[[.torch.Tensor` <- function(x, ...) {
  index <- list(...)
  if (length(index) == 1L && is.character(index[[1]])) return(NextMethod())  # an attribute, as reticulate gives
  if (!all(vapply(index, function(i) is.numeric(i) && length(i) == 1L, NA))) {
    stop("x[[...]] takes one number per dimension, counted from 1; use x[...] for ranges and masks.", call. = FALSE)
  }
  do.call(`[.torch.Tensor`, c(list(x), index))
}

#' @rdname tensor-index
#' @export
`[<-.torch.Tensor` <- function(x, ..., value) {
  index <- index_args(environment())
  shape <- dim(x)
  mask <- whole_mask(index, shape, x)
  if (!is.null(mask)) {
    call_core(py_operator("setitem")(x, mask, as_operand(value, x)))
    return(x)
  }
  specs <- index_specs(index, shape)
  picked <- which(vapply(specs, function(s) !is.null(s) && !s$one && !is_range(s$pos), NA))
  if (length(picked) > 1L) {
    stop("x[...] <- value: at most one dimension may have an index other than a number or a consecutive range; assign in steps.", call. = FALSE)
  }
  call_core({
    # the selected block as a view of x (select/narrow), except the picked dimension
    block <- x
    for (k in rev(seq_along(specs))) {
      s <- specs[[k]]
      if (is.null(s) || k %in% picked) next
      block <- if (s$one) block$select(k - 1L, s$pos) else narrow_to(block, k - 1L, s$pos)
    }
    scalar <- !inherits(value, "python.builtin.object") && length(value) == 1L && is.null(dim(value))
    value <- as_operand(value, block)
    if (length(picked)) {
      d <- picked - 1L - sum(vapply(specs[seq_len(picked - 1L)], function(s) !is.null(s) && s$one, NA))
      idx <- index_tensor(specs[[picked]]$pos, block)
      if (scalar) {
        block$index_fill_(d, idx, value)
      } else {
        target <- dim(block)
        target[d + 1L] <- length(specs[[picked]]$pos)
        block$index_copy_(d, idx, torch$broadcast_to(value, as.list(target))$to(dtype = block$dtype))
      }
    } else if (scalar) {
      block$fill_(value)
    } else {
      block$copy_(value)
    }
  })
  x
}

#' @rdname torch
#' @export
`$.torch.Tensor` <- function(x, name) {
  value <- NextMethod()
  if (inherits(value, "python.builtin.builtin_function_or_method")) whole_numbers_as_int(value) else value
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
#' @examplesIf gradlm_available()
#' tensor(matrix(c(1, 2, 3, 4), 2))
#' tensor(1:3)$dtype
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
#' @examplesIf gradlm_available()
#' as.array(tensor(matrix(1:6, 2)))
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

#' @rdname tensor-conversion
#' @export
as.integer.torch.Tensor <- function(x, ...) as.integer(as.vector(tensor_values(x)))

#' @rdname tensor-conversion
#' @export
as.logical.torch.Tensor <- function(x, ...) as.logical(as.vector(tensor_values(x)))

#' Dimensions, length, transpose and printing of tensors
#'
#' @param x A torch tensor.
#' @param ... Unused.
#' @return `dim()`: an integer vector (`NULL` for a 0-d tensor); `length()`:
#'   the number of elements; `t()`: the transposed tensor (`x$t()`);
#'   `print()`: `x`, invisibly.
#' @name tensor-methods
#' @examplesIf gradlm_available()
#' x <- tensor(matrix(1:6, 2))
#' dim(x); length(x); t(x)
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
