# The README's "Failure modes" table, from R: each row gives an R error that
# names the argument and the fix, and the session goes on.

x <- as.matrix(crops[, c("temperature", "rainfall", "humidity")])
y <- as.matrix(crops[, c("mangoes", "oranges")])

test_that("NA, NaN and Inf are reported with R's row numbers", {
  skip_if_no_gradlm()
  xn <- x
  xn[6, 3] <- NA
  expect_error(gd_lm(xn, y), "x contains 1 NA, NaN or infinite value\\(s\\), the first in row 6")
  yi <- y
  yi[9, 2] <- Inf
  expect_error(lstsq(x, yi), "y contains 1 NA, NaN or infinite value\\(s\\), the first in row 9")
  expect_error(numpy_gd(xn, y, epochs = 1, lr = 0.1), "first in row 6")
  d <- crops
  d$humidity[11] <- Inf  # na.action removes NA, not Inf
  expect_error(gd_lm(mangoes ~ humidity, data = d), "x contains 1 NA, NaN or infinite value\\(s\\), the first in row 11")
  expect_error(suggest_lr(xn), "first in row 6")
})

test_that("shapes, types and empty data are refused with the fix", {
  skip_if_no_gradlm()
  expect_error(gd_lm(x, y[1:5, ]), "different numbers of rows \\(15 and 5\\)")
  expect_error(gd_lm(x[0, ], y[0, ]), "x is empty; pass at least one row")
  expect_error(gd_lm(mangoes ~ temperature, data = crops[0, ]), "data has 0 rows")
  expect_error(gd_lm(crops[, 1:3], y), "x has non-numeric column\\(s\\) 'region'")
  expect_error(gd_lm(matrix(letters[1:6], 3), 1:3), "x must be numeric; got matrix")
  expect_error(gd_lm(mangoes ~ apples, data = crops), "column\\(s\\) 'apples' of the formula are not in data")
  expect_error(fit(linear_model(3, 2), x, y[, 1], epochs = 1, lr = 0.1), "y is 1-D .* but the model has 2 outputs")
  expect_error(predict(linear_model(3, 2), x[, 1:2]), "X has 2 feature\\(s\\), but the model expects 3")
  f <- gd_lm(x, y)
  expect_error(predict(f, x[, 1:2]), "newdata has 2 column\\(s\\), but the model was fitted with 3")
})

test_that("an infinite value in newdata is named by its row counted from 1, not the core's 0-based row of X", {
  skip_if_no_gradlm()
  # (issue 13 review: predict() said "X contains 1 NaN or infinite value(s), the first in row 2" for row 3)
  f <- gd_lm(mpg ~ wt + hp, data = mtcars)
  nd <- mtcars[1:5, ]
  nd$wt[3] <- Inf
  expect_error(predict(f, nd), "newdata has 1 row\\(s\\) with infinite values, the first row 3")
  m <- gd_lm(as.matrix(mtcars[, c("wt", "hp")]), mtcars$mpg)
  x2 <- as.matrix(mtcars[1:4, c("wt", "hp")])
  x2[4, 2] <- -Inf
  expect_error(predict(m, x2), "the first row 4")
  x2[4, 2] <- NA  # a row with NA predicts NA, as in lm()
  expect_equal(unname(is.na(predict(m, x2))), c(FALSE, FALSE, FALSE, TRUE))
})

test_that("a text column in newdata where the fit had a number gets lm()'s message, not a contrasts error", {
  skip_if_no_gradlm()
  # (new-user review: "contrasts can be applied only to factors with 2 or more levels")
  f <- gd_lm(mpg ~ wt + hp, data = mtcars)
  expect_error(predict(f, data.frame(wt = "a", hp = 3)), "variable 'wt' was fitted with type \"numeric\"")
})

test_that("the core's messages reach R in gd_lm's argument names", {
  skip_if_no_gradlm()
  # (new-user review: "sample_weight trains full batch ...: leave batch_size=None and fast unset")
  err <- tryCatch(gd_lm(mpg ~ wt, mtcars, batch_size = 8, weights = cyl), error = conditionMessage)
  expect_match(err, "a fit with weights trains full batch", fixed = TRUE)
  expect_match(err, "batch_size = NULL", fixed = TRUE)
  expect_false(grepl("sample_weight|None", err))
})

test_that("settings out of range name the valid values", {
  skip_if_no_gradlm()
  expect_error(gd_lm(x, y, epochs = 0), "epochs must be >= 1; got 0")
  expect_error(gd_lm(x, y, lr = 0), "lr must be > 0")
  expect_error(gd_lm(x, y, lr = NaN), "lr must be finite")
  expect_error(gd_lm(x, y, batch_size = 0), "batch_size must be >= 1")
  expect_error(gd_lm(x, y, optimizer = "lbfgs"), "optimizer must be one of 'sgd', 'adam'")
  expect_error(gd_lm(x, y, init = "xavier"), "init must be one of 'torch', 'randn', 'zeros'")
  expect_error(gd_lm(x, y, on_divergence = "stop"), "on_divergence must be one of 'raise', 'warn', 'ignore'")
  expect_error(gd_lm(x, y, lr = "fast"), "lr must be a number or 'auto'")
  expect_error(gd_lm(x, y, epochs = "many"), "epochs must be a whole number or 'auto'")
  expect_error(gd_lm(x, y, tol = "tight"), "tol must be a number or 'auto'")
  expect_error(gd_lm(x, y, momentum = 1), "momentum must be below 1")
  # batch_size above n: one batch of all rows
  f <- gd_lm(x, y, epochs = 3, lr = 0.1, batch_size = 100, seed = 0, tol = NULL)
  expect_equal(length(f$history$loss), 3L)
})

test_that("divergence stops with the stable learning rate, or warns", {
  skip_if_no_gradlm()
  bound <- suggest_lr(x, n_outputs = 2)
  expect_equal(bound, 2 / max(eigen(2 / (15 * 2) * crossprod(cbind(x, 1)))$values), tolerance = 1e-10)
  # on the raw columns (standardized, the default, lr 0.01 would be stable)
  msg <- tryCatch(gd_lm(x, y, epochs = 500, lr = 0.01, standardize = FALSE), error = conditionMessage)
  expect_match(msg, "^training diverged at epoch [0-9]+")
  expect_match(msg, sprintf("stable for lr < %s", signif(bound, 4)), fixed = TRUE)
  m <- linear_model(3, 2)
  expect_warning(h <- fit(m, x, y, epochs = 500, lr = 0.01, on_divergence = "warn"), "training diverged")
  expect_equal(h$stop_reason, "diverged")
  expect_true(all(is.finite(h$weight)))
  expect_equal(as.matrix(m$weight$detach()$numpy()), h$weight)
})

test_that("weights: negative ones and mini-batches are refused with the fix", {
  skip_if_no_gradlm()
  expect_error(gd_lm(mpg ~ wt, data = mtcars, weights = c(1, 1, -1, rep(1, 29))),
               "weights must be finite and >= 0; 1 are not, the first in row 3")
  expect_error(gd_lm(mpg ~ wt, data = mtcars, weights = 1 / disp, batch_size = 8),
               "a fit with weights trains full batch on the data's moments")
})
