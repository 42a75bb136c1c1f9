//! # nn: layers, losses, optimizers and checkpoints.
