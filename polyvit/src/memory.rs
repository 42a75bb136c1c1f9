//! How much memory this process can still take: what the folder tasks' decoded inputs are
//! budgeted against, and what a training step's attention maps are checked against.

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
/// can be read (as on systems other than Linux).
pub fn available_memory() -> Option<u64> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn available_memory_comes_from_meminfo_and_the_cgroup() {
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
    }
}
