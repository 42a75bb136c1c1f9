//! Validation and test examples carved out of a folder task's training examples, where the
//! folder gives no `val/` or `test/` split: the rule the class folders ([`super::scan`]) and the
//! label files ([`super::labels`]) share.

use super::spec::FolderSpec;
use rand::seq::SliceRandom;
use rand::Rng;

/// How many of `n` training examples go to validation and to test: `round(n · fraction)` of
/// `spec`'s fraction, at least one, for each split to be carved (`carve[0]` validation,
/// `carve[1]` test); none for a split the folder gives.
pub fn carved_counts(n: usize, spec: &FolderSpec, carve: [bool; 2]) -> [usize; 2] {
    let fractions = [spec.validation_fraction, spec.test_fraction];
    [0, 1].map(|k| match carve[k] {
        true => ((n as f64 * fractions[k]).round() as usize).max(1),
        false => 0,
    })
}

/// `0..n` shuffled by `rng` and cut into (training, validation, test) indices, with `counts`
/// validation and test ones (at most `n` together), each list in ascending order.
pub fn carve_indices<R: Rng>(n: usize, counts: [usize; 2], rng: &mut R) -> [Vec<usize>; 3] {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let (val, rest) = order.split_at(counts[0]);
    let (test, train) = rest.split_at(counts[1]);
    [train, val, test].map(|picked| {
        let mut picked = picked.to_vec();
        picked.sort_unstable();
        picked
    })
}
