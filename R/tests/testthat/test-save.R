test_that("a saved gd_lm loads with its coefficients, names and predictions", {
  skip_if_no_gradlm()
  f <- gd_lm(mangoes ~ region + temperature + rainfall, data = crops, seed = 0, tol = NULL, epochs = 300)
  path <- tempfile(fileext = ".safetensors")
  expect_identical(save_model(f, path), path)
  g <- load_model(path)
  expect_s3_class(g, "gd_lm")
  expect_identical(coef(g), coef(f))
  expect_identical(predict(g, crops[3:7, ]), predict(f, crops[3:7, ]))
  expect_equal(nobs(g), 15L)
  expect_identical(g$history$loss, f$history$loss)
  expect_equal(glance(g)$gap, glance(f)$gap)
  expect_identical(glance(g)$converged, glance(f)$converged)
  expect_identical(g$report, f$report)
  expect_output(print(g), f$report$verdict, fixed = TRUE)
  expect_output(print(summary(g)), f$report$verdict, fixed = TRUE)
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
  f <- gd_lm(x, as.matrix(crops[, 5:6]), seed = 1)
  save_model(f, path)
  g <- load_model(path)
  expect_identical(predict(g, x), predict(f, x))
  # columns are matched by name
  expect_identical(predict(g, crops), predict(f, x))
  expect_true(glance(g)$converged)
  expect_output(print(g), "converged in [0-9]+ epochs")
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

test_that("a model file's contrasts never name a function to call (predict() called it on the levels)", {
  skip_if_no_gradlm()
  ser <- reticulate::import("gradlm.serialization")
  marker <- tempfile()
  file.create(marker)
  path <- tempfile(fileext = ".safetensors")
  write <- function(contrasts) {
    ser$write_model_file(path, list(weight = matrix(c(1, 2), 1, 2), bias = array(0, 1)),
                         list(kind = "gd_lm", feature_names = list("gb", "gc"), target_names = list("y"),
                              r = list(formula = "y ~ g", xlevels = list(g = list("a", "b", "c")),
                                       contrasts = list(g = contrasts))))
  }
  write("file.remove")
  expect_error(load_model(path), "names the contrasts 'file.remove', not one of contr.treatment")
  expect_true(file.exists(marker))
  write("contr.treatment")
  expect_equal(unname(predict(load_model(path), data.frame(g = c("a", "b", "c")))), c(0, 1, 2))
})

test_that("a loaded fit without a report (a file from before reports) still prints, and is not called converged", {
  skip_if_no_gradlm()
  bridge <- reticulate::import("gradlm.r_bridge")
  path <- tempfile(fileext = ".safetensors")
  bridge$save_gd_lm(path, matrix(c(2, 3), 1), 1, feature_names = list("a", "b"), target_names = list("y"),
                    x_mean = c(0, 0), x_scale = c(1, 1), loss = c(4, 2, 1),
                    info = list(stop_reason = "epochs", converged = TRUE, n = 10L, loss = 1, lstsq_loss = 0.5))
  g <- load_model(path)
  expect_null(g$report)
  expect_output(print(g), "3 epoch\\(s\\), stopped by epochs \\(no convergence report\\)")
  expect_output(print(summary(g)), "Converged: no")
  expect_false(glance(g)$converged)
  expect_true(is.na(glance(g)$gap))
  expect_output(print(g$history), "3 epoch")
  expect_equal(unname(predict(g, data.frame(a = 1, b = 1))), 6)
})

test_that("a GDRegressor saved in Python loads in R with its report", {
  skip_if_no_gradlm()
  path <- tempfile(fileext = ".safetensors")
  x <- as.matrix(crops[, 2:4])
  est <- core$GDRegressor(seed = 0L)$fit(x, as.matrix(crops[, 5:6]))
  core$save(est, path)
  g <- load_model(path)
  expect_identical(g$report$verdict, est$report_$verdict())
  expect_true(glance(g)$converged)
  expect_identical(glance(g)$gap, est$report_$gap)
  expect_identical(glance(g)$loss, est$report_$loss)
  expect_identical(glance(g)$lstsq_loss, est$report_$optimum_loss)
  expect_identical(unname(g$r.squared), unlist(est$report_$r_squared))
  expect_output(print(g), est$report_$verdict(), fixed = TRUE)
})
