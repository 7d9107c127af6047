//! Building `struct bpf_insn` values (for probes and hand-assembled test programs).
use super::uapi::{self, bpf_insn};

/// One instruction from its fields: opcode, destination and source registers, offset, immediate.
pub fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> bpf_insn {
    let mut i = bpf_insn { code, off, imm, ..Default::default() };
    i.set_dst_reg(dst);
    i.set_src_reg(src);
    i
}

/// `dst = imm` (64-bit).
pub fn mov64_imm(dst: u8, imm: i32) -> bpf_insn {
    insn((uapi::BPF_ALU64 | uapi::BPF_MOV | uapi::BPF_K) as u8, dst, 0, 0, imm)
}

/// `dst = src` (64-bit).
pub fn mov64_reg(dst: u8, src: u8) -> bpf_insn {
    insn((uapi::BPF_ALU64 | uapi::BPF_MOV | uapi::BPF_X) as u8, dst, src, 0, 0)
}

/// `exit` (returns r0).
pub fn exit() -> bpf_insn {
    insn((uapi::BPF_JMP | uapi::BPF_EXIT) as u8, 0, 0, 0, 0)
}

/// The 8 bytes of an instruction as the kernel reads them on a little-endian host.
pub fn to_bytes(i: &bpf_insn) -> [u8; 8] {
    let mut out = [0u8; 8];
    out[0] = i.code;
    out[1] = i.dst_reg() | (i.src_reg() << 4);
    out[2..4].copy_from_slice(&i.off.to_ne_bytes());
    out[4..8].copy_from_slice(&i.imm.to_ne_bytes());
    out
}

/// An instruction from its 8 encoded bytes (little-endian host), e.g. from an ELF section.
pub fn from_bytes(b: [u8; 8]) -> bpf_insn {
    insn(b[0], b[1] & 0xf, b[1] >> 4, i16::from_ne_bytes([b[2], b[3]]), i32::from_ne_bytes([b[4], b[5], b[6], b[7]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_matches_the_kernel_layout() {
        // `r1 = r10` is 0xbf with dst 1 and src 10 packed into one byte (little endian host).
        assert_eq!(to_bytes(&mov64_reg(1, 10)), [0xbf, 0xa1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(to_bytes(&mov64_imm(0, 2)), [0xb7, 0, 0, 0, 2, 0, 0, 0]);
        assert_eq!(to_bytes(&exit()), [0x95, 0, 0, 0, 0, 0, 0, 0]);
        let i = insn(0x61, 2, 1, 4, -7);
        assert_eq!(to_bytes(&from_bytes(to_bytes(&i))), to_bytes(&i));
        assert_eq!(std::mem::size_of::<bpf_insn>(), 8);
    }
}
