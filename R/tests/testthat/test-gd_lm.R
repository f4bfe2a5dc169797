test_that("gd_lm converges to lm() on the crop data, several responses", {
  skip_if_no_gradlm()
  f <- gd_lm(cbind(mangoes, oranges) ~ temperature + rainfall + humidity, data = crops,
             epochs = 500, lr = 0.5, standardize = TRUE, seed = 0)
  ref <- coef(lm(cbind(mangoes, oranges) ~ temperature + rainfall + humidity, data = crops))
  expect_equal(coef(f), ref, tolerance = 1e-4)
  expect_equal(f$lstsq_coefficients, ref, tolerance = 1e-10)
  expect_equal(dim(fitted(f)), c(15L, 2L))
  expect_equal(residuals(f), as.matrix(crops[, c("mangoes", "oranges")]) - fitted(f), ignore_attr = TRUE)
  expect_equal(unname(predict(f, crops[1:3, ])), unname(fitted(f)[1:3, ]), tolerance = 1e-6)
  s <- summary(f)
  expect_s3_class(s, "summary.gd_lm")
  expect_output(print(s), "exact least-squares")
  expect_output(print(f), "Coefficients")
  expect_equal(nrow(tidy(f)), 8L)
  expect_equal(glance(f)$nobs, 15L)
  expect_true(all(c(".fitted_mangoes", ".resid_oranges", "mangoes") %in% names(augment(f))))
})

test_that("gd_lm matches lm() on R's data sets: factors, NA rows, transformations", {
  skip_if_no_gradlm()
  cases <- list(
    list(mpg ~ wt + hp + factor(cyl), mtcars),
    list(Sepal.Length ~ Species + Petal.Width, iris),
    list(Ozone ~ Solar.R + Wind + log(Temp), airquality),
    list(stack.loss ~ ., stackloss)
  )
  for (case in cases) {
    # standardized, the loss's curvature is at most 2 * 5.2 here: lr 0.3 is stable
    f <- gd_lm(case[[1]], data = case[[2]], epochs = 5000, lr = 0.3, standardize = TRUE, seed = 1,
               dtype = "float64")
    ref <- lm(case[[1]], data = case[[2]])
    expect_equal(coef(f), coef(ref), tolerance = 1e-4)
    expect_equal(nobs(f), nobs(ref))
    expect_equal(unname(predict(f, case[[2]][1:5, ])), unname(predict(ref, case[[2]][1:5, ])), tolerance = 1e-4)
  }
})

test_that("gd_lm default method and one-response shapes", {
  skip_if_no_gradlm()
  x <- as.matrix(crops[, 2:4])
  f <- gd_lm(x, crops$mangoes, epochs = 500, lr = 0.25, standardize = TRUE, seed = 0)
  expect_equal(names(coef(f)), c("(Intercept)", "temperature", "rainfall", "humidity"))
  expect_equal(unname(coef(f)), unname(coef(lm(crops$mangoes ~ x))), tolerance = 1e-4)
  expect_length(predict(f, x[1:2, ]), 2L)
  expect_error(predict(f, x[, 1:2]), "newdata has 2 column\\(s\\), but the model was fitted with 3")
})

test_that("plot methods draw", {
  skip_if_no_gradlm()
  path <- tempfile(fileext = ".png")
  grDevices::png(path)
  f1 <- gd_lm(y ~ x, data = line_data(), epochs = 200, lr = 0.5, standardize = TRUE, seed = 0)
  f2 <- gd_lm(cbind(mangoes, oranges) ~ ., data = crops[, -1], epochs = 200, lr = 0.5, standardize = TRUE)
  expect_invisible(plot(f1))
  expect_invisible(plot(f2))
  expect_invisible(plot(f1$history))
  grDevices::dev.off()
  expect_gt(file.size(path), 1000)
})

test_that("collinear predictors are reported, as lm() reports aliased terms", {
  skip_if_no_gradlm()
  f <- gd_lm(cbind(mangoes, oranges) ~ ., data = crops, epochs = 50, lr = 1e-5, seed = 0)
  expect_equal(f$rank, lm(cbind(mangoes, oranges) ~ ., data = crops)$rank)
  expect_output(print(summary(f)), "collinear \\(rank 15 of 18\\)")
})

test_that("one response: summary, tidy and predict", {
  skip_if_no_gradlm()
  f <- gd_lm(mpg ~ wt + hp, data = mtcars, epochs = 1000, lr = 0.3, standardize = TRUE, seed = 0)
  s <- summary(f)
  expect_equal(rownames(s$coefficients$mpg), c("(Intercept)", "wt", "hp"))
  expect_equal(s$coefficients$mpg$lm, unname(coef(lm(mpg ~ wt + hp, data = mtcars))), tolerance = 1e-10)
  expect_output(print(s), "Response mpg")
  expect_equal(tidy(f)$term, c("(Intercept)", "wt", "hp"))
  expect_equal(predict(f, mtcars[1:3, ]), predict(lm(mpg ~ wt + hp, data = mtcars), mtcars[1:3, ]), tolerance = 1e-4)
})
