test_that("gd_lm with no settings reaches lm() and says so (was: diverged, or up to 99% off in silence)", {
  skip_if_no_gradlm()
  cases <- list(
    cars = list(dist ~ speed, cars),
    trees = list(Volume ~ ., trees),
    swiss = list(Fertility ~ ., swiss),
    stackloss = list(stack.loss ~ ., stackloss),
    airquality = list(Ozone ~ ., airquality),  # NA rows dropped by na.action
    longley = list(Employed ~ ., longley),
    mtcars_3 = list(mpg ~ wt + hp + disp, mtcars),
    mtcars_1 = list(mpg ~ wt, mtcars),
    mtcars_all = list(mpg ~ ., mtcars),
    iris = list(Sepal.Length ~ ., iris)  # with the Species factor
  )
  for (name in names(cases)) {
    formula <- cases[[name]][[1]]
    data <- cases[[name]][[2]]
    expect_warning(f <- gd_lm(formula, data = data), NA)
    ref <- lm(formula, data = data)
    expect_equal(names(coef(f)), names(coef(ref)))
    expect_lt(max_relative_error(coef(f), coef(ref)), 1e-6, label = name)
    expect_true(glance(f)$converged, label = name)
    expect_identical(f$history$stop_reason, "converged", label = name)
    expect_equal(nobs(f), nobs(ref))
  }
})

test_that("the defaults: float64, standardized, step chosen from the data, certified stop", {
  skip_if_no_gradlm()
  f <- gd_lm(mpg ~ wt + hp, data = mtcars)
  s <- f$history$settings
  expect_true(s$lr_auto)
  expect_gt(s$momentum, 0)
  expect_equal(f$report$tol, 1e-10)
  expect_lte(f$report$coef_error, f$report$tol)
  expect_equal(f$report$lr, s$lr)
  expect_equal(f$standardization$center, unname(colMeans(mtcars[, c("wt", "hp")])))
  # float32 when asked: certified at float32's tolerance
  expect_warning(g <- gd_lm(mpg ~ wt + hp, data = mtcars, dtype = "float32"), NA)
  expect_true(glance(g)$converged)
  expect_equal(g$report$tol, 1e-6)
  expect_lt(max_relative_error(coef(g), coef(lm(mpg ~ wt + hp, data = mtcars))), 1e-4)
})

test_that("print, summary and glance read the core's report: the verdict, converged, the gap", {
  skip_if_no_gradlm()
  f <- gd_lm(mpg ~ wt + hp, data = mtcars)
  r <- f$report
  expect_match(r$verdict, "^converged in [0-9]+ epochs: coefficients within .* of least squares \\(tol 1e-10\\)")
  expect_output(print(f), "Fitted by gradient descent: converged in [0-9]+ epochs", fixed = FALSE)
  expect_output(print(f), r$verdict, fixed = TRUE)
  s <- summary(f)
  expect_true(s$converged)
  expect_identical(s$gap, r$gap)
  expect_identical(s$verdict, r$verdict)
  expect_output(print(s), "Converged: yes")
  expect_output(print(s), r$verdict, fixed = TRUE)
  g <- glance(f)
  expect_identical(g$gap, r$gap)
  expect_identical(g$loss, r$loss)
  expect_identical(g$lstsq_loss, r$optimum_loss)
  expect_equal(g$r.squared, r$r_squared, tolerance = 1e-10)
  expect_identical(g$stop_reason, "converged")
  expect_identical(c(g$lr, g$momentum, g$condition_number, g$coef_error, g$tol),
                   c(r$lr, r$momentum, r$condition_number, r$coef_error, r$tol))
  expect_equal(r$r_squared, summary(lm(mpg ~ wt + hp, data = mtcars))$r.squared, tolerance = 1e-10)
  # the history is the optimisation's, on the standardized scale: its own report
  expect_output(print(f$history), f$history$report$verdict, fixed = TRUE)
  expect_identical(f$history$report$coef_error, r$coef_error)
})

test_that("adam at lr 0.1 is never wrong in silence (was: wt +3.16 against lm's -3.80, no word)", {
  skip_if_no_gradlm()
  ref <- coef(lm(mpg ~ wt + hp, data = mtcars))
  # on the raw columns it cannot get there in its epochs: a warning, and the report says so
  expect_warning(f <- gd_lm(mpg ~ wt + hp, data = mtcars, optimizer = "adam", lr = 0.1, standardize = FALSE),
                 "^did not converge \\(ran all [0-9]+ epochs\\): coefficients within")
  expect_false(glance(f)$converged)
  expect_gt(max_relative_error(coef(f), ref), 1e-3)
  expect_output(print(f), "did not converge")
  expect_output(print(summary(f)), "Converged: no")
  # standardized (the default), the same optimizer gets there and is certified
  expect_warning(g <- gd_lm(mpg ~ wt + hp, data = mtcars, optimizer = "adam", lr = 0.1), NA)
  expect_true(glance(g)$converged)
  expect_lt(max_relative_error(coef(g), ref), 1e-6)
})

test_that("a diverging fit warns and never reports converged", {
  skip_if_no_gradlm()
  expect_warning(f <- gd_lm(mpg ~ wt + hp, data = mtcars, standardize = FALSE, lr = 1, on_divergence = "warn"),
                 "^training diverged at epoch [0-9]+")
  expect_identical(f$history$stop_reason, "diverged")
  expect_false(f$report$converged)
  expect_false(glance(f)$converged)
  expect_identical(glance(f)$stop_reason, "diverged")
  expect_false(summary(f)$converged)
  expect_output(print(f), "did not converge \\(diverged\\)")
  expect_output(print(summary(f)), "Converged: no")
  expect_true(all(is.finite(coef(f))))  # the best parameters seen
  # "ignore" keeps only the NaN/Inf rule: the run goes on until the loss overflows, and still is not converged
  expect_warning(g <- gd_lm(mpg ~ wt + hp, data = mtcars, standardize = FALSE, lr = 1, on_divergence = "ignore"),
                 "the loss became inf")
  expect_false(glance(g)$converged)
  expect_error(gd_lm(mpg ~ wt + hp, data = mtcars, standardize = FALSE, lr = 1),
               "training diverged .* stable for lr < ")
})

test_that("tol = NULL with explicit lr and epochs: no stopping rule and no warning, but the verdict is shown", {
  skip_if_no_gradlm()
  expect_warning(f <- gd_lm(mpg ~ wt + hp, data = mtcars, lr = 0.1, epochs = 10, tol = NULL), NA)
  expect_identical(f$history$stop_reason, "epochs")
  expect_length(f$history$loss, 10L)
  expect_null(f$report$tol)
  expect_false(glance(f)$converged)
  expect_output(print(f), "did not converge \\(ran all 10 epochs\\): coefficients within")
  expect_output(print(summary(f)), "Converged: no")
  # fit() with both given is the tutorials' loop: no stopping rule, no warning, the verdict all the same
  d <- line_data()
  expect_warning(h <- fit(linear_model(1, 1), d$x, d$y, epochs = 5, lr = 1e-4), NA)
  expect_identical(h$stop_reason, "epochs")
  expect_false(h$converged)
  expect_output(print(h), "did not converge \\(ran all 5 epochs\\)")
})

test_that("a tolerance is certified whatever lr and epochs: missed, a warning; met, the run stops there", {
  skip_if_no_gradlm()
  expect_warning(gd_lm(mpg ~ wt + hp, data = mtcars, lr = 0.1, epochs = 10, tol = 1e-6),
                 "did not converge \\(ran all 10 epochs\\).*\\(tol 1e-06\\)")
  expect_warning(f <- gd_lm(mpg ~ wt + hp, data = mtcars, lr = 0.1, epochs = 5000, tol = 1e-6), NA)
  expect_identical(f$history$stop_reason, "converged")
  expect_lt(length(f$history$loss), 5000L)
  expect_true(glance(f)$converged)
  d <- line_data()
  expect_warning(fit(linear_model(1, 1), d$x, d$y, epochs = 5, lr = 1e-4, tol = 1e-6), "did not converge")
})

test_that("gd_lm converges to lm() on the crop data, several responses", {
  skip_if_no_gradlm()
  f <- gd_lm(cbind(mangoes, oranges) ~ temperature + rainfall + humidity, data = crops, seed = 0)
  ref <- coef(lm(cbind(mangoes, oranges) ~ temperature + rainfall + humidity, data = crops))
  expect_lt(max_relative_error(coef(f), ref), 1e-6)
  expect_true(all(glance(f)$converged))
  expect_equal(f$lstsq_coefficients, ref, tolerance = 1e-10)
  expect_equal(dim(fitted(f)), c(15L, 2L))
  expect_equal(residuals(f), as.matrix(crops[, c("mangoes", "oranges")]) - fitted(f), ignore_attr = TRUE)
  expect_equal(unname(predict(f, crops[1:3, ])), unname(fitted(f)[1:3, ]), tolerance = 1e-12)
  s <- summary(f)
  expect_s3_class(s, "summary.gd_mlm")  # one summary.gd_lm per response, as summary.mlm
  expect_s3_class(s[["Response mangoes"]], "summary.gd_lm")
  expect_output(print(s), "exact least-squares")
  expect_output(print(f), "Coefficients")
  expect_equal(nrow(tidy(f)), 8L)
  expect_equal(glance(f)$nobs, c(15L, 15L))  # a row per response
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
    expect_warning(f <- gd_lm(case[[1]], data = case[[2]], seed = 1), NA)
    ref <- lm(case[[1]], data = case[[2]])
    expect_equal(names(coef(f)), names(coef(ref)))
    expect_lt(max_relative_error(coef(f), coef(ref)), 1e-6)
    expect_equal(nobs(f), nobs(ref))
    expect_equal(unname(predict(f, case[[2]][1:5, ])), unname(predict(ref, case[[2]][1:5, ])), tolerance = 1e-8)
  }
  # a given step, standardized (the loss's curvature is at most 2 * 5.2 here: lr 0.3 is stable), also gets there
  f <- gd_lm(stack.loss ~ ., data = stackloss, epochs = 5000, lr = 0.3, seed = 1)
  expect_true(glance(f)$converged)
  expect_lt(max_relative_error(coef(f), coef(lm(stack.loss ~ ., data = stackloss))), 1e-6)
})

test_that("gd_lm default method and one-response shapes", {
  skip_if_no_gradlm()
  x <- as.matrix(crops[, 2:4])
  expect_warning(f <- gd_lm(x, crops$mangoes), NA)
  expect_equal(names(coef(f)), c("(Intercept)", "temperature", "rainfall", "humidity"))
  expect_lt(max_relative_error(unname(coef(f)), unname(coef(lm(crops$mangoes ~ x)))), 1e-6)
  expect_true(glance(f)$converged)
  expect_length(predict(f, x[1:2, ]), 2L)
  expect_error(predict(f, x[, 1:2]), "newdata has 2 column\\(s\\), but the model was fitted with 3")
  # the call as written, which update() evaluates again (new-user review: it showed gd_lm(formula = x, ...))
  expect_identical(f$call, quote(gd_lm(x, y = crops$mangoes)))
  expect_equal(coef(update(f)), coef(f), tolerance = 1e-8)
})

test_that("plot methods draw", {
  skip_if_no_gradlm()
  path <- tempfile(fileext = ".png")
  grDevices::png(path)
  f1 <- gd_lm(y ~ x, data = line_data(), seed = 0)
  f2 <- gd_lm(cbind(mangoes, oranges) ~ ., data = crops[, -1])
  expect_invisible(plot(f1))
  expect_invisible(plot(f2))
  expect_invisible(plot(f1$history))
  grDevices::dev.off()
  expect_gt(file.size(path), 1000)
})

test_that("collinear predictors are reported, as lm() reports aliased terms", {
  skip_if_no_gradlm()
  f <- gd_lm(cbind(mangoes, oranges) ~ ., data = crops, epochs = 50, lr = 1e-5, seed = 0, tol = NULL)
  expect_identical(f$rank, lm(cbind(mangoes, oranges) ~ ., data = crops)$rank)
  expect_output(print(summary(f)), "collinear \\(rank 15 of 18\\)")
  expect_output(print(summary(f)), "Coefficients: \\(3 not defined because of singularities\\)")
  expect_equal(unname(summary(f)[[1]]$aliased), unname(is.na(coef(lm(cbind(mangoes, oranges) ~ ., data = crops))[, 1])))
})

test_that("one response: summary, tidy and predict", {
  skip_if_no_gradlm()
  f <- gd_lm(mpg ~ wt + hp, data = mtcars, seed = 0)
  s <- summary(f)
  expect_equal(rownames(s$coefficients), c("(Intercept)", "wt", "hp"))
  expect_equal(s$lstsq_coefficients, coef(lm(mpg ~ wt + hp, data = mtcars)), tolerance = 1e-10)
  expect_output(print(s), "least-squares \\(lm\\) coefficients of mpg")
  expect_equal(tidy(f)$term, c("(Intercept)", "wt", "hp"))
  expect_equal(predict(f, mtcars[1:3, ]), predict(lm(mpg ~ wt + hp, data = mtcars), mtcars[1:3, ]), tolerance = 1e-8)
})

test_that("offset() is fitted, never silently ignored; lm()-only arguments are refused", {
  skip_if_no_gradlm()
  # offset(hp / 10) was dropped: wt -5.34 against lm()'s -9.96, and summary() said converged
  f <- gd_lm(mpg ~ wt + offset(hp / 10), data = mtcars)
  expect_lt(max_relative_error(coef(f), coef(lm(mpg ~ wt + offset(hp / 10), data = mtcars))), 1e-6)
  expect_lt(max_relative_error(coef(gd_lm(mpg ~ wt, data = mtcars, weights = cyl)),
                               coef(lm(mpg ~ wt, data = mtcars, weights = cyl))), 1e-6)
  expect_error(gd_lm(as.matrix(mtcars[, c("wt", "hp")]), mtcars$mpg, contrasts = list()),
               "does not support 'contrasts'")
  expect_error(gd_lm(mpg ~ wt, data = mtcars, model = FALSE), "does not support 'model'")
})

test_that("contrasts = works as in lm(): names, matrices, ordered factors (issue 13)", {
  skip_if_no_gradlm()
  d <- transform(mtcars, cyl = factor(cyl), gear = factor(gear, ordered = TRUE), am = as.character(am))
  custom <- matrix(c(-1, 0, 1, 1, -2, 1), 3, dimnames = list(NULL, c("lin", "quad")))
  for (contrasts in list(NULL, list(cyl = "contr.sum"), list(cyl = "contr.helmert", am = "contr.sum"),
                         list(cyl = custom))) {
    f <- gd_lm(mpg ~ cyl + gear + am + wt, data = d, contrasts = contrasts)
    ref <- lm(mpg ~ cyl + gear + am + wt, data = d, contrasts = contrasts)
    expect_equal(names(coef(f)), names(coef(ref)))
    expect_equal(coef(f), coef(ref), tolerance = 1e-8)
    expect_equal(predict(f, d[c(1, 5, 20), ]), predict(ref, d[c(1, 5, 20), ]), tolerance = 1e-8)
  }
})

test_that("na.exclude pads fitted values and residuals with NA, as lm() does", {
  skip_if_no_gradlm()
  f <- gd_lm(Ozone ~ Wind + Temp, data = airquality, na.action = na.exclude)
  ref <- lm(Ozone ~ Wind + Temp, data = airquality, na.action = na.exclude)
  expect_length(fitted(f), nrow(airquality))
  expect_equal(unname(is.na(residuals(f))), unname(is.na(residuals(ref))))
  expect_equal(fitted(f), fitted(ref), tolerance = 1e-8, ignore_attr = TRUE)
  expect_equal(residuals(f), residuals(ref), tolerance = 1e-8, ignore_attr = TRUE)
  expect_equal(predict(f), predict(ref), tolerance = 1e-8, ignore_attr = TRUE)
  expect_equal(names(fitted(f)), names(fitted(ref)))
  # na.omit (the default) does not pad
  used <- complete.cases(airquality[, c("Ozone", "Wind", "Temp")])
  expect_length(fitted(gd_lm(Ozone ~ Wind + Temp, data = airquality)), sum(used))
})

test_that("a 1-row data.frame fits as lm() does (it failed: 'y must be 2-D ... got shape ()') (issue 13)", {
  skip_if_no_gradlm()
  f <- gd_lm(mpg ~ wt, data = mtcars[1, ])
  ref <- lm(mpg ~ wt, data = mtcars[1, ])
  expect_equal(unname(coef(f)[1]), unname(coef(ref)[1]))  # lm(): the slope is NA, gd_lm's minimum-norm 0
  expect_equal(unname(coef(f)[2]), 0)
  expect_equal(unname(predict(f, mtcars[1, ])), 21)
  expect_equal(lstsq(matrix(2, 1, 1), 4)$bias + 2 * lstsq(matrix(2, 1, 1), 4)$weight[1, 1], 4)
  x <- as.matrix(mtcars[, c("wt", "hp")])
  expect_error(predict(gd_lm(x, mtcars$mpg), x[1, ]), "newdata\\[1, , drop = FALSE\\]")
})

test_that("a predictor named (Intercept) is refused (summary() failed on duplicate row names)", {
  skip_if_no_gradlm()
  x <- cbind("(Intercept)" = 1, wt = mtcars$wt)
  expect_error(gd_lm(x, mtcars$mpg), "column named '\\(Intercept\\)'; gd_lm fits the intercept itself")
})
