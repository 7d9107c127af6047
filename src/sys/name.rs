//! Kernel object names (`BPF_OBJ_NAME_LEN` bytes including the NUL).
use std::ffi::c_char;

use super::uapi::BPF_OBJ_NAME_LEN;

/// Longest name the kernel stores.
pub const OBJ_NAME_MAX: usize = BPF_OBJ_NAME_LEN as usize - 1;

/// Makes `name` acceptable to the kernel the way libbpf does: characters other than ASCII
/// alphanumerics, `_` and `.` become `_`, and the result is cut to [`OBJ_NAME_MAX`] bytes.
pub fn sanitize_obj_name(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '.' { c } else { '_' })
        .take(OBJ_NAME_MAX)
        .collect()
}

/// The `char[BPF_OBJ_NAME_LEN]` field for `name`: cut at [`OBJ_NAME_MAX`] bytes or an embedded
/// NUL, always NUL-terminated. Characters are passed as they are; the kernel validates them.
pub(crate) fn copy_obj_name(name: &str) -> [c_char; BPF_OBJ_NAME_LEN as usize] {
    let mut out = [0 as c_char; BPF_OBJ_NAME_LEN as usize];
    for (dst, &b) in out.iter_mut().zip(name.as_bytes().iter().take(OBJ_NAME_MAX).take_while(|&&b| b != 0)) {
        *dst = b as c_char;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizing_replaces_and_truncates_like_libbpf() {
        assert_eq!(sanitize_obj_name("xdp_len_filter"), "xdp_len_filter");
        assert_eq!(sanitize_obj_name(".rodata.str1.1"), ".rodata.str1.1");
        assert_eq!(sanitize_obj_name("a-b/c d"), "a_b_c_d");
        assert_eq!(sanitize_obj_name("a_really_long_program_name"), "a_really_long_p");
        assert_eq!(sanitize_obj_name("é"), "_");
    }

    #[test]
    fn copied_names_are_nul_terminated_and_cut() {
        let n = copy_obj_name("0123456789abcdefXYZ");
        assert_eq!(n[OBJ_NAME_MAX], 0);
        assert_eq!(n[OBJ_NAME_MAX - 1], b'e' as c_char);
        let n = copy_obj_name("ab\0cd");
        assert_eq!(&n[..3], &[b'a' as c_char, b'b' as c_char, 0]);
    }
}
