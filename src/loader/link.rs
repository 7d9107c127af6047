//! Per-program linking: the entry program's instructions, then every function it reaches
//! (through `BPF_PSEUDO_CALL` calls and `BPF_PSEUDO_FUNC` ld_imm64, in any code section),
//! appended once, in the order first reached. Calls get relative offsets, ld_imm64 of maps,
//! global data and externs get fds/BTF ids/addresses, kfunc calls get their BTF ids, and the
//! `.BTF.ext` func_info/line_info of each appended function are rebased onto the result.
use std::collections::{HashMap, VecDeque};

use crate::btf::{BtfExt, ExtRecord, FuncInfo, LineInfo};
use crate::object::insn::{PSEUDO_FUNC, PSEUDO_KFUNC_CALL};
use crate::object::{Insn, ObjectSpec, RelocClass, Relocation};

use super::error::LoadError;
use super::externs::{ExternValue, ResolvedExterns};

const PSEUDO_MAP_FD: u8 = 1;
const PSEUDO_MAP_VALUE: u8 = 2;
const PSEUDO_BTF_ID: u8 = 3;
/// libbpf marks calls to unresolved weak kfuncs with this helper id base (plus extern index):
/// the verifier rejects them only if reachable.
const POISON_KFUNC_BASE: i32 = 2_002_000_000;

/// A function: where its instructions are in which code section.
#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub section: u32,
    pub start: usize,
    pub count: usize,
}

/// What linking needs besides the spec, built once per load.
pub struct LinkContext<'a> {
    pub spec: &'a ObjectSpec,
    /// Code sections' instructions after CO-RE relocation, by section index.
    pub section_insns: &'a HashMap<u32, Vec<Insn>>,
    /// Every function by (section, first instruction).
    pub functions: HashMap<(u32, usize), Function>,
    /// Code relocations by (section, instruction index).
    pub relocations: HashMap<(u32, usize), &'a Relocation>,
    /// fds of created maps by map name (`MapRef`/extern maps).
    pub map_fds: HashMap<String, i32>,
    /// fds of global data maps by section name.
    pub data_fds: HashMap<String, i32>,
    /// Maps that exist but were not created (autocreate off), by name and section name.
    pub skipped_maps: Vec<String>,
    /// fd of the `.kconfig` map.
    pub kconfig_fd: Option<i32>,
    pub externs: &'a ResolvedExterns,
    /// func_info/line_info source, when BTF was loaded into the kernel.
    pub btf_ext: Option<&'a BtfExt>,
}

/// One linked program.
#[derive(Debug, Default)]
pub struct LinkedProgram {
    pub insns: Vec<Insn>,
    pub func_info: Vec<FuncInfo>,
    pub line_info: Vec<LineInfo>,
}

impl<'a> LinkContext<'a> {
    pub fn functions_of(spec: &ObjectSpec) -> HashMap<(u32, usize), Function> {
        let mut map = HashMap::new();
        let entries = spec
            .programs
            .iter()
            .map(|p| (&p.name, p.section_index, p.offset, p.insn_cnt))
            .chain(spec.subprograms.iter().map(|s| (&s.name, s.section_index, s.offset, s.insn_cnt)));
        for (name, section, offset, count) in entries {
            let start = (offset / 8) as usize;
            map.insert((section, start), Function { name: name.clone(), section, start, count: count as usize });
        }
        map
    }

    pub fn relocations_of(spec: &'a ObjectSpec) -> HashMap<(u32, usize), &'a Relocation> {
        let mut map = HashMap::new();
        for section in &spec.sections {
            for rel in &section.relocations {
                if !matches!(rel.class, RelocClass::Data) {
                    map.insert((section.index, (rel.offset / 8) as usize), rel);
                }
            }
        }
        map
    }
}

struct Linker<'c, 'a> {
    ctx: &'c LinkContext<'a>,
    program: &'c str,
    out: LinkedProgram,
    /// Where each function was placed in `out.insns`.
    placed: HashMap<(u32, usize), usize>,
    queue: VecDeque<(Function, usize)>,
}

/// Links the program whose code starts at `start` in section `section`.
pub fn link_program(ctx: &LinkContext<'_>, program: &str, section: u32, start: usize) -> Result<LinkedProgram, LoadError> {
    let main = ctx.functions.get(&(section, start)).cloned().ok_or_else(|| LoadError::Link {
        program: program.to_string(),
        what: format!("no function starts at instruction {start} of section {section}"),
    })?;
    let mut linker = Linker { ctx, program, out: LinkedProgram::default(), placed: HashMap::new(), queue: VecDeque::new() };
    linker.place(&main)?;
    while let Some((func, dest)) = linker.queue.pop_front() {
        linker.relocate_function(&func, dest)?;
    }
    Ok(linker.out)
}

impl Linker<'_, '_> {
    fn reloc_err(&self, insn: usize, what: impl Into<String>) -> LoadError {
        LoadError::Reloc { program: self.program.to_string(), insn, what: what.into() }
    }

    fn section_name(&self, section: u32) -> &str {
        self.ctx.spec.section(section).map_or("?", |s| s.name.as_str())
    }

    /// Appends `func` (instructions and its func_info/line_info) and queues it for relocation.
    fn place(&mut self, func: &Function) -> Result<usize, LoadError> {
        let insns = self
            .ctx
            .section_insns
            .get(&func.section)
            .and_then(|all| all.get(func.start..func.start + func.count))
            .ok_or_else(|| LoadError::Link {
                program: self.program.to_string(),
                what: format!("function '{}' lies outside its section {}", func.name, self.section_name(func.section)),
            })?;
        let dest = self.out.insns.len();
        self.out.insns.extend_from_slice(insns);
        self.placed.insert((func.section, func.start), dest);
        self.queue.push_back((func.clone(), dest));
        if let Some(ext) = self.ctx.btf_ext {
            let sec_name = self.section_name(func.section).to_string();
            let range = (func.start * 8) as u64..((func.start + func.count) * 8) as u64;
            let rebase = |off: u32| (dest + (off as usize / 8 - func.start)) as u32;
            if let Some(s) = ext.func_info.as_ref().and_then(|i| i.section(&sec_name)) {
                for r in s.records.iter().filter(|r| range.contains(&u64::from(r.insn_off))) {
                    self.out.func_info.push(FuncInfo { insn_off: rebase(r.insn_off), ..*r });
                }
            }
            if let Some(s) = ext.line_info.as_ref().and_then(|i| i.section(&sec_name)) {
                for r in s.records.iter().filter(|r| range.contains(&u64::from(r.insn_off))) {
                    self.out.line_info.push(LineInfo { insn_off: rebase(r.insn_off), ..*r });
                }
            }
        }
        Ok(dest)
    }

    /// The placed copy of the function starting at `start` in `section`, placing it if new.
    fn target(&mut self, section: u32, start: i64, at: usize) -> Result<usize, LoadError> {
        let start = usize::try_from(start).map_err(|_| self.reloc_err(at, format!("call target {start} before the section start")))?;
        if let Some(&dest) = self.placed.get(&(section, start)) {
            return Ok(dest);
        }
        let func = self.ctx.functions.get(&(section, start)).cloned().ok_or_else(|| {
            self.reloc_err(at, format!("no function starts at instruction {start} of section {}", self.section_name(section)))
        })?;
        self.place(&func)
    }

    fn relocate_function(&mut self, func: &Function, dest: usize) -> Result<(), LoadError> {
        let mut i = 0;
        while i < func.count {
            let at = dest + i;
            let insn = self.out.insns[at];
            let rel = self.ctx.relocations.get(&(func.section, func.start + i)).copied();
            match rel {
                Some(rel) => self.apply(rel, func, i, at)?,
                None if insn.is_pseudo_call() => {
                    // A call to a static function of the same section has no relocation: imm is
                    // relative to the call's original position.
                    let target = (func.start + i) as i64 + i64::from(insn.imm) + 1;
                    let placed = self.target(func.section, target, at)?;
                    self.out.insns[at].imm = relative(placed, at)?;
                }
                None => {}
            }
            i += if insn.is_ld_imm64() { 2 } else { 1 };
        }
        Ok(())
    }

    fn set_ld_imm64(&mut self, at: usize, src_reg: u8, imm0: i32, imm1: i32) -> Result<(), LoadError> {
        if at + 1 >= self.out.insns.len() || !self.out.insns[at].is_ld_imm64() {
            return Err(self.reloc_err(at, "relocation expects an ld_imm64 instruction"));
        }
        self.out.insns[at].src_reg = src_reg;
        self.out.insns[at].imm = imm0;
        self.out.insns[at + 1].imm = imm1;
        Ok(())
    }

    fn apply(&mut self, rel: &Relocation, func: &Function, i: usize, at: usize) -> Result<(), LoadError> {
        let insn = self.out.insns[at];
        let sym_value = self.ctx.spec.symbols.get(rel.symbol as usize).map_or(0, |s| s.value) as i64;
        match &rel.class {
            RelocClass::SubprogCall { section } => {
                let target_section = self.section_index(section, at)?;
                let target = sym_value / 8 + i64::from(insn.imm) + 1;
                let placed = self.target(target_section, target, at)?;
                self.out.insns[at].imm = relative(placed, at)?;
            }
            RelocClass::FuncPointer { section } => {
                let target_section = self.section_index(section, at)?;
                let target = (sym_value + i64::from(insn.imm)) / 8;
                let placed = self.target(target_section, target, at)?;
                let imm = relative(placed, at)?;
                self.set_ld_imm64(at, PSEUDO_FUNC, imm, 0)?;
            }
            RelocClass::MapRef { map } => {
                let fd = self.map_fd(map, at)?;
                self.set_ld_imm64(at, PSEUDO_MAP_FD, fd, 0)?;
            }
            RelocClass::GlobalData { section } => {
                let fd = match self.ctx.data_fds.get(section) {
                    Some(&fd) => fd,
                    None => return Err(self.missing_map(section, at)),
                };
                let offset = i32::try_from(i64::from(insn.imm) + sym_value)
                    .map_err(|_| self.reloc_err(at, format!("offset into {section} overflows")))?;
                self.set_ld_imm64(at, PSEUDO_MAP_VALUE, fd, offset)?;
            }
            RelocClass::ExternRef { name, call } => self.apply_extern(name, *call, at)?,
            RelocClass::Data => {
                return Err(self.reloc_err(at, format!("data relocation in code (function '{}', insn {i})", func.name)))
            }
        }
        Ok(())
    }

    fn apply_extern(&mut self, name: &str, call: bool, at: usize) -> Result<(), LoadError> {
        let value = self.ctx.externs.values.get(name).ok_or_else(|| self.reloc_err(at, format!("extern '{name}' was not resolved")))?;
        let orig_imm = self.out.insns[at].imm;
        match (value, call) {
            (ExternValue::Kfunc { btf_id }, true) => {
                let insn = &mut self.out.insns[at];
                insn.src_reg = PSEUDO_KFUNC_CALL;
                insn.imm = *btf_id as i32;
                insn.off = 0;
            }
            (ExternValue::MissingKfunc, true) => {
                let index = self.ctx.spec.externs.iter().position(|e| e.name == name).unwrap_or(0) as i32;
                let insn = &mut self.out.insns[at];
                insn.src_reg = 0;
                insn.off = 0;
                insn.imm = POISON_KFUNC_BASE + index;
            }
            (ExternValue::Kconfig { offset }, false) => {
                let fd = self.ctx.kconfig_fd.ok_or_else(|| self.reloc_err(at, "the .kconfig map was not created"))?;
                self.set_ld_imm64(at, PSEUDO_MAP_VALUE, fd, *offset as i32)?;
            }
            (ExternValue::KsymBtf { btf_id }, false) => self.set_ld_imm64(at, PSEUDO_BTF_ID, *btf_id as i32, 0)?,
            (ExternValue::KsymAddr(addr), false) => self.set_ld_imm64(at, 0, *addr as u32 as i32, (*addr >> 32) as u32 as i32)?,
            (ExternValue::Map(fd), false) => {
                let fd = std::os::fd::AsRawFd::as_raw_fd(fd);
                self.set_ld_imm64(at, PSEUDO_MAP_FD, fd, 0)?;
            }
            (ExternValue::Variable { map, offset }, false) => {
                let fd = std::os::fd::AsRawFd::as_raw_fd(map);
                self.set_ld_imm64(at, PSEUDO_MAP_VALUE, fd, (*offset as i32).wrapping_add(orig_imm))?;
            }
            (_, true) => return Err(self.reloc_err(at, format!("extern '{name}' is called but is not a function"))),
            (_, false) => return Err(self.reloc_err(at, format!("extern '{name}' is a function but is not called"))),
        }
        Ok(())
    }

    fn section_index(&self, name: &str, at: usize) -> Result<u32, LoadError> {
        self.ctx.spec.section_by_name(name).map(|s| s.index).ok_or_else(|| self.reloc_err(at, format!("no section {name}")))
    }

    fn map_fd(&self, map: &str, at: usize) -> Result<i32, LoadError> {
        self.ctx.map_fds.get(map).copied().ok_or_else(|| self.missing_map(map, at))
    }

    fn missing_map(&self, map: &str, at: usize) -> LoadError {
        if self.ctx.skipped_maps.iter().any(|m| m == map) {
            self.reloc_err(at, format!("uses map '{map}', whose autocreate is off"))
        } else {
            self.reloc_err(at, format!("uses map '{map}', which was not created"))
        }
    }
}

fn relative(target: usize, at: usize) -> Result<i32, LoadError> {
    i32::try_from(target as i64 - at as i64 - 1)
        .map_err(|_| LoadError::Reloc { program: String::new(), insn: at, what: "call distance overflows".into() })
}

/// func_info records as the kernel reads them.
pub fn func_info_bytes(records: &[FuncInfo]) -> Vec<u8> {
    records.iter().flat_map(|r| r.to_words()).flat_map(u32::to_ne_bytes).collect()
}

/// line_info records as the kernel reads them.
pub fn line_info_bytes(records: &[LineInfo]) -> Vec<u8> {
    records.iter().flat_map(|r| r.to_words()).flat_map(u32::to_ne_bytes).collect()
}

/// The kernel's `struct bpf_insn` encoding of linked instructions.
pub fn to_kernel_insns(insns: &[Insn]) -> Vec<crate::sys::uapi::bpf_insn> {
    insns.iter().map(|i| crate::sys::insn::insn(i.code, i.dst_reg, i.src_reg, i.off, i.imm)).collect()
}

