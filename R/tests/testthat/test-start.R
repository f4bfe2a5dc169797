# Starting values (glm()'s `start`) and continuing a fit with update(): the core's warm start.

test_that("start = coef(fit) continues a fit: certified again in a few epochs, at the same coefficients", {
  fit <- gd_lm(mpg ~ wt + hp + disp, data = mtcars, seed = 1)
  expect_true(fit$report$converged)
  again <- update(fit, start = coef(fit))
  expect_true(again$report$converged)
  expect_lt(again$report$epochs_run, fit$report$epochs_run / 3)
  expect_equal(coef(again), coef(fit), tolerance = 1e-8)
})

test_that("update(fit, start =, epochs =) continues a short run towards lm()", {
  short <- suppressWarnings(gd_lm(mpg ~ wt + hp, data = mtcars, epochs = 3, seed = 1))
  err <- function(f) max(abs(coef(f) - coef(lm(mpg ~ wt + hp, data = mtcars))))
  longer <- suppressWarnings(update(short, start = coef(short), epochs = 3))
  expect_lt(err(longer), err(short))
})

test_that("start for several responses and for the matrix method", {
  fit <- gd_lm(cbind(mpg, qsec) ~ wt + hp, data = mtcars, seed = 1)
  again <- update(fit, start = coef(fit))
  expect_equal(coef(again), coef(fit), tolerance = 1e-8)
  x <- as.matrix(mtcars[, c("wt", "hp")])
  m <- gd_lm(x, mtcars$mpg, seed = 1)
  expect_equal(coef(gd_lm(x, mtcars$mpg, start = coef(m))), coef(m), tolerance = 1e-8)
})

test_that("a wrong start is a clear error", {
  expect_error(gd_lm(mpg ~ wt + hp, data = mtcars, start = c(1, 2)),
               "start must hold 3 finite coefficient\\(s\\), one per column of the model matrix")
  expect_error(gd_lm(mpg ~ wt + hp, data = mtcars, start = c(1, NA, 2)), "not all finite")
  expect_error(gd_lm(mpg ~ wt, data = mtcars, start = "a"), "start must be numeric coefficients")
})

test_that("validation_fraction holds out rows and stops early on them (brulee's validation)", {
  f <- gd_lm(mpg ~ wt + hp + disp, data = mtcars, validation_fraction = 0.25, seed = 1, batch_size = 4,
             epochs = 200)
  expect_equal(f$report$stop_reason, "patience")
  expect_equal(length(f$history$val_loss), f$report$epochs_run)
  expect_equal(length(residuals(f)), nrow(mtcars))  # fitted values and residuals for every row
  expect_equal(f$df.residual, 24 - 4)  # the inference is the training part's
  expect_error(gd_lm(mpg ~ wt, data = mtcars, validation_fraction = 1.5), "validation_fraction")
})

test_that("an NA setting is named, not passed on as True (reticulate's conversion of a logical NA)", {
  expect_error(gd_lm(mpg ~ wt, data = mtcars, validation_fraction = NA), "validation_fraction is NA")
  expect_error(gd_lm(mpg ~ wt, data = mtcars, lr_schedule = NA), "lr_schedule is NA")
})
