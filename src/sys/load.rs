//! Loading commands: `BPF_PROG_LOAD` and `BPF_BTF_LOAD`, with the kernel's log buffer.
use std::borrow::Cow;
use std::ffi::CStr;
use std::os::fd::{BorrowedFd, OwnedFd};

use super::error::SysError;
use super::map::fd_u32;
use super::name::copy_obj_name;
use super::raw::{bpf_fd, member, Attr};
use super::uapi::{self, bpf_attach_type, bpf_cmd, bpf_prog_type, newer};

/// The verifier's (or BTF checker's) log: a caller-provided buffer and a verbosity level.
///
/// The kernel needs at least 128 bytes when a log is requested (`EINVAL` otherwise) and fails
/// the load with `ENOSPC` when the log does not fit.
#[derive(Debug)]
pub struct KernelLog<'a> {
    /// `BPF_LOG_LEVEL1`, `BPF_LOG_LEVEL2`, `BPF_LOG_STATS`, `BPF_LOG_FIXED` (6.4) combined.
    pub level: u32,
    pub buf: &'a mut [u8],
    true_size: u32,
}

impl<'a> KernelLog<'a> {
    pub fn new(level: u32, buf: &'a mut [u8]) -> Self {
        KernelLog { level, buf, true_size: 0 }
    }

    /// The log text up to its terminating NUL.
    pub fn text(&self) -> Cow<'_, str> {
        let end = self.buf.iter().position(|&b| b == 0).unwrap_or(self.buf.len());
        String::from_utf8_lossy(&self.buf[..end])
    }

    /// Bytes (with the NUL) the whole log needs; reported by kernels since 6.4, else `None`.
    pub fn true_size(&self) -> Option<u32> {
        (self.true_size != 0).then_some(self.true_size)
    }

    /// The buffer length as the kernel accepts it (it rejects sizes above `u32::MAX >> 2`).
    fn size(&self) -> u32 {
        self.buf.len().min((u32::MAX >> 2) as usize) as u32
    }
}

/// Attributes of `BPF_PROG_LOAD`. Zero/empty/`None` fields are left out.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProgLoadAttr<'a> {
    pub prog_type: bpf_prog_type::Type,
    pub expected_attach_type: bpf_attach_type::Type,
    pub insns: &'a [uapi::bpf_insn],
    pub license: &'a CStr,
    pub kern_version: u32,
    pub prog_flags: u32,
    /// Truncated to `BPF_OBJ_NAME_LEN - 1` bytes; the kernel accepts only `[A-Za-z0-9_.]`.
    pub name: &'a str,
    pub ifindex: u32,
    pub prog_btf_fd: Option<BorrowedFd<'a>>,
    /// `bpf_func_info` records, `func_info_rec_size` bytes each.
    pub func_info: &'a [u8],
    pub func_info_rec_size: u32,
    /// `bpf_line_info` records, `line_info_rec_size` bytes each.
    pub line_info: &'a [u8],
    pub line_info_rec_size: u32,
    pub attach_btf_id: u32,
    /// Target program of an EXT/fentry/fexit program (exclusive with `attach_btf_obj_fd`).
    pub attach_prog_fd: Option<BorrowedFd<'a>>,
    /// Kernel module BTF holding `attach_btf_id` (exclusive with `attach_prog_fd`).
    pub attach_btf_obj_fd: Option<BorrowedFd<'a>>,
    /// fds that `BPF_PSEUDO_MAP_IDX`/kfunc call instructions index into.
    pub fd_array: &'a [i32],
    /// `bpf_core_relo` records for kernel-side CO-RE, `core_relo_rec_size` bytes each.
    pub core_relos: &'a [u8],
    pub core_relo_rec_size: u32,
}

/// How often `BPF_PROG_LOAD` is retried on `EAGAIN` (the verifier gives up when interrupted).
const PROG_LOAD_ATTEMPTS: usize = 5;

/// `BPF_PROG_LOAD`: verifies and loads a program; the verifier writes its log to `log`.
pub fn prog_load(attr: &ProgLoadAttr<'_>, mut log: Option<&mut KernelLog<'_>>) -> Result<OwnedFd, SysError> {
    const OP: &str = "BPF_PROG_LOAD";
    if attr.attach_prog_fd.is_some() && attr.attach_btf_obj_fd.is_some() {
        return Err(SysError::invalid(OP, "attach_prog_fd and attach_btf_obj_fd share one field"));
    }
    let func_info_cnt = record_count(OP, "func_info", attr.func_info, attr.func_info_rec_size)?;
    let line_info_cnt = record_count(OP, "line_info", attr.line_info, attr.line_info_rec_size)?;
    let core_relo_cnt = record_count(OP, "core_relos", attr.core_relos, attr.core_relo_rec_size)?;
    let insn_cnt = u32::try_from(attr.insns.len()).map_err(|_| SysError::invalid(OP, "too many instructions"))?;

    let mut last_error = SysError::new(OP, libc::EAGAIN);
    for _ in 0..PROG_LOAD_ATTEMPTS {
        let mut buf = Attr::zeroed();
        let p = member!(buf, __bindgen_anon_3);
        p.prog_type = attr.prog_type;
        p.insn_cnt = insn_cnt;
        p.insns = attr.insns.as_ptr() as u64;
        p.license = attr.license.as_ptr() as u64;
        p.kern_version = attr.kern_version;
        p.prog_flags = attr.prog_flags;
        p.prog_name = copy_obj_name(attr.name);
        p.prog_ifindex = attr.ifindex;
        p.expected_attach_type = attr.expected_attach_type;
        p.prog_btf_fd = fd_u32(attr.prog_btf_fd);
        p.attach_btf_id = attr.attach_btf_id;
        p.__bindgen_anon_1.attach_prog_fd = fd_u32(attr.attach_prog_fd.or(attr.attach_btf_obj_fd));
        if func_info_cnt > 0 {
            (p.func_info, p.func_info_cnt, p.func_info_rec_size) =
                (attr.func_info.as_ptr() as u64, func_info_cnt, attr.func_info_rec_size);
        }
        if line_info_cnt > 0 {
            (p.line_info, p.line_info_cnt, p.line_info_rec_size) =
                (attr.line_info.as_ptr() as u64, line_info_cnt, attr.line_info_rec_size);
        }
        if core_relo_cnt > 0 {
            (p.core_relos, p.core_relo_cnt, p.core_relo_rec_size) =
                (attr.core_relos.as_ptr() as u64, core_relo_cnt, attr.core_relo_rec_size);
        }
        if !attr.fd_array.is_empty() {
            p.fd_array = attr.fd_array.as_ptr() as u64;
        }
        if let Some(log) = log.as_deref_mut() {
            (p.log_level, p.log_size, p.log_buf) = (log.level, log.size(), log.buf.as_mut_ptr() as u64);
        }
        // Cover the 6.4 `log_true_size` output; older kernels accept the zero tail.
        let size = newer::PROG_LOAD_LOG_TRUE_SIZE + 4;
        // SAFETY: every pointer set above borrows from `attr` or `log`, which outlive the call,
        // with the counts/sizes computed from their lengths.
        let result = unsafe { bpf_fd(bpf_cmd::BPF_PROG_LOAD, &mut buf, size) };
        if let Some(log) = log.as_deref_mut() {
            log.true_size = buf.get_u32(newer::PROG_LOAD_LOG_TRUE_SIZE);
        }
        match result {
            Err(e) if e.is(libc::EAGAIN) => last_error = e,
            other => return other,
        }
    }
    Err(last_error)
}

/// `BPF_BTF_LOAD`: loads a raw BTF blob (header, types, strings); the kernel's BTF checker
/// writes its log to `log`.
pub fn btf_load(data: &[u8], mut log: Option<&mut KernelLog<'_>>) -> Result<OwnedFd, SysError> {
    const OP: &str = "BPF_BTF_LOAD";
    let btf_size = u32::try_from(data.len()).map_err(|_| SysError::invalid(OP, "BTF blob over 4 GiB"))?;
    let mut buf = Attr::zeroed();
    let b = member!(buf, __bindgen_anon_7);
    (b.btf, b.btf_size) = (data.as_ptr() as u64, btf_size);
    if let Some(log) = log.as_deref_mut() {
        (b.btf_log_level, b.btf_log_size, b.btf_log_buf) = (log.level, log.size(), log.buf.as_mut_ptr() as u64);
    }
    let size = newer::BTF_LOAD_LOG_TRUE_SIZE + 4;
    // SAFETY: `btf` is readable for `btf_size` bytes; the log buffer, exclusively borrowed by
    // `log` for the whole call, is writable for `btf_log_size` bytes.
    let result = unsafe { bpf_fd(bpf_cmd::BPF_BTF_LOAD, &mut buf, size) };
    if let Some(log) = log {
        log.true_size = buf.get_u32(newer::BTF_LOAD_LOG_TRUE_SIZE);
    }
    result
}

/// Number of `rec_size`-byte records in `records`; refuses a length that is not a multiple.
fn record_count(op: &'static str, what: &str, records: &[u8], rec_size: u32) -> Result<u32, SysError> {
    if records.is_empty() {
        return Ok(0);
    }
    let leftover = records.len().checked_rem(rec_size as usize);
    if leftover != Some(0) {
        return Err(SysError::invalid(
            op,
            format!("{what} has {} bytes, not a multiple of its record size {rec_size}", records.len()),
        ));
    }
    u32::try_from(records.len() / rec_size as usize).map_err(|_| SysError::invalid(op, format!("too many {what} records")))
}

/// The size of a record type, for `*_rec_size` fields.
pub fn rec_size<T>() -> u32 {
    std::mem::size_of::<T>() as u32
}
