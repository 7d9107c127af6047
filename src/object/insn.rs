//! Raw BPF instructions, kept as plain structs in native (host) byte order.
use super::Endian;

pub const INSN_SIZE: usize = 8;

/// `BPF_LD | BPF_IMM | BPF_DW`: the first half of a 16-byte ld_imm64.
pub const LD_IMM64: u8 = 0x18;
/// `BPF_JMP | BPF_CALL`.
pub const CALL: u8 = 0x85;
/// src_reg of a call to a BPF function in the same program.
pub const PSEUDO_CALL: u8 = 1;
/// src_reg of a call to a kernel function (kfunc).
pub const PSEUDO_KFUNC_CALL: u8 = 2;
/// src_reg of an ld_imm64 loading the address of a BPF function (callbacks).
pub const PSEUDO_FUNC: u8 = 4;

/// One 8-byte BPF instruction (`struct bpf_insn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Insn {
    pub code: u8,
    pub dst_reg: u8,
    pub src_reg: u8,
    pub off: i16,
    pub imm: i32,
}

impl Insn {
    /// Decodes one instruction. In big-endian objects the register nibbles are swapped
    /// (dst in the high nibble) as well as the multi-byte fields.
    pub fn decode(raw: [u8; INSN_SIZE], endian: Endian) -> Insn {
        let regs = raw[1];
        let (dst_reg, src_reg, off, imm) = match endian {
            Endian::Little => (
                regs & 0x0f,
                regs >> 4,
                i16::from_le_bytes([raw[2], raw[3]]),
                i32::from_le_bytes([raw[4], raw[5], raw[6], raw[7]]),
            ),
            Endian::Big => (
                regs >> 4,
                regs & 0x0f,
                i16::from_be_bytes([raw[2], raw[3]]),
                i32::from_be_bytes([raw[4], raw[5], raw[6], raw[7]]),
            ),
        };
        Insn { code: raw[0], dst_reg, src_reg, off, imm }
    }

    /// Encodes in the host's (little-endian on every BPF-capable host we build for) layout
    /// used by the kernel.
    pub fn to_le_bytes(self) -> [u8; INSN_SIZE] {
        let off = self.off.to_le_bytes();
        let imm = self.imm.to_le_bytes();
        [
            self.code,
            (self.src_reg << 4) | (self.dst_reg & 0x0f),
            off[0],
            off[1],
            imm[0],
            imm[1],
            imm[2],
            imm[3],
        ]
    }

    pub fn is_ld_imm64(&self) -> bool {
        self.code == LD_IMM64
    }

    pub fn is_call(&self) -> bool {
        self.code == CALL
    }

    pub fn is_pseudo_call(&self) -> bool {
        self.is_call() && self.src_reg == PSEUDO_CALL
    }

    pub fn is_pseudo_func(&self) -> bool {
        self.is_ld_imm64() && self.src_reg == PSEUDO_FUNC
    }
}

/// Decodes a section's bytes; the caller has checked that the length is a multiple of 8.
pub fn decode_all(data: &[u8], endian: Endian) -> Vec<Insn> {
    data.chunks_exact(INSN_SIZE)
        .map(|chunk| {
            let mut raw = [0u8; INSN_SIZE];
            raw.copy_from_slice(chunk);
            Insn::decode(raw, endian)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn little_and_big_endian_decode_to_the_same_insn() {
        // r1 = 0x12345678 (BPF_ALU64 | BPF_MOV | BPF_K), dst r1.
        let le = [0xb7, 0x01, 0x02, 0x00, 0x78, 0x56, 0x34, 0x12];
        let be = [0xb7, 0x10, 0x00, 0x02, 0x12, 0x34, 0x56, 0x78];
        let a = Insn::decode(le, Endian::Little);
        assert_eq!(a, Insn::decode(be, Endian::Big));
        assert_eq!((a.dst_reg, a.src_reg, a.off, a.imm), (1, 0, 2, 0x12345678));
        assert_eq!(a.to_le_bytes(), le);
    }
}
