//! Attachment commands: links (`BPF_LINK_CREATE/UPDATE/DETACH`, `BPF_RAW_TRACEPOINT_OPEN`),
//! legacy `BPF_PROG_ATTACH/DETACH`, `BPF_PROG_BIND_MAP` and `BPF_ENABLE_STATS`.
use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::error::SysError;
use super::map::fd_u32;
use super::raw::{attr_size, bpf, bpf_fd, member, Attr};
use super::uapi::{self, bpf_attach_type, bpf_cmd, newer};

/// What a link or legacy attachment hooks into.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// No target object (raw tracepoints by BTF id, netns-wide hooks of the current netns...).
    None,
    /// A program (freplace/fentry target), cgroup, map (sockmap), netns... by fd.
    Fd(BorrowedFd<'a>),
    /// A network device (XDP, tcx, netkit).
    Ifindex(u32),
}

impl Target<'_> {
    fn raw(self) -> u32 {
        match self {
            Target::None => 0,
            Target::Fd(fd) => fd.as_raw_fd() as u32,
            Target::Ifindex(ifindex) => ifindex,
        }
    }
}

/// The attach-type-specific part of `BPF_LINK_CREATE`.
#[derive(Debug, Clone, Copy, Default)]
pub enum LinkExtra {
    #[default]
    None,
    /// freplace (EXT) and fentry/fexit: the BTF id of the function in the target.
    TargetBtfId(u32),
    /// fentry/fexit/fmod_ret/lsm with a cookie (6.5).
    Tracing { target_btf_id: u32, cookie: u64 },
    /// perf-event links: the cookie `bpf_get_attach_cookie` returns.
    PerfEventCookie(u64),
    /// tcx (6.6) and netkit (6.7): position relative to another program/link (with
    /// `BPF_F_BEFORE`/`BPF_F_AFTER`/`BPF_F_ID` in `flags`) and the expected revision (0 = any).
    Mprog { relative_fd_or_id: u32, expected_revision: u64 },
}

/// Attributes of `BPF_LINK_CREATE`.
#[derive(Debug, Clone, Copy)]
pub struct LinkCreateAttr<'a> {
    pub prog_fd: BorrowedFd<'a>,
    pub target: Target<'a>,
    pub attach_type: bpf_attach_type::Type,
    /// XDP: `XDP_FLAGS_*`; tcx: `BPF_F_BEFORE`/`BPF_F_AFTER`/...
    pub flags: u32,
    pub extra: LinkExtra,
}

/// `BPF_LINK_CREATE`: attaches a program; the attachment lives as long as the returned link fd
/// (or a pin of it).
pub fn link_create(attr: &LinkCreateAttr<'_>) -> Result<OwnedFd, SysError> {
    let mut buf = Attr::zeroed();
    let l = member!(buf, link_create);
    l.prog_fd = attr.prog_fd.as_raw_fd() as u32;
    l.__bindgen_anon_1.target_fd = attr.target.raw();
    l.attach_type = attr.attach_type;
    l.flags = attr.flags;
    let base = attr_size!(uapi::bpf_attr__bindgen_ty_14, flags);
    let size = match attr.extra {
        LinkExtra::None => base,
        LinkExtra::TargetBtfId(id) => {
            l.__bindgen_anon_2.target_btf_id = id;
            base + 4
        }
        LinkExtra::Tracing { target_btf_id, cookie } => {
            l.__bindgen_anon_2.tracing.target_btf_id = target_btf_id;
            l.__bindgen_anon_2.tracing.cookie = cookie;
            base + std::mem::size_of::<uapi::bpf_attr__bindgen_ty_14__bindgen_ty_2__bindgen_ty_4>()
        }
        LinkExtra::PerfEventCookie(bpf_cookie) => {
            l.__bindgen_anon_2.perf_event.bpf_cookie = bpf_cookie;
            base + 8
        }
        LinkExtra::Mprog { relative_fd_or_id, expected_revision } => {
            buf.set_u32(newer::LINK_CREATE_TCX_RELATIVE_FD, relative_fd_or_id);
            buf.set_u64(newer::LINK_CREATE_TCX_EXPECTED_REVISION, expected_revision);
            newer::LINK_CREATE_TCX_EXPECTED_REVISION + 8
        }
    };
    // SAFETY: no pointers are set (iter_info, kprobe_multi and uprobe_multi are not offered).
    unsafe { bpf_fd(bpf_cmd::BPF_LINK_CREATE, &mut buf, size) }
}

/// `BPF_LINK_UPDATE`: swaps the program of a link; with `old_prog`, only if it still runs that
/// one (`BPF_F_REPLACE` is set for it).
pub fn link_update(link: BorrowedFd<'_>, new_prog: BorrowedFd<'_>, old_prog: Option<BorrowedFd<'_>>) -> Result<(), SysError> {
    let mut buf = Attr::zeroed();
    let u = member!(buf, link_update);
    u.link_fd = link.as_raw_fd() as u32;
    u.new_prog_fd = new_prog.as_raw_fd() as u32;
    if let Some(old) = old_prog {
        (u.flags, u.old_prog_fd) = (uapi::BPF_F_REPLACE, old.as_raw_fd() as u32);
    }
    let size = attr_size!(uapi::bpf_attr__bindgen_ty_15, old_prog_fd);
    // SAFETY: no pointers.
    unsafe { bpf(bpf_cmd::BPF_LINK_UPDATE, &mut buf, size) }.map(drop)
}

/// `BPF_LINK_DETACH`: detaches the link's program now; the fd stays valid but defunct.
pub fn link_detach(link: BorrowedFd<'_>) -> Result<(), SysError> {
    let mut buf = Attr::zeroed();
    member!(buf, link_detach).link_fd = link.as_raw_fd() as u32;
    let size = attr_size!(uapi::bpf_attr__bindgen_ty_16, link_fd);
    // SAFETY: no pointers.
    unsafe { bpf(bpf_cmd::BPF_LINK_DETACH, &mut buf, size) }.map(drop)
}

/// `BPF_RAW_TRACEPOINT_OPEN`: attaches a raw tracepoint program to tracepoint `name`, or, with
/// `None`, a tracing program to the target given at load time.
pub fn raw_tracepoint_open(name: Option<&CStr>, prog: BorrowedFd<'_>) -> Result<OwnedFd, SysError> {
    let mut buf = Attr::zeroed();
    let r = member!(buf, raw_tracepoint);
    r.name = name.map_or(0, |n| n.as_ptr() as u64);
    r.prog_fd = prog.as_raw_fd() as u32;
    let size = attr_size!(uapi::bpf_attr__bindgen_ty_11, prog_fd);
    // SAFETY: `name` is a NUL-terminated string that outlives the call.
    unsafe { bpf_fd(bpf_cmd::BPF_RAW_TRACEPOINT_OPEN, &mut buf, size) }
}

/// Attributes of the legacy `BPF_PROG_ATTACH`.
#[derive(Debug, Clone, Copy)]
pub struct ProgAttachAttr<'a> {
    pub prog_fd: BorrowedFd<'a>,
    pub target: Target<'a>,
    pub attach_type: bpf_attach_type::Type,
    /// `BPF_F_ALLOW_OVERRIDE`, `BPF_F_ALLOW_MULTI`, `BPF_F_REPLACE`, mprog flags (6.6)...
    pub flags: u32,
    /// With `BPF_F_REPLACE`: the program to replace.
    pub replace_prog_fd: Option<BorrowedFd<'a>>,
    /// mprog hooks (tcx, 6.6): relative program/link and expected revision; zero otherwise.
    pub relative_fd_or_id: u32,
    pub expected_revision: u64,
}

/// `BPF_PROG_ATTACH`: attaches a program to a cgroup, sockmap, netns hook, tcx device, ...
pub fn prog_attach(attr: &ProgAttachAttr<'_>) -> Result<(), SysError> {
    let mut buf = Attr::zeroed();
    let p = member!(buf, __bindgen_anon_5);
    p.target_fd = attr.target.raw();
    p.attach_bpf_fd = attr.prog_fd.as_raw_fd() as u32;
    p.attach_type = attr.attach_type;
    p.attach_flags = attr.flags;
    p.replace_bpf_fd = fd_u32(attr.replace_prog_fd);
    let mut size = attr_size!(uapi::bpf_attr__bindgen_ty_6, replace_bpf_fd);
    if attr.relative_fd_or_id != 0 || attr.expected_revision != 0 {
        buf.set_u32(newer::PROG_ATTACH_RELATIVE_FD, attr.relative_fd_or_id);
        buf.set_u64(newer::PROG_ATTACH_EXPECTED_REVISION, attr.expected_revision);
        size = newer::PROG_ATTACH_EXPECTED_REVISION + 8;
    }
    // SAFETY: no pointers.
    unsafe { bpf(bpf_cmd::BPF_PROG_ATTACH, &mut buf, size) }.map(drop)
}

/// `BPF_PROG_DETACH`: detaches `prog` (or, for single-program hooks, whatever is attached when
/// `None`) from `target`.
pub fn prog_detach(prog: Option<BorrowedFd<'_>>, target: Target<'_>, attach_type: bpf_attach_type::Type) -> Result<(), SysError> {
    let mut buf = Attr::zeroed();
    let p = member!(buf, __bindgen_anon_5);
    p.target_fd = target.raw();
    p.attach_bpf_fd = fd_u32(prog);
    p.attach_type = attach_type;
    let size = attr_size!(uapi::bpf_attr__bindgen_ty_6, attach_type);
    // SAFETY: no pointers.
    unsafe { bpf(bpf_cmd::BPF_PROG_DETACH, &mut buf, size) }.map(drop)
}

/// `BPF_PROG_BIND_MAP`: keeps `map` alive as long as `prog`, though no instruction uses it.
pub fn prog_bind_map(prog: BorrowedFd<'_>, map: BorrowedFd<'_>) -> Result<(), SysError> {
    let mut buf = Attr::zeroed();
    let b = member!(buf, prog_bind_map);
    b.prog_fd = prog.as_raw_fd() as u32;
    b.map_fd = map.as_raw_fd() as u32;
    let size = attr_size!(uapi::bpf_attr__bindgen_ty_19, flags);
    // SAFETY: no pointers.
    unsafe { bpf(bpf_cmd::BPF_PROG_BIND_MAP, &mut buf, size) }.map(drop)
}

/// `BPF_ENABLE_STATS`: enables run-time statistics (`BPF_STATS_RUN_TIME`) while the returned
/// fd is open.
pub fn enable_stats(stats_type: uapi::bpf_stats_type::Type) -> Result<OwnedFd, SysError> {
    let mut buf = Attr::zeroed();
    member!(buf, enable_stats).type_ = stats_type;
    let size = attr_size!(uapi::bpf_attr__bindgen_ty_17, type_);
    // SAFETY: no pointers.
    unsafe { bpf_fd(bpf_cmd::BPF_ENABLE_STATS, &mut buf, size) }
}
