//! Appending one standalone BTF to another without deduplication.
//!
//! The dynamic linker imports functions of a loaded object into a program of another (where
//! the kernel refuses an extension of an extension): the imported code's func_info/line_info
//! must then name types and strings of the program's BTF. Appending the provider's whole BTF
//! keeps every id of the receiving BTF unchanged and shifts the appended ones by a constant,
//! so `.BTF.ext` records of the appended part are remapped with two additions.
use super::{Btf, BtfError, BtfType, TypeId, TypeKind};

/// How ids and string offsets of an appended BTF moved: add these to its ids (except `void`,
/// which stays 0) and string offsets (except 0, the empty string).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BtfShift {
    pub types: u32,
    pub strings: u32,
}

impl BtfShift {
    pub fn type_id(self, id: TypeId) -> TypeId {
        if id == 0 {
            0
        } else {
            id + self.types
        }
    }

    pub fn string(self, off: u32) -> u32 {
        if off == 0 {
            0
        } else {
            off + self.strings
        }
    }
}

/// Every string offset a type holds: its name and those of members, enumerators, parameters.
fn for_each_name_off_mut(t: &mut BtfType, mut f: impl FnMut(&mut u32)) {
    f(&mut t.name_off);
    match &mut t.kind {
        TypeKind::Struct { members, .. } | TypeKind::Union { members, .. } => members.iter_mut().for_each(|m| f(&mut m.name_off)),
        TypeKind::Enum { values, .. } | TypeKind::Enum64 { values, .. } => values.iter_mut().for_each(|v| f(&mut v.name_off)),
        TypeKind::FuncProto { params, .. } => params.iter_mut().for_each(|p| f(&mut p.name_off)),
        _ => {}
    }
}

impl Btf {
    /// Appends every type and the whole string section of `other` (standalone, same byte
    /// order irrelevant: types are decoded) and returns how its ids and offsets moved.
    /// Both must be standalone BTFs.
    pub fn append_btf(&mut self, other: &Btf) -> Result<BtfShift, BtfError> {
        if self.base.is_some() || other.base.is_some() {
            return Err(BtfError::AppendUnsupported("split BTF can't be appended or appended to"));
        }
        let shift = BtfShift { types: self.next_type_id() - 1, strings: self.strings.len() as u32 };
        self.strings.extend_from_slice(&other.strings);
        // The string index, if built, no longer covers everything: rebuild lazily.
        self.string_index = Default::default();
        self.types.reserve(other.types.len().saturating_sub(1));
        for (id, t) in other.iter_types().skip(1) {
            let mut t = t.clone();
            t.for_each_type_id_mut(|tid| *tid = shift.type_id(*tid));
            for_each_name_off_mut(&mut t, |off| *off = shift.string(*off));
            let new_id = self.add_type(t);
            if other.is_attribute_tag(id) {
                self.attribute_tags.insert(new_id);
            }
        }
        Ok(shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::{FuncLinkage, Kind, Param, INT_SIGNED};

    fn small(name: &str) -> Btf {
        let mut b = Btf::new();
        let int_name = b.add_string("int");
        let int = b.add_type(BtfType { name_off: int_name, kind: TypeKind::Int { size: 4, encoding: INT_SIGNED, bit_offset: 0, bits: 32 } });
        let arg = b.add_string("x");
        let proto = b.add_type(BtfType { name_off: 0, kind: TypeKind::FuncProto { ret: int, params: vec![Param { name_off: arg, type_id: int }] } });
        let fname = b.add_string(name);
        b.add_type(BtfType { name_off: fname, kind: TypeKind::Func { proto, linkage: FuncLinkage::Global } });
        b
    }

    #[test]
    fn appended_types_keep_their_names_and_references() {
        let mut a = small("first");
        let b = small("second");
        let shift = a.append_btf(&b).unwrap();
        assert_eq!(shift.types, 3);
        let first = a.find_by_name_kind("first", Kind::Func).unwrap();
        let second = a.find_by_name_kind("second", Kind::Func).unwrap();
        assert_eq!((first, second), (3, 6));
        assert_eq!(a.describe(second), b.describe(3));
        let bytes = a.to_bytes_checked().unwrap();
        let reparsed = Btf::parse(&bytes).unwrap();
        assert_eq!(reparsed.type_count(), 7);
        assert_eq!(reparsed.type_name(shift.type_id(3)).unwrap(), "second");
    }
}
