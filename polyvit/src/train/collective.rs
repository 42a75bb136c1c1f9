//! The communication a data-parallel run needs, behind one small trait: a single process (the
//! default) and MPI ranks (`train::mpi_world`, the `mpi` feature) share the training loop.

use std::ops::Range;

/// The replicas of one data-parallel run and the few collective operations they perform.
///
/// Every rank calls the same operations in the same order; a collective returns only when all
/// ranks have joined it. A rank that dies takes the whole job down (the MPI implementation's
/// error handler), so no call waits forever on a lost peer.
pub trait Collective {
    /// This replica's index, `0..size()`; rank 0 alone writes files and prints.
    fn rank(&self) -> usize;

    /// How many replicas train together.
    fn size(&self) -> usize;

    /// Element-wise sum of every rank's `send` into every rank's `receive` (same lengths).
    fn sum_f32(&self, send: &[f32], receive: &mut [f32]);

    /// Element-wise maximum over the ranks of `values`, in place.
    fn max_u64(&self, values: &mut [u64]);

    /// Replaces `bytes` on every rank by rank 0's `bytes`.
    fn broadcast_bytes(&self, bytes: &mut Vec<u8>);
}

/// A run that is not distributed: every collective is the identity.
#[derive(Clone, Copy, Debug, Default)]
pub struct SingleProcess;

impl Collective for SingleProcess {
    fn rank(&self) -> usize {
        0
    }

    fn size(&self) -> usize {
        1
    }

    fn sum_f32(&self, send: &[f32], receive: &mut [f32]) {
        receive.copy_from_slice(send);
    }

    fn max_u64(&self, _: &mut [u64]) {}

    fn broadcast_bytes(&self, _: &mut Vec<u8>) {}
}

/// Rank `rank`'s contiguous share of `total` items split over `size` ranks: the shares are as
/// equal as they can be (sizes differ by at most one) and together cover `0..total` in order.
pub fn shard(total: usize, rank: usize, size: usize) -> Range<usize> {
    let size = size.max(1);
    total * rank / size..total * (rank + 1) / size
}

/// Whether `value` is the same on every rank (one collective call).
pub fn same_on_every_rank(collective: &dyn Collective, value: u64) -> bool {
    first_disagreement(collective, &[value]).is_none()
}

/// The index of the first of `values` that is not the same on every rank, if any (one
/// collective call; every rank passes as many values).
pub fn first_disagreement(collective: &dyn Collective, values: &[u64]) -> Option<usize> {
    // max(v) together with max(!v) = !min(v): they agree exactly when min(v) = max(v).
    let mut extremes: Vec<u64> = values
        .iter()
        .copied()
        .chain(values.iter().map(|v| !v))
        .collect();
    collective.max_u64(&mut extremes);
    let (max, not_min) = extremes.split_at(values.len());
    (0..values.len()).find(|&i| max[i] != !not_min[i])
}

/// `result` as every rank sees it (one collective call): an error on one rank (a file only it
/// reads, gone) is an error on all, `elsewhere`'s on the others, so every rank leaves the run
/// together instead of the others waiting for the failed one in their next call.
pub fn agreed<T, E>(
    collective: &dyn Collective,
    result: Result<T, E>,
    elsewhere: impl FnOnce() -> E,
) -> Result<T, E> {
    match (on_any_rank(collective, result.is_err()), result) {
        (true, Ok(_)) => Err(elsewhere()),
        (_, result) => result,
    }
}

/// Whether `flag` is set on at least one rank (one collective call).
pub fn on_any_rank(collective: &dyn Collective, flag: bool) -> bool {
    let mut any = [u64::from(flag)];
    collective.max_u64(&mut any);
    any[0] == 1
}

/// For tests: rank 0 of two, whose other rank's contribution to each `max_u64` is fixed
/// (`other`), and whose broadcast leaves rank 0's bytes as they are.
#[cfg(test)]
pub(crate) struct BesideAnotherRank {
    pub other: Vec<u64>,
}

#[cfg(test)]
impl Collective for BesideAnotherRank {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        2
    }
    fn sum_f32(&self, _: &[f32], _: &mut [f32]) {
        unreachable!("the tests compare values, they sum none")
    }
    fn max_u64(&self, values: &mut [u64]) {
        for (v, &o) in values.iter_mut().zip(&self.other) {
            *v = (*v).max(o);
        }
    }
    fn broadcast_bytes(&self, _: &mut Vec<u8>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error on either rank is an error on both: this rank's own, or `elsewhere`'s.
    #[test]
    fn an_error_on_one_rank_is_agreed_on() {
        let failed_there = BesideAnotherRank { other: vec![1] };
        let fine_there = BesideAnotherRank { other: vec![0] };
        let elsewhere = || "there";
        assert_eq!(agreed(&fine_there, Ok::<_, &str>(5), elsewhere), Ok(5));
        assert_eq!(
            agreed(&failed_there, Ok::<u8, _>(5), elsewhere),
            Err("there")
        );
        assert_eq!(
            agreed(&fine_there, Err::<u8, _>("here"), elsewhere),
            Err("here")
        );
        assert_eq!(
            agreed(&SingleProcess, Err::<u8, _>("here"), elsewhere),
            Err("here")
        );
    }

    #[test]
    fn shards_cover_the_items_in_order_and_nearly_evenly() {
        for total in [0, 1, 7, 32, 33] {
            for size in 1..6 {
                let shards: Vec<Range<usize>> = (0..size).map(|r| shard(total, r, size)).collect();
                assert_eq!(shards[0].start, 0);
                assert_eq!(shards[size - 1].end, total);
                for pair in shards.windows(2) {
                    assert_eq!(pair[0].end, pair[1].start, "{total} over {size}");
                }
                let lens: Vec<usize> = shards.iter().map(|s| s.len()).collect();
                let (min, max) = (lens.iter().min().unwrap(), lens.iter().max().unwrap());
                assert!(max - min <= 1, "{total} over {size}: {lens:?}");
            }
        }
    }

    #[test]
    fn the_first_value_that_differs_is_named() {
        let other = BesideAnotherRank {
            other: vec![5, 9, !5, !9],
        };
        assert_eq!(first_disagreement(&other, &[5, 9]), None);
        assert_eq!(first_disagreement(&other, &[5, 8]), Some(1));
        assert_eq!(first_disagreement(&other, &[6, 8]), Some(0));
    }

    #[test]
    fn ranks_agree_only_on_equal_values() {
        let other = BesideAnotherRank { other: vec![7, !7] };
        assert!(same_on_every_rank(&other, 7));
        assert!(!same_on_every_rank(&other, 6), "smaller here");
        assert!(!same_on_every_rank(&other, 8), "larger here");
        assert!(!same_on_every_rank(&other, 0));
        assert!(!same_on_every_rank(&other, u64::MAX));
    }

    #[test]
    fn a_flag_set_on_either_rank_is_set_on_both() {
        let set_there = BesideAnotherRank { other: vec![1] };
        assert!(on_any_rank(&set_there, false));
        assert!(on_any_rank(&set_there, true));
        let clear_there = BesideAnotherRank { other: vec![0] };
        assert!(!on_any_rank(&clear_there, false));
        assert!(on_any_rank(&clear_there, true));
        assert!(on_any_rank(&SingleProcess, true));
        assert!(!on_any_rank(&SingleProcess, false));
    }

    #[test]
    fn a_single_process_agrees_with_itself_and_sums_to_its_own_values() {
        assert!(same_on_every_rank(&SingleProcess, 42));
        let mut out = [0.0; 3];
        SingleProcess.sum_f32(&[1.0, 2.0, 3.0], &mut out);
        assert_eq!(out, [1.0, 2.0, 3.0]);
    }
}
