//! Diagnostics of the core modules (loader, linker, ...), independent of the C ABI.
//!
//! Core code calls [`log`]; the line goes to the installed *sink*. The C layer installs a sink
//! that forwards to the application's libbpf print callback (`libbpf_set_print`); until a sink
//! is installed (a pure Rust user of the crate), warnings and info go to stderr and debug
//! output is dropped, which is libbpf's default policy. The dependency points one way only:
//! `capi` knows `log`, `log` knows nothing of `capi`.
use parking_lot::RwLock;

/// Severity, with libbpf's `enum libbpf_print_level` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Level {
    Warn = 0,
    Info = 1,
    Debug = 2,
}

/// Receives each formatted line (`bpflink: <message>\n`).
pub type Sink = fn(Level, &str);

static SINK: RwLock<Option<Sink>> = parking_lot::const_rwlock(None);

/// Installs `sink` for all later messages and returns the previous one.
pub fn set_sink(sink: Option<Sink>) -> Option<Sink> {
    std::mem::replace(&mut *SINK.write(), sink)
}

/// Reports one diagnostic. Callers pass a bare sentence; the `bpflink: ` prefix and the
/// trailing newline are added here (as libbpf's `pr_warn` lines carry `libbpf: `).
pub fn log(level: Level, message: &str) {
    // Copy the sink out so a sink that logs (or replaces the sink) cannot deadlock.
    let sink = *SINK.read();
    let line = format_line(message);
    match sink {
        Some(sink) => sink(level, &line),
        None => default_sink(level, &line),
    }
}

/// Shorthands for the three levels.
pub fn warn(message: &str) {
    log(Level::Warn, message)
}

pub fn info(message: &str) {
    log(Level::Info, message)
}

pub fn debug(message: &str) {
    log(Level::Debug, message)
}

fn default_sink(level: Level, line: &str) {
    if level != Level::Debug {
        eprint!("{line}");
    }
}

/// `bpflink: <message>\n`, with a single trailing newline.
pub fn format_line(message: &str) -> String {
    let mut line = String::with_capacity(message.len() + 10);
    line.push_str("bpflink: ");
    line.push_str(message.trim_end_matches('\n'));
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_gets_prefix_and_single_newline() {
        assert_eq!(format_line("map x: bad size"), "bpflink: map x: bad size\n");
        assert_eq!(format_line("done\n"), "bpflink: done\n");
    }
}
