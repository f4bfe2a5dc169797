# gd_lm on the crop-yield data: gradient descent on PyTorch, beside lm().
library(gradlm)
# No settings: the step comes from the data, and training stops once every
# coefficient is certified within 1e-10 of least squares.
fit <- gd_lm(cbind(mangoes, oranges) ~ temperature + rainfall + humidity, data = crops, seed = 0)
fit
summary(fit)
confint(fit)
head(as.data.frame(fit$history))
dir.create("gradlm-demo", showWarnings = FALSE)
png("gradlm-demo/gd_lm-%d.png")
plot(fit, which = c(7, 8))  # the loss curve, then predicted against actual (1 to 6: lm()'s diagnostic panels)
invisible(dev.off())
cat("plots written to gradlm-demo/gd_lm-1.png and gd_lm-2.png\n")
