//! Facts about the running system that libbpf's API reports.
use std::ffi::c_int;

use super::guard::{CError, CResult};

const POSSIBLE_CPUS_FILE: &str = "/sys/devices/system/cpu/possible";

/// Number of possible CPUs (the set bits of the kernel's possible-CPU mask), read once.
pub fn num_possible_cpus() -> CResult<c_int> {
    static CACHE: std::sync::OnceLock<c_int> = std::sync::OnceLock::new();
    if let Some(&n) = CACHE.get() {
        return Ok(n);
    }
    let text = std::fs::read_to_string(POSSIBLE_CPUS_FILE).map_err(|e| {
        CError::new(
            e.raw_os_error().unwrap_or(libc::EIO),
            format!("reading {POSSIBLE_CPUS_FILE}: {e}"),
        )
    })?;
    let count = count_cpu_list(&text).map_err(|what| {
        CError::invalid(format!("{POSSIBLE_CPUS_FILE}: {what} in {:?}", text.trim()))
    })?;
    Ok(*CACHE.get_or_init(|| count))
}

/// Counts the CPUs of a kernel CPU list such as `0-3,8,10-11` (overlaps counted once).
pub fn count_cpu_list(text: &str) -> Result<c_int, String> {
    let mut ranges = Vec::new();
    for item in text.trim().split(',') {
        let (first, last) = match item.split_once('-') {
            Some((a, b)) => (parse_cpu(a)?, parse_cpu(b)?),
            None => {
                let cpu = parse_cpu(item)?;
                (cpu, cpu)
            }
        };
        if last < first {
            return Err(format!("descending range {item:?}"));
        }
        ranges.push((first, last));
    }
    ranges.sort_unstable();
    let mut count: u64 = 0;
    let mut next_uncounted: u64 = 0;
    for (first, last) in ranges {
        let start = first.max(next_uncounted);
        if last >= start {
            count += last - start + 1;
            next_uncounted = last + 1;
        }
    }
    c_int::try_from(count).map_err(|_| format!("{count} CPUs do not fit in an int"))
}

fn parse_cpu(text: &str) -> Result<u64, String> {
    let text = text.trim();
    // Kernel CPU numbers are below 2^32; bounding them keeps the sum from overflowing.
    text.parse::<u32>()
        .map(u64::from)
        .map_err(|_| format!("bad CPU number {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_kernel_cpu_lists() {
        assert_eq!(count_cpu_list("0\n"), Ok(1));
        assert_eq!(count_cpu_list("0-3\n"), Ok(4));
        assert_eq!(count_cpu_list("0-3,8,10-11"), Ok(7));
        assert_eq!(count_cpu_list("0-3,2-5"), Ok(6));
    }

    #[test]
    fn rejects_malformed_lists() {
        assert!(count_cpu_list("").is_err());
        assert!(count_cpu_list("3-1").is_err());
        assert!(count_cpu_list("0-x").is_err());
        assert!(count_cpu_list("0,,1").is_err());
    }

    #[test]
    fn matches_the_number_of_configured_processors() {
        // Independent reference: glibc's count of configured CPUs (sysconf), which on Linux
        // equals the possible mask on machines without hot-pluggable slots, like test VMs.
        let configured = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) };
        let possible = num_possible_cpus().unwrap();
        assert!(c_int::try_from(configured).unwrap() <= possible);
        assert!(possible >= 1);
    }
}
