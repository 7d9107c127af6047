//! A program of an opened object: load settings (changeable until load), the instructions
//! after linking, its fd and verifier log after load.
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use crate::object::sec_def::{find_sec_def, SEC_SLEEPABLE, SEC_XDP_FRAGS};
use crate::object::{AttachType, Insn, ProgType, Program as ProgramSpec, Subprogram};
use crate::sys::{self, uapi};

use super::error::LoadError;

#[derive(Debug)]
pub struct Program {
    pub(crate) name: String,
    pub(crate) section_name: String,
    pub(crate) section_index: u32,
    /// First instruction's index within its section.
    pub(crate) insn_start: usize,
    /// The program's own instructions, as in the ELF section.
    pub(crate) own_insns: Vec<Insn>,
    pub(crate) prog_type: ProgType,
    pub(crate) expected_attach_type: AttachType,
    pub(crate) attach_target: Option<String>,
    pub(crate) autoload: bool,
    pub(crate) flags: u32,
    pub(crate) ifindex: u32,
    pub(crate) log_level: u32,
    /// Size of the caller's log buffer (libbpf's `bpf_program__set_log_buf`); the log text is
    /// kept in `log` and the C layer copies it out.
    pub(crate) log_size: Option<usize>,
    pub(crate) log: Vec<u8>,
    pub(crate) attach_btf_id: u32,
    pub(crate) attach_prog_fd: Option<OwnedFd>,
    pub(crate) attach_func_name: Option<String>,
    /// Instructions as loaded (after linking), empty before load.
    pub(crate) linked_insns: Vec<Insn>,
    pub(crate) fd: Option<OwnedFd>,
    pub(crate) loaded: bool,
    /// Names of the BTF functions linked into the program (its func_info), set at load.
    pub(crate) linked_funcs: Vec<String>,
    /// Stubs appended for calls to functions of other loaded objects (dynamic linking).
    pub(crate) stubs: Vec<super::link::Stub>,
    /// Functions imported from other loaded objects.
    pub(crate) imports: Vec<super::link::Import>,
    /// The exported lone function of a library object: not loaded on its own (autoload off)
    /// but its code is prepared for the objects that call it.
    pub(crate) library: bool,
}

impl Program {
    pub(crate) fn from_spec(spec: &ProgramSpec, section_insns: &[Insn], log_level: u32, log_size: Option<usize>) -> Result<Program, LoadError> {
        let bad = |reason: String| LoadError::Invalid { what: "program", name: spec.name.clone(), reason };
        let start = usize::try_from(spec.offset / 8).map_err(|_| bad("offset too large".into()))?;
        let count = usize::try_from(spec.insn_cnt).map_err(|_| bad("too many instructions".into()))?;
        let own = start
            .checked_add(count)
            .and_then(|end| section_insns.get(start..end))
            .ok_or_else(|| bad(format!("instructions {start}..+{count} lie outside section {}", spec.section_name)))?;
        let sec_flags = find_sec_def(&spec.section_name).map_or(0, |d| d.flags);
        let mut flags = 0;
        if sec_flags & SEC_SLEEPABLE != 0 {
            flags |= uapi::BPF_F_SLEEPABLE;
        }
        if sec_flags & SEC_XDP_FRAGS != 0 {
            flags |= uapi::BPF_F_XDP_HAS_FRAGS;
        }
        Ok(Program {
            name: spec.name.clone(),
            section_name: spec.section_name.clone(),
            section_index: spec.section_index,
            insn_start: start,
            own_insns: own.to_vec(),
            prog_type: spec.prog_type,
            expected_attach_type: spec.expected_attach_type,
            attach_target: spec.attach_target.clone(),
            autoload: spec.autoload,
            flags,
            ifindex: 0,
            log_level,
            log_size,
            log: Vec::new(),
            attach_btf_id: 0,
            attach_prog_fd: None,
            attach_func_name: None,
            linked_insns: Vec::new(),
            fd: None,
            loaded: false,
            linked_funcs: Vec::new(),
            stubs: Vec::new(),
            imports: Vec::new(),
            library: false,
        })
    }

    /// A program for the global function `sub` (the dynamic linker's extension programs).
    pub(crate) fn for_function(sub: &Subprogram, section_insns: &[Insn], log_level: u32, log_size: Option<usize>) -> Result<Program, LoadError> {
        Program::from_spec(&ProgramSpec::from_function(sub), section_insns, log_level, log_size)
    }

    fn check_not_loaded(&self) -> Result<(), LoadError> {
        if self.loaded {
            return Err(LoadError::Busy { what: "program", name: self.name.clone() });
        }
        Ok(())
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn section_name(&self) -> &str {
        &self.section_name
    }
    pub fn prog_type(&self) -> ProgType {
        self.prog_type
    }
    pub fn expected_attach_type(&self) -> AttachType {
        self.expected_attach_type
    }
    /// What the section name says to attach to ("foo" for `freplace/foo`).
    pub fn attach_target(&self) -> Option<&str> {
        self.attach_target.as_deref()
    }
    pub fn autoload(&self) -> bool {
        self.autoload
    }
    pub fn flags(&self) -> u32 {
        self.flags
    }
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }
    pub fn log_level(&self) -> u32 {
        self.log_level
    }
    pub fn log_size(&self) -> Option<usize> {
        self.log_size
    }
    /// The kernel's log of the last load attempt (NUL-terminated text, possibly empty).
    pub fn kernel_log(&self) -> &[u8] {
        &self.log
    }
    pub fn attach_btf_id(&self) -> u32 {
        self.attach_btf_id
    }
    /// Instructions: the program's own before load, the linked ones (subprograms appended,
    /// relocations applied) after load (libbpf's `bpf_program__insns`).
    pub fn insns(&self) -> &[Insn] {
        if self.loaded && !self.linked_insns.is_empty() {
            &self.linked_insns
        } else {
            &self.own_insns
        }
    }
    pub fn insn_cnt(&self) -> usize {
        self.insns().len()
    }
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.fd.as_ref().map(|fd| fd.as_fd())
    }

    pub fn set_autoload(&mut self, autoload: bool) -> Result<(), LoadError> {
        self.check_not_loaded()?;
        self.autoload = autoload;
        Ok(())
    }
    pub fn set_type(&mut self, prog_type: ProgType) -> Result<(), LoadError> {
        self.check_not_loaded()?;
        self.prog_type = prog_type;
        Ok(())
    }
    pub fn set_expected_attach_type(&mut self, attach_type: AttachType) -> Result<(), LoadError> {
        self.check_not_loaded()?;
        self.expected_attach_type = attach_type;
        Ok(())
    }
    pub fn set_flags(&mut self, flags: u32) -> Result<(), LoadError> {
        self.check_not_loaded()?;
        self.flags = flags;
        Ok(())
    }
    /// Allowed at any time, like libbpf 1.1 (it only matters for the next load).
    pub fn set_ifindex(&mut self, ifindex: u32) -> Result<(), LoadError> {
        self.ifindex = ifindex;
        Ok(())
    }
    pub fn set_log_level(&mut self, level: u32) -> Result<(), LoadError> {
        self.check_not_loaded()?;
        self.log_level = level;
        Ok(())
    }
    /// Declares a caller log buffer of `size` bytes (None removes it).
    pub fn set_log_size(&mut self, size: Option<usize>) -> Result<(), LoadError> {
        self.check_not_loaded()?;
        self.log_size = size;
        Ok(())
    }
    /// Attach target for EXT/fentry/fexit programs: a loaded program (`prog_fd`, duplicated)
    /// and/or a function name; without `prog_fd` the name is looked up in vmlinux BTF.
    pub fn set_attach_target(&mut self, prog_fd: Option<BorrowedFd<'_>>, func_name: Option<&str>) -> Result<(), LoadError> {
        self.check_not_loaded()?;
        let fd = prog_fd
            .map(|fd| fd.try_clone_to_owned())
            .transpose()
            .map_err(|e| LoadError::Invalid { what: "program", name: self.name.clone(), reason: format!("duplicating attach target fd: {e}") })?;
        let previous = (std::mem::replace(&mut self.attach_prog_fd, fd), self.attach_func_name.take());
        self.attach_func_name = func_name.map(str::to_string);
        // Like libbpf, a named target is looked up now, so a missing function is reported by
        // this call; load looks it up again (and checks an extension's prototype then).
        if func_name.is_some() {
            if let Err(e) = super::load::resolve_attach_btf_id(self, None) {
                (self.attach_prog_fd, self.attach_func_name) = previous;
                return Err(e);
            }
        }
        Ok(())
    }

    /// The attach target program set with [`Program::set_attach_target`].
    pub fn attach_prog_fd(&self) -> Option<BorrowedFd<'_>> {
        self.attach_prog_fd.as_ref().map(|fd| fd.as_fd())
    }

    /// Pins the loaded program at `path` (parent directory created, must be on a bpffs).
    pub fn pin(&self, path: &Path) -> Result<(), LoadError> {
        let fd = self.fd().ok_or_else(|| LoadError::Invalid {
            what: "program",
            name: self.name.clone(),
            reason: "can't pin program that wasn't loaded".into(),
        })?;
        super::map::make_parent_dir(path)?;
        super::map::check_bpffs_path("program", &self.name, path)?;
        sys::obj_pin(fd, path).map_err(|source| LoadError::Pin {
            map: self.name.clone(),
            op: "BPF_OBJ_PIN (program)",
            path: path.display().to_string(),
            source,
        })
    }

    /// Removes the pin at `path` (which must be on a bpffs).
    pub fn unpin(&self, path: &Path) -> Result<(), LoadError> {
        super::map::check_bpffs_path("program", &self.name, path)?;
        std::fs::remove_file(path).map_err(|source| LoadError::Io { path: path.display().to_string(), source })
    }
}
