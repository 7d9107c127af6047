//! Fault injection and call recording for tests: make chosen `bpf(2)` commands fail with a
//! chosen errno (without calling the kernel), and record which commands ran and which kernel
//! objects they created, so a test can check that a failed load left nothing behind.
//!
//! Off by default. While nothing is armed the syscall path pays one relaxed atomic load
//! ([`enabled`]). Arming is per thread from Rust ([`inject`], [`record`], both guards that
//! disarm on drop), or process-wide from the environment for C and Python callers:
//!
//! `BPFLINK_FAULT_INJECT=CMD[:SKIP[:ERRNO[:always]]]`, e.g. `BPF_MAP_CREATE:1:ENOMEM` fails the
//! second `BPF_MAP_CREATE` of the process with `ENOMEM`; `always` fails every one from there on.
//! The variable is read once, at the first `bpf(2)` call.
use std::cell::RefCell;
use std::ffi::c_long;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use parking_lot::Mutex;

use super::error::{errno_name, SysError};
use super::info::obj_get_info_by_fd;
use super::obj::ObjKind;
use super::raw::cmd_name;
use super::uapi::{self, bpf_cmd};

/// The environment variable read by [`enabled`] on first use.
pub const FAULT_ENV: &str = "BPFLINK_FAULT_INJECT";

const UNKNOWN: u8 = 0;
const OFF: u8 = 1;
const ON: u8 = 2;

/// Whether any fault or recording is armed; `UNKNOWN` until the environment was read.
static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);
/// Threads with something armed; changed together with `STATE` under the lock.
static ARMED_THREADS: Mutex<usize> = Mutex::new(0);
/// The fault from [`FAULT_ENV`], shared by every thread.
static ENV_FAULT: OnceLock<Option<Mutex<Armed>>> = OnceLock::new();

/// How many matching calls a fault fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Only the first matching call after the skipped ones (a transient failure).
    Once,
    /// Every matching call after the skipped ones (a persistent failure).
    Always,
}

/// A failure to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// The command to fail (`None`: any command).
    pub cmd: Option<bpf_cmd::Type>,
    /// Matching calls to let through before failing.
    pub skip: u32,
    /// The positive errno the failed call returns.
    pub errno: i32,
    pub repeat: Repeat,
}

impl Fault {
    /// Fails the call with index `skip` (0-based, counting every command) once.
    pub fn nth_call(skip: u32, errno: i32) -> Fault {
        Fault { cmd: None, skip, errno, repeat: Repeat::Once }
    }
}

/// One `bpf(2)` call as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub cmd: bpf_cmd::Type,
    /// The syscall's result, or the errno it failed with.
    pub result: Result<c_long, i32>,
    /// Whether the failure was injected.
    pub injected: bool,
    /// The kernel object the call created (`BPF_MAP_CREATE`, `BPF_PROG_LOAD`, ...), by id.
    pub created: Option<(ObjKind, u32)>,
}

impl Call {
    /// The command's UAPI name.
    pub fn name(&self) -> &'static str {
        cmd_name(self.cmd)
    }
}

#[derive(Debug)]
struct Armed {
    fault: Fault,
    /// Matching calls seen so far.
    seen: u32,
    /// Calls failed so far.
    hits: u32,
}

impl Armed {
    fn new(fault: Fault) -> Armed {
        Armed { fault, seen: 0, hits: 0 }
    }

    /// Counts the call; the errno to fail it with, if it is to fail.
    fn fire(&mut self, cmd: bpf_cmd::Type) -> Option<i32> {
        if self.fault.cmd.is_some_and(|c| c != cmd) {
            return None;
        }
        let index = self.seen;
        self.seen = self.seen.saturating_add(1);
        let fails = match self.fault.repeat {
            Repeat::Once => index == self.fault.skip,
            Repeat::Always => index >= self.fault.skip,
        };
        fails.then(|| {
            self.hits += 1;
            self.fault.errno
        })
    }
}

#[derive(Default)]
struct ThreadState {
    fault: Option<Armed>,
    recording: Option<Vec<Call>>,
    /// Set while the hook itself issues calls (object ids), which must bypass it.
    in_hook: bool,
}

thread_local! {
    static THREAD: RefCell<ThreadState> = RefCell::new(ThreadState::default());
}

/// Whether calls must go through [`intercept`]: one relaxed load once the environment was read.
#[inline]
pub(crate) fn enabled() -> bool {
    match STATE.load(Ordering::Relaxed) {
        OFF => false,
        ON => true,
        _ => init_from_env(),
    }
}

#[cold]
fn init_from_env() -> bool {
    let env_armed = env_fault().is_some();
    let threads = ARMED_THREADS.lock();
    let on = env_armed || *threads > 0;
    STATE.store(if on { ON } else { OFF }, Ordering::Relaxed);
    on
}

fn env_fault() -> Option<&'static Mutex<Armed>> {
    ENV_FAULT
        .get_or_init(|| {
            let spec = std::env::var(FAULT_ENV).ok()?;
            match parse_fault(&spec) {
                Ok(fault) => Some(Mutex::new(Armed::new(fault))),
                Err(why) => {
                    crate::log::log(crate::log::Level::Warn, &format!("{FAULT_ENV}='{spec}' ignored: {why}"));
                    None
                }
            }
        })
        .as_ref()
}

/// Parses `CMD[:SKIP[:ERRNO[:always]]]` (ERRNO by name, e.g. `ENOMEM`, or number).
pub fn parse_fault(spec: &str) -> Result<Fault, String> {
    let mut parts = spec.split(':');
    let cmd_text = parts.next().unwrap_or_default();
    let cmd = match cmd_text {
        "any" | "" => None,
        name => Some(cmd_by_name(name).ok_or_else(|| format!("unknown command '{name}'"))?),
    };
    let skip = match parts.next() {
        Some(n) => n.parse().map_err(|_| format!("skip count '{n}' is not a number"))?,
        None => 0,
    };
    let errno = match parts.next() {
        Some(e) => errno_by_name(e).ok_or_else(|| format!("unknown errno '{e}'"))?,
        None => libc::ENOMEM,
    };
    let repeat = match parts.next() {
        None | Some("once") => Repeat::Once,
        Some("always") => Repeat::Always,
        Some(other) => return Err(format!("'{other}' is neither 'once' nor 'always'")),
    };
    Ok(Fault { cmd, skip, errno, repeat })
}

fn cmd_by_name(name: &str) -> Option<bpf_cmd::Type> {
    (0..=64).find(|&cmd| cmd_name(cmd) == name)
}

fn errno_by_name(text: &str) -> Option<i32> {
    if let Ok(n) = text.parse::<i32>() {
        return (n > 0).then_some(n);
    }
    (1..4096).find(|&n| errno_name(n) == text)
}

/// Runs `call` (the real syscall) unless an armed fault fails it first; records it when a
/// recording is armed on this thread.
pub(crate) fn intercept(cmd: bpf_cmd::Type, call: impl FnOnce() -> Result<c_long, SysError>) -> Result<c_long, SysError> {
    if THREAD.with(|t| t.borrow().in_hook) {
        return call();
    }
    let injected = THREAD
        .with(|t| t.borrow_mut().fault.as_mut().and_then(|f| f.fire(cmd)))
        .or_else(|| env_fault().and_then(|f| f.lock().fire(cmd)));
    let result = match injected {
        Some(errno) => Err(SysError::new(cmd_name(cmd), errno)),
        None => call(),
    };
    let recording = THREAD.with(|t| t.borrow().recording.is_some());
    if recording {
        let created = result.as_ref().ok().and_then(|&ret| created_object(cmd, ret));
        let entry = Call { cmd, result: result.as_ref().map(|&r| r).map_err(|e| e.errno), injected: injected.is_some(), created };
        THREAD.with(|t| t.borrow_mut().recording.as_mut().map(|r| r.push(entry)));
    }
    result
}

/// The kind and id of the object a successful creating command returned an fd for.
fn created_object(cmd: bpf_cmd::Type, ret: c_long) -> Option<(ObjKind, u32)> {
    use bpf_cmd::*;
    let kind = match cmd {
        BPF_MAP_CREATE => ObjKind::Map,
        BPF_PROG_LOAD => ObjKind::Prog,
        BPF_BTF_LOAD => ObjKind::Btf,
        BPF_LINK_CREATE | BPF_RAW_TRACEPOINT_OPEN => ObjKind::Link,
        _ => return None,
    };
    let fd = i32::try_from(ret).ok()?;
    // SAFETY: the kernel just returned this descriptor; the caller owns it and keeps it open
    // while this borrow lives (until `bpf_fd` wraps it).
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    THREAD.with(|t| t.borrow_mut().in_hook = true);
    let id = match kind {
        ObjKind::Map => obj_get_info_by_fd::<uapi::bpf_map_info>(fd).map(|i| i.id),
        ObjKind::Prog => obj_get_info_by_fd::<uapi::bpf_prog_info>(fd).map(|i| i.id),
        ObjKind::Btf => obj_get_info_by_fd::<uapi::bpf_btf_info>(fd).map(|i| i.id),
        ObjKind::Link => obj_get_info_by_fd::<uapi::bpf_link_info>(fd).map(|i| i.id),
    };
    THREAD.with(|t| t.borrow_mut().in_hook = false);
    id.ok().map(|id| (kind, id))
}

/// Marks this thread armed (at most once per kind of guard at a time).
fn arm_thread() {
    let mut threads = ARMED_THREADS.lock();
    *threads += 1;
    STATE.store(ON, Ordering::Relaxed);
}

fn disarm_thread() {
    let mut threads = ARMED_THREADS.lock();
    *threads = threads.saturating_sub(1);
    if *threads == 0 && env_fault().is_none() {
        STATE.store(OFF, Ordering::Relaxed);
    }
}

/// An armed fault on this thread; dropping it disarms the fault.
#[must_use = "the fault is disarmed when this guard is dropped"]
pub struct Injection {
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Arms `fault` for the `bpf(2)` calls of this thread (replacing a fault armed before).
pub fn inject(fault: Fault) -> Injection {
    let replaced = THREAD.with(|t| t.borrow_mut().fault.replace(Armed::new(fault)).is_some());
    if !replaced {
        arm_thread();
    }
    Injection { _not_send: std::marker::PhantomData }
}

impl Injection {
    /// How many calls the fault failed so far.
    pub fn hits(&self) -> u32 {
        THREAD.with(|t| t.borrow().fault.as_ref().map_or(0, |f| f.hits))
    }
}

impl Drop for Injection {
    fn drop(&mut self) {
        if THREAD.with(|t| t.borrow_mut().fault.take().is_some()) {
            disarm_thread();
        }
    }
}

/// A recording of this thread's `bpf(2)` calls; dropping it stops the recording.
#[must_use = "the recording stops when this guard is dropped"]
pub struct Recording {
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Starts recording the `bpf(2)` calls of this thread (restarting a recording in progress).
pub fn record() -> Recording {
    let restarted = THREAD.with(|t| t.borrow_mut().recording.replace(Vec::new()).is_some());
    if !restarted {
        arm_thread();
    }
    Recording { _not_send: std::marker::PhantomData }
}

impl Recording {
    /// The calls recorded so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        THREAD.with(|t| t.borrow().recording.clone().unwrap_or_default())
    }

    /// The kernel objects created by the calls recorded so far.
    pub fn created(&self) -> Vec<(ObjKind, u32)> {
        self.calls().iter().filter_map(|c| c.created).collect()
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        if THREAD.with(|t| t.borrow_mut().recording.take().is_some()) {
            disarm_thread();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_with_defaults() {
        let f = parse_fault("BPF_MAP_CREATE").unwrap();
        assert_eq!(f, Fault { cmd: Some(bpf_cmd::BPF_MAP_CREATE), skip: 0, errno: libc::ENOMEM, repeat: Repeat::Once });
        let f = parse_fault("BPF_PROG_LOAD:2:EPERM:always").unwrap();
        assert_eq!(f, Fault { cmd: Some(bpf_cmd::BPF_PROG_LOAD), skip: 2, errno: libc::EPERM, repeat: Repeat::Always });
        assert_eq!(parse_fault("any:3:12").unwrap(), Fault::nth_call(3, 12));
        assert!(parse_fault("BPF_NOPE").is_err());
        assert!(parse_fault("BPF_MAP_CREATE:x").is_err());
        assert!(parse_fault("BPF_MAP_CREATE:0:EWHAT").is_err());
        assert!(parse_fault("BPF_MAP_CREATE:0:EPERM:sometimes").is_err());
    }

    #[test]
    fn once_fails_exactly_the_chosen_matching_call() {
        let mut armed = Armed::new(Fault { cmd: Some(bpf_cmd::BPF_MAP_CREATE), skip: 1, errno: 5, repeat: Repeat::Once });
        assert_eq!(armed.fire(bpf_cmd::BPF_PROG_LOAD), None, "other commands don't count");
        assert_eq!(armed.fire(bpf_cmd::BPF_MAP_CREATE), None);
        assert_eq!(armed.fire(bpf_cmd::BPF_MAP_CREATE), Some(5));
        assert_eq!(armed.fire(bpf_cmd::BPF_MAP_CREATE), None);
        assert_eq!(armed.hits, 1);
    }

    #[test]
    fn always_fails_every_call_after_the_skipped_ones() {
        let mut armed = Armed::new(Fault { cmd: None, skip: 1, errno: 7, repeat: Repeat::Always });
        let fired: Vec<_> = (0..4).map(|_| armed.fire(bpf_cmd::BPF_BTF_LOAD)).collect();
        assert_eq!(fired, [None, Some(7), Some(7), Some(7)]);
    }

    #[test]
    fn an_injected_failure_never_reaches_the_kernel_and_is_recorded() {
        let rec = record();
        let fault = inject(Fault { cmd: Some(bpf_cmd::BPF_MAP_FREEZE), skip: 0, errno: libc::EDOM, repeat: Repeat::Once });
        let mut called = false;
        let result = intercept(bpf_cmd::BPF_MAP_FREEZE, || {
            called = true;
            Ok(0)
        });
        assert_eq!(result, Err(SysError::new("BPF_MAP_FREEZE", libc::EDOM)));
        assert!(!called);
        assert_eq!(fault.hits(), 1);
        let next = intercept(bpf_cmd::BPF_MAP_FREEZE, || Ok(3));
        assert_eq!(next, Ok(3), "a Once fault fires once");
        let calls = rec.calls();
        assert_eq!(calls.len(), 2);
        assert!(calls[0].injected && calls[0].result == Err(libc::EDOM) && calls[0].name() == "BPF_MAP_FREEZE");
        assert!(!calls[1].injected && calls[1].result == Ok(3));
        drop(fault);
        drop(rec);
        assert_eq!(intercept(bpf_cmd::BPF_MAP_FREEZE, || Ok(4)), Ok(4));
    }
}
