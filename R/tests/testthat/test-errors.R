test_that("bad input is refused with a message naming the argument", {
  skip_if_no_gradlm()
  expect_error(gd_lm(mangoes ~ apples, data = crops), "column\\(s\\) 'apples' of the formula are not in data")
  expect_error(gd_lm(mangoes ~ temperature, data = crops[0, ]), "data has 0 rows")
  expect_error(gd_lm(mangoes ~ 1, data = crops), "the formula has no predictors")
  expect_error(gd_lm(mangoes ~ temperature), "data is required")
  expect_error(gd_lm(region ~ temperature, data = crops), "response must be numeric")
  expect_error(gd_lm(mangoes ~ temperature, data = crops, lr = -1), "lr must be > 0")
  expect_error(gd_lm(mangoes ~ temperature, data = crops, optimizer = "lbfgs"),
               "optimizer must be one of 'sgd', 'adam'")
  expect_error(gd_lm(mangoes ~ temperature, data = crops, epochs = 2.5), "epochs must be a whole number")
  x <- as.matrix(crops[, 2:4])
  x[4, 2] <- NA
  expect_error(fit(linear_model(3, 2), x, as.matrix(crops[, 5:6]), epochs = 1, lr = 1),
               "x contains 1 NA, NaN or infinite value\\(s\\), the first in row 4")
  expect_error(fit(linear_model(3, 2), crops, crops[, 5:6], epochs = 1, lr = 1),
               "x has non-numeric column\\(s\\) 'region'")
  expect_error(fit(linear_model(3, 2), as.matrix(crops[, 2:4]), crops$mangoes, epochs = 1, lr = 1),
               "y is 1-D .* but the model has 2 outputs")
  expect_error(mse(tensor(matrix(c(1, 2))), tensor(c(1, 2))), "pred has shape \\(2, 1\\) but target has shape \\(2,\\)")
  expect_error(linear_model(3, 2, init = "xavier"), "init must be one of 'torch', 'randn', 'zeros'")
  # the session goes on, and Python's traceback noise is gone
  msg <- tryCatch(lstsq(matrix(1, 3, 1), c(1, 2)), error = conditionMessage)
  expect_match(msg, "^X and y have different numbers of rows \\(3 and 2\\)")
  expect_false(grepl("Traceback|py_call_impl", msg))
})

test_that("NA rows follow na.action as in lm()", {
  skip_if_no_gradlm()
  d <- crops
  d$rainfall[c(2, 5)] <- NA
  f <- gd_lm(mangoes ~ temperature + rainfall, data = d)
  expect_equal(nobs(f), 13L)
  expect_equal(coef(f), coef(lm(mangoes ~ temperature + rainfall, data = d)), tolerance = 1e-8)
  expect_error(gd_lm(mangoes ~ temperature + rainfall, data = d, na.action = na.fail), "missing values")
  expect_true(is.na(predict(f, d[2, ])))
})
