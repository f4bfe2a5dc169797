# What Python's torch gives for the expression `code`, with the tensors in `...`
# bound to their names: the reference for the R methods.
python_gives <- function(code, ...) {
  reticulate::import_builtins()$eval(code, py_names(torch = reticulate::import("torch")), py_names(...))
}

# A Python dict of the named arguments (reticulate::dict() would take a key
# that names an R variable holding a Python object, such as `torch`, as that object).
py_names <- function(...) {
  args <- list(...)
  reticulate::py_dict(as.list(names(args)), unname(args))
}

dtype_of <- function(x) reticulate::py_str(x$dtype)

# Same dtype, shape and values (NaN where NaN).
expect_same_tensor <- function(actual, expected) {
  expect_true(inherits(actual, "torch.Tensor"))
  expect_identical(dtype_of(actual), dtype_of(expected))
  expect_identical(dim(actual), dim(expected))
  expect_identical(as.array(actual), as.array(expected))
}

test_that("tensor() keeps dims and picks torch's dtypes", {
  skip_if_no_gradlm()
  m <- matrix(c(1.5, 2, 3, 4, 5, 6), 2)
  x <- tensor(m)
  expect_equal(dim(x), c(2L, 3L))
  expect_equal(length(x), 6L)
  expect_equal(as.matrix(x), m)
  expect_equal(reticulate::py_str(x$dtype), "torch.float32")
  expect_equal(reticulate::py_str(tensor(1:3)$dtype), "torch.int64")
  expect_equal(reticulate::py_str(tensor(c(TRUE, FALSE))$dtype), "torch.bool")
  expect_equal(reticulate::py_str(tensor(m, dtype = "float64")$dtype), "torch.float64")
  expect_equal(dim(tensor(array(1:24 + 0, c(2, 3, 4)))), c(2L, 3L, 4L))
  expect_equal(as.array(tensor(array(1:24 + 0, c(2, 3, 4)))), array(1:24 + 0, c(2, 3, 4)))
  expect_equal(as.numeric(tensor(c(1, 2, 3))), c(1, 2, 3))
  expect_equal(as.matrix(tensor(data.frame(a = 1:2, b = c(3, 4)))), matrix(c(1, 2, 3, 4), 2, dimnames = NULL))
  expect_error(tensor(c(1L, NA)), "integer and logical tensors cannot hold")
  expect_error(tensor(letters), "x must be numeric")
})

test_that("Ops with R numbers and matrices keep a float32 tensor float32", {
  skip_if_no_gradlm()
  m <- matrix(c(1, 2, 3, 4), 2)
  x <- tensor(m)
  expect_equal(as.matrix(x * 2 + 1), m * 2 + 1)
  expect_equal(as.matrix(2 - x), 2 - m)
  expect_equal(as.matrix(x / x), m / m)
  expect_equal(as.matrix(x^2), m^2)
  expect_equal(as.matrix(-x), -m)
  expect_equal(as.matrix(x %% 3), m %% 3)
  expect_equal(as.matrix(x > 2), m > 2)
  expect_equal(as.matrix(x == m), m == m)
  expect_equal(as.matrix((x > 1) & (x < 4)), (m > 1) & (m < 4))
  expect_equal(as.matrix(!(x > 2)), !(m > 2))
  expect_equal(reticulate::py_str((x * 2)$dtype), "torch.float32")
  expect_equal(reticulate::py_str((x + m)$dtype), "torch.float32")
})

test_that("%.*% is the matrix product, and t() transposes", {
  skip_if_no_gradlm()
  a <- matrix(c(1, 2, 3, 4, 5, 6), 2)
  b <- matrix(c(1, 0, 2, 1, 0, 1), 3)
  expect_equal(as.matrix(tensor(a) %.*% tensor(b)), a %*% b)
  expect_equal(as.matrix(tensor(a) %.*% b), a %*% b)
  expect_equal(as.matrix(t(tensor(a))), t(a))
  expect_output(print(tensor(a)), "tensor\\(\\[\\[1\\., 3\\., 5\\.\\]")
})

test_that("integer tensor times 0.5 promotes to float as in PyTorch (issue 13)", {
  skip_if_no_gradlm()
  i <- tensor(1:3)
  expect_same_tensor(i * 0.5, python_gives("i * 0.5", i = i))
  expect_equal(as.numeric(i * 0.5), c(0.5, 1, 1.5))
  expect_same_tensor(0.5 * i, python_gives("0.5 * i", i = i))
  expect_same_tensor(i * 2L, python_gives("i * 2", i = i))
  expect_same_tensor(i * 2, python_gives("i * 2.0", i = i))
  expect_same_tensor(i / 2L, python_gives("i / 2", i = i))
  expect_same_tensor(i^2, python_gives("i ** 2.0", i = i))
  expect_same_tensor(i + 0.5 - 1L, python_gives("i + 0.5 - 1", i = i))
  x64 <- tensor(c(1, 2), dtype = "float64")
  expect_same_tensor(x64 * 0.1, python_gives("x * 0.1", x = x64))
})

test_that("comparing an integer tensor with 1.9 is exact as in PyTorch (issue 13)", {
  skip_if_no_gradlm()
  i <- tensor(1:3)
  expect_same_tensor(i == 1.9, python_gives("i == 1.9", i = i))
  expect_identical(as.logical(i == 1.9), c(FALSE, FALSE, FALSE))
  expect_same_tensor(i < 1.5, python_gives("i < 1.5", i = i))
  expect_same_tensor(2.5 > i, python_gives("2.5 > i", i = i))
  x <- tensor(c(0.1, 0.2))
  expect_same_tensor(x == 0.1, python_gives("x == 0.1", x = x))
})

test_that("a boolean tensor plus 2 promotes as in PyTorch, not stays boolean (issue 13)", {
  skip_if_no_gradlm()
  b <- tensor(c(TRUE, FALSE))
  expect_same_tensor(b + 2L, python_gives("b + 2", b = b))
  expect_same_tensor(b + 2, python_gives("b + 2.0", b = b))
  expect_identical(as.numeric(b + 2L), c(3, 2))
  expect_same_tensor(b & TRUE, python_gives("b & True", b = b))
  expect_error(tensor(1:3) + NA_integer_, "integer or logical NA")
})

test_that("R vectors in arithmetic enter as tensors by PyTorch's promotion (issue 13)", {
  skip_if_no_gradlm()
  i <- tensor(1:3)
  # R doubles next to a non-float tensor: the default float dtype, as torch.tensor() of floats
  expect_same_tensor(i + c(0.5, 1.5, 2.5), python_gives("i + torch.tensor([0.5, 1.5, 2.5])", i = i))
  expect_same_tensor(i * c(2L, 3L, 4L), python_gives("i * torch.tensor([2, 3, 4])", i = i))
  # next to a float64 tensor, the R digits are kept
  x64 <- tensor(c(1, 2), dtype = "float64")
  expect_same_tensor(x64 + c(0.1, 0.2), python_gives("x + torch.tensor([0.1, 0.2], dtype=torch.float64)", x = x64))
  # a vector broadcasts along the last dimension, as in torch
  m <- tensor(matrix(1:6, 2))
  expect_same_tensor(m == c(1L, 3L, 5L), python_gives("m == torch.tensor([1, 3, 5])", m = m))
})

test_that("x[1, ] is the first row, counted from 1 (issue 13)", {
  skip_if_no_gradlm()
  x <- tensor(matrix(c(1, 2, 3, 4, 5, 6), 2))
  expect_same_tensor(x[1, ], python_gives("x[0]", x = x))
  expect_same_tensor(x[, 2], python_gives("x[:, 1]", x = x))
  expect_same_tensor(x[1:2, ], python_gives("x[0:2]", x = x))
  expect_same_tensor(x[, 2:3], python_gives("x[:, 1:3]", x = x))
  expect_same_tensor(x[-1, ], python_gives("x[1:]", x = x))
  expect_same_tensor(x[, c(1, 3)], python_gives("x[:, [0, 2]]", x = x))
  expect_same_tensor(x[2, 3], python_gives("x[1, 2]", x = x))
  expect_same_tensor(x[], x)
  expect_identical(as.matrix(x[1:2, c(3, 1)]), matrix(c(5, 6, 1, 2), 2))
  a <- tensor(array(1:24, c(2, 3, 4)))
  expect_same_tensor(a[2, , -1], python_gives("a[1, :, 1:]", a = a))
})

test_that("x[1L] on a matrix is the first row, not the second (issue 13)", {
  skip_if_no_gradlm()
  x <- tensor(matrix(c(1, 2, 3, 4, 5, 6), 2))
  expect_same_tensor(x[1L], python_gives("x[0]", x = x))
  expect_same_tensor(x[1], python_gives("x[0]", x = x))
  expect_same_tensor(tensor(c(10, 20, 30))[3], python_gives("v[2]", v = tensor(c(10, 20, 30))))
})

test_that("an out-of-range or zero index is an error naming the index and the dimension (issue 13)", {
  skip_if_no_gradlm()
  x <- tensor(matrix(c(1, 2, 3, 4, 5, 6), 2))
  expect_error(x[3, ], "index 3 is out of range for dimension 1 \\(of size 2\\)")
  expect_error(x[, 4], "index 4 is out of range for dimension 2 \\(of size 3\\)")
  expect_error(x[-3, ], "index -3 is out of range for dimension 1")
  expect_error(x[0, ], "index 0 for dimension 1.*start at 1")
  expect_error(x[1.5, ], "not a whole number")
  expect_error(x[NA_real_, ], "contains NA")
  expect_error(x[c(-1, 2), ], "mixes positive and negative")
  expect_error(x[1, 1, 1], "3 indices for a tensor of 2 dimension")
  expect_error(x[c(TRUE, FALSE, TRUE), ], "has length 3; it needs 2")
  expect_error(x[tensor(1L), ], "must be boolean.*counts from 0")
  expect_error(sum(x)[1], "0-d tensor")
})

test_that("logical masks index tensors, as R vectors or boolean tensors (issue 13)", {
  skip_if_no_gradlm()
  x <- tensor(matrix(c(1, 2, 3, 4, 5, 6), 2))
  expect_same_tensor(x[x > 2], python_gives("x[x > 2]", x = x))
  expect_same_tensor(x[as.matrix(x) > 2], python_gives("x[x > 2]", x = x))
  expect_same_tensor(x[c(FALSE, TRUE), ], python_gives("x[[False, True]]", x = x))
  expect_same_tensor(x[, tensor(c(TRUE, FALSE, TRUE))], python_gives("x[:, [True, False, True]]", x = x))
  expect_identical(dim(x[FALSE, ]), c(0L, 3L))
})

test_that("drop = FALSE keeps a dimension indexed by one number (issue 13)", {
  skip_if_no_gradlm()
  x <- tensor(matrix(c(1, 2, 3, 4, 5, 6), 2))
  expect_same_tensor(x[1, , drop = FALSE], python_gives("x[0:1]", x = x))
  expect_same_tensor(x[2, 3, drop = FALSE], python_gives("x[1:2, 2:3]", x = x))
  # only a dimension indexed by one number is dropped, never one of extent 1 (R's matrices drop it)
  expect_identical(dim(x[c(TRUE, FALSE), ]), c(1L, 3L))
  expect_identical(dim(tensor(matrix(1:3, 1))[, 2:3]), c(1L, 2L))
})

test_that("x[i, j] <- value assigns in place, as in Python (issue 13)", {
  skip_if_no_gradlm()
  x <- torch$zeros(2L, 3L)
  y <- python_gives("x.clone()", x = x)
  x[1, ] <- 5
  x[, c(1, 3)] <- tensor(c(7, 8))
  x[2, 2] <- -1
  reticulate::import_builtins()$exec(
    "y[0] = 5\ny[:, [0, 2]] = torch.tensor([7., 8.])\ny[1, 1] = -1",
    py_names(torch = reticulate::import("torch"), y = y)
  )
  expect_same_tensor(x, y)
  alias <- x
  x[x > 6] <- 0
  expect_identical(as.matrix(alias), matrix(c(0, 0, 5, -1, 0, 0), 2))
  expect_error(x[3, ] <- 1, "out of range")
})

test_that("sum, max, min, prod, range, any, all reduce tensors as torch does (issue 13)", {
  skip_if_no_gradlm()
  x <- tensor(matrix(c(1, 2, 3, 4, 5, 6), 2))
  i <- tensor(1:4)
  b <- tensor(c(TRUE, FALSE, TRUE))
  expect_same_tensor(sum(x), python_gives("torch.sum(x)", x = x))
  expect_same_tensor(sum(i), python_gives("torch.sum(i)", i = i))
  expect_same_tensor(sum(b), python_gives("torch.sum(b)", b = b))
  expect_same_tensor(prod(i), python_gives("torch.prod(i)", i = i))
  expect_same_tensor(max(x), python_gives("torch.max(x)", x = x))
  expect_same_tensor(min(i), python_gives("torch.min(i)", i = i))
  expect_same_tensor(range(x), python_gives("torch.stack([x.min(), x.max()])", x = x))
  expect_same_tensor(any(x > 5), python_gives("torch.any(x > 5)", x = x))
  expect_same_tensor(all(x > 0), python_gives("torch.all(x > 0)", x = x))
  # several arguments are reduced together, as in R
  expect_equal(as.numeric(sum(x, i)), 31)
  expect_equal(as.numeric(max(x, 10)), 10)
  expect_equal(as.numeric(min(i, x, 0.5)), 0.5)
  expect_equal(as.numeric(range(i, x)), c(1, 6))
  expect_true(as.logical(any(b, FALSE)))
  # NaN propagates; na.rm = TRUE leaves it out
  n <- tensor(c(1, NaN, 3))
  expect_true(is.nan(as.numeric(sum(n))))
  expect_equal(as.numeric(sum(n, na.rm = TRUE)), 4)
  expect_equal(as.numeric(max(n, na.rm = TRUE)), 3)
})

test_that("mean of a tensor is torch's mean, not NA (issue 13)", {
  skip_if_no_gradlm()
  x <- tensor(matrix(c(1, 2, 3, 4, 5, 6), 2))
  expect_same_tensor(mean(x), python_gives("torch.mean(x)", x = x))
  i <- tensor(1:4)
  expect_same_tensor(mean(i), python_gives("torch.mean(i.float())", i = i))
  expect_equal(as.numeric(mean(tensor(c(1, NaN, 3)), na.rm = TRUE)), 2)
})

test_that("exp, log, sqrt and the other Math functions call torch (issue 13)", {
  skip_if_no_gradlm()
  x <- tensor(c(0.5, 1, 4, 9))
  i <- tensor(c(1L, 4L, 9L))
  for (fun in c("exp", "log", "sqrt", "abs", "floor", "cos", "sin", "tanh", "log1p", "expm1", "lgamma", "sign")) {
    expect_same_tensor(get(fun)(x), python_gives(sprintf("torch.%s(x)", fun), x = x))
  }
  expect_same_tensor(ceiling(x), python_gives("torch.ceil(x)", x = x))
  expect_same_tensor(sqrt(i), python_gives("torch.sqrt(i)", i = i))
  expect_same_tensor(log(x, 2), python_gives("torch.log2(x)", x = x))
  expect_same_tensor(log(x, base = 10), python_gives("torch.log10(x)", x = x))
  expect_same_tensor(log(x, base = 3), python_gives("torch.log(x) / math.log(3)", x = x, math = reticulate::import("math")))
  expect_same_tensor(round(x / 3, 2), python_gives("torch.round(x / 3, decimals=2)", x = x))
  expect_same_tensor(cumsum(i), python_gives("torch.cumsum(i, 0)", i = i))
  expect_same_tensor(cummax(tensor(c(1, 3, 2))), python_gives("torch.cummax(v, 0).values", v = tensor(c(1, 3, 2))))
  expect_error(cumsum(tensor(matrix(1, 2, 2))), "name the dimension")
  expect_error(signif(x, 2), "no torch counterpart")
})

test_that("0-d results convert back to R values", {
  skip_if_no_gradlm()
  x <- tensor(c(1, 2, 3))
  expect_identical(as.numeric(sum(x)), 6)
  expect_identical(as.logical(any(x > 2)), TRUE)
  expect_identical(as.integer(tensor(1:3)), 1:3)
})

test_that("x[[1]] on a tensor counts from 1, not from 0 (issue 13)", {
  skip_if_no_gradlm()
  x <- tensor(matrix(c(1, 2, 3, 4, 5, 6), 2))
  expect_same_tensor(x[[1]], python_gives("x[0]", x = x))
  expect_same_tensor(x[[2, 3]], python_gives("x[1, 2]", x = x))
  expect_error(x[[3]], "index 3 is out of range for dimension 1")
  expect_error(x[[1:2]], "one number per dimension")
  expect_identical(reticulate::py_str(x[["dtype"]]), "torch.float32")
})

test_that("round() of an integer tensor and mean() with extra arguments", {
  skip_if_no_gradlm()
  i <- tensor(1:3)
  expect_same_tensor(round(i), python_gives("torch.round(i)", i = i))
  expect_error(mean(tensor(c(1, 2)), 0.1), "takes only na.rm")
})
