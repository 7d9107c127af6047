//! `.kconfig` externs: their layout in the `.kconfig` map, the kernel configuration they read
//! and how each value is encoded (libbpf's rules).
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::btf::{Btf, TypeId, TypeKind, INT_BOOL, INT_SIGNED};
use crate::object::{Extern, ExternKind};

use super::error::LoadError;

/// How a `.kconfig` extern's C type is encoded (libbpf's `enum kcfg_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KcfgType {
    Bool,
    Char,
    /// `enum libbpf_tristate`: n = 0, y = 1, m = 2.
    Tristate,
    Int { signed: bool },
    CharArray,
}

/// One `.kconfig` extern placed in the map value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KcfgSlot {
    pub name: String,
    pub weak: bool,
    pub offset: u32,
    pub size: u32,
    pub ty: KcfgType,
}

fn bad(name: &str, reason: impl Into<String>) -> LoadError {
    LoadError::Extern { name: name.to_string(), reason: reason.into() }
}

/// Alignment of the types `.kconfig` externs may have (libbpf's `btf__align_of`).
fn align_of(btf: &Btf, id: TypeId, depth: u32) -> Result<u32, String> {
    if depth > 32 {
        return Err(format!("type [{id}] nests too deeply"));
    }
    let id = btf.skip_mods_and_typedefs(id).map_err(|e| e.to_string())?;
    Ok(match &btf.type_by_id(id).map_err(|e| e.to_string())?.kind {
        TypeKind::Int { size, .. } | TypeKind::Enum { size, .. } | TypeKind::Enum64 { size, .. } | TypeKind::Float { size } => {
            (*size).clamp(1, 8)
        }
        TypeKind::Ptr { .. } => 8,
        TypeKind::Array { elem, .. } => align_of(btf, *elem, depth + 1)?,
        _ => return Err(format!("type [{id}] can't be a kconfig value")),
    })
}

fn kcfg_type(btf: &Btf, id: TypeId) -> Option<KcfgType> {
    let id = btf.skip_mods_and_typedefs(id).ok()?;
    let ty = btf.type_by_id(id).ok()?;
    match &ty.kind {
        TypeKind::Int { size, encoding, .. } => {
            if encoding & INT_BOOL != 0 {
                return (*size == 1).then_some(KcfgType::Bool);
            }
            if *size == 1 {
                return Some(KcfgType::Char);
            }
            matches!(size, 2 | 4 | 8).then_some(KcfgType::Int { signed: encoding & INT_SIGNED != 0 })
        }
        TypeKind::Enum { size: 4, .. } if btf.string_at(ty.name_off).ok()? == "libbpf_tristate" => Some(KcfgType::Tristate),
        TypeKind::Array { elem, nelems, .. } if *nelems > 0 => {
            (kcfg_type(btf, *elem)? == KcfgType::Char).then_some(KcfgType::CharArray)
        }
        _ => None,
    }
}

/// The `.kconfig` layout: externs sorted by alignment (descending), size, name, each at the
/// next offset aligned for its type — the layout the object spec sized the map for.
pub fn layout(externs: &[Extern], btf: &Btf) -> Result<Vec<KcfgSlot>, LoadError> {
    let mut items = Vec::new();
    for ext in externs.iter().filter(|e| e.kind == ExternKind::Kconfig) {
        let ty = ext.btf_type_id.ok_or_else(|| bad(&ext.name, "no BTF type"))?;
        let size = btf.resolve_size(ty).map_err(|e| bad(&ext.name, e.to_string()))?;
        let align = align_of(btf, ty, 0).map_err(|e| bad(&ext.name, e))?;
        let kind = kcfg_type(btf, ty).ok_or_else(|| bad(&ext.name, "type is unsupported for a kconfig value"))?;
        items.push((align, size, ext.name.clone(), ext.weak, kind));
    }
    items.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut off: u32 = 0;
    let mut slots = Vec::new();
    for (align, size, name, weak, ty) in items {
        let offset = off.div_ceil(align) * align;
        off = offset + size;
        slots.push(KcfgSlot { name, weak, offset, size, ty });
    }
    Ok(slots)
}

/// `CONFIG_X=value` lines; `# ... is not set` and other lines are ignored.
pub fn parse_config(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if !line.starts_with("CONFIG_") {
                return None;
            }
            let (name, value) = line.split_once('=')?;
            Some((name.to_string(), value.to_string()))
        })
        .collect()
}

/// Writes `value` for `slot` into the `.kconfig` value bytes.
pub fn encode(slot: &KcfgSlot, value: &str, data: &mut [u8]) -> Result<(), LoadError> {
    let start = slot.offset as usize;
    let dst = data
        .get_mut(start..start + slot.size as usize)
        .ok_or_else(|| bad(&slot.name, "value lies outside the .kconfig map"))?;
    match (value, slot.ty) {
        ("y" | "n" | "m", KcfgType::Bool) => {
            if value == "m" {
                return Err(bad(&slot.name, "value 'm' is not valid for a bool"));
            }
            dst[0] = u8::from(value == "y");
        }
        ("y" | "n" | "m", KcfgType::Tristate) => {
            let v: u32 = match value {
                "y" => 1,
                "m" => 2,
                _ => 0,
            };
            dst.copy_from_slice(&v.to_le_bytes());
        }
        ("y" | "n" | "m", KcfgType::Char) => dst[0] = value.as_bytes()[0],
        ("y" | "n" | "m", _) => return Err(bad(&slot.name, format!("value '{value}' is not valid for its type"))),
        (v, KcfgType::CharArray) if v.starts_with('"') => {
            let inner = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')).ok_or_else(|| bad(&slot.name, "unterminated string"))?;
            // Keep a terminating NUL, like libbpf (which truncates with a warning).
            let n = inner.len().min(dst.len().saturating_sub(1));
            dst.fill(0);
            dst[..n].copy_from_slice(&inner.as_bytes()[..n]);
        }
        (v, _) if v.starts_with('"') => return Err(bad(&slot.name, "a string value needs a char array")),
        (v, ty) => {
            let number = parse_number(v).ok_or_else(|| bad(&slot.name, format!("value '{v}' is not a number")))?;
            encode_number(slot, ty, number, dst)?;
        }
    }
    Ok(())
}

fn parse_number(v: &str) -> Option<i128> {
    let (neg, digits) = match v.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, v),
    };
    let magnitude = if let Some(hex) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse::<u64>().ok()?
    };
    let m = i128::from(magnitude);
    Some(if neg { -m } else { m })
}

fn encode_number(slot: &KcfgSlot, ty: KcfgType, value: i128, dst: &mut [u8]) -> Result<(), LoadError> {
    let bits = slot.size * 8;
    let (min, max) = match ty {
        KcfgType::Bool => (0, 1),
        KcfgType::Int { signed: true } => (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1),
        KcfgType::Int { signed: false } | KcfgType::Char => (0, (1i128 << bits) - 1),
        _ => return Err(bad(&slot.name, "a number is not valid for its type")),
    };
    if value < min || value > max {
        return Err(bad(&slot.name, format!("value {value} is out of range for a {}-byte value", slot.size)));
    }
    let bytes = (value as i64).to_le_bytes();
    dst.copy_from_slice(&bytes[..dst.len()]);
    Ok(())
}

/// `KERNEL_VERSION(a, b, c)` of the running kernel, as libbpf computes `LINUX_KERNEL_VERSION`.
pub fn linux_kernel_version() -> u32 {
    let release = crate::sys::kernel_release();
    let mut parts = release.split(|c: char| !c.is_ascii_digit()).map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    let patch = parts.next().unwrap_or(0);
    (major << 16) + (minor << 8) + patch.min(255)
}

/// The values libbpf computes itself for `LINUX_*` externs; None for unknown names.
pub fn builtin_value(name: &str) -> Option<String> {
    match name {
        "LINUX_KERNEL_VERSION" => Some(linux_kernel_version().to_string()),
        // Supported kernels (6.1+) have BPF cookies; x86-64 kernels have syscall wrappers.
        "LINUX_HAS_BPF_COOKIE" => Some("y".into()),
        "LINUX_HAS_SYSCALL_WRAPPER" => Some(if cfg!(target_arch = "x86_64") { "y" } else { "n" }.into()),
        _ => None,
    }
}

/// The running kernel's configuration options, read and parsed once per process (decompressing
/// `/proc/config.gz` costs more than the rest of a typical load, and the configuration of the
/// running kernel cannot change while the process lives). The error is cached too.
pub fn system_config() -> Result<Arc<HashMap<String, String>>, String> {
    static CONFIG: OnceLock<Result<Arc<HashMap<String, String>>, String>> = OnceLock::new();
    CONFIG.get_or_init(|| read_system_config().map(|text| Arc::new(parse_config(&text)))).clone()
}

/// The system's kernel configuration: `/boot/config-$(uname -r)`, else `/proc/config.gz`.
pub fn read_system_config() -> Result<String, String> {
    let boot = format!("/boot/config-{}", crate::sys::kernel_release());
    if let Ok(text) = std::fs::read_to_string(&boot) {
        return Ok(text);
    }
    let gz = std::fs::read("/proc/config.gz").map_err(|e| format!("neither {boot} nor /proc/config.gz is readable ({e})"))?;
    let raw = super::inflate::gunzip(&gz).map_err(|e| format!("/proc/config.gz: {e}"))?;
    String::from_utf8(raw).map_err(|_| "/proc/config.gz is not text".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(size: u32, ty: KcfgType) -> KcfgSlot {
        KcfgSlot { name: "CONFIG_X".into(), weak: false, offset: 0, size, ty }
    }

    #[test]
    fn values_encode_like_libbpf() {
        let mut d = [0u8; 8];
        encode(&slot(1, KcfgType::Bool), "y", &mut d).unwrap();
        assert_eq!(d[0], 1);
        assert!(encode(&slot(1, KcfgType::Bool), "m", &mut d).is_err());
        encode(&slot(4, KcfgType::Tristate), "m", &mut d).unwrap();
        assert_eq!(&d[..4], &2u32.to_le_bytes());
        encode(&slot(4, KcfgType::Int { signed: true }), "-5", &mut d).unwrap();
        assert_eq!(&d[..4], &(-5i32).to_le_bytes());
        encode(&slot(8, KcfgType::Int { signed: false }), "0x10", &mut d).unwrap();
        assert_eq!(d, 16u64.to_le_bytes());
        assert!(encode(&slot(1, KcfgType::Int { signed: false }), "300", &mut d).is_err());
        let mut s = [0xffu8; 4];
        encode(&slot(4, KcfgType::CharArray), "\"abcdef\"", &mut s).unwrap();
        assert_eq!(&s, b"abc\0");
    }

    #[test]
    fn config_lines_parse() {
        let m = parse_config("# comment\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=\"x y\"\nCONFIG_D=0x20\n");
        assert_eq!(m.get("CONFIG_A").map(String::as_str), Some("y"));
        assert!(!m.contains_key("CONFIG_B"));
        assert_eq!(m.get("CONFIG_C").map(String::as_str), Some("\"x y\""));
        assert_eq!(m.get("CONFIG_D").map(String::as_str), Some("0x20"));
    }
}
