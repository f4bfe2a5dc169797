test_that("a saved gd_lm loads with its coefficients, names and predictions", {
  skip_if_no_gradlm()
  f <- gd_lm(mangoes ~ region + temperature + rainfall, data = crops, epochs = 300, lr = 0.2,
             standardize = TRUE, seed = 0)
  path <- tempfile(fileext = ".safetensors")
  expect_identical(save_model(f, path), path)
  g <- load_model(path)
  expect_s3_class(g, "gd_lm")
  expect_identical(coef(g), coef(f))
  expect_identical(predict(g, crops[3:7, ]), predict(f, crops[3:7, ]))
  expect_equal(nobs(g), 15L)
  expect_identical(g$history$loss, f$history$loss)
  expect_equal(glance(g)$gap, glance(f)$gap)
  expect_error(fitted(g), "holds no training data")
  expect_error(residuals(g), "holds no training data")
  expect_error(augment(g), "holds no training data")
  expect_equal(nrow(augment(g, newdata = crops[1:2, ])), 2L)
  expect_output(print(summary(g)), "R-squared")
  expect_error(save_model(g, path), "loaded from a file")
})

test_that("linear models and matrix fits round-trip; other files are refused", {
  skip_if_no_gradlm()
  path <- tempfile(fileext = ".safetensors")
  m <- linear_model(3, 2)
  save_model(m, path)
  expect_equal(load_model(path)$weight$detach()$numpy(), m$weight$detach()$numpy())
  x <- as.matrix(crops[, 2:4])
  f <- gd_lm(x, as.matrix(crops[, 5:6]), epochs = 50, lr = 0.5, standardize = TRUE, seed = 1)
  save_model(f, path)
  g <- load_model(path)
  expect_identical(predict(g, x), predict(f, x))
  # columns are matched by name
  expect_identical(predict(g, crops), predict(f, x))
  bad <- tempfile()
  saveRDS(f, bad)
  expect_error(load_model(bad), "not a gradlm model file")
  expect_error(save_model(list(), path), "must be a gd_lm fit, a linear_model\\(\\) or a GDRegressor")
  expect_error(load_model(c("a", "b")), "path must be one file name")
})

test_that("a model file's formula never runs code, on load or at predict", {
  skip_if_no_gradlm()
  ser <- reticulate::import("gradlm.serialization")
  marker <- tempfile()
  path <- tempfile(fileext = ".safetensors")
  write <- function(formula) {
    ser$write_model_file(path, list(weight = matrix(1, 1, 1), bias = array(0, 1)),
                         list(kind = "gd_lm", feature_names = list("x"), target_names = list("y"),
                              r = list(formula = formula)))
  }
  write(sprintf('{file.create("%s"); y ~ x}', marker))
  expect_error(load_model(path), "its formula is not a formula")
  write(sprintf('y ~ I(file.create("%s"))', marker))
  expect_error(load_model(path), "its formula calls file.create")
  write('y ~ log(x)')
  expect_equal(unname(predict(load_model(path), data.frame(x = c(1, exp(2))))), c(0, 2))
  expect_false(file.exists(marker))
})
