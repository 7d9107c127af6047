//! `enum bpf_core_relo_kind` and how each kind is computed.

/// Declares `RelocKind` from one table: variants in `enum bpf_core_relo_kind` order (the
/// position is the raw number) with libbpf's short name of each.
macro_rules! reloc_kinds {
    ($($kind:ident => $name:literal,)+) => {
        /// What a CO-RE relocation asks for (numbering of `enum bpf_core_relo_kind`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum RelocKind {
            $($kind,)+
        }

        impl RelocKind {
            const ALL: &'static [RelocKind] = &[$(RelocKind::$kind,)+];

            /// libbpf's short name, used in its debug output (`byte_off`, `type_exists`, ...).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(RelocKind::$kind => $name,)+
                }
            }
        }
    };
}

reloc_kinds! {
    FieldByteOffset => "byte_off",
    FieldByteSize => "byte_sz",
    FieldExists => "field_exists",
    FieldSigned => "signed",
    FieldLshiftU64 => "lshift_u64",
    FieldRshiftU64 => "rshift_u64",
    TypeIdLocal => "local_type_id",
    TypeIdTarget => "target_type_id",
    TypeExists => "type_exists",
    TypeSize => "type_size",
    EnumvalExists => "enumval_exists",
    EnumvalValue => "enumval_value",
    TypeMatches => "type_matches",
}

/// The three families: they differ in the access string and in how candidates are matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelocFamily {
    Field,
    Type,
    Enumval,
}

impl RelocKind {
    pub fn from_raw(raw: u32) -> Option<RelocKind> {
        Self::ALL.get(raw as usize).copied()
    }

    pub fn family(self) -> RelocFamily {
        use RelocKind::*;
        match self {
            FieldByteOffset | FieldByteSize | FieldExists | FieldSigned | FieldLshiftU64
            | FieldRshiftU64 => RelocFamily::Field,
            TypeIdLocal | TypeIdTarget | TypeExists | TypeSize | TypeMatches => RelocFamily::Type,
            EnumvalExists | EnumvalValue => RelocFamily::Enumval,
        }
    }

    /// Kinds whose result is meaningful (0) when nothing matches, so no poisoning is needed.
    pub fn is_existence_check(self) -> bool {
        use RelocKind::*;
        matches!(self, FieldExists | TypeExists | TypeMatches | EnumvalExists)
    }
}

impl std::fmt::Display for RelocKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
