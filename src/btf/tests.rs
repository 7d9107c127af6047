//! Unit tests of the BTF module on hand-built BTF (integration tests use real objects).
use super::*;
use std::sync::Arc;

fn ty(name_off: u32, kind: TypeKind) -> BtfType {
    BtfType { name_off, kind }
}

/// int, struct xdp_md { int a; }, ptr, proto int(struct xdp_md *), func, array int[4], ...
struct Sample {
    btf: Btf,
    int: TypeId,
    xdp_md: TypeId,
    ptr: TypeId,
    proto: TypeId,
    func: TypeId,
    arr: TypeId,
}

fn sample() -> Sample {
    let mut btf = Btf::new();
    let int_name = btf.add_string("int");
    let int = btf.add_type(ty(
        int_name,
        TypeKind::Int {
            size: 4,
            encoding: INT_SIGNED,
            bit_offset: 0,
            bits: 32,
        },
    ));
    let a = btf.add_string("a");
    let xdp_name = btf.add_string("xdp_md");
    let member = Member {
        name_off: a,
        type_id: int,
        bit_offset: 0,
        bitfield_size: 0,
    };
    let xdp_md = btf.add_type(ty(
        xdp_name,
        TypeKind::Struct {
            size: 4,
            kind_flag: false,
            members: vec![member],
        },
    ));
    let ptr = btf.add_type(ty(0, TypeKind::Ptr { target: xdp_md }));
    let ctx = btf.add_string("ctx");
    let proto = btf.add_type(ty(
        0,
        TypeKind::FuncProto {
            ret: int,
            params: vec![Param {
                name_off: ctx,
                type_id: ptr,
            }],
        },
    ));
    let fname = btf.add_string("prog");
    let func = btf.add_type(ty(
        fname,
        TypeKind::Func {
            proto,
            linkage: FuncLinkage::Global,
        },
    ));
    let arr = btf.add_type(ty(
        0,
        TypeKind::Array {
            elem: int,
            index: int,
            nelems: 4,
        },
    ));
    btf.validate().unwrap();
    Sample {
        btf,
        int,
        xdp_md,
        ptr,
        proto,
        func,
        arr,
    }
}

#[test]
fn strings_are_deduplicated() {
    let mut btf = Btf::new();
    assert_eq!(btf.add_string(""), 0);
    let a = btf.add_string("abc");
    let b = btf.add_string("de");
    assert_eq!(btf.add_string("abc"), a);
    assert_eq!(btf.add_string("de"), b);
    assert_eq!(btf.strings(), b"\0abc\0de\0");
    assert_eq!(btf.string_at(a).unwrap(), "abc");
    assert_eq!(
        btf.string_at(a + 1).unwrap(),
        "bc",
        "offsets inside strings are valid"
    );
    assert_eq!(btf.find_string("de"), Some(b));
    assert_eq!(btf.find_string("d"), None);
    assert!(matches!(
        btf.string_at(100),
        Err(BtfError::StringOffsetOutOfRange { offset: 100, .. })
    ));
}

#[test]
fn built_btf_round_trips() {
    let s = sample();
    let bytes = s.btf.to_bytes_checked().unwrap();
    let parsed = Btf::parse(&bytes).unwrap();
    assert_eq!(parsed, s.btf);
    assert_eq!(parsed.to_bytes(), bytes);
    let mut be = s.btf.clone();
    be.set_endian(Endian::Big);
    let be_bytes = be.to_bytes();
    assert_eq!(&be_bytes[..2], &[0xeb, 0x9f]);
    assert_eq!(Btf::parse(&be_bytes).unwrap(), be);
}

#[test]
fn lookups() {
    let s = sample();
    let btf = &s.btf;
    assert_eq!(btf.type_count(), 7);
    assert_eq!(
        btf.find_by_name_kind("xdp_md", Kind::Struct),
        Some(s.xdp_md)
    );
    assert_eq!(btf.find_by_name_kind("xdp_md", Kind::Union), None);
    assert_eq!(btf.type_name(s.func).unwrap(), "prog");
    assert_eq!(btf.type_name(s.ptr).unwrap(), "");
    assert_eq!(btf.type_by_id(99), Err(BtfError::NoSuchType(99)));
    assert_eq!(btf.resolve_size(s.arr).unwrap(), 16);
    assert_eq!(btf.resolve_size(s.ptr).unwrap(), 8);
    assert!(matches!(
        btf.resolve_size(s.func),
        Err(BtfError::NoSize {
            kind: Kind::Func,
            ..
        })
    ));
    assert!(matches!(
        btf.resolve_size(s.proto),
        Err(BtfError::NoSize {
            kind: Kind::FuncProto,
            ..
        })
    ));
    assert!(matches!(
        btf.resolve_size(0),
        Err(BtfError::NoSize {
            kind: Kind::Void,
            ..
        })
    ));
}

#[test]
fn skip_mods_and_typedefs_and_sizes_through_chains() {
    let mut s = sample();
    let btf = &mut s.btf;
    let konst = btf.add_type(ty(0, TypeKind::Const { target: s.xdp_md }));
    let name = btf.add_string("xdp_t");
    let td = btf.add_type(ty(name, TypeKind::Typedef { target: konst }));
    let vol = btf.add_type(ty(0, TypeKind::Volatile { target: td }));
    let arr2 = btf.add_type(ty(
        0,
        TypeKind::Array {
            elem: s.arr,
            index: s.int,
            nelems: 3,
        },
    ));
    assert_eq!(btf.skip_mods_and_typedefs(vol).unwrap(), s.xdp_md);
    assert_eq!(btf.skip_mods_and_typedefs(s.int).unwrap(), s.int);
    assert_eq!(btf.resolve_size(vol).unwrap(), 4);
    assert_eq!(btf.resolve_size(arr2).unwrap(), 48);
    let huge = btf.add_type(ty(
        0,
        TypeKind::Array {
            elem: arr2,
            index: s.int,
            nelems: u32::MAX / 2,
        },
    ));
    assert_eq!(
        btf.resolve_size(huge),
        Err(BtfError::SizeOverflow { id: huge })
    );
    btf.validate().unwrap();
}

#[test]
fn describe_renders_c_declarations() {
    let mut s = sample();
    let btf = &mut s.btf;
    assert_eq!(btf.describe(s.xdp_md), "struct xdp_md");
    assert_eq!(btf.describe(s.ptr), "struct xdp_md *");
    assert_eq!(btf.describe(s.proto), "int (struct xdp_md *)");
    assert_eq!(btf.describe(s.func), "int prog(struct xdp_md *ctx)");
    assert_eq!(btf.describe(s.arr), "int [4]");
    let ptr_arr = btf.add_type(ty(0, TypeKind::Ptr { target: s.arr }));
    assert_eq!(btf.describe(ptr_arr), "int (*)[4]");
    let fn_ptr = btf.add_type(ty(0, TypeKind::Ptr { target: s.proto }));
    assert_eq!(btf.describe(fn_ptr), "int (*)(struct xdp_md *)");
    let const_ptr = btf.add_type(ty(0, TypeKind::Const { target: s.ptr }));
    assert_eq!(btf.describe(const_ptr), "struct xdp_md *const");
    let const_int = btf.add_type(ty(0, TypeKind::Const { target: s.int }));
    let p_const_int = btf.add_type(ty(0, TypeKind::Ptr { target: const_int }));
    assert_eq!(btf.describe(p_const_int), "const int *");
    let void_proto = btf.add_type(ty(
        0,
        TypeKind::FuncProto {
            ret: 0,
            params: vec![],
        },
    ));
    assert_eq!(btf.describe(void_proto), "void (void)");
    let vararg = btf.add_type(ty(
        0,
        TypeKind::FuncProto {
            ret: s.int,
            params: vec![
                Param {
                    name_off: 0,
                    type_id: s.int,
                },
                Param {
                    name_off: 0,
                    type_id: 0,
                },
            ],
        },
    ));
    assert_eq!(btf.describe(vararg), "int (int, ...)");
    let vname = btf.add_string("counter");
    let var = btf.add_type(ty(
        vname,
        TypeKind::Var {
            type_id: s.arr,
            linkage: VarLinkage::GlobalExtern,
        },
    ));
    assert_eq!(btf.describe(var), "extern int counter[4]");
    let anon = btf.add_type(ty(
        0,
        TypeKind::Union {
            size: 4,
            kind_flag: false,
            members: vec![],
        },
    ));
    assert_eq!(btf.describe(anon), "union {...}");
    assert_eq!(btf.describe(1000), "<bad type 1000>");
}

#[test]
fn validate_rejects_built_mistakes() {
    let s = sample();
    let mut btf = s.btf.clone();
    let td_name = btf.add_string("loop_t");
    let td = btf.add_type(ty(td_name, TypeKind::Typedef { target: 0 }));
    btf.type_mut(td).unwrap().kind = TypeKind::Typedef { target: td };
    assert!(matches!(btf.validate(), Err(BtfError::ReferenceCycle { id, .. }) if id == td));
    assert!(matches!(
        btf.skip_mods_and_typedefs(td),
        Err(BtfError::ChainTooDeep { .. })
    ));
    assert!(matches!(
        btf.resolve_size(td),
        Err(BtfError::ChainTooDeep { .. })
    ));

    // A struct holding a pointer to itself is the normal linked-list shape.
    let mut btf = s.btf.clone();
    let next = btf.add_string("next");
    let node = btf.next_type_id();
    let p = node + 1;
    btf.add_type(ty(
        next,
        TypeKind::Struct {
            size: 8,
            kind_flag: false,
            members: vec![Member {
                name_off: next,
                type_id: p,
                bit_offset: 0,
                bitfield_size: 0,
            }],
        },
    ));
    btf.add_type(ty(0, TypeKind::Ptr { target: node }));
    btf.validate().unwrap();
    // ...but holding itself by value is not.
    if let TypeKind::Struct { members, .. } = &mut btf.type_mut(node).unwrap().kind {
        members[0].type_id = node;
    }
    assert!(matches!(btf.validate(), Err(BtfError::ReferenceCycle { id, .. }) if id == node));

    let mut btf = s.btf.clone();
    btf.add_type(ty(0, TypeKind::Void));
    assert!(matches!(
        btf.validate(),
        Err(BtfError::InvalidType {
            kind: Kind::Void,
            ..
        })
    ));

    let mut btf = s.btf.clone();
    btf.add_type(ty(0, TypeKind::Ptr { target: 500 }));
    assert!(matches!(
        btf.validate(),
        Err(BtfError::TypeIdOutOfRange { target: 500, .. })
    ));

    let mut btf = s.btf.clone();
    btf.add_type(ty(12345, TypeKind::Ptr { target: 0 }));
    assert!(matches!(
        btf.validate(),
        Err(BtfError::StringOffsetOutOfRange { offset: 12345, .. })
    ));

    let mut btf = s.btf.clone();
    let tag = btf.add_string("tag");
    btf.add_type(ty(
        tag,
        TypeKind::DeclTag {
            target: s.xdp_md,
            component_idx: 1,
        },
    ));
    assert!(matches!(
        btf.validate(),
        Err(BtfError::InvalidType {
            kind: Kind::DeclTag,
            ..
        })
    ));
}

#[test]
fn unencodable_types_are_reported() {
    let mut btf = sample().btf;
    let many = vec![
        Param {
            name_off: 0,
            type_id: 1
        };
        70_000
    ];
    let id = btf.add_type(ty(
        0,
        TypeKind::FuncProto {
            ret: 1,
            params: many,
        },
    ));
    assert!(
        matches!(btf.to_bytes_checked(), Err(BtfError::NotEncodable { id: got, .. }) if got == id)
    );
    let mut btf = sample().btf;
    let m = Member {
        name_off: 0,
        type_id: 1,
        bit_offset: 3,
        bitfield_size: 2,
    };
    btf.add_type(ty(
        0,
        TypeKind::Struct {
            size: 4,
            kind_flag: false,
            members: vec![m],
        },
    ));
    assert!(matches!(
        btf.to_bytes_checked(),
        Err(BtfError::NotEncodable { .. })
    ));
}

#[test]
fn enum_values_keep_sign_and_round_trip() {
    let mut btf = Btf::new();
    let n = btf.add_string("neg");
    let values = vec![Enumerator {
        name_off: n,
        value: (-3i64) as u64,
    }];
    let signed = btf.add_type(ty(
        0,
        TypeKind::Enum {
            size: 4,
            signed: true,
            values,
        },
    ));
    let values = vec![Enumerator {
        name_off: n,
        value: 0xf000_0000,
    }];
    let unsigned = btf.add_type(ty(
        0,
        TypeKind::Enum {
            size: 4,
            signed: false,
            values,
        },
    ));
    let parsed = Btf::parse(&btf.to_bytes()).unwrap();
    let value = |id| match &parsed.type_by_id(id).unwrap().kind {
        TypeKind::Enum { values, .. } => values[0].value,
        _ => unreachable!(),
    };
    assert_eq!(value(signed), (-3i64) as u64);
    assert_eq!(value(unsigned), 0xf000_0000);
}

#[test]
fn split_btf_continues_ids_and_strings() {
    let s = sample();
    let base = Arc::new(s.btf.clone());
    let mut split = Btf::new_split(base.clone());
    assert_eq!(split.first_type_id(), base.type_count());
    assert_eq!(
        split.add_string("int"),
        base.find_string("int").unwrap(),
        "base strings reused"
    );
    let own = split.add_string("module_only");
    assert_eq!(own, base.strings().len() as u32);
    let p = split.add_type(ty(0, TypeKind::Ptr { target: s.func }));
    let td = split.add_type(ty(own, TypeKind::Typedef { target: p }));
    assert_eq!(split.type_count(), base.type_count() + 2);
    assert_eq!(split.types().len(), 2);
    assert_eq!(split.type_name(td).unwrap(), "module_only");
    assert_eq!(
        split.find_by_name_kind("xdp_md", Kind::Struct),
        Some(s.xdp_md)
    );
    assert_eq!(
        split.find_by_name_kind("module_only", Kind::Typedef),
        Some(td)
    );
    assert_eq!(
        split.type_mut(s.int).unwrap_err(),
        BtfError::BaseTypeImmutable(s.int)
    );
    assert_eq!(split.iter_types().count() as u32, split.type_count());
    let bytes = split.to_bytes();
    assert_eq!(Btf::parse_split(&bytes, &base).unwrap(), split);
    // The split's own string section does not start with NUL, so it is not standalone BTF.
    assert_eq!(
        Btf::parse(&bytes).unwrap_err(),
        BtfError::StringsNotStartingWithNul
    );
}

#[test]
fn attribute_tags_round_trip() {
    let mut btf = sample().btf;
    let name = btf.add_string("address_space(1)");
    let tag = btf.add_type(ty(name, TypeKind::TypeTag { target: 1 }));
    assert!(
        btf.set_attribute_tag(1, true).is_err(),
        "INT cannot be an attribute tag"
    );
    btf.set_attribute_tag(tag, true).unwrap();
    let bytes = btf.to_bytes();
    let parsed = Btf::parse(&bytes).unwrap();
    assert!(parsed.is_attribute_tag(tag));
    assert_eq!(parsed, btf);
}
