#' Plot a gd_lm fit: lm()'s diagnostic panels and the loss curve
#'
#' The panels of [stats::plot.lm()], numbered as there, then gradlm's:
#' 1, residuals against fitted values; 2, normal Q-Q plot of the
#' standardized residuals; 3, scale-location; 4, Cook's distances;
#' 5, standardized residuals against leverage (with Cook's distance contours);
#' 6, Cook's distance against leverage / (1 - leverage); 7, the training loss
#' per epoch (log scale); 8, the data with the fitted line (one predictor, one
#' response) or predicted against actual values. The diagnostics are the
#' core's (see [gd_lm-inference]); rows of weight 0 are left out, as
#' `plot.lm()` leaves them out. Several responses: panels 1 to 6 once per
#' response (titled with its name); 7 and 8 once. A fit loaded from a file has
#' no training rows: only panel 7 can be drawn. A penalized fit (`penalty > 0`)
#' has no `lm()` inference, so no standardized residuals, leverages or Cook's
#' distances: panels 1, 7 and 8 are drawn (by default 1 and 7, with a message
#' naming the panels left out), and asking for panels 2 to 6 is an error.
#'
#' @param x A `gd_lm` fit.
#' @param which The panels to draw (numbers 1 to 8); by default 1, 2, 3, 5
#'   (lm's default) and 7 (the loss curve).
#' @param id.n How many of the most extreme points to label in panels 1 to 6.
#' @param ask Ask before each new page, as [stats::plot.lm()].
#' @param ... Passed to the plotting functions.
#' @return `x`, invisibly.
#' @examplesIf gradlm_available()
#' fit <- gd_lm(mpg ~ wt + hp, data = mtcars)
#' plot(fit, which = 1)
#' plot(fit, which = 7)
#' @export
plot.gd_lm <- function(x, which = c(1L, 2L, 3L, 5L, 7L), id.n = 3L,
                       ask = length(which) > 1L && grDevices::dev.interactive(), ...) {
  if (!is.numeric(which) || any(!which %in% 1:8)) stop("which must be panel numbers from 1 to 8.", call. = FALSE)
  if (is_penalized(x) && any(which %in% 2:6)) {
    if (!missing(which)) {
      stop(penalized_no_inference(sprintf(
        "standardized residuals, leverages or Cook's distances for panel(s) %s (panels 1, 7 and 8 need none)",
        paste(intersect(which, 2:6), collapse = ", "))), call. = FALSE)
    }
    message(sprintf("plot(): panel(s) %s left out: a penalized fit (penalty > 0) has no lm() inference, so no ",
                    paste(intersect(which, 2:6), collapse = ", ")),
            "standardized residuals or leverages. Panels 1, 7 and 8 are drawn.")
    which <- setdiff(which, 2:6)
  }
  if (ask) {
    oask <- grDevices::devAskNewPage(TRUE)
    on.exit(grDevices::devAskNewPage(oask))
  }
  if (any(which %in% 1:6)) {
    needs_training_data(x, "diagnostic panels (which = 1 to 6); which = 7 draws the loss curve")
    keep <- if (is.null(x$weights)) rep(TRUE, NROW(x$fitted.values)) else x$weights != 0
    # Panel 1 needs only the (weighted) residuals: a penalized fit, which has no inference, draws it from them
    # (diagnostic_panels() evaluates the other diagnostics only for the panels that use them).
    d <- if (is_penalized(x)) {
      list(wt.res = (as.matrix(x$residuals) * sqrt(x$weights %||% 1))[keep, , drop = FALSE])
    } else row_diagnostics(x)
    fitted <- as.matrix(x$fitted.values)[keep, , drop = FALSE]
    several <- length(x$responses) > 1L
    for (j in seq_along(x$responses)) {
      title <- function(caption) if (several) paste0(caption, " (", x$responses[j], ")") else caption
      column <- function(v) as.numeric(as.matrix(v)[, min(j, NCOL(v))])
      diagnostic_panels(which, yh = fitted[, j], r = column(d$wt.res), rs = column(d$rstandard),
                        hat = column(d$hat), cook = column(d$cooks), p = x$rank,
                        labels = rownames(fitted) %||% as.character(seq_len(nrow(fitted))),
                        title = title, id.n = id.n, ...)
    }
  }
  if (7L %in% which) plot(x$history, log = TRUE, ...)
  if (8L %in% which) plot_fit_panel(x)
  invisible(x)
}

# Panels 1 to 6 of plot.lm() for one response, from the core's diagnostics.
diagnostic_panels <- function(which, yh, r, rs, hat, cook, p, labels, title, id.n, ...) {
  label_extremes <- function(xs, ys, score) {
    if (id.n <= 0L) return(invisible())
    top <- utils::head(order(score, decreasing = TRUE), id.n)
    graphics::text(xs[top], ys[top], labels[top], cex = 0.75, pos = 4, xpd = TRUE)
  }
  smooth <- function(xs, ys) {
    ok <- is.finite(xs) & is.finite(ys)
    if (sum(ok) > 2L) graphics::lines(stats::lowess(xs[ok], ys[ok]), col = "red")
  }
  if (1L %in% which) {
    graphics::plot(yh, r, xlab = "Fitted values", ylab = "Residuals", main = title("Residuals vs Fitted"), ...)
    graphics::abline(h = 0, lty = 3, col = "gray")
    smooth(yh, r)
    label_extremes(yh, r, abs(r))
  }
  if (2L %in% which) {
    q <- stats::qqnorm(rs, main = title("Normal Q-Q"), ylab = "Standardized residuals", ...)
    stats::qqline(rs, lty = 3, col = "gray50")
    label_extremes(q$x, q$y, abs(rs))
  }
  if (3L %in% which) {
    s <- sqrt(abs(rs))
    graphics::plot(yh, s, xlab = "Fitted values", ylab = expression(sqrt(abs("Standardized residuals"))),
                   main = title("Scale-Location"), ...)
    smooth(yh, s)
    label_extremes(yh, s, abs(rs))
  }
  if (4L %in% which) {
    graphics::plot(seq_along(cook), cook, type = "h", xlab = "Obs. number", ylab = "Cook's distance",
                   main = title("Cook's distance"), ...)
    label_extremes(seq_along(cook), cook, cook)
  }
  if (5L %in% which) {
    graphics::plot(hat, rs, xlim = c(0, max(hat, na.rm = TRUE)), xlab = "Leverage",
                   ylab = "Standardized residuals", main = title("Residuals vs Leverage"), ...)
    graphics::abline(h = 0, v = 0, lty = 3, col = "gray")
    smooth(hat, rs)
    hh <- seq(min(0.01, max(hat, na.rm = TRUE) / 100), max(hat, na.rm = TRUE), length.out = 101)
    for (level in c(0.5, 1)) {  # Cook's distance contours, as plot.lm() draws them
      bound <- sqrt(level * p * (1 - hh) / hh)
      graphics::lines(hh, bound, lty = 2, col = "red")
      graphics::lines(hh, -bound, lty = 2, col = "red")
    }
    label_extremes(hat, rs, cook)
  }
  if (6L %in% which) {
    lev <- hat / (1 - hat)
    graphics::plot(lev, cook, xlab = "Leverage h / (1 - h)", ylab = "Cook's distance",
                   main = title("Cook's dist vs Leverage h / (1 - h)"), ...)
    label_extremes(lev, cook, cook)
  }
}

# Panel 8: the data with the fitted line (one predictor and response), else predicted against actual.
plot_fit_panel <- function(x) {
  needs_training_data(x, "data to plot against")
  y <- as.matrix(x$y)
  fitted <- as.matrix(x$fitted.values)
  if (length(x$predictors) == 1L && ncol(y) == 1L && !is.null(x$model)) {
    xs <- design_x(x)[, 1L]
    graphics::plot(xs, y[, 1L], xlab = x$predictors, ylab = x$responses, main = "Fit")
    o <- order(xs)
    graphics::lines(xs[o], fitted[o, 1L], col = "red")
  } else {
    lims <- range(c(y, fitted))
    graphics::plot(NA, xlim = lims, ylim = lims, xlab = "actual", ylab = "predicted", main = "Predicted vs actual")
    for (j in seq_len(ncol(y))) graphics::points(y[, j], fitted[, j], col = j, pch = 19)
    graphics::abline(0, 1, lty = 2)
    if (ncol(y) > 1L) graphics::legend("topleft", x$responses, col = seq_len(ncol(y)), pch = 19, bty = "n")
  }
}
