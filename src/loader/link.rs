//! Per-program linking: the entry program's instructions, then every function it reaches
//! (through `BPF_PSEUDO_CALL` calls and `BPF_PSEUDO_FUNC` ld_imm64, in any code section),
//! appended once, in the order first reached. Calls get relative offsets, ld_imm64 of maps,
//! global data and externs get fds/BTF ids/addresses, kfunc calls get their BTF ids, and the
//! `.BTF.ext` func_info/line_info of each appended function are rebased onto the result.
//!
//! Dynamic linking adds two ways to realise a call to an extern function another loaded
//! object defines ([`super::dynlink`]): in an ordinary program the call goes to a **stub**, a
//! global function with the extern's prototype appended to the program (`r0 = 0; exit`), into
//! which the provider's function is linked after load (freplace); in an extension program
//! (the kernel refuses an extension of an extension) the provider's code is **imported**: its
//! functions are appended from another link unit, with that unit's map fds and its BTF
//! records shifted into the program's merged BTF.
use std::collections::{HashMap, VecDeque};

use crate::btf::{BtfExt, BtfShift, ExtRecord, FuncInfo, LineInfo};
use crate::object::insn::{PSEUDO_FUNC, PSEUDO_KFUNC_CALL};
use crate::object::{Binding, Insn, MapOrigin, ObjectSpec, RelocClass, Relocation};

use super::error::LoadError;
use super::externs::{ExternValue, ResolvedExterns};

const PSEUDO_MAP_FD: u8 = 1;
const PSEUDO_MAP_VALUE: u8 = 2;
const PSEUDO_BTF_ID: u8 = 3;
/// `BPF_ALU64 | BPF_MOV | BPF_K` and `BPF_JMP | BPF_EXIT`: a stub's `r0 = 0; exit`.
const MOV64_IMM: u8 = 0xb7;
const EXIT: u8 = 0x95;
/// libbpf marks calls to unresolved weak kfuncs with this helper id base (plus extern index):
/// the verifier rejects them only if reachable.
const POISON_KFUNC_BASE: i32 = 2_002_000_000;

/// A function: where its instructions are: which link unit, which code section.
#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub unit: usize,
    pub section: u32,
    pub start: usize,
    pub count: usize,
}

/// How calls to dynamically linked extern functions are realised in one program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DynamicCalls {
    /// Call a stub global function; the provider's function is linked into it after load.
    Stub,
    /// Append the provider's code (the program is an extension, or a provider's function
    /// being loaded as one).
    Import,
}

/// One object's code and the kernel objects its relocations name: what linking needs
/// besides the spec, built once per load (unit 0) or per imported provider.
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
    /// Where this unit's BTF ids and strings sit in the program's BTF (non-zero for imported
    /// units, whose BTF was appended to the program's).
    pub btf_shift: BtfShift,
}

/// A stub appended for a dynamically linked call: after load, the provider's function is
/// linked into the stub's BTF FUNC (`btf_id`, in the program's BTF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stub {
    pub name: String,
    pub btf_id: u32,
    pub insn: usize,
}

/// One linked program.
#[derive(Debug, Default)]
pub struct LinkedProgram {
    pub insns: Vec<Insn>,
    pub func_info: Vec<FuncInfo>,
    pub line_info: Vec<LineInfo>,
    pub stubs: Vec<Stub>,
    /// Functions imported from other units, in placement order.
    pub imports: Vec<Import>,
}

/// A function copied into the program from another link unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The unit whose code calls it (0: the program's own object).
    pub caller_unit: usize,
    /// The unit defining it.
    pub unit: usize,
    pub function: String,
}

impl<'a> LinkContext<'a> {
    /// Every function of `spec` by (section, first instruction), tagged with `unit`.
    pub fn functions_of(spec: &ObjectSpec, unit: usize) -> HashMap<(u32, usize), Function> {
        let mut map = HashMap::new();
        let entries = spec
            .programs
            .iter()
            .map(|p| (&p.name, p.section_index, p.offset, p.insn_cnt))
            .chain(spec.subprograms.iter().map(|s| (&s.name, s.section_index, s.offset, s.insn_cnt)));
        for (name, section, offset, count) in entries {
            let start = (offset / 8) as usize;
            map.insert((section, start), Function { name: name.clone(), unit, section, start, count: count as usize });
        }
        map
    }

    /// A context with no maps yet (see [`LinkContext::add_map`]).
    pub fn new(spec: &'a ObjectSpec, section_insns: &'a HashMap<u32, Vec<Insn>>, externs: &'a ResolvedExterns, unit: usize) -> Self {
        LinkContext {
            spec,
            section_insns,
            functions: LinkContext::functions_of(spec, unit),
            relocations: LinkContext::relocations_of(spec),
            map_fds: HashMap::new(),
            data_fds: HashMap::new(),
            skipped_maps: Vec::new(),
            kconfig_fd: None,
            externs,
            btf_ext: None,
            btf_shift: BtfShift::default(),
        }
    }

    /// Makes a map's fd known to relocations (by name, or section name for global data);
    /// `None`: the map exists but was not created.
    pub fn add_map(&mut self, name: &str, real_name: &str, origin: &MapOrigin, fd: Option<i32>) {
        let Some(fd) = fd else {
            self.skipped_maps.push(name.to_string());
            self.skipped_maps.push(real_name.to_string());
            return;
        };
        match origin {
            MapOrigin::Data => {
                self.data_fds.insert(real_name.to_string(), fd);
            }
            MapOrigin::Kconfig => self.kconfig_fd = Some(fd),
            MapOrigin::Btf | MapOrigin::Inner => {
                self.map_fds.insert(name.to_string(), fd);
            }
        }
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
    /// Unit 0 is the program's own object; others are imported providers.
    units: &'c [LinkContext<'a>],
    calls: DynamicCalls,
    program: &'c str,
    out: LinkedProgram,
    /// Where each function was placed in `out.insns`, by (unit, section, start).
    placed: HashMap<(usize, u32, usize), usize>,
    /// Where each stub was placed, by extern name.
    stubs: HashMap<String, usize>,
    queue: VecDeque<(Function, usize)>,
}

/// Links the program whose code starts at `start` in section `section` of unit 0, with
/// dynamically linked calls realised as `calls` says (imports come from `units[1..]`).
pub fn link_program(units: &[LinkContext<'_>], calls: DynamicCalls, program: &str, section: u32, start: usize) -> Result<LinkedProgram, LoadError> {
    let main = units.first().and_then(|u| u.functions.get(&(section, start))).cloned().ok_or_else(|| LoadError::Link {
        program: program.to_string(),
        what: format!("no function starts at instruction {start} of section {section}"),
    })?;
    let mut linker = Linker {
        units,
        calls,
        program,
        out: LinkedProgram::default(),
        placed: HashMap::new(),
        stubs: HashMap::new(),
        queue: VecDeque::new(),
    };
    linker.place(&main)?;
    while let Some((func, dest)) = linker.queue.pop_front() {
        linker.relocate_function(&func, dest)?;
    }
    Ok(linker.out)
}

impl<'c, 'a> Linker<'c, 'a> {
    fn reloc_err(&self, insn: usize, what: impl Into<String>) -> LoadError {
        LoadError::Reloc { program: self.program.to_string(), insn, what: what.into() }
    }

    fn unit(&self, unit: usize) -> &'c LinkContext<'a> {
        &self.units[unit]
    }

    fn section_name(&self, unit: usize, section: u32) -> &'c str {
        self.unit(unit).spec.section(section).map_or("?", |s| s.name.as_str())
    }

    /// Appends `func` (instructions and its func_info/line_info) and queues it for relocation.
    fn place(&mut self, func: &Function) -> Result<usize, LoadError> {
        let ctx = self.unit(func.unit);
        let insns = ctx
            .section_insns
            .get(&func.section)
            .and_then(|all| all.get(func.start..func.start + func.count))
            .ok_or_else(|| LoadError::Link {
                program: self.program.to_string(),
                what: format!("function '{}' lies outside its section {}", func.name, self.section_name(func.unit, func.section)),
            })?;
        let dest = self.out.insns.len();
        self.out.insns.extend_from_slice(insns);
        self.placed.insert((func.unit, func.section, func.start), dest);
        self.queue.push_back((func.clone(), dest));
        if let Some(ext) = ctx.btf_ext {
            let shift = ctx.btf_shift;
            let sec_name = self.section_name(func.unit, func.section);
            let range = (func.start * 8) as u64..((func.start + func.count) * 8) as u64;
            let rebase = |off: u32| (dest + (off as usize / 8 - func.start)) as u32;
            if let Some(s) = ext.func_info.as_ref().and_then(|i| i.section(sec_name)) {
                for r in s.records.iter().filter(|r| range.contains(&u64::from(r.insn_off))) {
                    self.out.func_info.push(FuncInfo { insn_off: rebase(r.insn_off), type_id: shift.type_id(r.type_id) });
                }
            }
            if let Some(s) = ext.line_info.as_ref().and_then(|i| i.section(sec_name)) {
                for r in s.records.iter().filter(|r| range.contains(&u64::from(r.insn_off))) {
                    self.out.line_info.push(LineInfo {
                        insn_off: rebase(r.insn_off),
                        file_name_off: shift.string(r.file_name_off),
                        line_off: shift.string(r.line_off),
                        line_col: r.line_col,
                    });
                }
            }
        }
        Ok(dest)
    }

    /// The placed copy of the function starting at `start` in `section` of `unit`, placing it
    /// if new.
    fn target(&mut self, unit: usize, section: u32, start: i64, at: usize) -> Result<usize, LoadError> {
        let start = usize::try_from(start).map_err(|_| self.reloc_err(at, format!("call target {start} before the section start")))?;
        if let Some(&dest) = self.placed.get(&(unit, section, start)) {
            return Ok(dest);
        }
        let func = self.unit(unit).functions.get(&(section, start)).cloned().ok_or_else(|| {
            self.reloc_err(at, format!("no function starts at instruction {start} of section {}", self.section_name(unit, section)))
        })?;
        self.place(&func)
    }

    fn relocate_function(&mut self, func: &Function, dest: usize) -> Result<(), LoadError> {
        let mut i = 0;
        while i < func.count {
            let at = dest + i;
            let insn = self.out.insns[at];
            let rel = self.unit(func.unit).relocations.get(&(func.section, func.start + i)).copied();
            match rel {
                Some(rel) => self.apply(rel, func, i, at)?,
                None if insn.is_pseudo_call() => {
                    // A call to a static function of the same section has no relocation: imm is
                    // relative to the call's original position.
                    let target = (func.start + i) as i64 + i64::from(insn.imm) + 1;
                    let placed = self.target(func.unit, func.section, target, at)?;
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
        let unit = func.unit;
        let sym_value = self.unit(unit).spec.symbols.get(rel.symbol as usize).map_or(0, |s| s.value) as i64;
        match &rel.class {
            RelocClass::SubprogCall { section } => {
                let target_section = self.section_index(unit, section, at)?;
                let target = sym_value / 8 + i64::from(insn.imm) + 1;
                let placed = self.target(unit, target_section, target, at)?;
                self.out.insns[at].imm = relative(placed, at)?;
            }
            RelocClass::FuncPointer { section } => {
                let target_section = self.section_index(unit, section, at)?;
                let target = (sym_value + i64::from(insn.imm)) / 8;
                let placed = self.target(unit, target_section, target, at)?;
                let imm = relative(placed, at)?;
                self.set_ld_imm64(at, PSEUDO_FUNC, imm, 0)?;
            }
            RelocClass::MapRef { map } => {
                let fd = self.map_fd(unit, map, at)?;
                self.set_ld_imm64(at, PSEUDO_MAP_FD, fd, 0)?;
            }
            RelocClass::GlobalData { section } => {
                let fd = match self.unit(unit).data_fds.get(section) {
                    Some(&fd) => fd,
                    None => return Err(self.missing_map(unit, section, at)),
                };
                let offset = i32::try_from(i64::from(insn.imm) + sym_value)
                    .map_err(|_| self.reloc_err(at, format!("offset into {section} overflows")))?;
                self.set_ld_imm64(at, PSEUDO_MAP_VALUE, fd, offset)?;
            }
            RelocClass::ExternRef { name, call } => self.apply_extern(unit, name, *call, at)?,
            RelocClass::Data => {
                return Err(self.reloc_err(at, format!("data relocation in code (function '{}', insn {i})", func.name)))
            }
        }
        Ok(())
    }

    fn apply_extern(&mut self, unit: usize, name: &str, call: bool, at: usize) -> Result<(), LoadError> {
        let ctx = self.unit(unit);
        let value = ctx.externs.values.get(name).ok_or_else(|| self.reloc_err(at, format!("extern '{name}' was not resolved")))?;
        match (value, call) {
            (ExternValue::Function { provider_unit }, true) => {
                let placed = match (self.calls, unit, *provider_unit) {
                    (DynamicCalls::Stub, 0, _) => self.stub(name, at)?,
                    (_, _, Some(provider)) => self.import(unit, provider, name, at)?,
                    (_, _, None) => return Err(self.reloc_err(at, format!("the code of '{name}' was not made available for import"))),
                };
                self.out.insns[at].imm = relative(placed, at)?;
            }
            (ExternValue::Kfunc { btf_id }, true) => {
                let insn = &mut self.out.insns[at];
                insn.src_reg = PSEUDO_KFUNC_CALL;
                insn.imm = *btf_id as i32;
                insn.off = 0;
            }
            (ExternValue::MissingKfunc, true) => {
                let index = ctx.spec.externs.iter().position(|e| e.name == name).unwrap_or(0) as i32;
                let insn = &mut self.out.insns[at];
                insn.src_reg = 0;
                insn.off = 0;
                insn.imm = POISON_KFUNC_BASE + index;
            }
            (ExternValue::Kconfig { offset }, false) => {
                let fd = ctx.kconfig_fd.ok_or_else(|| self.reloc_err(at, "the .kconfig map was not created"))?;
                self.set_ld_imm64(at, PSEUDO_MAP_VALUE, fd, *offset as i32)?;
            }
            (ExternValue::KsymBtf { btf_id }, false) => self.set_ld_imm64(at, PSEUDO_BTF_ID, *btf_id as i32, 0)?,
            (ExternValue::KsymAddr(addr), false) => self.set_ld_imm64(at, 0, *addr as u32 as i32, (*addr >> 32) as u32 as i32)?,
            (_, true) => return Err(self.reloc_err(at, format!("extern '{name}' is called but is not a function"))),
            (_, false) => return Err(self.reloc_err(at, format!("extern '{name}' is a function but is not called"))),
        }
        Ok(())
    }

    /// The stub for dynamically linked calls to `name`, appended on first use: `r0 = 0; exit`
    /// described by the extern's BTF FUNC (made global by the BTF fix-up), with the call's
    /// source line (the kernel wants a line_info at every function start).
    fn stub(&mut self, name: &str, at: usize) -> Result<usize, LoadError> {
        if let Some(&dest) = self.stubs.get(name) {
            return Ok(dest);
        }
        let btf_id = self
            .unit(0)
            .spec
            .externs
            .iter()
            .find(|e| e.name == name)
            .and_then(|e| e.btf_id)
            .ok_or_else(|| self.reloc_err(at, format!("extern function '{name}' has no BTF description: dynamic linking needs BTF (compile with -g)")))?;
        if self.unit(0).btf_ext.is_none() {
            return Err(self.reloc_err(at, format!("a call to '{name}' needs BTF loaded into the kernel (dynamic linking replaces a global stub)")));
        }
        let dest = self.out.insns.len();
        self.out.insns.push(Insn { code: MOV64_IMM, ..Insn::default() });
        self.out.insns.push(Insn { code: EXIT, ..Insn::default() });
        self.out.func_info.push(FuncInfo { insn_off: dest as u32, type_id: btf_id });
        let none = LineInfo { insn_off: 0, file_name_off: 0, line_off: 0, line_col: 0 };
        let line = self.out.line_info.iter().rev().find(|l| l.insn_off as usize <= at).copied().unwrap_or(none);
        self.out.line_info.push(LineInfo { insn_off: dest as u32, ..line });
        self.out.stubs.push(Stub { name: name.to_string(), btf_id, insn: dest });
        self.stubs.insert(name.to_string(), dest);
        Ok(dest)
    }

    /// The placed copy of the global function `name` of unit `provider`, imported on first use
    /// (for code of unit `caller`).
    fn import(&mut self, caller: usize, provider: usize, name: &str, at: usize) -> Result<usize, LoadError> {
        let ctx = self.units.get(provider).ok_or_else(|| self.reloc_err(at, format!("no link unit {provider} for '{name}'")))?;
        let func = ctx
            .spec
            .subprograms
            .iter()
            .find(|s| s.name == name && s.binding != Binding::Local)
            .and_then(|s| ctx.functions.get(&(s.section_index, (s.offset / 8) as usize)))
            .cloned()
            .ok_or_else(|| self.reloc_err(at, format!("'{name}' is not a global function of the providing object '{}'", ctx.spec.name)))?;
        if let Some(&dest) = self.placed.get(&(provider, func.section, func.start)) {
            return Ok(dest);
        }
        self.out.imports.push(Import { caller_unit: caller, unit: provider, function: name.to_string() });
        self.place(&func)
    }

    fn section_index(&self, unit: usize, name: &str, at: usize) -> Result<u32, LoadError> {
        self.unit(unit).spec.section_by_name(name).map(|s| s.index).ok_or_else(|| self.reloc_err(at, format!("no section {name}")))
    }

    fn map_fd(&self, unit: usize, map: &str, at: usize) -> Result<i32, LoadError> {
        self.unit(unit).map_fds.get(map).copied().ok_or_else(|| self.missing_map(unit, map, at))
    }

    fn missing_map(&self, unit: usize, map: &str, at: usize) -> LoadError {
        if self.unit(unit).skipped_maps.iter().any(|m| m == map) {
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

