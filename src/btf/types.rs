//! The BTF type model: plain data, one `BtfType` per type id. Names are kept as offsets into the
//! string section so that a parse → write round trip is byte-identical.

/// A BTF type id. Id 0 is `void`.
pub type TypeId = u32;

/// BTF kinds, numbered as in `<linux/btf.h>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Kind {
    Void = 0,
    Int = 1,
    Ptr = 2,
    Array = 3,
    Struct = 4,
    Union = 5,
    Enum = 6,
    Fwd = 7,
    Typedef = 8,
    Volatile = 9,
    Const = 10,
    Restrict = 11,
    Func = 12,
    FuncProto = 13,
    Var = 14,
    Datasec = 15,
    Float = 16,
    DeclTag = 17,
    TypeTag = 18,
    Enum64 = 19,
}

impl Kind {
    pub fn from_raw(raw: u32) -> Option<Kind> {
        use Kind::*;
        const ALL: [Kind; 20] = [
            Void, Int, Ptr, Array, Struct, Union, Enum, Fwd, Typedef, Volatile, Const, Restrict,
            Func, FuncProto, Var, Datasec, Float, DeclTag, TypeTag, Enum64,
        ];
        ALL.get(raw as usize).copied()
    }

    /// The name bpftool and the kernel use for this kind (`STRUCT`, `FUNC_PROTO`, ...).
    pub fn as_str(self) -> &'static str {
        use Kind::*;
        match self {
            Void => "VOID",
            Int => "INT",
            Ptr => "PTR",
            Array => "ARRAY",
            Struct => "STRUCT",
            Union => "UNION",
            Enum => "ENUM",
            Fwd => "FWD",
            Typedef => "TYPEDEF",
            Volatile => "VOLATILE",
            Const => "CONST",
            Restrict => "RESTRICT",
            Func => "FUNC",
            FuncProto => "FUNC_PROTO",
            Var => "VAR",
            Datasec => "DATASEC",
            Float => "FLOAT",
            DeclTag => "DECL_TAG",
            TypeTag => "TYPE_TAG",
            Enum64 => "ENUM64",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Kind {
    /// Modifiers and typedefs: kinds that only qualify or rename the type they refer to.
    pub fn is_modifier_or_typedef(self) -> bool {
        matches!(
            self,
            Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag
        )
    }
}

/// `BTF_INT_*` encoding bits.
pub const INT_SIGNED: u8 = 1 << 0;
pub const INT_CHAR: u8 = 1 << 1;
pub const INT_BOOL: u8 = 1 << 2;

/// Linkage of a `FUNC` (`btf_func_linkage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FuncLinkage {
    Static,
    Global,
    Extern,
    /// A value the kernel does not define; kept so that round trips are exact.
    Unknown(u16),
}

impl FuncLinkage {
    pub fn from_raw(raw: u16) -> Self {
        match raw {
            0 => FuncLinkage::Static,
            1 => FuncLinkage::Global,
            2 => FuncLinkage::Extern,
            other => FuncLinkage::Unknown(other),
        }
    }
    pub fn to_raw(self) -> u16 {
        match self {
            FuncLinkage::Static => 0,
            FuncLinkage::Global => 1,
            FuncLinkage::Extern => 2,
            FuncLinkage::Unknown(v) => v,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            FuncLinkage::Static => "static",
            FuncLinkage::Global => "global",
            FuncLinkage::Extern => "extern",
            FuncLinkage::Unknown(_) => "unknown",
        }
    }
}

/// Linkage of a `VAR` (`BTF_VAR_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VarLinkage {
    Static,
    GlobalAllocated,
    GlobalExtern,
    Unknown(u32),
}

impl VarLinkage {
    pub fn from_raw(raw: u32) -> Self {
        match raw {
            0 => VarLinkage::Static,
            1 => VarLinkage::GlobalAllocated,
            2 => VarLinkage::GlobalExtern,
            other => VarLinkage::Unknown(other),
        }
    }
    pub fn to_raw(self) -> u32 {
        match self {
            VarLinkage::Static => 0,
            VarLinkage::GlobalAllocated => 1,
            VarLinkage::GlobalExtern => 2,
            VarLinkage::Unknown(v) => v,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            VarLinkage::Static => "static",
            VarLinkage::GlobalAllocated => "global",
            VarLinkage::GlobalExtern => "extern",
            VarLinkage::Unknown(_) => "unknown",
        }
    }
}

/// A struct or union member. `bit_offset` is from the start of the aggregate; `bitfield_size`
/// is non-zero only for bitfields in aggregates with `kind_flag` set.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Member {
    pub name_off: u32,
    pub type_id: TypeId,
    pub bit_offset: u32,
    pub bitfield_size: u8,
}

/// An enumerator; `value` holds the full 64-bit value for both ENUM and ENUM64 (ENUM values are
/// stored sign- or zero-extended according to the enum's signedness).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Enumerator {
    pub name_off: u32,
    pub value: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Param {
    pub name_off: u32,
    pub type_id: TypeId,
}

/// One variable inside a `DATASEC`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VarSecInfo {
    pub type_id: TypeId,
    pub offset: u32,
    pub size: u32,
}

/// The kind-specific payload of a BTF type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TypeKind {
    Void,
    Int { size: u32, encoding: u8, bit_offset: u8, bits: u8 },
    Ptr { target: TypeId },
    Array { elem: TypeId, index: TypeId, nelems: u32 },
    Struct { size: u32, kind_flag: bool, members: Vec<Member> },
    Union { size: u32, kind_flag: bool, members: Vec<Member> },
    Enum { size: u32, signed: bool, values: Vec<Enumerator> },
    Enum64 { size: u32, signed: bool, values: Vec<Enumerator> },
    Fwd { is_union: bool },
    Typedef { target: TypeId },
    Volatile { target: TypeId },
    Const { target: TypeId },
    Restrict { target: TypeId },
    TypeTag { target: TypeId },
    Func { proto: TypeId, linkage: FuncLinkage },
    FuncProto { ret: TypeId, params: Vec<Param> },
    Var { type_id: TypeId, linkage: VarLinkage },
    Datasec { size: u32, vars: Vec<VarSecInfo> },
    Float { size: u32 },
    DeclTag { target: TypeId, component_idx: i32 },
}

/// A BTF type: its name (offset into the string section, 0 = anonymous) and payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BtfType {
    pub name_off: u32,
    pub kind: TypeKind,
}

impl BtfType {
    pub fn kind(&self) -> Kind {
        match &self.kind {
            TypeKind::Void => Kind::Void,
            TypeKind::Int { .. } => Kind::Int,
            TypeKind::Ptr { .. } => Kind::Ptr,
            TypeKind::Array { .. } => Kind::Array,
            TypeKind::Struct { .. } => Kind::Struct,
            TypeKind::Union { .. } => Kind::Union,
            TypeKind::Enum { .. } => Kind::Enum,
            TypeKind::Enum64 { .. } => Kind::Enum64,
            TypeKind::Fwd { .. } => Kind::Fwd,
            TypeKind::Typedef { .. } => Kind::Typedef,
            TypeKind::Volatile { .. } => Kind::Volatile,
            TypeKind::Const { .. } => Kind::Const,
            TypeKind::Restrict { .. } => Kind::Restrict,
            TypeKind::TypeTag { .. } => Kind::TypeTag,
            TypeKind::Func { .. } => Kind::Func,
            TypeKind::FuncProto { .. } => Kind::FuncProto,
            TypeKind::Var { .. } => Kind::Var,
            TypeKind::Datasec { .. } => Kind::Datasec,
            TypeKind::Float { .. } => Kind::Float,
            TypeKind::DeclTag { .. } => Kind::DeclTag,
        }
    }

    /// The single type this one refers to, for modifiers, pointers, typedefs, funcs, vars and tags.
    pub fn referenced_type(&self) -> Option<TypeId> {
        match &self.kind {
            TypeKind::Ptr { target }
            | TypeKind::Typedef { target }
            | TypeKind::Volatile { target }
            | TypeKind::Const { target }
            | TypeKind::Restrict { target }
            | TypeKind::TypeTag { target }
            | TypeKind::DeclTag { target, .. } => Some(*target),
            TypeKind::Func { proto, .. } => Some(*proto),
            TypeKind::Var { type_id, .. } => Some(*type_id),
            _ => None,
        }
    }

    /// Calls `f` on every type id this type refers to (for remapping and graph walks).
    pub fn for_each_type_id_mut(&mut self, mut f: impl FnMut(&mut TypeId)) {
        match &mut self.kind {
            TypeKind::Void
            | TypeKind::Int { .. }
            | TypeKind::Enum { .. }
            | TypeKind::Enum64 { .. }
            | TypeKind::Fwd { .. }
            | TypeKind::Float { .. } => {}
            TypeKind::Ptr { target }
            | TypeKind::Typedef { target }
            | TypeKind::Volatile { target }
            | TypeKind::Const { target }
            | TypeKind::Restrict { target }
            | TypeKind::TypeTag { target }
            | TypeKind::DeclTag { target, .. } => f(target),
            TypeKind::Func { proto, .. } => f(proto),
            TypeKind::Var { type_id, .. } => f(type_id),
            TypeKind::Array { elem, index, .. } => {
                f(elem);
                f(index)
            }
            TypeKind::Struct { members, .. } | TypeKind::Union { members, .. } => {
                members.iter_mut().for_each(|m| f(&mut m.type_id))
            }
            TypeKind::FuncProto { ret, params } => {
                f(ret);
                params.iter_mut().for_each(|p| f(&mut p.type_id))
            }
            TypeKind::Datasec { vars, .. } => vars.iter_mut().for_each(|v| f(&mut v.type_id)),
        }
    }

    /// Calls `f` on every type id this type refers to, in encoding order, without copying.
    pub fn for_each_type_id(&self, mut f: impl FnMut(TypeId)) {
        match &self.kind {
            TypeKind::Void
            | TypeKind::Int { .. }
            | TypeKind::Enum { .. }
            | TypeKind::Enum64 { .. }
            | TypeKind::Fwd { .. }
            | TypeKind::Float { .. } => {}
            TypeKind::Ptr { target }
            | TypeKind::Typedef { target }
            | TypeKind::Volatile { target }
            | TypeKind::Const { target }
            | TypeKind::Restrict { target }
            | TypeKind::TypeTag { target }
            | TypeKind::DeclTag { target, .. } => f(*target),
            TypeKind::Func { proto, .. } => f(*proto),
            TypeKind::Var { type_id, .. } => f(*type_id),
            TypeKind::Array { elem, index, .. } => {
                f(*elem);
                f(*index)
            }
            TypeKind::Struct { members, .. } | TypeKind::Union { members, .. } => {
                members.iter().for_each(|m| f(m.type_id))
            }
            TypeKind::FuncProto { ret, params } => {
                f(*ret);
                params.iter().for_each(|p| f(p.type_id))
            }
            TypeKind::Datasec { vars, .. } => vars.iter().for_each(|v| f(v.type_id)),
        }
    }

}
