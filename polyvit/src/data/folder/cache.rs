//! Whether a folder task holds its decoded inputs in memory or decodes them from disk for each
//! batch: the `cache` key of its configuration, and for `auto` the memory budget it is held to.

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

/// The `MemAvailable` line of `/proc/meminfo` text, in bytes.
pub fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let mut words = line.split_whitespace().skip(1);
    let kib: u64 = words.next()?.parse().ok()?;
    (words.next() == Some("kB")).then_some(kib * 1024)
}

/// What a cgroup v2 memory limit leaves, in bytes, from the text of its `memory.max` and
/// `memory.current`; `None` when there is no limit (`max`) or the text is not a number.
pub fn cgroup_headroom(max: &str, current: &str) -> Option<u64> {
    let max: u64 = max.trim().parse().ok()?;
    let current: u64 = current.trim().parse().ok()?;
    Some(max.saturating_sub(current))
}

/// The memory this process can still take: what `/proc/meminfo` reports available, or less
/// where the process's cgroup (v2, as in a container) has a lower limit; `None` if neither
/// can be read.
fn available_memory() -> Option<u64> {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let system = read("/proc/meminfo").and_then(|text| mem_available(&text));
    let cgroup = read("/sys/fs/cgroup/memory.max")
        .zip(read("/sys/fs/cgroup/memory.current"))
        .and_then(|(max, current)| cgroup_headroom(&max, &current));
    match (system, cgroup) {
        (Some(system), Some(cgroup)) => Some(system.min(cgroup)),
        (system, cgroup) => system.or(cgroup),
    }
}

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
    fn the_budget_comes_from_meminfo_and_auto_compares_with_it() {
        let text = "MemTotal:       16318412 kB\nMemFree:  1 kB\nMemAvailable:    8000000 kB\n";
        assert_eq!(mem_available(text), Some(8_192_000_000));
        assert_eq!(mem_available("MemAvailable: 12 MB\n"), None);
        assert_eq!(mem_available("MemFree: 3 kB\n"), None);
        assert_eq!(
            cgroup_headroom("1073741824\n", "73741824\n"),
            Some(1_000_000_000)
        );
        assert_eq!(cgroup_headroom("100\n", "300\n"), Some(0));
        assert_eq!(cgroup_headroom("max\n", "300\n"), None);
        assert!(default_budget() > 0);
        assert!(Cache::Auto.streams(101, || 100));
        assert!(!Cache::Auto.streams(100, || 100));
        assert!(!Cache::Memory.streams(u64::MAX, || unreachable!()));
        assert!(Cache::Stream.streams(0, || unreachable!()));
    }
}
