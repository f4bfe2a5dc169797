# Ridge, lasso and elastic net (gd_lm(..., penalty =, mixture =)) against glmnet, the reference, on R's data
# sets, at 1e-6 relative on the same objective; and what a penalized fit's methods do.

tol <- 1e-6

# The data sets: formula, data, and for each the penalties (penalty, mixture) to compare: ridge, the elastic
# net, and a lasso strong enough to set some coefficients to 0.
penalty_cases <- list(
  mtcars = list(formula = mpg ~ ., data = mtcars, lasso = 0.5),
  longley = list(formula = Employed ~ ., data = longley, lasso = 0.05),
  airquality = list(formula = Ozone ~ ., data = airquality[complete.cases(airquality), ], lasso = 3)
)
penalties <- function(case) {
  list(ridge = c(0.5, 0), lasso = c(case$lasso, 1), `elastic net` = c(0.3, 0.5))
}

# The standard deviation with divisor n (weighted: the weights normalised to sum 1), as glmnet computes it.
sd_n <- function(v, w = rep(1, length(v))) {
  w <- w / sum(w)
  sqrt(sum(w * (v - sum(w * v))^2))
}

# glmnet's coefficients for gd_lm's objective with `penalty` and `mixture` on (x, y).
# glmnet's gaussian family fits on y / sd(y) with lambda / sd(y): its L1 part is lambda, as ours, but its
# ridge part is in effect lambda / sd(y). So glmnet gets the (lambda, alpha) whose L1 part is penalty * mixture
# and whose ridge part, divided by sd(y), is penalty * (1 - mixture): for the lasso that is glmnet(lambda =
# penalty, alpha = 1) itself, for ridge lambda = penalty * sd(y). (Fitting both on y / sd(y) and scaling back
# would compare the same objective too; see the test "on y with sd 1" below.)
glmnet_reference <- function(x, y, penalty, mixture, weights = NULL, standardize = TRUE) {
  s <- sd_n(y, if (is.null(weights)) rep(1, length(y)) else weights)
  lambda <- penalty * (mixture + (1 - mixture) * s)
  fit <- glmnet::glmnet(x, y, weights = weights, alpha = penalty * mixture / lambda, lambda = lambda,
                        standardize = standardize, thresh = 1e-20, maxit = 1e7)
  b <- stats::coef(fit)
  stats::setNames(as.numeric(b), rownames(b))
}

# The predictors' model matrix without the intercept column, and the response, as glmnet takes them.
glmnet_data <- function(case) {
  mf <- stats::model.frame(case$formula, case$data)
  list(x = stats::model.matrix(case$formula, mf)[, -1L, drop = FALSE], y = stats::model.response(mf))
}

# The largest relative difference over the coefficients the reference does not set to 0 (those it does must
# be exactly 0: see the lasso test).
max_relative_difference <- function(coef, reference) {
  nonzero <- reference != 0
  max(abs(coef[nonzero] - reference[nonzero]) / abs(reference[nonzero]))
}

test_that("gd_lm's ridge, lasso and elastic net are glmnet's on mtcars, longley and airquality", {
  skip_if_no_gradlm()
  skip_if_not_installed("glmnet")
  for (name in names(penalty_cases)) {
    case <- penalty_cases[[name]]
    data <- glmnet_data(case)
    for (kind in names(penalties(case))) {
      pm <- penalties(case)[[kind]]
      label <- sprintf("%s, %s (penalty %g, mixture %g)", name, kind, pm[1], pm[2])
      f <- gd_lm(case$formula, case$data, penalty = pm[1], mixture = pm[2])
      expect_true(f$report$converged, label = label)
      reference <- glmnet_reference(data$x, data$y, pm[1], pm[2])
      expect_identical(names(coef(f)), names(reference), label = label)
      expect_lt(max_relative_difference(coef(f), reference), tol)
    }
  }
})

test_that("a lasso sets to 0 exactly the coefficients glmnet sets to 0", {
  skip_if_no_gradlm()
  skip_if_not_installed("glmnet")
  for (name in names(penalty_cases)) {
    case <- penalty_cases[[name]]
    data <- glmnet_data(case)
    f <- gd_lm(case$formula, case$data, penalty = case$lasso, mixture = 1)
    reference <- glmnet_reference(data$x, data$y, case$lasso, 1)
    expect_gt(sum(reference == 0), 0L)  # (the case is chosen so that the lasso selects)
    expect_identical(names(coef(f))[coef(f) == 0], names(reference)[reference == 0], label = name)
  }
  # mtcars at penalty 0.5: disp, qsec, vs and gear go
  f <- gd_lm(mpg ~ ., mtcars, penalty = 0.5, mixture = 1)
  expect_identical(names(coef(f))[coef(f) == 0], c("disp", "qsec", "vs", "gear"))
  expect_output(print(summary(f)), "Nonzero coefficients: 6 of 10")
})

test_that("on y with sd 1 (divisor n), glmnet(alpha = mixture, lambda = penalty) itself is gd_lm's fit", {
  skip_if_no_gradlm()
  skip_if_not_installed("glmnet")
  # The scaling the docs state: glmnet's ridge part is lambda / sd(y), the same as ours when sd(y) is 1.
  case <- penalty_cases$mtcars
  data <- glmnet_data(case)
  s <- sd_n(data$y)
  scaled <- transform(mtcars, mpg = mpg / s)
  for (pm in list(c(0.5, 0), c(0.3, 0.5))) {
    f <- gd_lm(mpg ~ ., scaled, penalty = pm[1], mixture = pm[2])
    g <- glmnet::glmnet(data$x, data$y / s, alpha = pm[2], lambda = pm[1], standardize = TRUE, thresh = 1e-20,
                        maxit = 1e7)
    reference <- stats::setNames(as.numeric(stats::coef(g)), rownames(stats::coef(g)))
    expect_lt(max_relative_difference(coef(f), reference), tol)
  }
  # On y as it is, glmnet with the same lambda is not gd_lm's ridge: its ridge part is lambda / sd(y)
  f <- gd_lm(mpg ~ ., mtcars, penalty = 0.5)
  g <- glmnet::glmnet(data$x, data$y, alpha = 0, lambda = 0.5, standardize = TRUE, thresh = 1e-20, maxit = 1e7)
  expect_gt(max_relative_difference(coef(f), stats::setNames(as.numeric(stats::coef(g)), names(coef(f)))), 1e-3)
})

test_that("a weighted elastic net is glmnet's with the same weights", {
  skip_if_no_gradlm()
  skip_if_not_installed("glmnet")
  data <- glmnet_data(penalty_cases$mtcars)
  for (pm in list(c(0.5, 0), c(0.2, 1), c(0.3, 0.5))) {
    f <- gd_lm(mpg ~ ., mtcars, weights = disp, penalty = pm[1], mixture = pm[2])
    reference <- glmnet_reference(data$x, data$y, pm[1], pm[2], weights = mtcars$disp)
    expect_lt(max_relative_difference(coef(f), reference), tol)
    expect_identical(coef(f) == 0, reference == 0)
  }
})

test_that("gd_lm and Python's GDRegressor give the same penalized coefficients", {
  skip_if_no_gradlm()
  x <- as.matrix(longley[, 1:6])
  for (pm in list(c(0.5, 0), c(0.05, 1), c(0.3, 0.5))) {
    f <- gd_lm(Employed ~ ., longley, penalty = pm[1], mixture = pm[2])
    est <- core$GDRegressor(alpha = pm[1], l1_ratio = pm[2])$fit(x, longley$Employed)
    python <- c(est$intercept_, as.numeric(est$coef_))
    expect_equal(unname(coef(f)), python, tolerance = 1e-12)
    expect_identical(unname(coef(f)[-1L] == 0), as.numeric(est$coef_) == 0)
  }
  # the matrix method fits the same
  d <- gd_lm(x, longley$Employed, penalty = 0.3, mixture = 0.5)
  expect_equal(unname(coef(d)), unname(coef(gd_lm(Employed ~ ., longley, penalty = 0.3, mixture = 0.5))),
               tolerance = 1e-12)
})

test_that("penalty = 0 is lm(), whatever the mixture, with lm()'s inference", {
  skip_if_no_gradlm()
  ref <- lm(mpg ~ wt + hp, mtcars)
  for (mixture in c(0, 1)) {
    f <- gd_lm(mpg ~ wt + hp, mtcars, penalty = 0, mixture = mixture)
    expect_lt(max_relative_error(coef(f), coef(ref)), tol)
    expect_equal(vcov(f), vcov(ref), tolerance = tol)
    expect_false(is_penalized(f))
  }
  expect_equal(coef(update(gd_lm(mpg ~ wt + hp, mtcars, penalty = 1), penalty = 0)), coef(ref), tolerance = tol)
})

test_that("lm()'s inference on a penalized fit is an error that names the fix", {
  skip_if_no_gradlm()
  f <- gd_lm(mpg ~ wt + hp + qsec, mtcars, penalty = 0.5, mixture = 0.5)
  why <- "a penalized fit \\(penalty > 0\\) has no lm\\(\\) inference.*penalty = 0"
  expect_error(vcov(f), why)
  expect_error(vcov(f), "no covariance matrix")
  expect_error(confint(f), why)
  expect_error(confint(f), "no confidence intervals")
  for (method in list(anova, drop1, logLik, AIC, BIC, deviance, sigma, extractAIC, hatvalues, cooks.distance,
                      rstandard, rstudent, influence)) {
    expect_error(method(f), why)
  }
  expect_error(anova(gd_lm(mpg ~ wt, mtcars), f), why)
  expect_error(predict(f, mtcars[1:3, ], interval = "confidence"), why)
  expect_error(predict(f, mtcars[1:3, ], interval = "prediction"), why)
  expect_error(predict(f, se.fit = TRUE), why)
  expect_error(tidy(f, conf.int = TRUE), why)
  expect_error(augment(f, se_fit = TRUE), why)
  expect_error(plot(f, which = 2), why)
})

test_that("a penalized fit's other methods work, from the core's numbers", {
  skip_if_no_gradlm()
  f <- gd_lm(mpg ~ ., mtcars, penalty = 0.5, mixture = 1)
  b <- coef(f)
  x <- model.matrix(mpg ~ ., mtcars)
  expect_equal(predict(f, mtcars), drop(x %*% b), tolerance = 1e-12)
  expect_equal(fitted(f), predict(f, mtcars), tolerance = 1e-12)
  expect_equal(residuals(f), mtcars$mpg - fitted(f), tolerance = 1e-12)
  expect_identical(nobs(f), 32L)
  expect_true(is.na(df.residual(f)))
  expect_output(print(f), "Penalty: 0.5, mixture 1 \\(lasso\\) on the standardized predictors")
  expect_output(print(f), "of the penalized optimum")
  s <- summary(f)
  expect_identical(colnames(s$coefficients), "Estimate")
  expect_equal(s$coefficients[, "Estimate"], b)
  expect_equal(s$lstsq_coefficients, coef(lm(mpg ~ ., mtcars)), tolerance = tol)
  out <- capture.output(print(s))
  expect_true(any(grepl("Penalty: 0.5, mixture 1 (lasso)", out, fixed = TRUE)))
  expect_true(any(grepl("^Converged: yes", out)))
  expect_true(any(grepl("No standard errors, t values or p values", out)))
  expect_false(any(grepl("Pr(>|t|)", out, fixed = TRUE)))
  # broom's conventions for glmnet-like fits: no inference columns (parsnip's tidy(): term, estimate, penalty)
  td <- tidy(f)
  expect_identical(names(td), c("term", "estimate", "penalty", "lm_estimate"))
  expect_equal(td$estimate, unname(b))
  expect_true(all(td$penalty == 0.5))
  gl <- glance(f)
  expect_identical(names(gl)[1:4], c("r.squared", "nobs", "penalty", "mixture"))
  expect_false(any(c("std.error", "p.value", "AIC", "sigma", "logLik") %in% names(gl)))
  expect_equal(gl$r.squared, 1 - sum(residuals(f)^2) / sum((mtcars$mpg - mean(mtcars$mpg))^2), tolerance = 1e-10)
  expect_true(gl$converged)
  au <- augment(f)
  expect_equal(au$.fitted, unname(fitted(f)))
  expect_false(".hat" %in% names(au))
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_message(plot(f), "panel\\(s\\) 2, 3, 5 left out: a penalized fit")
  expect_silent(plot(f, which = c(1, 7, 8)))
  # several responses, a penalty each
  m <- gd_lm(cbind(mpg, qsec) ~ wt + hp, mtcars, penalty = c(0.5, 0.1), mixture = 0.5)
  expect_identical(tidy(m)$penalty, rep(c(0.5, 0.1), each = 3))
  expect_identical(glance(m)$penalty, c(0.5, 0.1))
  expect_output(print(summary(m)), "Response qsec :\nPenalty: 0.1, mixture 0.5 \\(elastic net\\)")
  expect_error(vcov(m, response = "mpg"), "a penalized fit")
})

test_that("penalty and mixture are checked, in their own names", {
  skip_if_no_gradlm()
  expect_error(gd_lm(mpg ~ wt, mtcars, penalty = NA), "penalty must be a number >= 0 \\(or one per response\\); got NA")
  expect_error(gd_lm(mpg ~ wt, mtcars, penalty = NULL), "penalty must be a number >= 0.*got NULL")
  expect_error(gd_lm(mpg ~ wt, mtcars, penalty = TRUE), "penalty must be a number >= 0.*got TRUE")
  expect_error(gd_lm(mpg ~ wt, mtcars, penalty = "1"), "penalty must be a number")
  expect_error(gd_lm(mpg ~ wt, mtcars, penalty = -1), "^penalty must be >= 0")
  expect_error(gd_lm(mpg ~ wt, mtcars, penalty = Inf), "^penalty must be .*finite")
  expect_error(gd_lm(mpg ~ wt, mtcars, penalty = 1, mixture = 2), "^mixture must be between 0 and 1")
  expect_error(gd_lm(mpg ~ wt, mtcars, penalty = 1, mixture = NA), "mixture must be a number between 0 and 1")
  expect_error(gd_lm(mpg ~ wt, mtcars, penalty = c(1, 2)), "penalty has 2 values; pass one number, or one per response")
  expect_error(gd_lm(mpg ~ wt, mtcars, alpha = 1), "gd_lm does not take 'alpha': give the penalty's amount as penalty =")
  expect_error(gd_lm(mpg ~ wt, mtcars, lambda = 1), "does not take 'lambda'")
  expect_error(gd_lm(mpg ~ wt, mtcars, penalty = 1, mixture = 1, optimizer = "adam"), "mixture > 0")
})

test_that("a penalized fit saves and loads with its penalty, and predicts identically", {
  skip_if_no_gradlm()
  f <- gd_lm(mpg ~ ., mtcars, penalty = 0.5, mixture = 0.5)
  path <- tempfile(fileext = ".safetensors")
  on.exit(unlink(path))
  save_model(f, path)
  g <- load_model(path)
  expect_identical(g$penalty, 0.5)
  expect_identical(g$mixture, 0.5)
  expect_true(g$standardize)
  expect_identical(predict(g, mtcars), predict(f, mtcars))
  expect_identical(coef(g), coef(f))
  expect_output(print(g), "Penalty: 0.5, mixture 0.5 \\(elastic net\\)")
  expect_output(print(summary(g)), "No standard errors")
  expect_error(vcov(g), "a penalized fit \\(penalty > 0\\) has no lm\\(\\) inference")
  expect_identical(glance(g)$penalty, 0.5)
  # Python reads the penalty under its own names
  est <- core$load(path)
  expect_identical(c(est$alpha, est$l1_ratio), c(0.5, 0.5))
  expect_error(est$summary(), "penalized fit \\(alpha > 0\\)")
  # an unpenalized fit's file says penalty 0
  save_model(gd_lm(mpg ~ wt, mtcars), path)
  expect_identical(load_model(path)$penalty, 0)
})
