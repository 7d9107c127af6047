//! BTF: parse every kind, look types up, resolve sizes and write BTF back out.
//!
//! API contract (other modules rely on it; keep signatures stable):
//! - `Btf::parse(&[u8]) -> Result<Btf, BtfError>` parses a raw `.BTF` section (either byte order).
//! - `Btf::to_bytes(&self) -> Vec<u8>` writes it back (byte-identical for parsed input).
//! - `BtfExt::parse(&[u8], &Btf)` / `BtfExt::to_bytes` for `.BTF.ext`.
pub mod types;
pub use types::*;

/// Errors are precise: which part of the section, at which offset, and what is wrong.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum BtfError {
    #[error("BTF type id {0} does not exist")]
    NoSuchType(TypeId),
    #[error("BTF: {0}")]
    Other(String),
}

/// A parsed BTF blob: types (index = type id, index 0 is `void`) and the raw string section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Btf {
    types: Vec<BtfType>,
    strings: Vec<u8>,
}

impl Btf {
    pub fn parse(_data: &[u8]) -> Result<Btf, BtfError> {
        todo!("btf parser")
    }
    pub fn to_bytes(&self) -> Vec<u8> {
        todo!("btf writer")
    }
    /// Number of types including `void` (valid ids are `0..type_count()`).
    pub fn type_count(&self) -> u32 {
        self.types.len() as u32
    }
    pub fn type_by_id(&self, id: TypeId) -> Result<&BtfType, BtfError> {
        self.types.get(id as usize).ok_or(BtfError::NoSuchType(id))
    }
    /// The string at `offset` in the string section.
    pub fn string_at(&self, _offset: u32) -> Result<&str, BtfError> {
        todo!()
    }
    /// The name of type `id` ("" for anonymous types).
    pub fn type_name(&self, _id: TypeId) -> Result<&str, BtfError> {
        todo!()
    }
    /// First type with this name and kind.
    pub fn find_by_name_kind(&self, _name: &str, _kind: Kind) -> Option<TypeId> {
        todo!()
    }
    /// Follows typedefs and const/volatile/restrict/type_tag modifiers.
    pub fn skip_mods_and_typedefs(&self, _id: TypeId) -> Result<TypeId, BtfError> {
        todo!()
    }
    /// Size in bytes of type `id` (like libbpf's `btf__resolve_size`).
    pub fn resolve_size(&self, _id: TypeId) -> Result<u32, BtfError> {
        todo!()
    }
}
