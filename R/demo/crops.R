# gd_lm on the crop-yield data: gradient descent on PyTorch, beside lm().
library(gradlm)
fit <- gd_lm(cbind(mangoes, oranges) ~ temperature + rainfall + humidity, data = crops,
             epochs = 500, lr = 0.5, standardize = TRUE, seed = 0)
summary(fit)
head(as.data.frame(fit$history))
png(file.path(tempdir(), "gradlm-crops.png"))
plot(fit)
invisible(dev.off())
