"""Models, written as *ensembles*: one module holds the stacked weights of many independent
models, so that a whole study trains with one batched matmul per layer and step."""
