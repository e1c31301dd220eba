/// Trainer: layers, losses, optimizers and callbacks on oneDNN (`CDNNL`) kernels, the bundled model
/// presets, checkpoints, evaluation and prediction (issue 6).
