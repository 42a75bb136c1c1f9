//! Whether a folder task holds its decoded inputs in memory or decodes them from disk for each
//! batch: the `cache` key of its configuration, and for `auto` the memory budget it is held to.

use crate::memory::available_memory;
use serde::{Deserialize, Serialize};

/// Where a folder task's decoded inputs live during training.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cache {
    /// In memory when the decoded splits fit the memory budget, else streamed.
    #[default]
    Auto,
    /// Decoded once, held in memory.
    Memory,
    /// Decoded from the files for every batch, on background threads, ahead of the step.
    Stream,
}

/// The budget when the available memory cannot be read: 4 GiB.
const FALLBACK_BUDGET: u64 = 4 << 30;

/// The default memory budget of a task's decoded inputs: half the memory available now (so
/// tasks built later see what earlier ones took), or 4 GiB where that cannot be read.
pub fn default_budget() -> u64 {
    available_memory().map_or(FALLBACK_BUDGET, |bytes| bytes / 2)
}

impl Cache {
    /// Whether a task whose decoded splits take `bytes` streams: as set, or for `auto` when
    /// they exceed `budget` bytes (computed only then).
    pub fn streams(self, bytes: u64, budget: impl FnOnce() -> u64) -> bool {
        match self {
            Cache::Memory => false,
            Cache::Stream => true,
            Cache::Auto => bytes > budget(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_positive_and_auto_compares_with_it() {
        assert!(default_budget() > 0);
        assert!(Cache::Auto.streams(101, || 100));
        assert!(!Cache::Auto.streams(100, || 100));
        assert!(!Cache::Memory.streams(u64::MAX, || unreachable!()));
        assert!(Cache::Stream.streams(0, || unreachable!()));
    }
}
