//! `BPF_PROG_TEST_RUN`: runs a loaded program once or repeatedly on caller-provided input.
use std::os::fd::{AsRawFd, BorrowedFd};

use super::error::SysError;
use super::raw::{attr_size, bpf, member, Attr};
use super::uapi;

/// Input and output buffers of one test run. Empty/`None` buffers are left out.
#[derive(Debug, Default)]
pub struct TestRun<'a> {
    /// Packet (or other input) data.
    pub data_in: &'a [u8],
    /// Receives the data after the run; the kernel fails with `ENOSPC` if it does not fit.
    pub data_out: Option<&'a mut [u8]>,
    /// Context struct input (e.g. `xdp_md`, `__sk_buff`).
    pub ctx_in: &'a [u8],
    pub ctx_out: Option<&'a mut [u8]>,
    /// Number of runs (0 and 1 both mean once); `duration` is the mean per run.
    pub repeat: u32,
    /// `BPF_F_TEST_RUN_ON_CPU`, `BPF_F_TEST_XDP_LIVE_FRAMES`, ...
    pub flags: u32,
    pub cpu: u32,
    pub batch_size: u32,
}

/// What the kernel reports after a test run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TestRunResult {
    /// The program's return value (the XDP verdict, ...).
    pub retval: u32,
    /// Mean run time in nanoseconds.
    pub duration: u32,
    /// Bytes of output data (may exceed `data_out`'s length when it was too small).
    pub data_size_out: u32,
    pub ctx_size_out: u32,
}

/// `BPF_PROG_TEST_RUN`: runs `prog` on `run`'s input.
pub fn prog_test_run(prog: BorrowedFd<'_>, run: TestRun<'_>) -> Result<TestRunResult, SysError> {
    const OP: &str = "BPF_PROG_TEST_RUN";
    let len32 = |what: &str, len: usize| u32::try_from(len).map_err(|_| SysError::invalid(OP, format!("{what} over 4 GiB")));
    let mut attr = Attr::zeroed();
    let t = member!(attr, test);
    t.prog_fd = prog.as_raw_fd() as u32;
    t.repeat = run.repeat;
    t.flags = run.flags;
    t.cpu = run.cpu;
    t.batch_size = run.batch_size;
    if !run.data_in.is_empty() {
        (t.data_in, t.data_size_in) = (run.data_in.as_ptr() as u64, len32("data_in", run.data_in.len())?);
    }
    if !run.ctx_in.is_empty() {
        (t.ctx_in, t.ctx_size_in) = (run.ctx_in.as_ptr() as u64, len32("ctx_in", run.ctx_in.len())?);
    }
    // An output pointer with a zero size would let old kernels copy without bound: pass the
    // pointer only together with a non-zero size.
    if let Some(out) = run.data_out.filter(|o| !o.is_empty()) {
        (t.data_out, t.data_size_out) = (out.as_mut_ptr() as u64, len32("data_out", out.len())?);
    }
    if let Some(out) = run.ctx_out.filter(|o| !o.is_empty()) {
        (t.ctx_out, t.ctx_size_out) = (out.as_mut_ptr() as u64, len32("ctx_out", out.len())?);
    }
    let size = attr_size!(uapi::bpf_attr__bindgen_ty_7, batch_size);
    // SAFETY: input pointers are readable and output pointers writable for the sizes given,
    // borrowed from `run` for the duration of the call.
    unsafe { bpf(uapi::bpf_cmd::BPF_PROG_TEST_RUN, &mut attr, size)? };
    // SAFETY: plain integers.
    let out = unsafe { attr.get().test };
    Ok(TestRunResult {
        retval: out.retval,
        duration: out.duration,
        data_size_out: out.data_size_out,
        ctx_size_out: out.ctx_size_out,
    })
}
