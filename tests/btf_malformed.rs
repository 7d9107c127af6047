//! Malformed `.BTF` / `.BTF.ext` derived from real clang-built objects: every corruption gives
//! the expected error variant (with the right type id / offset) and nothing panics.
mod common;

use bpflink::btf::*;
use object::{Object, ObjectSection};

/// A little-endian raw `.BTF` with accessors for the header fields and type records.
#[derive(Clone)]
struct Raw(Vec<u8>);

impl Raw {
    fn u32(&self, off: usize) -> u32 {
        u32::from_le_bytes(self.0[off..off + 4].try_into().unwrap())
    }
    fn set_u32(&mut self, off: usize, v: u32) {
        self.0[off..off + 4].copy_from_slice(&v.to_le_bytes());
    }
    fn hdr_len(&self) -> usize {
        self.u32(4) as usize
    }
    fn types_start(&self) -> usize {
        self.hdr_len() + self.u32(8) as usize
    }
    fn type_len(&self) -> usize {
        self.u32(12) as usize
    }
    fn strs_start(&self) -> usize {
        self.hdr_len() + self.u32(16) as usize
    }
    fn str_len(&self) -> usize {
        self.u32(20) as usize
    }
    /// Byte offset (in the type section) of every record, by the record sizes of
    /// `<linux/btf.h>`, independently of the parser under test.
    fn record_offsets(&self) -> Vec<usize> {
        let mut offs = Vec::new();
        let mut off = 0;
        while off < self.type_len() {
            offs.push(off);
            let info = self.u32(self.types_start() + off + 4);
            let (kind, vlen) = ((info >> 24) & 0x1f, (info & 0xffff) as usize);
            let extra = match kind {
                1 | 14 | 17 => 4,
                3 => 12,
                4 | 5 | 15 | 19 => 12 * vlen,
                6 | 13 => 8 * vlen,
                _ => 0,
            };
            off += 12 + extra;
        }
        offs
    }
    /// Absolute offset of type `id`'s record.
    fn type_at(&self, id: TypeId) -> usize {
        self.types_start() + self.record_offsets()[id as usize - 1]
    }
    /// First type id of the given raw kind.
    fn first_of_kind(&self, kind: u32) -> TypeId {
        let offs = self.record_offsets();
        let i = offs
            .iter()
            .position(|&o| (self.u32(self.types_start() + o + 4) >> 24) & 0x1f == kind)
            .unwrap_or_else(|| panic!("no type of kind {kind}"));
        i as TypeId + 1
    }
    fn parse(&self) -> Result<Btf, BtfError> {
        parse_both(&self.0)
    }
}

/// `Btf::parse`, after checking that `RawBtf::parse` (the linker's parser, which never
/// decodes into the type model) agrees: the same error, or the same types and strings.
fn parse_both(data: &[u8]) -> Result<Btf, BtfError> {
    let model = Btf::parse(data);
    match (&model, RawBtf::parse(data)) {
        (Ok(btf), Ok(raw)) => {
            let decoded = raw.to_btf().expect("records RawBtf accepted decode");
            assert_eq!(decoded.types(), btf.types(), "RawBtf decodes to the same types");
            assert_eq!(decoded.strings(), btf.strings());
            for id in 0..btf.type_count() {
                assert_eq!(decoded.is_attribute_tag(id), btf.is_attribute_tag(id));
            }
        }
        (Err(e), Err(raw_err)) => assert_eq!(&raw_err, e, "RawBtf reports the same error"),
        (m, r) => panic!("Btf::parse gave {m:?} but RawBtf::parse gave {:?}", r.map(|r| r.type_count())),
    }
    model
}

fn sections(name: &str) -> (Raw, Vec<u8>) {
    let path = common::compile_bpf(name);
    let data = std::fs::read(&path).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let get = |s: &str| file.section_by_name(s).map(|s| s.data().unwrap().to_vec());
    // Objects without programs (e.g. a CO-RE target description) have no .BTF.ext.
    (Raw(get(".BTF").expect("every test object has .BTF")), get(".BTF.ext").unwrap_or_default())
}

fn kinds_object() -> (Raw, Vec<u8>) {
    sections("btf_kinds")
}

const INT: u32 = 1;
const PTR: u32 = 2;
const STRUCT: u32 = 4;
const TYPEDEF: u32 = 8;
const FUNC: u32 = 12;

#[test]
fn every_truncation_of_the_blob_is_an_error() {
    let (raw, _) = kinds_object();
    for len in 0..raw.0.len() {
        let err = parse_both(&raw.0[..len]).unwrap_err();
        match err {
            BtfError::TruncatedHeader { len: l, need: 24 } => assert!(len < 24 && l == len),
            BtfError::SectionOutOfBounds {
                section, available, ..
            } => {
                assert_eq!(available, len - 24);
                let types_end = raw.types_start() + raw.type_len();
                assert_eq!(
                    section,
                    if len < types_end { "type" } else { "string" },
                    "cut at {len}"
                );
            }
            other => panic!("cut at {len}: unexpected {other:?}"),
        }
    }
}

#[test]
fn type_section_cut_inside_a_record_names_that_record() {
    let (raw, _) = kinds_object();
    let offsets = raw.record_offsets();
    for cut in 1..raw.type_len() {
        let mut bad = raw.clone();
        bad.set_u32(12, cut as u32);
        let result = bad.parse();
        match offsets.binary_search(&cut) {
            // A cut at a record boundary drops whole types: later references dangle or it
            // is fine, but it is never a truncation.
            Ok(_) => assert!(
                matches!(
                    result,
                    Ok(_)
                        | Err(BtfError::TypeIdOutOfRange { .. })
                        | Err(BtfError::BadReferenceKind { .. })
                ),
                "cut {cut}: {result:?}"
            ),
            Err(next) => {
                let (idx, start) = (next - 1, offsets[next - 1]);
                match result {
                    Err(BtfError::TruncatedType {
                        id,
                        offset,
                        available,
                        ..
                    }) => {
                        assert_eq!(
                            (id, offset, available),
                            (idx as u32 + 1, start, cut - start),
                            "cut {cut}"
                        )
                    }
                    other => panic!("cut {cut}: expected TruncatedType, got {other:?}"),
                }
            }
        }
    }
}

#[test]
fn unknown_kinds_are_rejected_with_id_and_offset() {
    let (raw, _) = kinds_object();
    let id = raw.first_of_kind(STRUCT);
    for bad_kind in [0u32, 20, 21, 31] {
        let mut bad = raw.clone();
        let at = raw.type_at(id);
        let info = bad.u32(at + 4);
        bad.set_u32(at + 4, (info & !(0x1f << 24)) | (bad_kind << 24));
        let expected_offset = at - raw.types_start();
        assert_eq!(
            bad.parse().unwrap_err(),
            BtfError::UnknownKind {
                id,
                offset: expected_offset,
                kind: bad_kind
            }
        );
    }
}

#[test]
fn huge_vlen_is_a_truncated_record() {
    let (raw, _) = kinds_object();
    let id = raw.first_of_kind(STRUCT);
    let mut bad = raw.clone();
    let at = raw.type_at(id);
    let info = bad.u32(at + 4);
    bad.set_u32(at + 4, info | 0xffff);
    match bad.parse().unwrap_err() {
        BtfError::TruncatedType { id: got, need, .. } => {
            assert_eq!((got, need), (id, 12 + 12 * 0xffff))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_string_offsets_and_sections() {
    let (raw, _) = kinds_object();
    let id = raw.first_of_kind(STRUCT);
    let mut bad = raw.clone();
    bad.set_u32(raw.type_at(id), raw.str_len() as u32);
    match bad.parse().unwrap_err() {
        BtfError::StringOffsetOutOfRange { at, offset, len } => {
            assert_eq!((offset, len), (raw.str_len() as u32, raw.str_len() as u32));
            assert!(at.contains(&format!("type {id} (STRUCT)")), "{at}");
        }
        other => panic!("{other:?}"),
    }
    // A member name out of range names the member.
    let mut bad = raw.clone();
    bad.set_u32(raw.type_at(id) + 12 + 12, u32::MAX);
    match bad.parse().unwrap_err() {
        BtfError::StringOffsetOutOfRange { at, .. } => assert!(at.contains("member 1"), "{at}"),
        other => panic!("{other:?}"),
    }
    let mut bad = raw.clone();
    let first = raw.strs_start();
    bad.0[first] = b'x';
    assert_eq!(
        bad.parse().unwrap_err(),
        BtfError::StringsNotStartingWithNul
    );
    let mut bad = raw.clone();
    let last = raw.strs_start() + raw.str_len() - 1;
    bad.0[last] = b'x';
    assert_eq!(
        bad.parse().unwrap_err(),
        BtfError::StringsNotNulTerminated {
            len: raw.str_len() as u32
        }
    );
    let mut bad = raw.clone();
    bad.set_u32(20, 0);
    assert_eq!(bad.parse().unwrap_err(), BtfError::EmptyStrings);
    // Invalid UTF-8 inside a name.
    let mut bad = raw.clone();
    let name_off = raw.u32(raw.type_at(id)) as usize;
    bad.0[raw.strs_start() + name_off] = 0xff;
    assert!(matches!(
        bad.parse().unwrap_err(),
        BtfError::StringNotUtf8 { .. }
    ));
}

#[test]
fn out_of_range_type_ids() {
    let (raw, _) = kinds_object();
    let count = raw.record_offsets().len() as u32 + 1;
    let id = raw.first_of_kind(PTR);
    let mut bad = raw.clone();
    bad.set_u32(raw.type_at(id) + 8, count);
    assert_eq!(
        bad.parse().unwrap_err(),
        BtfError::TypeIdOutOfRange {
            id,
            kind: Kind::Ptr,
            target: count,
            count
        }
    );
    let s = raw.first_of_kind(STRUCT);
    let mut bad = raw.clone();
    bad.set_u32(raw.type_at(s) + 12 + 4, u32::MAX);
    assert!(
        matches!(bad.parse().unwrap_err(), BtfError::TypeIdOutOfRange { id, target: u32::MAX, .. } if id == s)
    );
}

#[test]
fn reference_cycles_are_rejected() {
    let (raw, _) = kinds_object();
    let btf = raw.parse().unwrap();
    // typedef pointing at itself
    let td = raw.first_of_kind(TYPEDEF);
    let mut bad = raw.clone();
    bad.set_u32(raw.type_at(td) + 8, td);
    assert!(matches!(bad.parse().unwrap_err(), BtfError::ReferenceCycle { id, .. } if id == td));

    // typedef cv_bits_t -> const -> volatile -> typedef bits_t -> (now) cv_bits_t
    let cv = btf.find_by_name_kind("cv_bits_t", Kind::Typedef).unwrap();
    let bits_t = btf.find_by_name_kind("bits_t", Kind::Typedef).unwrap();
    let mut bad = raw.clone();
    bad.set_u32(raw.type_at(bits_t) + 8, cv);
    assert!(matches!(
        bad.parse().unwrap_err(),
        BtfError::ReferenceCycle { .. }
    ));

    // pointer -> const -> same pointer: nothing ends the chain
    let ptr = raw.first_of_kind(PTR);
    let konst = btf.find_by_name_kind("cv_bits_t", Kind::Typedef).map(|_| {
        btf.types()
            .iter()
            .position(|t| t.kind() == Kind::Const)
            .unwrap() as TypeId
    });
    let konst = konst.unwrap();
    let mut bad = raw.clone();
    bad.set_u32(raw.type_at(ptr) + 8, konst);
    bad.set_u32(raw.type_at(konst) + 8, ptr);
    assert!(matches!(
        bad.parse().unwrap_err(),
        BtfError::ReferenceCycle {
            kind: Kind::Ptr | Kind::Const,
            ..
        }
    ));

    // struct bits containing itself by value (through its first member)
    let bits = btf.find_by_name_kind("bits", Kind::Struct).unwrap();
    let mut bad = raw.clone();
    bad.set_u32(raw.type_at(bits) + 12 + 4, bits_t);
    match bad.parse().unwrap_err() {
        BtfError::ReferenceCycle { reason, .. } => assert!(reason.contains("by value"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // ...while the real object's cycle through a pointer (holder -> callback -> proto ->
    // struct holder *) is fine.
    let holder = btf.find_by_name_kind("holder", Kind::Struct).unwrap();
    assert!(btf.describe(holder).contains("holder"));
}

#[test]
fn header_corruptions() {
    let (raw, _) = kinds_object();
    let mut bad = raw.clone();
    bad.0[0] = 0;
    assert!(matches!(bad.parse().unwrap_err(), BtfError::BadMagic(_)));
    let mut bad = raw.clone();
    bad.0[2] = 2;
    assert_eq!(bad.parse().unwrap_err(), BtfError::UnsupportedVersion(2));
    let mut bad = raw.clone();
    bad.0[3] = 1;
    assert_eq!(bad.parse().unwrap_err(), BtfError::UnsupportedFlags(1));
    let mut bad = raw.clone();
    bad.set_u32(4, 20);
    assert!(matches!(
        bad.parse().unwrap_err(),
        BtfError::BadHeaderLen { hdr_len: 20, .. }
    ));
    let mut bad = raw.clone();
    bad.set_u32(4, u32::MAX);
    assert!(matches!(
        bad.parse().unwrap_err(),
        BtfError::BadHeaderLen {
            hdr_len: u32::MAX,
            ..
        }
    ));
    let mut bad = raw.clone();
    bad.set_u32(8, 2);
    assert!(matches!(
        bad.parse().unwrap_err(),
        BtfError::MisalignedTypeSection(2) | BtfError::BadSectionLayout { .. }
    ));
    let mut bad = raw.clone();
    bad.set_u32(16, 0);
    assert!(matches!(
        bad.parse().unwrap_err(),
        BtfError::BadSectionLayout { .. }
    ));
    let mut bad = raw.clone();
    bad.set_u32(12, u32::MAX - 3);
    assert!(matches!(
        bad.parse().unwrap_err(),
        BtfError::SectionOutOfBounds {
            section: "type",
            ..
        }
    ));
}

/// A 32-byte header (8 zero bytes past the known fields) is accepted and kept on write;
/// a non-zero byte there is rejected.
#[test]
fn larger_header_with_zero_tail() {
    let (raw, _) = kinds_object();
    let mut bigger = raw.0[..24].to_vec();
    bigger[4..8].copy_from_slice(&32u32.to_le_bytes());
    bigger.extend_from_slice(&[0; 8]);
    bigger.extend_from_slice(&raw.0[24..]);
    let btf = parse_both(&bigger).unwrap();
    assert_eq!(btf.header_len(), 32);
    assert_eq!(btf.to_bytes(), bigger);
    assert_eq!(btf.types(), raw.parse().unwrap().types());
    bigger[29] = 7;
    assert_eq!(
        parse_both(&bigger).unwrap_err(),
        BtfError::HeaderTailNotZero {
            offset: 29,
            value: 7
        }
    );
}

#[test]
fn bits_the_model_cannot_hold_are_rejected() {
    let (raw, _) = kinds_object();
    let int = raw.first_of_kind(INT);
    let at = raw.type_at(int);
    let mut bad = raw.clone();
    bad.set_u32(at + 4, bad.u32(at + 4) | 1 << 31);
    assert_eq!(
        bad.parse().unwrap_err(),
        BtfError::UnexpectedKindFlag {
            id: int,
            kind: Kind::Int
        }
    );
    let mut bad = raw.clone();
    bad.set_u32(at + 12, bad.u32(at + 12) | 0x100);
    assert!(matches!(bad.parse().unwrap_err(), BtfError::BadInt { id, .. } if id == int));
    let ptr = raw.first_of_kind(PTR);
    let mut bad = raw.clone();
    let at = raw.type_at(ptr);
    bad.set_u32(at + 4, bad.u32(at + 4) | 3);
    assert_eq!(
        bad.parse().unwrap_err(),
        BtfError::UnexpectedVlen {
            id: ptr,
            kind: Kind::Ptr,
            vlen: 3
        }
    );
    // FUNC must point at a FUNC_PROTO.
    let func = raw.first_of_kind(FUNC);
    let mut bad = raw.clone();
    bad.set_u32(raw.type_at(func) + 8, int);
    assert_eq!(
        bad.parse().unwrap_err(),
        BtfError::BadReferenceKind {
            id: func,
            kind: Kind::Func,
            target: int,
            found: Kind::Int,
            expected: "FUNC_PROTO"
        }
    );
}

/// Deterministic byte flips over every corpus object: any result but a panic.
#[test]
fn random_corruptions_never_panic() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for name in common::bpf_program_names() {
        let (raw, ext) = sections(&name);
        let btf = raw.parse().unwrap();
        for _ in 0..3000 {
            let mut bad = raw.0.clone();
            for _ in 0..1 + next() % 3 {
                let pos = (next() % bad.len() as u64) as usize;
                bad[pos] = next() as u8;
            }
            if let Ok(parsed) = parse_both(&bad) {
                // Whatever parses must describe and size every type without panicking.
                for id in 0..parsed.type_count() {
                    let _ = parsed.describe(id);
                    let _ = parsed.resolve_size(id);
                    let _ = parsed.skip_mods_and_typedefs(id);
                }
                assert_eq!(Btf::parse(&parsed.to_bytes()).unwrap(), parsed);
            }
            if ext.is_empty() {
                continue;
            }
            let mut bad_ext = ext.clone();
            let pos = (next() % bad_ext.len() as u64) as usize;
            bad_ext[pos] = next() as u8;
            let raw_btf = RawBtf::parse(&raw.0).unwrap();
            assert_eq!(BtfExt::parse_raw(&bad_ext, &raw_btf), BtfExt::parse(&bad_ext, &btf), "checked against records or the model alike");
            if let Ok(parsed) = BtfExt::parse(&bad_ext, &btf) {
                assert_eq!(BtfExt::parse(&parsed.to_bytes(), &btf).unwrap(), parsed);
            }
        }
    }
}

// ------------------------------------------------------------------ .BTF.ext

fn ext_u32(ext: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(ext[off..off + 4].try_into().unwrap())
}
fn set_ext_u32(ext: &mut [u8], off: usize, v: u32) {
    ext[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

/// Absolute offset of the func_info sub-section (its record size word).
fn func_info_start(ext: &[u8]) -> usize {
    ext_u32(ext, 4) as usize + ext_u32(ext, 8) as usize
}

#[test]
fn ext_truncations_are_errors() {
    let (raw, ext) = kinds_object();
    let btf = raw.parse().unwrap();
    for len in 0..ext.len() {
        let err = BtfExt::parse(&ext[..len], &btf).unwrap_err();
        assert!(
            matches!(
                err,
                BtfError::ExtTruncatedHeader { .. } | BtfError::ExtSubsectionOutOfBounds { .. }
            ),
            "cut at {len}: {err:?}"
        );
    }
    // Shrinking line_info_len cuts inside a block.
    let mut bad = ext.clone();
    let line_len = ext_u32(&ext, 20);
    set_ext_u32(&mut bad, 20, line_len - 4);
    assert!(matches!(
        BtfExt::parse(&bad, &btf).unwrap_err(),
        BtfError::ExtRecordCountOverflow {
            subsection: "line_info",
            ..
        } | BtfError::ExtTruncated {
            subsection: "line_info",
            ..
        }
    ));
}

#[test]
fn ext_record_problems() {
    let (raw, ext) = kinds_object();
    let btf = raw.parse().unwrap();
    let fi = func_info_start(&ext);

    let mut bad = ext.clone();
    set_ext_u32(&mut bad, fi, 4);
    assert_eq!(
        BtfExt::parse(&bad, &btf).unwrap_err(),
        BtfError::ExtRecordSizeTooSmall {
            subsection: "func_info",
            rec_size: 4,
            min: 8
        }
    );
    let mut bad = ext.clone();
    set_ext_u32(&mut bad, fi, 10);
    assert!(matches!(
        BtfExt::parse(&bad, &btf).unwrap_err(),
        BtfError::ExtRecordSizeMisaligned { rec_size: 10, .. }
    ));

    let mut bad = ext.clone();
    set_ext_u32(&mut bad, fi + 8, u32::MAX);
    match BtfExt::parse(&bad, &btf).unwrap_err() {
        BtfError::ExtRecordCountOverflow {
            subsection,
            sec_name,
            count,
            offset,
            ..
        } => {
            assert_eq!((subsection, count, offset), ("func_info", u32::MAX, fi + 4));
            assert!(!sec_name.is_empty());
        }
        other => panic!("{other:?}"),
    }
    let mut bad = ext.clone();
    set_ext_u32(&mut bad, fi + 8, 0);
    assert!(matches!(
        BtfExt::parse(&bad, &btf).unwrap_err(),
        BtfError::ExtEmptySection {
            subsection: "func_info",
            ..
        }
    ));

    let mut bad = ext.clone();
    set_ext_u32(&mut bad, fi + 4, btf.strings().len() as u32 + 5);
    match BtfExt::parse(&bad, &btf).unwrap_err() {
        BtfError::StringOffsetOutOfRange { at, .. } => {
            assert!(at.contains("func_info section header"), "{at}")
        }
        other => panic!("{other:?}"),
    }
    // First func_info record's type id.
    let mut bad = ext.clone();
    set_ext_u32(&mut bad, fi + 12 + 4, btf.type_count());
    match BtfExt::parse(&bad, &btf).unwrap_err() {
        BtfError::ExtTypeIdOutOfRange {
            subsection: "func_info",
            index: 0,
            type_id,
            ..
        } => assert_eq!(type_id, btf.type_count()),
        other => panic!("{other:?}"),
    }
    let mut bad = ext.clone();
    set_ext_u32(&mut bad, 12, u32::MAX);
    assert!(matches!(
        BtfExt::parse(&bad, &btf).unwrap_err(),
        BtfError::ExtSubsectionOutOfBounds {
            subsection: "func_info",
            ..
        }
    ));
    let mut bad = ext.clone();
    set_ext_u32(&mut bad, 8, 2);
    assert!(matches!(
        BtfExt::parse(&bad, &btf).unwrap_err(),
        BtfError::ExtMisalignedSubsection { off: 2, .. }
    ));
    let mut bad = ext.clone();
    bad[0] = 0x12;
    assert!(matches!(
        BtfExt::parse(&bad, &btf).unwrap_err(),
        BtfError::ExtBadMagic(_)
    ));
    let mut bad = ext.clone();
    set_ext_u32(&mut bad, 4, 16);
    assert!(matches!(
        BtfExt::parse(&bad, &btf).unwrap_err(),
        BtfError::ExtBadHeaderLen { hdr_len: 16, .. }
    ));
}

/// Larger record sizes keep the extra bytes of each record.
#[test]
fn ext_larger_record_size_round_trips() {
    let (raw, ext) = kinds_object();
    let btf = raw.parse().unwrap();
    let mut parsed = BtfExt::parse(&ext, &btf).unwrap();
    let fi = parsed.func_info.as_mut().unwrap();
    fi.rec_size = 12;
    for (i, sec) in fi.sections.iter_mut().enumerate() {
        sec.tails = (0..sec.records.len() * 4).map(|b| (b + i) as u8).collect();
    }
    let bytes = parsed.to_bytes();
    assert_eq!(ext_u32(&bytes, func_info_start(&bytes)), 12);
    let reparsed = BtfExt::parse(&bytes, &btf).unwrap();
    assert_eq!(reparsed, parsed);
    assert_eq!(reparsed.to_bytes(), bytes);
}
