# gd_lm on the crop-yield data: gradient descent on PyTorch, beside lm().
library(gradlm)
fit <- gd_lm(cbind(mangoes, oranges) ~ temperature + rainfall + humidity, data = crops,
             epochs = 500, lr = 0.5, standardize = TRUE, seed = 0)
summary(fit)
head(as.data.frame(fit$history))
dir.create("gradlm-demo", showWarnings = FALSE)
png("gradlm-demo/gd_lm-%d.png")
plot(fit)  # the loss curve, then predicted against actual
invisible(dev.off())
cat("plots written to gradlm-demo/gd_lm-1.png and gd_lm-2.png\n")
