//! Writing a relocation result into the instruction it belongs to.
use super::calc::RelocResult;
use super::error::RelocFailure;
use crate::object::Insn;

/// Helper id the verifier does not know: a call to it fails only if it is reachable, which is
/// how relocations that could not be resolved are deferred to the verifier (as libbpf does).
pub const POISON_HELPER_ID: i32 = 0x0bad_2310;

const CLASS_LD: u8 = 0x00;
const CLASS_LDX: u8 = 0x01;
const CLASS_ST: u8 = 0x02;
const CLASS_STX: u8 = 0x03;
const CLASS_ALU: u8 = 0x04;
const CLASS_ALU64: u8 = 0x07;
const SRC_X: u8 = 0x08;
const SIZE_MASK: u8 = 0x18;

/// What was written, with values as libbpf prints them (old values sign-extended).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Patch {
    /// ALU/ALU64 immediate.
    Imm { old: i64, new: u64 },
    /// LDX/ST/STX offset; `mem_size` is (old, new) bytes when the access width changed.
    Off {
        old: i64,
        new: u64,
        mem_size: Option<(u32, u32)>,
    },
    /// ld_imm64 64-bit immediate.
    Imm64 { old: u64, new: u64 },
    /// Replaced by a call to the invalid helper (both halves for an ld_imm64).
    Poisoned,
}

fn poison_insn(insn: &mut Insn) {
    *insn = Insn {
        code: 0x85, // BPF_JMP | BPF_CALL
        dst_reg: 0,
        src_reg: 0,
        off: 0,
        imm: POISON_HELPER_ID,
    };
}

/// Replaces `insns[idx]` (and the second half of an ld_imm64) with the invalid helper call.
pub fn poison(insns: &mut [Insn], idx: usize) -> Patch {
    let is_ld_imm64 = insns.get(idx).is_some_and(|i| i.is_ld_imm64());
    if is_ld_imm64 {
        if let Some(second) = insns.get_mut(idx + 1) {
            poison_insn(second);
        }
    }
    if let Some(insn) = insns.get_mut(idx) {
        poison_insn(insn);
    }
    Patch::Poisoned
}

fn mem_size_bytes(code: u8) -> u32 {
    match code & SIZE_MASK {
        0x00 => 4,
        0x08 => 2,
        0x10 => 1,
        _ => 8,
    }
}

fn mem_size_code(bytes: u32) -> Option<u8> {
    match bytes {
        4 => Some(0x00),
        2 => Some(0x08),
        1 => Some(0x10),
        8 => Some(0x18),
        _ => None,
    }
}

/// Applies `res` to the instruction at `idx`, checking it holds the expected local value.
pub fn patch_insn(
    insns: &mut [Insn],
    idx: usize,
    res: &RelocResult,
) -> Result<Patch, RelocFailure> {
    let count = insns.len();
    let insn = insns
        .get(idx)
        .copied()
        .ok_or(RelocFailure::InsnOutOfRange { count })?;
    if res.poison {
        return Ok(poison(insns, idx));
    }
    match insn.code & 0x07 {
        CLASS_ALU | CLASS_ALU64 => patch_alu(insns, idx, insn, res),
        CLASS_LDX | CLASS_ST | CLASS_STX => patch_mem(insns, idx, insn, res),
        CLASS_LD => patch_ld_imm64(insns, idx, insn, res),
        _ => Err(RelocFailure::UnsupportedInsn(insn.code)),
    }
}

fn check_value(
    class: &'static str,
    got: i64,
    got_cmp: u64,
    res: &RelocResult,
) -> Result<(), RelocFailure> {
    if res.validate && got_cmp != res.orig_val {
        return Err(RelocFailure::UnexpectedValue {
            class,
            got,
            expected: res.orig_val,
            new: res.new_val,
        });
    }
    Ok(())
}

fn patch_alu(
    insns: &mut [Insn],
    idx: usize,
    insn: Insn,
    res: &RelocResult,
) -> Result<Patch, RelocFailure> {
    if insn.code & SRC_X != 0 {
        return Err(RelocFailure::AluNotImmediate(insn.code));
    }
    let old = i64::from(insn.imm);
    check_value("ALU/ALU64", old, old as u64, res)?;
    if let Some(slot) = insns.get_mut(idx) {
        // The immediate is 32 bits; larger values are truncated as libbpf does (the program
        // sees the same bits either way for 32-bit enum values widened to 64).
        slot.imm = res.new_val as i32;
    }
    Ok(Patch::Imm {
        old,
        new: res.new_val,
    })
}

fn patch_mem(
    insns: &mut [Insn],
    idx: usize,
    insn: Insn,
    res: &RelocResult,
) -> Result<Patch, RelocFailure> {
    let old = i64::from(insn.off);
    check_value("LDX/ST/STX", old, old as u64, res)?;
    if res.new_val > i16::MAX as u64 {
        return Err(RelocFailure::OffsetTooBig(res.new_val));
    }
    if res.fail_memsz_adjust {
        // The access would read a differently sized signed value or a different type: let the
        // verifier reject it if reached.
        return Ok(poison(insns, idx));
    }
    let mut patched = insn;
    patched.off = res.new_val as i16;
    let mut mem_size = None;
    if res.new_sz != res.orig_sz {
        let got = mem_size_bytes(insn.code);
        if got != res.orig_sz {
            return Err(RelocFailure::UnexpectedMemSize {
                got,
                expected: res.orig_sz,
            });
        }
        let size_code =
            mem_size_code(res.new_sz).ok_or(RelocFailure::InvalidNewMemSize(res.new_sz))?;
        patched.code = (insn.code & !SIZE_MASK) | size_code;
        mem_size = Some((res.orig_sz, res.new_sz));
    }
    if let Some(slot) = insns.get_mut(idx) {
        *slot = patched;
    }
    Ok(Patch::Off {
        old,
        new: res.new_val,
        mem_size,
    })
}

fn patch_ld_imm64(
    insns: &mut [Insn],
    idx: usize,
    insn: Insn,
    res: &RelocResult,
) -> Result<Patch, RelocFailure> {
    if !insn.is_ld_imm64() {
        return Err(RelocFailure::UnsupportedInsn(insn.code));
    }
    let second = insns
        .get(idx + 1)
        .copied()
        .ok_or(RelocFailure::TruncatedLdImm64)?;
    if insn.src_reg != 0
        || insn.off != 0
        || second.code != 0
        || second.dst_reg != 0
        || second.src_reg != 0
        || second.off != 0
    {
        return Err(RelocFailure::BadLdImm64Form);
    }
    let old = u64::from(insn.imm as u32) | (u64::from(second.imm as u32) << 32);
    check_value("LDIMM64", old as i64, old, res)?;
    if let Some(first) = insns.get_mut(idx) {
        first.imm = res.new_val as u32 as i32;
    }
    if let Some(second) = insns.get_mut(idx + 1) {
        second.imm = (res.new_val >> 32) as u32 as i32;
    }
    Ok(Patch::Imm64 {
        old,
        new: res.new_val,
    })
}
