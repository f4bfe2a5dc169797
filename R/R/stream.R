#' Data larger than memory, streamed from disk
#'
#' Python's `gradlm.stream()`: opens a Parquet file, a folder of Parquet
#' files, or a `.npy` file of the inputs (with `target` the `.npy` file of
#' the targets) without reading it. Pass the result to
#' [fit()][fit.gradlm.model.LinearModel] as `x`, with `y = NULL`: full-batch
#' training takes the data's moments in one pass, mini-batch training reads
#' the data once per epoch, shuffled within and across chunks; memory stays
#' at a few chunks of `chunk_rows` rows.
#'
#' @param path A `.parquet` file, a folder of them, or a `.npy` file.
#' @param target The target column name(s) (Parquet), or the `.npy` file of the targets.
#' @param features The feature columns (Parquet; default: every other numeric column).
#' @param weight The name of a Parquet column of row weights (`>= 0`):
#'   weighted least squares, as `lm()`'s `weights`, trained full batch on the
#'   weighted moments.
#' @param chunk_rows Rows read at a time.
#' @return A Python `gradlm.streaming.Stream`.
#' @examplesIf gradlm_available()
#' # a Parquet folder streams the same way: stream("sales/", target = "revenue")
#' d <- make_regression(n = 1000, d = 3, seed = 0)
#' x_file <- tempfile(fileext = ".npy")
#' y_file <- tempfile(fileext = ".npy")
#' invisible(np$save(x_file, np$ascontiguousarray(as.matrix(d[1:3]))))
#' invisible(np$save(y_file, np$ascontiguousarray(as.matrix(d[4]))))
#' data <- stream(x_file, target = y_file, chunk_rows = 250)
#' fit(linear_model(3, 1, dtype = "float64"), data, NULL)
#' @export
stream <- function(path, target, features = NULL, weight = NULL, chunk_rows = 65536) {
  if (!is.character(path) || length(path) != 1L) stop("path must be one file or folder name.", call. = FALSE)
  call_core(core$stream(path.expand(path), target = if (length(target) > 1L) as.list(target) else target,
                        features = if (!is.null(features)) as.list(features), weight = weight,
                        chunk_rows = chunk_rows))
}
