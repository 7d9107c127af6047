//! Program types from ELF section names, following libbpf's `section_defs` table and matching
//! rules, plus the kernel enums (program, attach and map types) with libbpf's names for them.
use serde::{Serialize, Serializer};

use super::tables::{ATTACH_TYPES, MAP_TYPES, PROG_TYPES, SECTION_DEFS};

/// `SEC_*` flags of a section definition (libbpf's values).
pub const SEC_EXP_ATTACH_OPT: u32 = 1;
pub const SEC_ATTACHABLE: u32 = 2;
pub const SEC_ATTACH_BTF: u32 = 4;
pub const SEC_SLEEPABLE: u32 = 8;
pub const SEC_XDP_FRAGS: u32 = 16;
pub const SEC_USDT: u32 = 32;

fn name_in(table: &[(&str, u32, &'static str)], value: u32) -> Option<&'static str> {
    table.iter().find(|(_, v, _)| *v == value).map(|(_, _, name)| *name)
}

macro_rules! kernel_enum {
    ($(#[$doc:meta])* $ty:ident, $table:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $ty(pub u32);

        impl $ty {
            /// libbpf's name for the value (`libbpf_bpf_*_type_str`), None if unknown.
            pub fn name(self) -> Option<&'static str> {
                name_in($table, self.0)
            }
            pub fn from_name(name: &str) -> Option<$ty> {
                $table.iter().find(|(_, _, n)| *n == name).map(|(_, v, _)| $ty(*v))
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(name) => f.write_str(name),
                    None => write!(f, "unknown({})", self.0),
                }
            }
        }

        /// Serialised as libbpf's name, so JSON reports compare directly with libbpf's.
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
}

kernel_enum!(
    /// `enum bpf_prog_type`.
    ProgType,
    PROG_TYPES
);
kernel_enum!(
    /// `enum bpf_attach_type`.
    AttachType,
    ATTACH_TYPES
);
kernel_enum!(
    /// `enum bpf_map_type`.
    MapType,
    MAP_TYPES
);

impl MapType {
    pub const HASH: MapType = MapType(1);
    pub const ARRAY: MapType = MapType(2);
    pub const PROG_ARRAY: MapType = MapType(3);
    pub const ARRAY_OF_MAPS: MapType = MapType(12);
    pub const HASH_OF_MAPS: MapType = MapType(13);

    pub fn is_map_in_map(self) -> bool {
        self == MapType::ARRAY_OF_MAPS || self == MapType::HASH_OF_MAPS
    }
}

/// One matched section definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecDef {
    /// The pattern as libbpf writes it ("xdp", "freplace+", "tc/ingress").
    pub pattern: &'static str,
    pub prog_type: ProgType,
    pub expected_attach_type: AttachType,
    pub flags: u32,
}

impl SecDef {
    pub fn sleepable(&self) -> bool {
        self.flags & SEC_SLEEPABLE != 0
    }

    /// What follows the prefix and its `/` separator: the attach target of "freplace/foo" is
    /// "foo". None when the section name is exactly the prefix.
    pub fn attach_target<'a>(&self, sec_name: &'a str) -> Option<&'a str> {
        let prefix = self.pattern.trim_end_matches('+');
        let rest = sec_name.strip_prefix(prefix)?;
        let rest = if self.pattern.ends_with('/') { rest } else { rest.strip_prefix('/')? };
        (!rest.is_empty()).then_some(rest)
    }
}

/// libbpf's matching rule for one pattern: "x/" matches any name starting with "x/";
/// "x+" matches "x" exactly or "x/anything"; anything else must match exactly.
fn pattern_matches(pattern: &str, sec_name: &str) -> bool {
    if pattern.ends_with('/') {
        sec_name.starts_with(pattern)
    } else if let Some(prefix) = pattern.strip_suffix('+') {
        match sec_name.strip_prefix(prefix) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    } else {
        sec_name == pattern
    }
}

/// The first section definition matching `sec_name` (already stripped of a leading `?`),
/// in libbpf's table order; None means libbpf leaves the program type UNSPEC.
pub fn find_sec_def(sec_name: &str) -> Option<SecDef> {
    SECTION_DEFS.iter().find(|(pattern, ..)| pattern_matches(pattern, sec_name)).map(
        |&(pattern, prog_type, attach_type, flags)| SecDef {
            pattern,
            prog_type: ProgType(prog_type),
            expected_attach_type: AttachType(attach_type),
            flags,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::uapi;

    #[test]
    fn table_values_agree_with_the_system_uapi_header() {
        use uapi::bpf_attach_type as at;
        use uapi::bpf_map_type as mt;
        use uapi::bpf_prog_type as pt;
        assert_eq!(ProgType::from_name("xdp"), Some(ProgType(pt::BPF_PROG_TYPE_XDP)));
        assert_eq!(ProgType::from_name("syscall"), Some(ProgType(pt::BPF_PROG_TYPE_SYSCALL)));
        assert_eq!(ProgType::from_name("sk_lookup"), Some(ProgType(pt::BPF_PROG_TYPE_SK_LOOKUP)));
        assert_eq!(AttachType::from_name("xdp"), Some(AttachType(at::BPF_XDP)));
        assert_eq!(AttachType::from_name("perf_event"), Some(AttachType(at::BPF_PERF_EVENT)));
        assert_eq!(
            AttachType::from_name("sk_reuseport_select_or_migrate"),
            Some(AttachType(at::BPF_SK_REUSEPORT_SELECT_OR_MIGRATE))
        );
        assert_eq!(MapType::from_name("ringbuf"), Some(MapType(mt::BPF_MAP_TYPE_RINGBUF)));
        assert_eq!(MapType::from_name("task_storage"), Some(MapType(mt::BPF_MAP_TYPE_TASK_STORAGE)));
    }

    #[test]
    fn matching_follows_libbpf_rules() {
        let xdp = find_sec_def("xdp").unwrap();
        assert_eq!(xdp.prog_type.name(), Some("xdp"));
        assert_eq!(xdp.expected_attach_type.name(), Some("xdp"));
        // "xdp" is an exact pattern: "xdp/foo" is unknown, as in libbpf 1.x.
        assert!(find_sec_def("xdp/foo").is_none());
        let fr = find_sec_def("freplace/handler").unwrap();
        assert_eq!(fr.prog_type.name(), Some("ext"));
        assert_eq!(fr.attach_target("freplace/handler"), Some("handler"));
        assert!(find_sec_def("kprobex").is_none());
        assert_eq!(find_sec_def("kprobe").unwrap().attach_target("kprobe"), None);
        let tp = find_sec_def("tracepoint/syscalls/sys_enter_getpid").unwrap();
        assert_eq!(tp.attach_target("tracepoint/syscalls/sys_enter_getpid"), Some("syscalls/sys_enter_getpid"));
        assert!(find_sec_def("fentry.s/foo").unwrap().sleepable());
        assert_eq!(find_sec_def("tc").unwrap().prog_type.name(), Some("sched_cls"));
    }
}
