"""Algorithm 1 of the MFH paper: how much modality-general decisive information each channel of a
representation of modality `a` carries (PROTOCOL §4). Every study runs it through this package.

1. Joint training (`mfh.algorithm1.joint`): train a net f_a on modality a and a net f_b on
   modality b together on
       L = CE(f_a(x_a), y) + CE(f_b(x_b), y) + MSE(f_a(x_a), f_b(x_b))      (MSE between logits)
   so that f_a's logits are pulled towards what modality b can also predict.
2. Permutation salience (`mfh.algorithm1.permutation`): for each channel k of the representation,
   permute channel k across the samples of a batch (the other channels untouched), run the rest
   of f_a and measure MSE(f_a(permuted), f_b(x_b)); average over `repeats` permutations and over
   all batches. Destroying a channel that both modalities see moves f_a away from f_b more than
   destroying one that only a sees: large = more modality-general.
3. Normalisation and selection (`mfh.algorithm1.selection`): min-max normalise per model, then
   keep the k most general channels (`top_k`) or drop a ratio of the least or most general
   (`drop_ratio`).

Steps 1 and 2 have one front-end per representation (and tensor layout), which holds the
training loop and the salience kernel of that layout:
- `mfh.algorithm1.inputs`: the input channels of an ensemble of models, x (M, d, N), full batch
  (the synthetic studies; `mfh.studies.ensemble_steps.salience` runs all three steps);
- `mfh.algorithm1.penultimate`: the penultimate channels (B, H) of a batch-first net with
  `forward_from_penultimate`, minibatches (the real-data studies).
"""
