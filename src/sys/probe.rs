//! What the running kernel supports, and facts about the machine the wrappers need.
use std::io;
use std::sync::OnceLock;

use super::insn::{exit, mov64_imm};
use super::load::{prog_load, KernelLog, ProgLoadAttr};
use super::uapi::{bpf_attach_type, bpf_prog_type, newer};

/// Whether the kernel loads programs of `prog_type`, probed by loading `r0 = 0; exit` with the
/// attributes the type needs. Types that need a BTF attach target (tracing, LSM, EXT,
/// struct_ops) are probed with a bogus target: the kernel then fails with a log message that
/// exists only where the type is supported; a refusal before the verifier (e.g. `EPERM`) means
/// unsupported.
pub fn probe_prog_type(prog_type: bpf_prog_type::Type) -> bool {
    let insns = [mov64_imm(0, 0), exit()];
    let mut attr = ProgLoadAttr { prog_type, insns: &insns, license: c"GPL", ..Default::default() };
    // The log text proving support for types that can't load without a real attach target.
    let mut expected_log: Option<&str> = None;
    match prog_type {
        bpf_prog_type::BPF_PROG_TYPE_CGROUP_SOCK_ADDR => attr.expected_attach_type = bpf_attach_type::BPF_CGROUP_INET4_CONNECT,
        bpf_prog_type::BPF_PROG_TYPE_CGROUP_SOCKOPT => attr.expected_attach_type = bpf_attach_type::BPF_CGROUP_GETSOCKOPT,
        bpf_prog_type::BPF_PROG_TYPE_SK_LOOKUP => attr.expected_attach_type = bpf_attach_type::BPF_SK_LOOKUP,
        bpf_prog_type::BPF_PROG_TYPE_LIRC_MODE2 => attr.expected_attach_type = bpf_attach_type::BPF_LIRC_MODE2,
        bpf_prog_type::BPF_PROG_TYPE_SYSCALL => attr.prog_flags = super::uapi::BPF_F_SLEEPABLE,
        newer::BPF_PROG_TYPE_NETFILTER => attr.expected_attach_type = newer::BPF_NETFILTER,
        bpf_prog_type::BPF_PROG_TYPE_TRACING | bpf_prog_type::BPF_PROG_TYPE_LSM => {
            attr.attach_btf_id = 1;
            expected_log = Some("attach_btf_id 1 is not a function");
        }
        bpf_prog_type::BPF_PROG_TYPE_EXT => {
            attr.attach_btf_id = 1;
            expected_log = Some("Cannot replace kernel functions");
        }
        bpf_prog_type::BPF_PROG_TYPE_STRUCT_OPS => {
            attr.attach_btf_id = 1;
            expected_log = Some("which is not a struct");
        }
        _ => {}
    }
    let mut buf = vec![0u8; 4096];
    let mut log = KernelLog::new(newer::BPF_LOG_LEVEL1, &mut buf);
    match prog_load(&attr, Some(&mut log)) {
        Ok(_fd) => true,
        Err(_) => expected_log.is_some_and(|m| log.text().contains(m)),
    }
}

/// The running kernel's release string (`uname -r`), e.g. `"6.12.117+deb12-amd64"`.
pub fn kernel_release() -> String {
    // SAFETY: utsname is plain bytes; `uname` fills it.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `uts` is a writable utsname.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return String::new();
    }
    super::info::c_chars_to_string(&uts.release)
}

/// `(major, minor)` of the running kernel, parsed from [`kernel_release`].
pub fn kernel_version() -> Option<(u32, u32)> {
    let release = kernel_release();
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Environment variable set by the guest-kernel test runner: kernel features the tests need
/// must be present there, so a refusal is a failure instead of a skip.
pub const REQUIRE_FEATURES_ENV: &str = "BPFLINK_REQUIRE_KERNEL_FEATURES";

/// Whether missing kernel features must fail tests (`BPFLINK_REQUIRE_KERNEL_FEATURES=1`).
pub fn feature_required() -> bool {
    std::env::var(REQUIRE_FEATURES_ENV).is_ok_and(|v| v == "1")
}

/// Number of possible CPUs (`/sys/devices/system/cpu/possible`): the number of value slots
/// user space reads and writes for per-CPU maps.
pub fn possible_cpus() -> io::Result<usize> {
    static CPUS: OnceLock<usize> = OnceLock::new();
    if let Some(&n) = CPUS.get() {
        return Ok(n);
    }
    let text = std::fs::read_to_string("/sys/devices/system/cpu/possible")?;
    let n = parse_cpu_list(&text)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("bad CPU list {:?}", text.trim())))?;
    Ok(*CPUS.get_or_init(|| n))
}

/// The highest CPU of a list like `0-3,8,10-11`, plus one (the kernel numbers slots by CPU id).
fn parse_cpu_list(text: &str) -> Option<usize> {
    let mut highest = None;
    for range in text.trim().split(',') {
        let last = range.rsplit('-').next()?.trim().parse::<usize>().ok()?;
        highest = highest.max(Some(last));
    }
    highest.map(|h| h + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_count_up_to_the_highest_cpu() {
        assert_eq!(parse_cpu_list("0\n"), Some(1));
        assert_eq!(parse_cpu_list("0-1\n"), Some(2));
        assert_eq!(parse_cpu_list("0-3,8,10-11"), Some(12));
        assert_eq!(parse_cpu_list("x"), None);
        assert_eq!(parse_cpu_list(""), None);
    }

    #[test]
    fn possible_cpus_agrees_with_the_online_count_bound() {
        let online = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        assert!(possible_cpus().unwrap() >= online);
    }

    #[test]
    fn kernel_release_matches_proc() {
        let proc = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        assert_eq!(kernel_release(), proc.trim());
        assert!(kernel_version().is_some());
    }
}
