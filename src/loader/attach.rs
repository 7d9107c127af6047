//! freplace (BPF_PROG_TYPE_EXT) targets and BPF links.
//!
//! An EXT program replaces a global function of a loaded program. The kernel checks the two
//! prototypes loosely (argument count, scalar sizes, names of the structs pointed to, but not
//! their sizes) and reports mismatches only in the verifier log, so [`check_prototypes`] does
//! the full comparison in user space first and names both prototypes when they differ.
//!
//! [`Link`] is libbpf's fd-based `struct bpf_link`: the attachment lives as long as its fd (or
//! a pin of it); `destroy` closes the fd, `detach` cuts the attachment but keeps the fd.
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use crate::btf::{Btf, FuncLinkage, Kind, TypeId, TypeKind};
use crate::sys::{self, uapi, LinkCreateAttr, LinkExtra, SysError, Target};

use super::error::{LoadError, LIBBPF_ERRNO_FORMAT};
use super::Object;

/// A function of a loaded program, found in the BTF the kernel keeps for it.
#[derive(Debug)]
pub(crate) struct TargetFunc {
    pub btf: Btf,
    pub id: TypeId,
}

/// The FUNC named `name` in the BTF of the loaded program `target` (libbpf's
/// `libbpf_find_prog_btf_id`); errors carry libbpf's errno for the same case.
pub(crate) fn find_target_func(target: BorrowedFd<'_>, name: &str) -> Result<TargetFunc, (i32, String)> {
    let info = sys::obj_get_info_by_fd::<uapi::bpf_prog_info>(target).map_err(|e| (e.errno(), format!("reading the target program's info: {e}")))?;
    if info.btf_id == 0 {
        return Err((libc::EINVAL, "the target program doesn't have BTF".into()));
    }
    let btf_fd = sys::btf_get_fd_by_id(info.btf_id).map_err(|e| (e.errno(), format!("target program's BTF (id {}): {e}", info.btf_id)))?;
    let data = sys::btf_data(btf_fd.as_fd()).map_err(|e| (e.errno(), format!("reading the target program's BTF: {e}")))?;
    let btf = Btf::parse(&data).map_err(|e| (LIBBPF_ERRNO_FORMAT, format!("parsing the target program's BTF: {e}")))?;
    let id = btf
        .find_by_name_kind(name, Kind::Func)
        .ok_or_else(|| (libc::ENOENT, format!("'{name}' is not found in the target program's BTF")))?;
    Ok(TargetFunc { btf, id })
}

/// A prototype mismatch, before rendering (see [`check_prototypes`]).
fn func_proto(btf: &Btf, func: TypeId) -> Result<(TypeId, Vec<TypeId>, FuncLinkage), String> {
    let t = btf.type_by_id(func).map_err(|e| e.to_string())?;
    let TypeKind::Func { proto, linkage } = &t.kind else { return Err(format!("type {func} is not a FUNC")) };
    let p = btf.type_by_id(*proto).map_err(|e| e.to_string())?;
    let TypeKind::FuncProto { ret, params } = &p.kind else { return Err(format!("type {proto} is not a FUNC_PROTO")) };
    Ok((*ret, params.iter().map(|p| p.type_id).collect(), *linkage))
}

/// Checks that the extension function `ext_func` (of `ext`) may replace `target_func` (of
/// `target`): the target is global, same argument count, same return and argument kinds,
/// scalars of equal size, and pointers only to structs of the same name **and size**.
/// The error says what differs; callers add both prototypes.
pub fn check_prototypes(ext: &Btf, ext_func: TypeId, target: &Btf, target_func: TypeId) -> Result<(), String> {
    let (ext_ret, ext_args, _) = func_proto(ext, ext_func).map_err(|e| format!("extension BTF: {e}"))?;
    let (tgt_ret, tgt_args, linkage) = func_proto(target, target_func).map_err(|e| format!("target BTF: {e}"))?;
    if linkage == FuncLinkage::Static {
        return Err("the target function is static; only global functions can be replaced".into());
    }
    if ext_args.len() != tgt_args.len() {
        return Err(format!("the extension takes {} argument(s), the target {}", ext_args.len(), tgt_args.len()));
    }
    compare_types(ext, ext_ret, target, tgt_ret, "the return type")?;
    for (i, (&e, &t)) in ext_args.iter().zip(&tgt_args).enumerate() {
        compare_types(ext, e, target, t, &format!("argument {}", i + 1))?;
    }
    Ok(())
}

fn resolved(btf: &Btf, id: TypeId) -> Result<(TypeId, Kind), String> {
    let id = btf.skip_mods_and_typedefs(id).map_err(|e| e.to_string())?;
    let kind = btf.type_by_id(id).map_err(|e| e.to_string())?.kind();
    Ok((id, kind))
}

fn compare_types(ext: &Btf, e: TypeId, target: &Btf, t: TypeId, what: &str) -> Result<(), String> {
    let (e_id, e_kind) = resolved(ext, e)?;
    let (t_id, t_kind) = resolved(target, t)?;
    let differ = || format!("{what} is '{}' in the extension but '{}' in the target", ext.describe(e), target.describe(t));
    if e_kind != t_kind {
        return Err(differ());
    }
    match e_kind {
        Kind::Void => Ok(()),
        Kind::Int | Kind::Enum | Kind::Enum64 => {
            let sizes = (ext.resolve_size(e_id), target.resolve_size(t_id));
            match sizes {
                (Ok(a), Ok(b)) if a == b => Ok(()),
                _ => Err(differ()),
            }
        }
        Kind::Ptr => compare_pointees(ext, e_id, target, t_id, what),
        _ => Err(format!(
            "{what} is '{}': only integers, enums and pointers to structs are allowed in replaceable functions",
            target.describe(t)
        )),
    }
}

/// Both pointers must point to structs (or unions) of the same name and size: the kernel checks
/// the names only, so a struct redefined with another layout would pass it.
fn compare_pointees(ext: &Btf, e_ptr: TypeId, target: &Btf, t_ptr: TypeId, what: &str) -> Result<(), String> {
    let pointee = |btf: &Btf, ptr: TypeId| -> Result<(TypeId, Kind), String> {
        let inner = btf.type_by_id(ptr).map_err(|e| e.to_string())?.referenced_type().unwrap_or(0);
        resolved(btf, inner)
    };
    let (e_id, e_kind) = pointee(ext, e_ptr)?;
    let (t_id, t_kind) = pointee(target, t_ptr)?;
    let aggregate = |k: Kind| matches!(k, Kind::Struct | Kind::Union);
    if !aggregate(t_kind) {
        return Err(format!(
            "{what} is '{}' in the target: a pointer to anything but a struct makes a function non-replaceable",
            target.describe(t_ptr)
        ));
    }
    if e_kind != t_kind {
        return Err(format!("{what} is '{}' in the extension but '{}' in the target", ext.describe(e_ptr), target.describe(t_ptr)));
    }
    let e_name = ext.type_name(e_id).unwrap_or("");
    let t_name = target.type_name(t_id).unwrap_or("");
    if e_name != t_name {
        return Err(format!("{what} points to '{}' in the extension but to '{}' in the target", ext.describe(e_id), target.describe(t_id)));
    }
    let (e_size, t_size) = (ext.resolve_size(e_id).ok(), target.resolve_size(t_id).ok());
    if e_size != t_size {
        let show = |s: Option<u32>| s.map_or("unknown".to_string(), |s| s.to_string());
        return Err(format!(
            "{what} points to '{}' of {} bytes in the extension but of {} bytes in the target (same name, different layout)",
            ext.describe(e_id),
            show(e_size),
            show(t_size)
        ));
    }
    Ok(())
}

/// The readable error for an extension whose prototype doesn't fit its target.
pub(crate) fn prototype_error(program: &str, ext: &Btf, ext_func: TypeId, target: &TargetFunc, reason: String) -> LoadError {
    LoadError::Prototype {
        program: program.to_string(),
        extension: ext.describe(ext_func),
        target: target.btf.describe(target.id),
        reason,
    }
}

/// The FUNC of an extension program in its object's BTF (its name is the program's).
pub(crate) fn ext_func_id(ext: &Btf, program: &str) -> Option<TypeId> {
    ext.find_by_name_kind(program, Kind::Func)
}

/// Why the kernel said `EBUSY` when linking an extension.
pub(crate) const EBUSY_HINT: &str = "; the function is already replaced by another extension or traced by fentry/fexit \
(one extension per function; destroy the other link first)";

/// Why the kernel said `EINVAL` when linking an extension to its load-time target.
const LOAD_TIME_TARGET_HINT: &str = "; the kernel lets an extension use its load-time target for one attachment only \
(it was attached before): pass the target program and function explicitly";

/// Where an extension attaches: a loaded program and the name of one of its global functions.
#[derive(Debug, Clone, Copy)]
pub struct FreplaceTarget<'a> {
    pub prog_fd: BorrowedFd<'a>,
    pub func_name: &'a str,
}

impl Object {
    /// libbpf's `bpf_program__attach_freplace`: links the loaded EXT program `program` into
    /// `target` (`BPF_LINK_CREATE` with the function's BTF id, after a user-space prototype
    /// check), or with `None` into the target given at load (`BPF_RAW_TRACEPOINT_OPEN`).
    pub fn attach_freplace(&self, program: &str, target: Option<FreplaceTarget<'_>>) -> Result<Link, LoadError> {
        let invalid = |reason: String| LoadError::Invalid { what: "program", name: program.to_string(), reason };
        let prog = self.find_program(program).ok_or_else(|| invalid("no such program in the object".into()))?;
        if prog.prog_type().0 != uapi::bpf_prog_type::BPF_PROG_TYPE_EXT {
            return Err(invalid("only BPF_PROG_TYPE_EXT can attach as freplace".into()));
        }
        let fd = prog.fd().ok_or_else(|| invalid("can't attach before loaded".into()))?;
        let Some(target) = target else {
            let link = sys::raw_tracepoint_open(None, fd).map_err(|source| LoadError::Attach {
                program: program.to_string(),
                target: "its load-time target".into(),
                hint: if source.is(libc::EINVAL) { LOAD_TIME_TARGET_HINT } else { "" },
                source,
            })?;
            return Ok(Link::new(link));
        };
        let func = find_target_func(target.prog_fd, target.func_name).map_err(|(errno, what)| LoadError::AttachTarget {
            program: program.to_string(),
            what,
            errno,
        })?;
        if let Some(ext_id) = self.btf().and_then(|b| ext_func_id(b, program).map(|id| (b, id))) {
            let (ext, ext_id) = ext_id;
            check_prototypes(ext, ext_id, &func.btf, func.id).map_err(|reason| prototype_error(program, ext, ext_id, &func, reason))?;
        }
        let attr = LinkCreateAttr {
            prog_fd: fd,
            target: Target::Fd(target.prog_fd),
            attach_type: prog.expected_attach_type().0,
            flags: 0,
            extra: LinkExtra::TargetBtfId(func.id),
        };
        let link = sys::link_create(&attr).map_err(|source| LoadError::Attach {
            program: program.to_string(),
            target: format!("'{}' of program fd {}", target.func_name, target.prog_fd.as_raw_fd()),
            hint: if source.is(libc::EBUSY) { EBUSY_HINT } else { "" },
            source,
        })?;
        Ok(Link::new(link))
    }
}

/// An fd-based BPF link (libbpf's `struct bpf_link`).
#[derive(Debug)]
pub struct Link {
    fd: Option<OwnedFd>,
    pin_path: Option<PathBuf>,
}

fn link_op(op: &'static str, what: String) -> impl FnOnce(SysError) -> LoadError {
    move |source| LoadError::LinkOp { op, what, source }
}

impl Link {
    /// Takes ownership of a link fd.
    pub fn new(fd: OwnedFd) -> Link {
        Link { fd: Some(fd), pin_path: None }
    }

    /// libbpf's `bpf_link__open`: the link pinned at `path` (which it remembers as its pin).
    pub fn open(path: &Path) -> Result<Link, LoadError> {
        let fd = sys::obj_get(path, 0).map_err(link_op("BPF_OBJ_GET", format!("opening the link pinned at {}", path.display())))?;
        Ok(Link { fd: Some(fd), pin_path: Some(path.to_path_buf()) })
    }

    /// The link fd (None once destroyed).
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.fd.as_ref().map(|fd| fd.as_fd())
    }

    pub fn pin_path(&self) -> Option<&Path> {
        self.pin_path.as_deref()
    }

    fn live_fd(&self, op: &'static str) -> Result<BorrowedFd<'_>, LoadError> {
        self.fd().ok_or_else(|| LoadError::LinkOp { op, what: "link already destroyed".into(), source: SysError::new(op, libc::EBADF) })
    }

    /// Pins the link at `path` on a bpffs (parent directory created); `EBUSY` if already pinned.
    pub fn pin(&mut self, path: &Path) -> Result<(), LoadError> {
        if let Some(old) = &self.pin_path {
            return Err(LoadError::LinkOp {
                op: "BPF_OBJ_PIN",
                what: format!("link already pinned at {}", old.display()),
                source: SysError::new("BPF_OBJ_PIN", libc::EBUSY),
            });
        }
        super::map::make_parent_dir(path)?;
        super::map::check_bpffs_path("link", "link", path)?;
        let fd = self.live_fd("BPF_OBJ_PIN")?;
        sys::obj_pin(fd, path).map_err(link_op("BPF_OBJ_PIN", format!("pinning the link at {}", path.display())))?;
        self.pin_path = Some(path.to_path_buf());
        Ok(())
    }

    /// Removes the link's pin (`EINVAL` when it has none).
    pub fn unpin(&mut self) -> Result<(), LoadError> {
        let Some(path) = &self.pin_path else {
            return Err(LoadError::Invalid { what: "link", name: "link".into(), reason: "not pinned".into() });
        };
        std::fs::remove_file(path).map_err(|source| LoadError::Io { path: path.display().to_string(), source })?;
        self.pin_path = None;
        Ok(())
    }

    /// `BPF_LINK_DETACH`: ends the attachment now; the fd stays open but defunct.
    pub fn detach(&self) -> Result<(), LoadError> {
        let fd = self.live_fd("BPF_LINK_DETACH")?;
        sys::link_detach(fd).map_err(link_op("BPF_LINK_DETACH", "detaching the link".into()))
    }

    /// `BPF_LINK_UPDATE`: makes the link run `prog` instead. freplace links don't support it
    /// (the kernel refuses; replace the link instead).
    pub fn update_program(&self, prog: BorrowedFd<'_>) -> Result<(), LoadError> {
        let fd = self.live_fd("BPF_LINK_UPDATE")?;
        sys::link_update(fd, prog, None).map_err(link_op("BPF_LINK_UPDATE", "swapping the link's program".into()))
    }

    /// Takes the fd out of the link (which then behaves as destroyed).
    pub fn take_fd(&mut self) -> Option<OwnedFd> {
        self.fd.take()
    }

    /// Closes the fd (the attachment ends unless a pin or another fd holds it), reporting
    /// close's error like libbpf's `bpf_link__destroy`.
    pub fn destroy(&mut self) -> Result<(), LoadError> {
        let Some(fd) = self.fd.take() else { return Ok(()) };
        // SAFETY: the fd was owned by this link and is closed exactly once here.
        if unsafe { libc::close(fd.into_raw_fd()) } != 0 {
            return Err(LoadError::LinkOp {
                op: "close",
                what: "closing the link fd".into(),
                source: SysError::new("close", std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::{BtfType, Member, Param};

    fn int(btf: &mut Btf, size: u32) -> TypeId {
        let name = btf.add_string(if size == 4 { "int" } else { "long" });
        btf.add_type(BtfType { name_off: name, kind: TypeKind::Int { size, encoding: 1, bit_offset: 0, bits: (size * 8) as u8 } })
    }

    fn strukt(btf: &mut Btf, name: &str, size: u32, int_id: TypeId) -> TypeId {
        let name = btf.add_string(name);
        let m = btf.add_string("x");
        let members = vec![Member { name_off: m, type_id: int_id, bit_offset: 0, bitfield_size: 0 }];
        btf.add_type(BtfType { name_off: name, kind: TypeKind::Struct { size, kind_flag: false, members } })
    }

    /// `int name(struct sname *ctx, int...extra)` in a fresh BTF.
    fn func(name: &str, sname: &str, ssize: u32, extra_ints: usize, linkage: FuncLinkage) -> (Btf, TypeId) {
        let mut btf = Btf::new();
        let i = int(&mut btf, 4);
        let s = strukt(&mut btf, sname, ssize, i);
        let p = btf.add_type(BtfType { name_off: 0, kind: TypeKind::Ptr { target: s } });
        let ctx = btf.add_string("ctx");
        let mut params = vec![Param { name_off: ctx, type_id: p }];
        params.extend((0..extra_ints).map(|_| Param { name_off: 0, type_id: i }));
        let proto = btf.add_type(BtfType { name_off: 0, kind: TypeKind::FuncProto { ret: i, params } });
        let n = btf.add_string(name);
        let f = btf.add_type(BtfType { name_off: n, kind: TypeKind::Func { proto, linkage } });
        (btf, f)
    }

    #[test]
    fn identical_prototypes_match() {
        let (a, fa) = func("ext", "xdp_md", 24, 1, FuncLinkage::Global);
        let (b, fb) = func("placeholder", "xdp_md", 24, 1, FuncLinkage::Global);
        assert_eq!(check_prototypes(&a, fa, &b, fb), Ok(()));
    }

    #[test]
    fn mismatches_are_explained() {
        let (t, ft) = func("placeholder", "xdp_md", 24, 0, FuncLinkage::Global);
        let (e, fe) = func("ext", "xdp_md", 24, 1, FuncLinkage::Global);
        assert_eq!(check_prototypes(&e, fe, &t, ft).unwrap_err(), "the extension takes 2 argument(s), the target 1");
        let (e, fe) = func("ext", "xdp_md", 8, 0, FuncLinkage::Global);
        let err = check_prototypes(&e, fe, &t, ft).unwrap_err();
        assert!(err.contains("'struct xdp_md' of 8 bytes in the extension but of 24 bytes"), "{err}");
        let (e, fe) = func("ext", "__sk_buff", 24, 0, FuncLinkage::Global);
        let err = check_prototypes(&e, fe, &t, ft).unwrap_err();
        assert!(err.contains("'struct __sk_buff' in the extension but to 'struct xdp_md'"), "{err}");
        let (s, fs) = func("placeholder", "xdp_md", 24, 0, FuncLinkage::Static);
        let (e, fe) = func("ext", "xdp_md", 24, 0, FuncLinkage::Global);
        assert!(check_prototypes(&e, fe, &s, fs).unwrap_err().contains("static"));
    }
}
