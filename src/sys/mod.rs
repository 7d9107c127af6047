//! Kernel interface: UAPI bindings and thin, safe wrappers over the `bpf(2)` syscall.
//!
//! Each wrapper issues one command (named in its doc), takes borrowed fds and slices, returns
//! [`OwnedFd`](std::os::fd::OwnedFd) for new kernel objects and [`SysError`] (command + errno)
//! on failure. There is no policy here beyond what memory safety requires: map element and
//! batch wrappers check buffer sizes against the map's sizes before the kernel writes into them.
//!
//! Fields and constants newer than the build machine's headers live in [`uapi::newer`].
pub mod uapi;

pub mod bpffs;
mod error;
pub mod fault;
mod info;
pub mod insn;
mod link;
mod load;
mod map;
mod name;
mod obj;
mod probe;
mod raw;
mod run;

pub use error::{errno_name, SysError, ENOTSUPP};
pub use info::{btf_data, btf_name, c_chars_to_string, obj_get_info_by_fd, obj_get_info_by_fd_raw, prog_map_ids, ObjInfo};
pub use link::{
    enable_stats, link_create, link_detach, link_update, prog_attach, prog_bind_map, prog_detach, raw_tracepoint_open,
    LinkCreateAttr, LinkExtra, ProgAttachAttr, Target,
};
pub use load::{btf_load, prog_load, rec_size, KernelLog, ProgLoadAttr};
pub use map::{
    is_per_cpu, map_create, map_delete_batch, map_delete_elem, map_freeze, map_get_next_key, map_lookup_and_delete_batch,
    map_lookup_and_delete_elem, map_lookup_batch, map_lookup_elem, map_update_batch, map_update_elem, BatchFlags,
    BatchLookup, MapCreateAttr,
};
pub use name::{sanitize_obj_name, OBJ_NAME_MAX};
pub use obj::{
    all_ids, btf_get_fd_by_id, btf_get_next_id, get_fd_by_id, get_next_id, link_get_fd_by_id, link_get_next_id,
    map_get_fd_by_id, map_get_next_id, obj_get, obj_pin, prog_get_fd_by_id, prog_get_next_id, ObjKind,
};
pub use probe::{feature_required, kernel_release, kernel_version, possible_cpus, probe_prog_type, REQUIRE_FEATURES_ENV};
pub use raw::{bpf, cmd_name, Attr, ATTR_BUF_SIZE};
pub use run::{prog_test_run, TestRun, TestRunResult};
