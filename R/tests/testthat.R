library(testthat)
library(gradlm)

test_check("gradlm")
