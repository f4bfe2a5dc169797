# Computes, through the R package, what tests/test_r_package.py compares with
# the Python core. Writes one line per value: name, type, values (doubles as
# C99 hex floats, so the comparison is bit for bit).
#   Rscript tests/r/cross_language.R OUTPUT MODELS
# MODELS is a folder holding python.safetensors (saved by the Python side);
# this script adds r.safetensors.
suppressPackageStartupMessages(library(gradlm))
out <- list()
keep <- function(name, value) out[[name]] <<- value

keep("crops_region", crops$region)
keep("crops_values", as.vector(as.matrix(crops[, -1])))
keep("crops_names", names(crops))

# The nn.Linear tutorial through fit()
d <- line_data()
torch$manual_seed(59L)
h <- fit(linear_model(1, 1), d$x, d$y, epochs = 50, lr = 0.001)
t <- as.data.frame(h)
keep("table_loss", t$loss)
keep("table_weight", t$weight)
keep("table_bias", t$bias)
keep("table_final", c(h$weight, h$bias))

# Mini-batch histories, SGD and Adam
for (opt in c("sgd", "adam")) {
  torch$manual_seed(3L)
  h <- fit(linear_model(3, 2, init = "randn"), as.matrix(crops[, 2:4]), as.matrix(crops[, 5:6]),
           epochs = 30, lr = if (opt == "sgd") 1e-5 else 1e-2, batch_size = 4, seed = 11, optimizer = opt)
  keep(paste0("mb_", opt, "_loss"), h$loss)
  keep(paste0("mb_", opt, "_weight"), as.vector(h$weight))
  keep(paste0("mb_", opt, "_bias"), h$bias)
  keep(paste0("mb_", opt, "_path"), as.vector(h$weight_path))
}

# numpy_gd
p <- numpy_points()
keep("numpy_gd_loss", numpy_gd(p$x, p$y, epochs = 40, lr = 0.001, seed = 5)$loss)

# gd_lm on the crop data, beside lm(): with no settings (float64, the step from
# the data, a certified stop), and with a given step on the moments (fast = TRUE,
# as Python's side is told too).
f <- gd_lm(cbind(mangoes, oranges) ~ temperature + rainfall + humidity, data = crops, seed = 0)
keep("crops_gd_coef", as.vector(coef(f)))
keep("crops_gd_loss", f$history$loss)
keep("crops_gd_verdict", f$report$verdict)
keep("crops_gd_gap", f$report$gap)
keep("crops_lm_coef", as.vector(coef(lm(cbind(mangoes, oranges) ~ temperature + rainfall + humidity, data = crops))))
f <- gd_lm(cbind(mangoes, oranges) ~ temperature + rainfall + humidity, data = crops,
           epochs = 300, lr = 0.3, seed = 0, fast = TRUE)
keep("crops_gd_lr_coef", as.vector(coef(f)))
keep("crops_gd_lr_loss", f$history$loss)

# gd_lm with no settings on R's data sets: factors, NA rows, transformations, several responses.
cases <- list(
  mtcars = list(mpg ~ wt + hp + factor(cyl), mtcars),
  iris = list(Sepal.Length ~ Species + Petal.Width, iris),
  airquality = list(Ozone ~ Solar.R + Wind + log(Temp), airquality),
  stackloss = list(stack.loss ~ ., stackloss),
  iris2 = list(cbind(Sepal.Length, Sepal.Width) ~ Petal.Length + Species, iris)
)
for (name in names(cases)) {
  case <- cases[[name]]
  f <- gd_lm(case[[1]], data = case[[2]], seed = 1)
  ref <- lm(case[[1]], data = case[[2]])
  keep(paste0("rdata_", name, "_gd"), as.vector(coef(f)))
  keep(paste0("rdata_", name, "_lm"), as.vector(coef(ref)))
  keep(paste0("rdata_", name, "_nobs"), c(nobs(f), nobs(ref)))
  keep(paste0("rdata_", name, "_converged"), as.numeric(glance(f)$converged))
}

# Seed 004: the R translation's code, as written.
inputs = np$array(list(
                     list(73, 67, 43),
                     list(91, 88, 64),
                     list(87, 134, 58),
                     list(102, 43, 37),
                     list(69, 96, 70)
                   ), dtype='float32')
targets = np$array(list(
                    list(56, 70),
                    list(81, 101),
                    list(119, 133),
                    list(22, 37),
                    list(103, 119)
                    ), dtype='float32')
inputs = torch$from_numpy(inputs)
targets = torch$from_numpy(targets)
torch$manual_seed(42L)
w = torch$randn(2L, 3L, requires_grad=TRUE)
b = torch$randn(2L, requires_grad=TRUE)
model <- function(x) {
  wt <- w$t()
  return(torch$add(torch$mm(x, wt), b))
}
mse = function(t1, t2) {
  diff <- torch$sub(t1, t2)
  mul <- torch$sum(torch$mul(diff, diff))
  return(torch$div(mul, diff$numel()))
}
preds = model(inputs)
loss = mse(preds, targets)
loss$backward()
keep("seed004_loss", loss$item())
keep("seed004_grad", as.vector(as.matrix(w$grad)))
keep("seed004_dtype", reticulate::py_str(preds$dtype))

# A product large enough for BLAS: torch must use its own in R too (see package.R).
torch$manual_seed(0L)
a <- torch$randn(300L, 200L)
b <- torch$randn(200L, 100L)
keep("blas_probe", as.vector(as.matrix(torch$mm(a, b)))[1:50])

# Saved models, both ways: Python's loaded here, R's for Python to load.
models <- commandArgs(TRUE)[2]
x <- as.matrix(crops[, c("temperature", "rainfall", "humidity")])
from_python <- load_model(file.path(models, "python.safetensors"))
keep("python_model_in_r", as.vector(predict(from_python, x)))
keep("python_model_verdict", from_python$report$verdict)
keep("python_model_converged", as.numeric(glance(from_python)$converged))
f_saved <- gd_lm(cbind(mangoes, oranges) ~ temperature + rainfall + humidity, data = crops, seed = 2)
save_model(f_saved, file.path(models, "r.safetensors"))
keep("r_model_in_r", as.vector(predict(f_saved, crops)))
keep("r_model_coef", as.vector(coef(f_saved)))
keep("r_model_verdict", f_saved$report$verdict)

# An error carries Python's message, and R goes on.
keep("error_message", tryCatch(gd_lm(mangoes ~ temperature, data = crops, lr = -1), error = conditionMessage))
keep("after_error", 1 + 1)

lines <- vapply(names(out), function(name) {
  v <- out[[name]]
  if (is.numeric(v)) {
    paste(name, "double", paste(sprintf("%a", as.double(v)), collapse = " "), sep = "\t")
  } else {
    paste(name, "character", paste(gsub("[\t\n]", " ", v), collapse = "\x1f"), sep = "\t")
  }
}, character(1))
writeLines(lines, commandArgs(TRUE)[1])
