# Every number summary.lm() prints, and lm()'s other methods, against gd_lm's (the core's) on R's data sets.
# Converged fits agree to 1e-6 relative.

tol <- 1e-6

# summary(lm) as R >= 4.3 computes it: with an offset, R-squared, adjusted R-squared and F are those of the
# fitted values less the offset (R 4.2's summary.lm does not subtract it; the core, as R 4.3 and later, does).
lm_summary <- function(ref) {
  s <- summary(ref)
  subtracts_offset <- any(grepl("z$offset", deparse(stats:::summary.lm), fixed = TRUE))
  if (is.null(ref$offset) || subtracts_offset) return(s)
  f <- fitted(ref) - ref$offset
  w <- if (is.null(ref$weights)) rep(1, length(f)) else ref$weights
  intercept <- attr(ref$terms, "intercept")
  mss <- if (intercept) sum(w * (f - sum(w * f) / sum(w))^2) else sum(w * f^2)
  rss <- deviance(ref)
  s$r.squared <- mss / (mss + rss)
  s$adj.r.squared <- 1 - (1 - s$r.squared) * ((sum(w != 0) - intercept) / ref$df.residual)
  s$fstatistic[1] <- (mss / s$fstatistic[2]) / (rss / ref$df.residual)
  s
}

# broom's glance of an lm, with lm_summary()'s numbers.
lm_glance <- function(ref) {
  g <- as.data.frame(broom::glance(ref))
  s <- lm_summary(ref)
  g$r.squared <- s$r.squared
  g$adj.r.squared <- s$adj.r.squared
  g$statistic <- unname(s$fstatistic[1])
  g$p.value <- unname(pf(s$fstatistic[1], s$fstatistic[2], s$fstatistic[3], lower.tail = FALSE))
  g
}

# summary(gd_lm) beside summary(lm): every number summary.lm prints.
expect_summary_like_lm <- function(s, ref, label = "") {
  expect_s3_class(s, "summary.gd_lm")
  expect_equal(s$coefficients, ref$coefficients, tolerance = tol, label = label)
  expect_equal(s$aliased, ref$aliased, label = label)
  expect_equal(s$sigma, ref$sigma, tolerance = tol, label = label)
  expect_equal(s$df, ref$df, label = label)
  expect_equal(s$r.squared, ref$r.squared, tolerance = tol, label = label)
  expect_equal(s$adj.r.squared, ref$adj.r.squared, tolerance = tol, label = label)
  expect_equal(s$fstatistic, ref$fstatistic, tolerance = tol, label = label)
  expect_equal(s$f_p_value, unname(pf(ref$fstatistic[1], ref$fstatistic[2], ref$fstatistic[3], lower.tail = FALSE)),
               tolerance = tol, label = label)
  expect_equal(unname(quantile(s$residuals)), unname(quantile(ref$residuals)), tolerance = tol, label = label)
  expect_equal(s$cov.unscaled, ref$cov.unscaled, tolerance = tol, label = label)
}

# lm()'s methods beside gd_lm's, for one response.
expect_methods_like_lm <- function(f, ref, newdata, label = "") {
  expect_equal(vcov(f), vcov(ref), tolerance = tol, label = label)
  expect_equal(confint(f), confint(ref), tolerance = tol, label = label)
  expect_equal(confint(f, level = 0.9, parm = 2), confint(ref, level = 0.9, parm = 2), tolerance = tol, label = label)
  expect_equal(sigma(f), sigma(ref), tolerance = tol, label = label)
  expect_equal(deviance(f), deviance(ref), tolerance = tol, label = label)
  expect_identical(df.residual(f), df.residual(ref), label = label)
  expect_identical(f$rank, ref$rank, label = label)
  expect_equal(nobs(f), nobs(ref), label = label)
  expect_equal(logLik(f), logLik(ref), tolerance = tol, label = label)
  expect_equal(AIC(f), AIC(ref), tolerance = tol, label = label)
  expect_equal(BIC(f), BIC(ref), tolerance = tol, label = label)
  expect_equal(hatvalues(f), hatvalues(ref), tolerance = tol, label = label)
  expect_equal(cooks.distance(f), cooks.distance(ref), tolerance = tol, label = label)
  expect_equal(rstandard(f), rstandard(ref), tolerance = tol, label = label)
  expect_equal(rstandard(f, type = "predictive"), rstandard(ref, type = "predictive"), tolerance = tol, label = label)
  expect_equal(rstudent(f), rstudent(ref), tolerance = tol, label = label)
  inf <- influence(f)
  ref_inf <- influence(ref, do.coef = FALSE)
  expect_equal(inf$hat, ref_inf$hat, tolerance = tol, label = label)
  expect_equal(inf$sigma, ref_inf$sigma, tolerance = tol, label = label)
  expect_equal(inf$wt.res, ref_inf$wt.res, tolerance = tol, label = label)
  expect_equal(fitted(f), fitted(ref), tolerance = tol, label = label)
  expect_equal(residuals(f), residuals(ref), tolerance = tol, label = label)
  expect_equal(weights(f), weights(ref), label = label)
  expect_equal(model.matrix(f), model.matrix(ref), label = label)
  for (interval in c("none", "confidence", "prediction")) {
    p <- suppressWarnings(predict(f, newdata, se.fit = TRUE, interval = interval, level = 0.9))
    q <- suppressWarnings(predict(ref, newdata, se.fit = TRUE, interval = interval, level = 0.9))
    expect_equal(p$fit, q$fit, tolerance = tol, label = paste(label, interval))
    expect_equal(p$se.fit, q$se.fit, tolerance = tol, label = paste(label, interval))
    expect_equal(p$df, q$df, label = label)
    expect_equal(p$residual.scale, q$residual.scale, tolerance = tol, label = label)
    expect_equal(suppressWarnings(predict(f, newdata, interval = interval)),
                 suppressWarnings(predict(ref, newdata, interval = interval)), tolerance = tol, label = label)
  }
  expect_equal(anova(f), anova(ref), tolerance = tol, label = label)
}

mtcars_f <- transform(mtcars, cyl = factor(cyl))

cases <- list(
  mtcars = list(mpg ~ wt + hp, mtcars),
  mtcars_factor = list(mpg ~ wt + hp + factor(cyl), mtcars),
  mtcars_interaction = list(mpg ~ wt + hp + wt:hp, mtcars),
  longley = list(Employed ~ ., longley),
  no_intercept = list(mpg ~ wt + hp - 1, mtcars),
  no_intercept_factor = list(mpg ~ 0 + cyl + wt, mtcars_f),
  offset_term = list(mpg ~ hp + offset(wt), mtcars),
  polynomial = list(mpg ~ wt + hp + factor(cyl) + I(hp^2), mtcars)
)

test_that("summary() agrees with summary.lm() on every number it prints (was: no standard errors, t, p, F); so do lm's other methods", {
  skip_if_no_gradlm()
  for (name in names(cases)) {
    formula <- cases[[name]][[1]]
    data <- cases[[name]][[2]]
    expect_warning(f <- gd_lm(formula, data = data), NA)
    ref <- lm(formula, data = data)
    expect_true(f$report$converged, label = name)
    expect_summary_like_lm(summary(f), lm_summary(ref), label = name)
    expect_methods_like_lm(f, ref, data[c(1, 7, 20), ], label = name)
  }
})

test_that("weights = as in lm(): a column, an expression, zero weights (was: 'unexpected keyword argument weights')", {
  skip_if_no_gradlm()
  d <- transform(mtcars, w = 1 / disp)
  for (call in list(quote(gd_lm(mpg ~ wt + hp, data = d, weights = w)),
                    quote(gd_lm(mpg ~ wt + hp, data = mtcars, weights = 1 / disp)),
                    quote(gd_lm(mpg ~ wt + factor(cyl), data = mtcars, weights = rep(1:2, 16))))) {
    f <- eval(call)
    call[[1]] <- quote(lm)
    ref <- eval(call)
    expect_summary_like_lm(summary(f), lm_summary(ref), label = deparse(call))
    expect_methods_like_lm(f, ref, d[c(2, 9, 30), ], label = deparse(call))
    p <- predict(f, d[1:4, ], interval = "prediction", weights = 1:4)
    expect_equal(p, predict(ref, d[1:4, ], interval = "prediction", weights = 1:4), tolerance = tol)
  }
  # rows of weight 0 count for nothing: nobs, df and the diagnostics as lm()
  w0 <- c(0, 0, rep(1, 30))
  f <- gd_lm(mpg ~ wt + hp, data = mtcars, weights = w0)
  ref <- lm(mpg ~ wt + hp, data = mtcars, weights = w0)
  expect_equal(nobs(f), 30L)
  expect_identical(df.residual(f), df.residual(ref))
  expect_equal(coef(summary(f)), coef(summary(ref)), tolerance = tol)
  expect_equal(hatvalues(f), hatvalues(ref), tolerance = tol)
  expect_equal(cooks.distance(f), cooks.distance(ref), tolerance = tol)
  expect_equal(fitted(f), fitted(ref), tolerance = tol)
})

test_that("weights that are negative are refused, naming weights (NA ones go with their rows, as in lm())", {
  skip_if_no_gradlm()
  expect_error(gd_lm(mpg ~ wt, data = mtcars, weights = mtcars$wt - 3), "weights must be finite and >= 0")
  expect_error(gd_lm(mpg ~ wt, data = mtcars, weights = c(NA, rep(1, 31)), na.action = na.pass),
               "weights has 1 NA value")
  expect_equal(nobs(gd_lm(mpg ~ wt, data = mtcars, weights = c(NA, rep(1, 31)))), 31)
  expect_error(gd_lm(mpg ~ wt, data = mtcars, weights = letters[1:32]), "weights must be a numeric vector")
  x <- as.matrix(mtcars[, c("wt", "hp")])
  expect_error(gd_lm(x, mtcars$mpg, weights = 1:3), "weights has 3 value\\(s\\) for 32 row\\(s\\)")
})

test_that("the default method takes weights and intercept = FALSE, as lm.wfit would", {
  skip_if_no_gradlm()
  x <- as.matrix(mtcars[, c("wt", "hp")])
  f <- gd_lm(x, mtcars$mpg, weights = 1 / mtcars$disp)
  ref <- lm(mpg ~ wt + hp, data = mtcars, weights = 1 / disp)
  expect_equal(unname(coef(f)), unname(coef(ref)), tolerance = tol)
  expect_equal(unname(coef(summary(f))), unname(coef(summary(ref))), tolerance = tol)
  expect_equal(unname(hatvalues(f)), unname(hatvalues(ref)), tolerance = tol)
  g <- gd_lm(x, mtcars$mpg, intercept = FALSE)
  ref0 <- lm(mpg ~ wt + hp - 1, data = mtcars)
  expect_equal(names(coef(g)), c("wt", "hp"))
  expect_equal(coef(g), coef(ref0), tolerance = tol)
  expect_equal(unname(coef(summary(g))), unname(coef(summary(ref0))), tolerance = tol)
  expect_equal(unname(predict(g, x[1:3, ])), unname(predict(ref0, mtcars[1:3, ])), tolerance = tol)
})

test_that("offset = and offset() terms: fitted and predictions include the offset, from newdata too", {
  skip_if_no_gradlm()
  # (was: offset(wt) dropped in silence, and offset = failed with "object 'wt' not found")
  for (pair in list(list(quote(gd_lm(mpg ~ hp, data = mtcars, offset = wt)), quote(lm(mpg ~ hp, data = mtcars, offset = wt))),
                    list(quote(gd_lm(mpg ~ hp + offset(wt) + offset(log(disp)), data = mtcars)),
                         quote(lm(mpg ~ hp + offset(wt) + offset(log(disp)), data = mtcars))),
                    list(quote(gd_lm(mpg ~ wt + offset(hp / 10), data = mtcars, offset = qsec)),
                         quote(lm(mpg ~ wt + offset(hp / 10), data = mtcars, offset = qsec))))) {
    f <- eval(pair[[1]])
    ref <- eval(pair[[2]])
    expect_equal(coef(f), coef(ref), tolerance = tol)
    expect_summary_like_lm(summary(f), lm_summary(ref), label = deparse(pair[[1]]))
    expect_methods_like_lm(f, ref, mtcars[c(3, 11, 25), ], label = deparse(pair[[1]]))
    new <- transform(mtcars[1:5, ], wt = wt + 1, qsec = qsec * 2, disp = disp + 7)
    expect_equal(predict(f, new), predict(ref, new), tolerance = tol)
  }
})

test_that("no-intercept formulas fit as lm() does (was: '- 1' refused)", {
  skip_if_no_gradlm()
  for (formula in list(mpg ~ wt + hp - 1, mpg ~ 0 + wt + hp, mpg ~ -1 + wt)) {
    f <- gd_lm(formula, data = mtcars)
    ref <- lm(formula, data = mtcars)
    expect_false("(Intercept)" %in% names(coef(f)))
    expect_equal(coef(f), coef(ref), tolerance = tol)
    expect_summary_like_lm(summary(f), lm_summary(ref), label = deparse(formula))
    expect_equal(predict(f, mtcars[1:3, ]), predict(ref, mtcars[1:3, ]), tolerance = tol)
  }
})

test_that("airquality with NA rows and na.exclude: padding as lm() (was: no padding), summary and diagnostics agree", {
  skip_if_no_gradlm()
  formula <- Ozone ~ Solar.R + Wind + Temp
  f <- gd_lm(formula, data = airquality, na.action = na.exclude)
  ref <- lm(formula, data = airquality, na.action = na.exclude)
  expect_summary_like_lm(summary(f), lm_summary(ref))
  expect_output(print(summary(f)), "42 observations deleted due to missingness", fixed = TRUE)
  for (fun in list(fitted, residuals, hatvalues, cooks.distance, rstandard, rstudent)) {
    expect_equal(fun(f), fun(ref), tolerance = tol)
  }
  expect_length(hatvalues(f), nrow(airquality))
  expect_equal(influence(f)$sigma, influence(ref, do.coef = FALSE)$sigma, tolerance = tol)
  p <- predict(f, se.fit = TRUE, interval = "confidence")
  q <- predict(ref, se.fit = TRUE, interval = "confidence")
  expect_equal(p$fit, q$fit, tolerance = tol)
  expect_equal(p$se.fit, q$se.fit, tolerance = tol)
  expect_warning(predict(f, interval = "prediction"), "predictions on current data refer to _future_ responses")
  expect_equal(anova(f), anova(ref), tolerance = tol)
})

test_that("several responses: per response, as lm()'s mlm", {
  skip_if_no_gradlm()
  formula <- cbind(mpg, qsec) ~ wt + hp
  f <- gd_lm(formula, data = mtcars)
  ref <- lm(formula, data = mtcars)
  s <- summary(f)
  r <- summary(ref)
  expect_s3_class(s, "summary.gd_mlm")
  expect_equal(names(s), names(r))
  for (name in names(r)) expect_summary_like_lm(s[[name]], r[[name]], label = name)
  expect_equal(confint(f), confint(ref), tolerance = tol)
  expect_equal(sigma(f), sigma(ref), tolerance = tol)
  expect_equal(deviance(f), deviance(ref), tolerance = tol)
  expect_equal(hatvalues(f), hatvalues(ref), tolerance = tol)
  expect_equal(cooks.distance(f), cooks.distance(ref), tolerance = tol)
  expect_equal(rstandard(f), rstandard(ref), tolerance = tol)
  expect_equal(rstudent(f), rstudent(ref), tolerance = tol)
  expect_equal(influence(f)$sigma, influence(ref)$sigma, tolerance = tol)
  expect_equal(influence(f)$wt.res, influence(ref)$wt.res, tolerance = tol)
  for (response in c("mpg", "qsec")) {
    one <- lm(reformulate(c("wt", "hp"), response), data = mtcars)
    expect_equal(vcov(f, response = response), vcov(one), tolerance = tol)
    expect_equal(anova(f)[[response]], anova(one), tolerance = tol, ignore_attr = "heading")
    p <- predict(f, mtcars[1:3, ], interval = "confidence")[[response]]
    expect_equal(p, predict(one, mtcars[1:3, ], interval = "confidence"), tolerance = tol)
  }
  expect_error(vcov(f), "vcov\\(fit, response = \"mpg\"\\)")
  expect_error(logLik(f), "does not support several responses")
  expect_output(print(s), "Response mpg :")
  expect_output(print(s), "Response qsec :")
  g <- glance(f)
  expect_equal(g$response, c("mpg", "qsec"))
  expect_equal(g$r.squared, c(r[[1]]$r.squared, r[[2]]$r.squared), tolerance = tol)
})

test_that("rank and df.residual are lm()'s (was: rank 5 and df.residual 27 on a polynomial design)", {
  skip_if_no_gradlm()
  f <- gd_lm(mpg ~ wt + hp + factor(cyl) + I(hp^2), data = mtcars)
  expect_identical(f$rank, 6L)
  expect_identical(df.residual(f), 26L)
  expect_no_match <- function(object, regexp) expect_false(any(grepl(regexp, capture.output(print(object)))))
  expect_no_match(summary(f), "collinear")
  g <- gd_lm(Employed ~ ., data = longley)
  ref <- lm(Employed ~ ., data = longley)
  expect_identical(g$rank, ref$rank)
  expect_identical(df.residual(g), df.residual(ref))
})

test_that("anova() of nested fits agrees with anova.lm's comparison", {
  skip_if_no_gradlm()
  f1 <- gd_lm(mpg ~ wt, data = mtcars)
  f2 <- gd_lm(mpg ~ wt + hp, data = mtcars)
  f3 <- gd_lm(mpg ~ wt + hp + factor(cyl), data = mtcars)
  r1 <- lm(mpg ~ wt, data = mtcars)
  r2 <- lm(mpg ~ wt + hp, data = mtcars)
  r3 <- lm(mpg ~ wt + hp + factor(cyl), data = mtcars)
  expect_equal(anova(f1, f2), anova(r1, r2), tolerance = tol)
  expect_equal(anova(f1, f2, f3), anova(r1, r2, r3), tolerance = tol)
  expect_s3_class(anova(f1, f2), "anova")
  expect_output(print(anova(f1, f2)), "Model 2: mpg ~ wt \\+ hp")
})

test_that("print(summary()) shows summary.lm's lines and gradlm's", {
  skip_if_no_gradlm()
  f <- gd_lm(mpg ~ wt + hp, data = mtcars)
  out <- capture.output(print(summary(f)))
  ref <- capture.output(print(summary(lm(mpg ~ wt + hp, data = mtcars))))
  # summary.lm's lines from "Residuals:" to the F-statistic, the same to the digits printed
  from <- grep("^Residuals:", ref)
  to <- grep("^F-statistic", ref)
  expect_identical(out[grep("^Residuals:", out) + 0:(to - from)], ref[from:to])
  expect_true(any(grepl("least squares", out)))
  expect_true(any(grepl("^Converged: yes", out)))
  expect_false(any(grepl("did not converge", out)))
})

test_that("a fit that did not converge says its standard errors are at the gradient-descent coefficients", {
  skip_if_no_gradlm()
  expect_warning(f <- gd_lm(mpg ~ wt + hp, data = mtcars, epochs = 3), "did not converge")
  s <- summary(f)
  expect_false(s$converged)
  printed <- paste(capture.output(print(s)), collapse = " ")
  expect_true(grepl(paste("the standard errors, t values, p values and R-squared are computed at the gradient-descent",
                          "coefficients, which are not the least-squares ones"), printed, fixed = TRUE))
  expect_output(print(s), "Converged: no")
  # the table is at the fitted coefficients
  expect_equal(unname(s$coefficients[, "Estimate"]), unname(coef(f)), tolerance = 1e-12)
  # (new-user review: longley cut at 50 epochs printed "F-statistic: -0.8683 on 6 and 9 DF")
  expect_warning(far <- gd_lm(Employed ~ ., data = longley, epochs = 50, seed = 1), "did not converge")
  sf <- summary(far)
  expect_lt(sf$fstatistic[[1L]], 0)
  expect_output(print(sf), "F-statistic: none: these coefficients fit worse than the mean alone")
})

test_that("broom's tidy, glance and augment of lm() and gd_lm agree on their shared columns", {
  skip_if_no_gradlm()
  skip_if_not_installed("broom")
  for (name in c("mtcars", "mtcars_factor", "longley", "no_intercept", "offset_term")) {
    formula <- cases[[name]][[1]]
    data <- cases[[name]][[2]]
    f <- gd_lm(formula, data = data)
    ref <- lm(formula, data = data)
    t1 <- tidy(f, conf.int = TRUE, conf.level = 0.9)
    t2 <- broom::tidy(ref, conf.int = TRUE, conf.level = 0.9)
    expect_equal(names(t1)[seq_along(t2)], names(t2), label = name)
    expect_equal(t1[names(t2)], t2, tolerance = tol, label = name)
    expect_equal(t1$lm_estimate, unname(coef(ref)), tolerance = 1e-8, label = name)
    g1 <- glance(f)
    g2 <- lm_glance(ref)
    expect_equal(names(g1)[seq_along(g2)], names(g2), label = name)
    expect_equal(g1[names(g2)], g2, tolerance = tol, ignore_attr = TRUE, label = name)
    expect_true(all(c("loss", "lstsq_loss", "gap", "epochs", "stop_reason", "converged", "coef_error", "tol", "lr",
                      "momentum", "condition_number") %in% names(g1)))
    a1 <- augment(f)
    a2 <- as.data.frame(broom::augment(ref))
    shared <- c(".fitted", ".resid", ".hat", ".sigma", ".cooksd", ".std.resid")
    expect_equal(a1[shared], a2[shared], tolerance = tol, ignore_attr = TRUE, label = name)
    a1 <- augment(f, se_fit = TRUE, interval = "confidence")
    a2 <- as.data.frame(broom::augment(ref, se_fit = TRUE, interval = "confidence"))
    expect_equal(a1[c(".se.fit", ".lower", ".upper")], a2[c(".se.fit", ".lower", ".upper")], tolerance = tol,
                 ignore_attr = TRUE, label = name)
  }
  # weights: broom's glance and tidy of the weighted fit
  f <- gd_lm(mpg ~ wt + hp, data = mtcars, weights = 1 / disp)
  ref <- lm(mpg ~ wt + hp, data = mtcars, weights = 1 / disp)
  g2 <- lm_glance(ref)
  expect_equal(glance(f)[names(g2)], g2, tolerance = tol, ignore_attr = TRUE)
  t2 <- broom::tidy(ref)
  expect_equal(tidy(f)[names(t2)], t2, tolerance = tol)
  # broom's shapes (new-user review: plain data.frames, and augment() kept mtcars' car names as row names)
  expect_s3_class(tidy(f), "tbl_df")
  expect_s3_class(glance(f), "tbl_df")
  a <- augment(f)
  expect_s3_class(a, "tbl_df")
  expect_identical(names(a)[1L], ".rownames")
  expect_identical(a$.rownames, rownames(mtcars))
  expect_identical(names(augment(gd_lm(dist ~ speed, data = cars)))[1:2], c("dist", "speed"))
})

test_that("several responses: tidy has a response column first, glance a row per response (was: mean of R-squared)", {
  skip_if_no_gradlm()
  skip_if_not_installed("broom")
  f <- gd_lm(cbind(mpg, qsec) ~ wt + hp, data = mtcars)
  ref <- lm(cbind(mpg, qsec) ~ wt + hp, data = mtcars)
  t1 <- tidy(f)
  t2 <- broom::tidy(ref)
  expect_equal(names(t1)[1:6], names(t2))
  expect_equal(t1[names(t2)], t2, tolerance = tol)
  g <- glance(f)
  expect_equal(nrow(g), 2L)
  expect_equal(names(g)[1:2], c("response", "r.squared"))
  for (j in 1:2) {
    one <- lm(reformulate(c("wt", "hp"), c("mpg", "qsec")[j]), data = mtcars)
    g2 <- lm_glance(one)
    expect_equal(g[j, names(g2)], g2, tolerance = tol, ignore_attr = TRUE)
  }
})

test_that("plot draws lm's panels 1 to 6, the loss curve (7) and the fit (8)", {
  skip_if_no_gradlm()
  path <- tempfile(fileext = ".pdf")
  grDevices::pdf(path)
  on.exit(grDevices::dev.off())
  f <- gd_lm(mpg ~ wt + hp, data = mtcars, weights = rep(1:2, 16))
  for (which in 1:8) expect_invisible(plot(f, which = which))
  expect_invisible(plot(f))
  g <- gd_lm(cbind(mpg, qsec) ~ wt + hp, data = mtcars)
  expect_invisible(plot(g, which = 1:8))
  expect_error(plot(f, which = 9), "panel numbers from 1 to 8")
})

test_that("lm() arguments gd_lm does not support are refused by name", {
  skip_if_no_gradlm()
  expect_error(gd_lm(mpg ~ wt, data = mtcars, method = "qr"), "does not support 'method'")
  expect_error(gd_lm(mpg ~ wt, data = mtcars, singular.ok = FALSE), "does not support 'singular.ok'")
  expect_error(gd_lm(mpg ~ wt, data = mtcars, qr = TRUE), "does not support 'qr'")
  x <- as.matrix(mtcars[, c("wt", "hp")])
  expect_error(gd_lm(x, mtcars$mpg, offset = mtcars$wt), "does not support 'offset'")
})

test_that("vcov, confint, anova, logLik, AIC, BIC, hatvalues, cooks.distance, rstandard, drop1 work (were: no applicable method)", {
  skip_if_no_gradlm()
  f <- gd_lm(mpg ~ wt + hp + qsec, data = mtcars)
  ref <- lm(mpg ~ wt + hp + qsec, data = mtcars)
  expect_equal(vcov(f), vcov(ref), tolerance = tol)
  expect_equal(confint(f), confint(ref), tolerance = tol)
  expect_equal(anova(f), anova(ref), tolerance = tol)
  expect_s3_class(logLik(f), "logLik")
  expect_equal(c(AIC(f), BIC(f)), c(AIC(ref), BIC(ref)), tolerance = tol)
  expect_equal(hatvalues(f), hatvalues(ref), tolerance = tol)
  expect_equal(cooks.distance(f), cooks.distance(ref), tolerance = tol)
  expect_equal(rstandard(f), rstandard(ref), tolerance = tol)
  # drop1.default's columns (Df, AIC) as drop1.lm has them; drop1 refits each submodel with gd_lm
  expect_equal(drop1(f)[c("Df", "AIC")], drop1(ref)[c("Df", "AIC")], tolerance = tol, ignore_attr = TRUE)
  expect_equal(extractAIC(f), extractAIC(ref), tolerance = tol)
})

test_that("sigma() and deviance() give lm's values (were: numeric(0) and NULL, in silence)", {
  skip_if_no_gradlm()
  f <- gd_lm(mpg ~ wt + hp, data = mtcars)
  ref <- lm(mpg ~ wt + hp, data = mtcars)
  expect_length(sigma(f), 1L)
  expect_equal(sigma(f), sigma(ref), tolerance = tol)
  expect_equal(deviance(f), deviance(ref), tolerance = tol)
})

test_that("predict() honours interval, level and se.fit (were: ignored in silence)", {
  skip_if_no_gradlm()
  f <- gd_lm(mpg ~ wt + hp, data = mtcars)
  ref <- lm(mpg ~ wt + hp, data = mtcars)
  new <- mtcars[1:4, ]
  expect_equal(colnames(predict(f, new, interval = "confidence")), c("fit", "lwr", "upr"))
  expect_equal(predict(f, new, interval = "prediction", level = 0.8),
               predict(ref, new, interval = "prediction", level = 0.8), tolerance = tol)
  p <- predict(f, new, se.fit = TRUE)
  expect_named(p, c("fit", "se.fit", "df", "residual.scale"))
  expect_equal(p, predict(ref, new, se.fit = TRUE), tolerance = tol)
})

test_that("plot(fit, which = 3) draws the scale-location panel (was: nothing)", {
  skip_if_no_gradlm()
  f <- gd_lm(mpg ~ wt + hp, data = mtcars)
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  grDevices::dev.control("enable")
  plot(f, which = 3)
  expect_gt(length(grDevices::recordPlot()[[1]]), 0L)
})

test_that("model.matrix(fit) gives lm's (was: an error)", {
  skip_if_no_gradlm()
  for (formula in list(mpg ~ wt + factor(cyl), mpg ~ wt:hp + hp - 1)) {
    expect_equal(model.matrix(gd_lm(formula, data = mtcars)), model.matrix(lm(formula, data = mtcars)))
  }
})

test_that("lstsq on an ill-conditioned degree-10 polynomial design reaches lm()'s loss (was: 35% above)", {
  skip_if_no_gradlm()
  x <- seq(0.1, 0.8, length.out = 60)
  X <- outer(x, 1:10, `^`)
  y <- sin(4 * x) + cos(9 * x) / 3
  ref <- lm(y ~ X)
  s <- lstsq(X, y)
  loss <- mean((y - X %*% t(s$weight) - s$bias)^2)
  expect_lt(loss / mean(residuals(ref)^2) - 1, 1e-6)
})

test_that("collinear predictors with residual degrees of freedom: aliased, df and the fit's numbers as lm()", {
  skip_if_no_gradlm()
  d <- transform(mtcars, wt2 = 2 * wt)
  f <- gd_lm(mpg ~ wt + wt2 + hp, data = d)
  ref <- lm(mpg ~ wt + wt2 + hp, data = d)
  s <- summary(f)
  r <- summary(ref)
  expect_equal(s$aliased, r$aliased)
  expect_equal(s$df, r$df)
  expect_equal(s$coefficients, r$coefficients, tolerance = tol)  # lm's solution without the aliased term
  expect_equal(vcov(f), vcov(ref), tolerance = tol)
  expect_equal(confint(f), confint(ref), tolerance = tol)
  expect_equal(c(s$sigma, s$r.squared, s$adj.r.squared), c(r$sigma, r$r.squared, r$adj.r.squared), tolerance = tol)
  expect_equal(s$fstatistic, r$fstatistic, tolerance = tol)
  expect_true(all(is.na(vcov(f)["wt2", ])))
  expect_output(print(s), "Coefficients: (1 not defined because of singularities)", fixed = TRUE)
  expect_equal(fitted(f), fitted(ref), tolerance = tol)
  expect_equal(hatvalues(f), hatvalues(ref), tolerance = tol)
  expect_equal(anova(f), anova(ref), tolerance = tol)  # the aliased term has no row, as in anova.lm
})

test_that("tidy() of a fit with collinear predictors is broom's tidy.lm: NA for the aliased term", {
  skip_if_no_gradlm()
  skip_if_not_installed("broom")
  d <- transform(mtcars, wt2 = 2 * wt)
  f <- gd_lm(mpg ~ wt + wt2 + hp, data = d)
  ref <- lm(mpg ~ wt + wt2 + hp, data = d)
  t2 <- broom::tidy(ref, conf.int = TRUE)
  expect_equal(tidy(f, conf.int = TRUE)[names(t2)], t2, tolerance = tol)
  expect_equal(predict(f, d[1:3, ]), suppressWarnings(predict(ref, d[1:3, ])), tolerance = tol)  # (lm warns: rank-deficient)
})

test_that("rows of leverage 1 get NaN, not rounding over 0 (Cook's distance was 9.6e8; lm(): NaN)", {
  skip_if_no_gradlm()
  f <- mpg ~ factor(cyl) * factor(gear)
  fit <- gd_lm(f, data = mtcars)
  ref <- lm(f, data = mtcars)
  expect_identical(is.na(cooks.distance(fit)), is.na(cooks.distance(ref)))
  expect_equal(cooks.distance(fit)[!is.na(cooks.distance(ref))], cooks.distance(ref)[!is.na(cooks.distance(ref))],
               tolerance = 1e-6)
  expect_identical(is.na(rstandard(fit, type = "predictive")), is.na(rstandard(ref, type = "predictive")))
})

test_that("NA weights drop their rows as lm()'s na.action does (they were refused)", {
  skip_if_no_gradlm()
  mt <- mtcars
  mt$w <- 1 / mt$disp
  mt$w[c(2, 5)] <- NA
  fit <- gd_lm(mpg ~ wt + hp, data = mt, weights = w)
  ref <- lm(mpg ~ wt + hp, data = mt, weights = w)
  expect_equal(nobs(fit), nobs(ref))
  expect_equal(coef(summary(fit))[, 1:4], coef(summary(ref)), tolerance = 1e-6)
  expect_error(gd_lm(mpg ~ wt + hp, data = mt, weights = w, na.action = na.pass), "weights")
})

test_that("logLik(REML = TRUE) is lm()'s (REML was ignored)", {
  skip_if_no_gradlm()
  fit <- gd_lm(mpg ~ wt + hp, data = mtcars)
  ref <- lm(mpg ~ wt + hp, data = mtcars)
  expect_equal(as.numeric(logLik(fit, REML = TRUE)), as.numeric(logLik(ref, REML = TRUE)), tolerance = 1e-9)
  expect_error(predict(fit, mtcars, type = "terms"), "type = \"response\" only")
})

test_that("drop1() gives lm()'s table, F test included (it had Df and AIC only, and test = \"F\" failed)", {
  skip_if_no_gradlm()
  for (f in list(mpg ~ wt + hp + qsec, mpg ~ wt * hp + factor(cyl))) {
    fit <- gd_lm(f, data = mtcars)
    ref <- lm(f, data = mtcars)
    got <- drop1(fit, test = "F")
    want <- drop1(ref, test = "F")
    expect_identical(rownames(got), rownames(want))
    expect_equal(as.matrix(got), as.matrix(want), tolerance = 1e-6, ignore_attr = TRUE)
  }
  w <- gd_lm(mpg ~ wt + hp, data = mtcars, weights = 1 / disp)
  expect_equal(as.matrix(drop1(w, test = "F")), as.matrix(drop1(lm(mpg ~ wt + hp, data = mtcars, weights = 1 / disp),
                                                                 test = "F")), tolerance = 1e-6, ignore_attr = TRUE)
})
