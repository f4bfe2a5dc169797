# The fast paths of gd_lm() (issue 17) against the general ones they stand for.
#
# model_frame() builds the model frame with na.action = na.pass and keeps it when no column holds an NA,
# skipping na.omit's copy of every column; with an NA, or an na.action it does not know, it evaluates
# model.frame() as written. Either way the frame must be the one model.frame() gives.

frame_call <- function(formula, ...) {
  call <- match.call()
  call[[1L]] <- quote(stats::model.frame)
  call$drop.unused.levels <- TRUE
  call
}

speed_data <- function(with_na = FALSE) {
  set.seed(17)
  n <- 40
  d <- data.frame(a = rnorm(n), b = runif(n, 1, 2), f = factor(sample(c("u", "v", "w"), n, TRUE)),
                  s = sample(c("p", "q"), n, TRUE), w = runif(n, 0.5, 2), o = rnorm(n), stringsAsFactors = FALSE)
  d$y1 <- 1 + 2 * d$a - d$b + as.integer(d$f) + rnorm(n)
  d$y2 <- -1 + d$a + 3 * d$b + rnorm(n)
  if (with_na) {
    d$a[3] <- NA
    d$y2[7] <- NA
    d$f[11] <- NA
  }
  d
}

# The value, or the error's message (poly() refuses NA whichever the na.action).
result_of <- function(expr) tryCatch(expr, error = conditionMessage)

test_that("model_frame() gives model.frame()'s frame, with and without NA, for every na.action", {
  formulas <- list(cbind(y1, y2) ~ ., y1 ~ a + b, y1 ~ poly(a, 2) + f, y1 ~ log(b) + I(a^2) + a:b,
                   y1 ~ f * a - 1, y1 ~ s + offset(o), cbind(y1, y2) ~ a + b + 0)
  actions <- list(NULL, quote(na.omit), quote(na.exclude), quote(na.pass), quote("na.omit"),
                  quote(function(object, ...) stats::na.omit(object, ...)))
  for (with_na in c(FALSE, TRUE)) {
    d <- speed_data(with_na)
    for (formula in formulas) for (action in actions) {
      for (extra in list(list(), list(subset = quote(a > -1)), list(weights = quote(w)))) {
        call <- as.call(c(as.list(frame_call(formula, data = d)), extra))
        if (!is.null(action)) call$na.action <- action
        call$data <- quote(d)
        expect_identical(result_of(gradlm:::model_frame(call, d, environment())), result_of(eval(call)),
                         info = paste(deparse(formula), deparse(action), names(extra), with_na))
      }
    }
  }
})

test_that("model_frame() keeps na.fail's error and the session's na.action option", {
  d <- speed_data(TRUE)
  call <- frame_call(y1 ~ a + b, data = d, na.action = na.fail)
  call$data <- quote(d)
  expect_error(gradlm:::model_frame(call, d, environment()), "missing values")
  clean <- speed_data(FALSE)
  call$data <- quote(clean)
  expect_identical(gradlm:::model_frame(call, clean, environment()), eval(call))
  old <- options(na.action = "na.exclude")
  on.exit(options(old))
  call <- frame_call(y1 ~ a + b, data = d)
  call$data <- quote(d)
  frame <- gradlm:::model_frame(call, d, environment())
  expect_identical(frame, eval(call))
  expect_s3_class(attr(frame, "na.action"), "exclude")
})

# An na.action that is na.omit in all but name takes the general path: the fits must agree in every number.
test_that("gd_lm() through the fast frame equals gd_lm() through model.frame()'s na.action", {
  skip_if_no_gradlm()
  omit <- function(object, ...) stats::na.omit(object, ...)
  d <- speed_data(FALSE)
  new <- d[1:5, ]
  cases <- list(
    list(formula = cbind(y1, y2) ~ a + b + f),
    list(formula = y1 ~ poly(a, 2) + f + s),
    list(formula = y1 ~ log(b) + I(a^2) + a:b - 1),
    list(formula = y1 ~ a + b, weights = quote(w), offset = quote(o), subset = quote(a > -1))
  )
  for (case in cases) {
    fast <- eval(as.call(c(quote(gd_lm), case, list(data = quote(d), seed = 1))))
    general <- eval(as.call(c(quote(gd_lm), case, list(data = quote(d), seed = 1, na.action = omit))))
    info <- deparse(case$formula)
    expect_identical(coef(fast), coef(general), info = info)
    expect_identical(fitted(fast), fitted(general), info = info)
    expect_identical(residuals(fast), residuals(general), info = info)
    expect_identical(fast$model, general$model, info = info)
    expect_identical(predict(fast, new), predict(general, new), info = info)
    s_fast <- summary(fast)
    s_general <- summary(general)
    s_fast$call <- s_general$call <- NULL
    if (inherits(s_fast, "summary.gd_mlm")) {
      for (j in seq_along(s_fast)) s_fast[[j]]$call <- s_general[[j]]$call <- NULL
    }
    expect_identical(s_fast, s_general, info = info)
  }
})

test_that("the fast frame is not taken with NA: na.exclude still pads, as lm()", {
  skip_if_no_gradlm()
  d <- speed_data(TRUE)
  fit <- gd_lm(y1 ~ a + b + f, data = d, na.action = na.exclude)
  ref <- lm(y1 ~ a + b + f, data = d, na.action = na.exclude)
  expect_identical(which(is.na(fitted(fit))), which(is.na(fitted(ref))))
  expect_equal(residuals(fit), residuals(ref), tolerance = 1e-6)
  expect_identical(fit$na.action, ref$na.action)
})

test_that("the fitted values and residuals cross from Python once, and the core's result stays whole", {
  skip_if_no_gradlm()
  d <- speed_data(FALSE)
  x <- as.matrix(d[, c("a", "b")])
  y <- as.matrix(d[, c("y1", "y2")])
  res <- gradlm:::bridge(convert = FALSE)$fit_lm(x, y, seed = 1L)
  fit <- gradlm:::new_gd_lm(res, c("a", "b"), c("y1", "y2"), y)
  # (an interrupted fit's result may be finished a second time: new_gd_lm() must not empty it)
  expect_true(all(c("fitted", "residuals") %in% names(reticulate::py_to_r(res))))
  expect_identical(gradlm:::new_gd_lm(res, c("a", "b"), c("y1", "y2"), y), fit)
  ref <- lm(y ~ x)
  expect_identical(dimnames(fit$fitted.values), list(NULL, c("y1", "y2")))
  expect_equal(fit$fitted.values, fitted(ref), ignore_attr = TRUE, tolerance = 1e-8)
  expect_equal(fit$fitted.values + fit$residuals, y, ignore_attr = TRUE, tolerance = 1e-12)
})

test_that("without NA the frame is not passed through na.omit (its copy is what the fast path saves)", {
  calls <- 0L
  suppressMessages(trace("na.omit.data.frame", where = asNamespace("stats"), print = FALSE,
                         tracer = bquote(assign("calls", get("calls", envir = .(environment())) + 1L,
                                                envir = .(environment())))))
  on.exit(suppressMessages(untrace("na.omit.data.frame", where = asNamespace("stats"))))
  clean <- speed_data(FALSE)
  call <- frame_call(cbind(y1, y2) ~ ., data = clean)
  call$data <- quote(clean)
  gradlm:::model_frame(call, clean, environment())
  expect_identical(calls, 0L)
  eval(call)
  expect_identical(calls, 1L)  # (model.frame() itself does pass it through)
  with_na <- speed_data(TRUE)
  call$data <- quote(with_na)
  gradlm:::model_frame(call, with_na, environment())
  expect_identical(calls, 2L)
})
