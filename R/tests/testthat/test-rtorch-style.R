# Seed 004: the R translation of the from-scratch tutorial, written rTorch-style,
# runs as written with library(gradlm).

test_that("the tutorial's code runs as written, in float32", {
  skip_if_no_gradlm()
  inputs = np$array(list(
                       list(73, 67, 43),
                       list(91, 88, 64),
                       list(87, 134, 58),
                       list(102, 43, 37),
                       list(69, 96, 70),
                       list(73, 67, 43),
                       list(91, 88, 64),
                       list(87, 134, 58),
                       list(102, 43, 37),
                       list(69, 96, 70),
                       list(73, 67, 43),
                       list(91, 88, 64),
                       list(87, 134, 58),
                       list(102, 43, 37),
                       list(69, 96, 70)
                     ), dtype='float32')
  targets = np$array(list(
                      list(56, 70),
                      list(81, 101),
                      list(119, 133),
                      list(22, 37),
                      list(103, 119),
                      list(56, 70),
                      list(81, 101),
                      list(119, 133),
                      list(22, 37),
                      list(103, 119),
                      list(56, 70),
                      list(81, 101),
                      list(119, 133),
                      list(22, 37),
                      list(103, 119)
                      ), dtype='float32')
  inputs = torch$from_numpy(inputs)
  targets = torch$from_numpy(targets)
  expect_equal(reticulate::py_str(inputs$dtype), "torch.float32")

  torch$manual_seed(42L)
  w = torch$randn(2L, 3L, requires_grad=TRUE)
  b = torch$randn(2L, requires_grad=TRUE)

  model <- function(x) {
    wt <- w$t()
    return(torch$add(torch$mm(x, wt), b))
  }

  mse = function(t1, t2) {
    diff <- torch$sub(t1, t2)
    mul <- torch$sum(torch$mul(diff, diff))
    return(torch$div(mul, diff$numel()))
  }

  preds = model(inputs)
  loss = mse(preds, targets)
  first <- loss$item()
  loss$backward()
  expect_equal(dim(w$grad), c(2L, 3L))
  for (i in 1:100) {
    preds = model(inputs)
    loss = mse(preds, targets)
    loss$backward()
    with(torch$no_grad(), {
      w$data <- torch$sub(w$data, torch$mul(w$grad, torch$scalar_tensor(1e-5)))
      b$data <- torch$sub(b$data, torch$mul(b$grad, torch$scalar_tensor(1e-5)))
      w$grad$zero_()
      b$grad$zero_()
    })
  }
  expect_lt(mse(model(inputs), targets)$item(), first / 2)
  # the tutorial's mse is gradlm's mse
  expect_equal(mse(preds, targets)$item(), gradlm::mse(preds, targets)$item(), tolerance = 1e-6)
})

test_that("the built-ins version: optim.SGD through gradlm's fit()", {
  skip_if_no_gradlm()
  x <- as.matrix(crops[, c("temperature", "rainfall", "humidity")])
  y <- as.matrix(crops[, c("mangoes", "oranges")])
  torch$manual_seed(0L)
  model <- linear_model(3, 2)
  opt <- torch$optim$SGD(model$parameters(), lr = 1e-5)
  h <- fit(model, x, y, epochs = 100, optimizer = opt, batch_size = 5, seed = 1)
  expect_equal(h$settings$optimizer, "SGD")
  expect_lt(h$loss[100], h$loss[1] / 2)
})

test_that("whole-number doubles are accepted as sizes: torch$randn(2, 3), x$view(3, 2) (issue 13)", {
  skip_if_no_gradlm()
  py_names <- function(...) reticulate::py_dict(as.list(names(list(...))), unname(list(...)))
  py <- function(code, ...) reticulate::import_builtins()$eval(code, py_names(torch = reticulate::import("torch")), py_names(...))
  same <- function(actual, expected) {
    expect_identical(reticulate::py_str(actual$dtype), reticulate::py_str(expected$dtype))
    expect_identical(as.array(actual), as.array(expected))
  }
  torch$manual_seed(0)
  w <- torch$randn(2, 3)
  same(w, py("(torch.manual_seed(0), torch.randn(2, 3))[1]"))
  same(torch$zeros(2L, 3), py("torch.zeros(2, 3)"))
  same(torch$ones(c(2, 3)), py("torch.ones((2, 3))"))
  same(w$view(3, 2), py("w.view(3, 2)", w = w))
  same(w$reshape(c(3, -1)), py("w.reshape(3, -1)", w = w))
  same(w$sum(dim = 1), py("w.sum(dim=1)", w = w))
  same(torch$randint(0, 10, c(2, 3), generator = torch$Generator()$manual_seed(1L)),
       py("torch.randint(0, 10, (2, 3), generator=torch.Generator().manual_seed(1))"))
  # a call that works as written is not changed: an R double stays a float
  same(torch$full(c(2, 3), 1), py("torch.full((2, 3), 1.0)"))
  same(torch$arange(0, 3), py("torch.arange(0.0, 3.0)"))
  # torch's own TypeError still reaches R; the functions are still Python's
  expect_error(torch$randn("a"), "must be tuple of ints")
  expect_error(w$view(1.5, 4), "view")
  expect_true(reticulate::import_builtins()$callable(torch$mm))
  expect_identical(reticulate::py_str(torch$float32), "torch.float32")
})
