//! `.BTF.ext`: per-ELF-section func_info, line_info and CO-RE relocation records.
//!
//! Layout: a header (`magic, version, flags, hdr_len`, then offset/length pairs for func_info,
//! line_info and, when `hdr_len >= 32`, core_relo; offsets count from the end of the header).
//! Each sub-section is a record size followed by blocks `{sec_name_off, num_info, records...}`.
//! Record sizes larger than the fields we know are preserved: the extra bytes of each record
//! are kept in `ExtSection::tails`. `insn_off` is a byte offset into the ELF section (the
//! kernel wants instruction indices; the loader converts).
use super::bytes::{Endian, Reader, Writer, BTF_MAGIC};
use super::error::BtfError;
use super::types::TypeId;
use super::validate::TypeSource;
use super::{Btf, RawBtf};

/// Header size up to `line_info_len` (the minimum) and up to `core_relo_len`.
const EXT_HEADER_MIN: u32 = 24;
const EXT_HEADER_WITH_CORE: u32 = 32;

/// A fixed-layout record made of 32-bit words.
pub trait ExtRecord: Sized + Clone {
    /// Sub-section name used in error messages ("func_info", ...).
    const SUBSECTION: &'static str;
    /// Number of 32-bit words this model understands; the minimum record size is `4 * WORDS`.
    const WORDS: usize;
    fn from_words(words: &[u32]) -> Self;
    fn to_words(&self) -> Vec<u32>;
    /// Byte offset of the instruction the record is about, in its ELF section.
    fn insn_off(&self) -> u32;
    /// Minimum record size in bytes.
    fn min_size() -> u32 {
        4 * Self::WORDS as u32
    }
}

/// `struct bpf_func_info`: the BTF FUNC describing the function starting at `insn_off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FuncInfo {
    pub insn_off: u32,
    pub type_id: TypeId,
}

/// `struct bpf_line_info`: source position of the instruction at `insn_off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LineInfo {
    pub insn_off: u32,
    pub file_name_off: u32,
    pub line_off: u32,
    /// Line number in the upper 22 bits, column in the lower 10.
    pub line_col: u32,
}

impl LineInfo {
    pub fn line(&self) -> u32 {
        self.line_col >> 10
    }
    pub fn column(&self) -> u32 {
        self.line_col & 0x3ff
    }
}

/// `struct bpf_core_relo`: a CO-RE relocation of the instruction at `insn_off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CoreRelo {
    pub insn_off: u32,
    pub type_id: TypeId,
    pub access_str_off: u32,
    /// `enum bpf_core_relo_kind` (field byte offset = 0, ..., type matches = 12).
    pub kind: u32,
}

/// Which record is being checked, for error messages.
#[derive(Debug, Clone, Copy)]
pub struct RecordContext<'a> {
    pub subsection: &'static str,
    pub sec_name: &'a str,
    pub index: usize,
}

impl RecordContext<'_> {
    fn field(&self, field: &str) -> String {
        format!(
            ".BTF.ext {} for section '{}' record {} {field}",
            self.subsection, self.sec_name, self.index
        )
    }

    fn check_type_id(&self, btf: &impl TypeSource, type_id: TypeId) -> Result<(), BtfError> {
        if type_id < btf.type_count() {
            return Ok(());
        }
        Err(BtfError::ExtTypeIdOutOfRange {
            subsection: self.subsection,
            sec_name: self.sec_name.to_string(),
            index: self.index,
            type_id,
            count: btf.type_count(),
        })
    }

    fn check_string(&self, btf: &impl TypeSource, offset: u32, field: &str) -> Result<(), BtfError> {
        btf.string_for(offset, || self.field(field)).map(|_| ())
    }
}

impl ExtRecord for FuncInfo {
    const SUBSECTION: &'static str = "func_info";
    const WORDS: usize = 2;
    fn from_words(w: &[u32]) -> Self {
        FuncInfo {
            insn_off: word(w, 0),
            type_id: word(w, 1),
        }
    }
    fn to_words(&self) -> Vec<u32> {
        vec![self.insn_off, self.type_id]
    }
    fn insn_off(&self) -> u32 {
        self.insn_off
    }
}

impl CheckedRecord for FuncInfo {
    fn check(&self, btf: &impl TypeSource, ctx: &RecordContext) -> Result<(), BtfError> {
        ctx.check_type_id(btf, self.type_id)
    }
}

impl ExtRecord for LineInfo {
    const SUBSECTION: &'static str = "line_info";
    const WORDS: usize = 4;
    fn from_words(w: &[u32]) -> Self {
        LineInfo {
            insn_off: word(w, 0),
            file_name_off: word(w, 1),
            line_off: word(w, 2),
            line_col: word(w, 3),
        }
    }
    fn to_words(&self) -> Vec<u32> {
        vec![
            self.insn_off,
            self.file_name_off,
            self.line_off,
            self.line_col,
        ]
    }
    fn insn_off(&self) -> u32 {
        self.insn_off
    }
}

impl CheckedRecord for LineInfo {
    fn check(&self, btf: &impl TypeSource, ctx: &RecordContext) -> Result<(), BtfError> {
        ctx.check_string(btf, self.file_name_off, "file_name_off")?;
        ctx.check_string(btf, self.line_off, "line_off")
    }
}

impl ExtRecord for CoreRelo {
    const SUBSECTION: &'static str = "core_relo";
    const WORDS: usize = 4;
    fn from_words(w: &[u32]) -> Self {
        CoreRelo {
            insn_off: word(w, 0),
            type_id: word(w, 1),
            access_str_off: word(w, 2),
            kind: word(w, 3),
        }
    }
    fn to_words(&self) -> Vec<u32> {
        vec![self.insn_off, self.type_id, self.access_str_off, self.kind]
    }
    fn insn_off(&self) -> u32 {
        self.insn_off
    }
}

impl CheckedRecord for CoreRelo {
    fn check(&self, btf: &impl TypeSource, ctx: &RecordContext) -> Result<(), BtfError> {
        ctx.check_type_id(btf, self.type_id)?;
        ctx.check_string(btf, self.access_str_off, "access_str_off")
    }
}

/// A record whose type ids and string offsets can be checked against its BTF.
pub(crate) trait CheckedRecord: ExtRecord {
    fn check(&self, btf: &impl TypeSource, ctx: &RecordContext) -> Result<(), BtfError>;
}

fn word(words: &[u32], i: usize) -> u32 {
    words.get(i).copied().unwrap_or(0)
}

/// The records of one ELF section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtSection<R> {
    pub sec_name_off: u32,
    /// `sec_name_off` resolved in the BTF string section.
    pub sec_name: String,
    pub records: Vec<R>,
    /// Bytes of each record past the known fields, concatenated (`rec_size - min_size` per
    /// record); empty when the record size is the minimum. The writer zero-fills if the length
    /// does not match.
    pub tails: Vec<u8>,
}

/// One sub-section: record size and the per-ELF-section blocks, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtInfo<R> {
    pub rec_size: u32,
    pub sections: Vec<ExtSection<R>>,
}

impl<R: ExtRecord> ExtInfo<R> {
    /// An empty sub-section with the minimum record size.
    pub fn new() -> Self {
        ExtInfo {
            rec_size: R::min_size(),
            sections: Vec::new(),
        }
    }

    /// The block for ELF section `name`.
    pub fn section(&self, name: &str) -> Option<&ExtSection<R>> {
        self.sections.iter().find(|s| s.sec_name == name)
    }
}

impl<R: ExtRecord> Default for ExtInfo<R> {
    fn default() -> Self {
        Self::new()
    }
}

/// A parsed `.BTF.ext` section. A sub-section of length 0 is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BtfExt {
    pub endian: Endian,
    /// Written as is (bytes past the known fields are zero); raised to 32 when `core_relo`
    /// is present but the header is too short to describe it.
    pub hdr_len: u32,
    pub func_info: Option<ExtInfo<FuncInfo>>,
    pub line_info: Option<ExtInfo<LineInfo>>,
    pub core_relo: Option<ExtInfo<CoreRelo>>,
}

impl Default for BtfExt {
    fn default() -> Self {
        BtfExt::new()
    }
}

/// Offset and length of one sub-section as stored in the header.
struct SubsectionRef {
    name: &'static str,
    off: u32,
    len: u32,
}

impl BtfExt {
    /// An empty `.BTF.ext` with the 32-byte header clang writes.
    pub fn new() -> BtfExt {
        BtfExt {
            endian: Endian::Little,
            hdr_len: EXT_HEADER_WITH_CORE,
            func_info: None,
            line_info: None,
            core_relo: None,
        }
    }

    /// Parses `.BTF.ext`; section names and record string offsets/type ids are checked
    /// against `btf` (the object's `.BTF`).
    pub fn parse(data: &[u8], btf: &Btf) -> Result<BtfExt, BtfError> {
        Self::parse_on(data, btf)
    }

    /// `parse`, checked against BTF kept as records (the static linker's).
    pub fn parse_raw(data: &[u8], btf: &RawBtf) -> Result<BtfExt, BtfError> {
        Self::parse_on(data, btf)
    }

    fn parse_on(data: &[u8], btf: &impl TypeSource) -> Result<BtfExt, BtfError> {
        let (endian, hdr_len, subsections) = parse_ext_header(data)?;
        let body = data.get(hdr_len as usize..).unwrap_or(&[]);
        let [func, line, core] = subsections;
        Ok(BtfExt {
            endian,
            hdr_len,
            func_info: parse_subsection(body, hdr_len, func, endian, btf)?,
            line_info: parse_subsection(body, hdr_len, line, endian, btf)?,
            core_relo: match core {
                Some(core) => parse_subsection(body, hdr_len, Some(core), endian, btf)?,
                None => None,
            },
        })
    }

    /// Writes the sub-sections back to back after the header, as clang does.
    pub fn to_bytes(&self) -> Vec<u8> {
        let hdr_len = if self.core_relo.is_some() {
            self.hdr_len.max(EXT_HEADER_WITH_CORE)
        } else {
            self.hdr_len.max(EXT_HEADER_MIN)
        };
        let func = self
            .func_info
            .as_ref()
            .map(|i| encode_info(i, self.endian))
            .unwrap_or_default();
        let line = self
            .line_info
            .as_ref()
            .map(|i| encode_info(i, self.endian))
            .unwrap_or_default();
        let core = self
            .core_relo
            .as_ref()
            .map(|i| encode_info(i, self.endian))
            .unwrap_or_default();
        let mut w = Writer::new(self.endian);
        w.u16(BTF_MAGIC);
        w.u8(1);
        w.u8(0);
        w.u32(hdr_len);
        w.u32(0);
        w.u32(func.len() as u32);
        w.u32(func.len() as u32);
        w.u32(line.len() as u32);
        if hdr_len >= EXT_HEADER_WITH_CORE {
            w.u32((func.len() + line.len()) as u32);
            w.u32(core.len() as u32);
        }
        w.out.resize(hdr_len as usize, 0);
        w.out.extend_from_slice(&func);
        w.out.extend_from_slice(&line);
        w.out.extend_from_slice(&core);
        w.out
    }
}

type ExtHeader = (Endian, u32, [Option<SubsectionRef>; 3]);

fn parse_ext_header(data: &[u8]) -> Result<ExtHeader, BtfError> {
    if data.len() < 8 {
        return Err(BtfError::ExtTruncatedHeader {
            len: data.len(),
            need: 8,
        });
    }
    let magic = [data[0], data[1]];
    let endian =
        Endian::from_magic(magic).ok_or(BtfError::ExtBadMagic(u16::from_le_bytes(magic)))?;
    if data[2] != 1 {
        return Err(BtfError::ExtUnsupportedVersion(data[2]));
    }
    if data[3] != 0 {
        return Err(BtfError::ExtUnsupportedFlags(data[3]));
    }
    let r = Reader::new(data, endian);
    let hdr_len = r.u32(4).unwrap_or(0);
    if hdr_len < EXT_HEADER_MIN {
        return Err(BtfError::ExtBadHeaderLen {
            hdr_len,
            reason: "smaller than the 24 bytes up to line_info_len",
        });
    }
    if (data.len() as u64) < u64::from(hdr_len) {
        return Err(BtfError::ExtTruncatedHeader {
            len: data.len(),
            need: hdr_len as usize,
        });
    }
    let known = hdr_len.min(EXT_HEADER_WITH_CORE) as usize;
    let tail = data.get(known..hdr_len as usize).unwrap_or(&[]);
    if let Some(pos) = tail.iter().position(|&b| b != 0) {
        return Err(BtfError::ExtHeaderTailNotZero {
            offset: known + pos,
            value: tail[pos],
        });
    }
    let field = |off: usize| r.u32(off).unwrap_or(0);
    let sub = |name, at: usize| SubsectionRef {
        name,
        off: field(at),
        len: field(at + 4),
    };
    let core = (hdr_len >= EXT_HEADER_WITH_CORE).then(|| sub("core_relo", 24));
    Ok((
        endian,
        hdr_len,
        [Some(sub("func_info", 8)), Some(sub("line_info", 16)), core],
    ))
}

/// Parses one sub-section; `hdr_len` turns body offsets into `.BTF.ext` offsets for errors.
fn parse_subsection<R: CheckedRecord, S: TypeSource>(
    body: &[u8],
    hdr_len: u32,
    sub: Option<SubsectionRef>,
    endian: Endian,
    btf: &S,
) -> Result<Option<ExtInfo<R>>, BtfError> {
    let Some(sub) = sub.filter(|s| s.len != 0) else {
        return Ok(None);
    };
    if sub.off % 4 != 0 {
        return Err(BtfError::ExtMisalignedSubsection {
            subsection: sub.name,
            off: sub.off,
        });
    }
    let end = u64::from(sub.off) + u64::from(sub.len);
    if end > body.len() as u64 {
        return Err(BtfError::ExtSubsectionOutOfBounds {
            subsection: sub.name,
            off: sub.off,
            len: sub.len,
            available: body.len(),
        });
    }
    let bytes = body.get(sub.off as usize..end as usize).unwrap_or(&[]);
    let start = hdr_len as usize + sub.off as usize;
    InfoParser {
        r: Reader::new(bytes, endian),
        start,
        btf,
    }
    .parse()
    .map(Some)
}

struct InfoParser<'a, S> {
    r: Reader<'a>,
    /// Offset of the sub-section in the whole `.BTF.ext`, for error messages.
    start: usize,
    btf: &'a S,
}

impl<S: TypeSource> InfoParser<'_, S> {
    fn truncated<R: ExtRecord>(&self, pos: usize, what: &'static str, need: usize) -> BtfError {
        BtfError::ExtTruncated {
            subsection: R::SUBSECTION,
            offset: self.start + pos,
            what,
            need,
            available: self.r.data.len().saturating_sub(pos),
        }
    }

    fn parse<R: CheckedRecord>(&self) -> Result<ExtInfo<R>, BtfError> {
        let rec_size = self
            .r
            .u32(0)
            .ok_or_else(|| self.truncated::<R>(0, "the record size", 4))?;
        if rec_size < R::min_size() {
            return Err(BtfError::ExtRecordSizeTooSmall {
                subsection: R::SUBSECTION,
                rec_size,
                min: R::min_size(),
            });
        }
        if rec_size % 4 != 0 {
            return Err(BtfError::ExtRecordSizeMisaligned {
                subsection: R::SUBSECTION,
                rec_size,
            });
        }
        let mut info = ExtInfo {
            rec_size,
            sections: Vec::new(),
        };
        let mut pos = 4;
        while pos < self.r.data.len() {
            let (section, len) = self.parse_section::<R>(pos, rec_size)?;
            info.sections.push(section);
            pos += len;
        }
        Ok(info)
    }

    /// Parses the block at `pos`; returns it and its length.
    fn parse_section<R: CheckedRecord>(
        &self,
        pos: usize,
        rec_size: u32,
    ) -> Result<(ExtSection<R>, usize), BtfError> {
        let (Some(sec_name_off), Some(count)) = (self.r.u32(pos), self.r.u32(pos + 4)) else {
            return Err(self.truncated::<R>(pos, "a section header", 8));
        };
        let offset = self.start + pos;
        let sec_name = self
            .btf
            .string_for(sec_name_off, || {
                format!(".BTF.ext {} section header at byte {offset}", R::SUBSECTION)
            })?
            .to_string();
        if count == 0 {
            return Err(BtfError::ExtEmptySection {
                subsection: R::SUBSECTION,
                sec_name,
                offset,
            });
        }
        let available = self.r.data.len() - (pos + 8);
        let total = u64::from(count) * u64::from(rec_size);
        if total > available as u64 {
            return Err(BtfError::ExtRecordCountOverflow {
                subsection: R::SUBSECTION,
                sec_name,
                offset,
                count,
                rec_size,
                available,
            });
        }
        let tail_len = (rec_size - R::min_size()) as usize;
        // Bounded by the input: `count * rec_size` bytes are present.
        let mut records = Vec::with_capacity(count as usize);
        let mut tails = Vec::with_capacity(count as usize * tail_len);
        let mut words = vec![0u32; R::WORDS];
        for index in 0..count as usize {
            let at = pos + 8 + index * rec_size as usize;
            for (i, w) in words.iter_mut().enumerate() {
                *w = self.r.u32(at + 4 * i).unwrap_or(0);
            }
            let record = R::from_words(&words);
            record.check(
                self.btf,
                &RecordContext {
                    subsection: R::SUBSECTION,
                    sec_name: &sec_name,
                    index,
                },
            )?;
            records.push(record);
            let tail_start = at + R::min_size() as usize;
            tails.extend_from_slice(
                self.r
                    .data
                    .get(tail_start..tail_start + tail_len)
                    .unwrap_or(&[]),
            );
        }
        let len = 8 + total as usize;
        Ok((
            ExtSection {
                sec_name_off,
                sec_name,
                records,
                tails,
            },
            len,
        ))
    }
}

fn encode_info<R: ExtRecord>(info: &ExtInfo<R>, endian: Endian) -> Vec<u8> {
    // Keep the written size self-consistent even for a hand-built, invalid `rec_size`.
    let rec_size = (info.rec_size & !3).max(R::min_size());
    let tail_len = (rec_size - R::min_size()) as usize;
    let mut w = Writer::new(endian);
    w.u32(rec_size);
    for sec in &info.sections {
        w.u32(sec.sec_name_off);
        w.u32(sec.records.len() as u32);
        let tails_match = sec.tails.len() == sec.records.len() * tail_len;
        for (i, record) in sec.records.iter().enumerate() {
            for v in record.to_words() {
                w.u32(v);
            }
            match sec
                .tails
                .get(i * tail_len..(i + 1) * tail_len)
                .filter(|_| tails_match)
            {
                Some(tail) => w.out.extend_from_slice(tail),
                None => w.out.resize(w.out.len() + tail_len, 0),
            }
        }
    }
    w.out
}
