"""Speed measurements (run as scripts) and the baseline kernels they compare against."""
