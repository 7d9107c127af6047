//! Map commands: `BPF_MAP_CREATE`, element and batch operations, `BPF_MAP_FREEZE`.
//!
//! The kernel reads and writes key/value buffers using the map's own sizes (times the number of
//! possible CPUs for per-CPU maps), not lengths passed by the caller. To stay memory-safe the
//! element and batch wrappers first ask the kernel for the map's sizes
//! (`BPF_OBJ_GET_INFO_BY_FD`) and refuse buffers that are too small.
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::error::SysError;
use super::info::obj_get_info_by_fd;
use super::name::copy_obj_name;
use super::probe::possible_cpus;
use super::raw::{attr_size, bpf, bpf_fd, member, Attr};
use super::uapi::{self, bpf_cmd, bpf_map_type};

/// Attributes of `BPF_MAP_CREATE`. Zero/`None` fields are left out, as the kernel expects.
#[derive(Debug, Default, Clone, Copy)]
pub struct MapCreateAttr<'a> {
    pub map_type: bpf_map_type::Type,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    /// Truncated to `BPF_OBJ_NAME_LEN - 1` bytes; the kernel accepts only `[A-Za-z0-9_.]`
    /// (see [`super::sanitize_obj_name`]).
    pub name: &'a str,
    pub btf_fd: Option<BorrowedFd<'a>>,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub btf_vmlinux_value_type_id: u32,
    /// Template map for map-in-map types.
    pub inner_map_fd: Option<BorrowedFd<'a>>,
    pub map_extra: u64,
    pub ifindex: u32,
    /// Honoured only with `BPF_F_NUMA_NODE` in `map_flags`.
    pub numa_node: u32,
}

/// `BPF_MAP_CREATE`: creates a map and returns its fd.
pub fn map_create(attr: &MapCreateAttr<'_>) -> Result<OwnedFd, SysError> {
    let mut buf = Attr::zeroed();
    let m = member!(buf, __bindgen_anon_1);
    m.map_type = attr.map_type;
    m.key_size = attr.key_size;
    m.value_size = attr.value_size;
    m.max_entries = attr.max_entries;
    m.map_flags = attr.map_flags;
    m.map_name = copy_obj_name(attr.name);
    m.btf_fd = fd_u32(attr.btf_fd);
    m.btf_key_type_id = attr.btf_key_type_id;
    m.btf_value_type_id = attr.btf_value_type_id;
    m.btf_vmlinux_value_type_id = attr.btf_vmlinux_value_type_id;
    m.inner_map_fd = fd_u32(attr.inner_map_fd);
    m.map_extra = attr.map_extra;
    m.map_ifindex = attr.ifindex;
    m.numa_node = attr.numa_node;
    let size = attr_size!(uapi::bpf_attr__bindgen_ty_1, map_extra);
    // SAFETY: the map-create attributes hold no pointers.
    unsafe { bpf_fd(bpf_cmd::BPF_MAP_CREATE, &mut buf, size) }
}

/// `BPF_MAP_LOOKUP_ELEM`: copies the value stored under `key` into `value`.
/// `ENOENT` when the key is absent. Per-CPU maps fill one 8-byte-aligned slot per possible CPU.
pub fn map_lookup_elem(map: BorrowedFd<'_>, key: &[u8], value: &mut [u8], flags: u64) -> Result<(), SysError> {
    const OP: &str = "BPF_MAP_LOOKUP_ELEM";
    let sizes = ElemSizes::of(map, OP)?;
    sizes.check_key(OP, key)?;
    sizes.check_values(OP, value.len(), 1)?;
    // SAFETY: key and value are at least as large as the map's key and (per-CPU) value.
    unsafe { elem_cmd(bpf_cmd::BPF_MAP_LOOKUP_ELEM, map, key_ptr(key), value.as_mut_ptr() as u64, flags) }
}

/// `BPF_MAP_UPDATE_ELEM`: stores `value` under `key`; `flags` is `BPF_ANY`, `BPF_NOEXIST`,
/// `BPF_EXIST`, optionally with `BPF_F_LOCK`.
pub fn map_update_elem(map: BorrowedFd<'_>, key: &[u8], value: &[u8], flags: u64) -> Result<(), SysError> {
    const OP: &str = "BPF_MAP_UPDATE_ELEM";
    let sizes = ElemSizes::of(map, OP)?;
    sizes.check_key(OP, key)?;
    sizes.check_values(OP, value.len(), 1)?;
    // SAFETY: the kernel only reads key and value, within the sizes checked above.
    unsafe { elem_cmd(bpf_cmd::BPF_MAP_UPDATE_ELEM, map, key_ptr(key), value.as_ptr() as u64, flags) }
}

/// `BPF_MAP_DELETE_ELEM`: removes `key`; `ENOENT` when absent, `EINVAL` for array maps.
pub fn map_delete_elem(map: BorrowedFd<'_>, key: &[u8], flags: u64) -> Result<(), SysError> {
    const OP: &str = "BPF_MAP_DELETE_ELEM";
    let sizes = ElemSizes::of(map, OP)?;
    sizes.check_key(OP, key)?;
    // SAFETY: the kernel only reads the key, within the size checked above.
    unsafe { elem_cmd(bpf_cmd::BPF_MAP_DELETE_ELEM, map, key_ptr(key), 0, flags) }
}

/// `BPF_MAP_GET_NEXT_KEY`: writes the key following `key` (the first key when `None`) into
/// `next_key`. `ENOENT` after the last key.
pub fn map_get_next_key(map: BorrowedFd<'_>, key: Option<&[u8]>, next_key: &mut [u8]) -> Result<(), SysError> {
    const OP: &str = "BPF_MAP_GET_NEXT_KEY";
    let sizes = ElemSizes::of(map, OP)?;
    if let Some(key) = key {
        sizes.check_key(OP, key)?;
    }
    sizes.check_key(OP, next_key)?;
    let key = key.map_or(0, key_ptr);
    // SAFETY: both buffers hold at least the map's key size.
    unsafe { elem_cmd(bpf_cmd::BPF_MAP_GET_NEXT_KEY, map, key, next_key.as_mut_ptr() as u64, 0) }
}

/// `BPF_MAP_LOOKUP_AND_DELETE_ELEM`: pops `key` (or, with `None`, the head of a queue/stack).
pub fn map_lookup_and_delete_elem(
    map: BorrowedFd<'_>,
    key: Option<&[u8]>,
    value: &mut [u8],
    flags: u64,
) -> Result<(), SysError> {
    const OP: &str = "BPF_MAP_LOOKUP_AND_DELETE_ELEM";
    let sizes = ElemSizes::of(map, OP)?;
    if let Some(key) = key {
        sizes.check_key(OP, key)?;
    }
    sizes.check_values(OP, value.len(), 1)?;
    let key = key.map_or(0, key_ptr);
    // SAFETY: the buffers hold at least the map's key and (per-CPU) value sizes.
    unsafe { elem_cmd(bpf_cmd::BPF_MAP_LOOKUP_AND_DELETE_ELEM, map, key, value.as_mut_ptr() as u64, flags) }
}

/// `BPF_MAP_FREEZE`: makes the map read-only for user space from now on.
pub fn map_freeze(map: BorrowedFd<'_>) -> Result<(), SysError> {
    let mut buf = Attr::zeroed();
    member!(buf, __bindgen_anon_2).map_fd = map.as_raw_fd() as u32;
    let size = attr_size!(uapi::bpf_attr__bindgen_ty_2, map_fd);
    // SAFETY: no pointers.
    unsafe { bpf(bpf_cmd::BPF_MAP_FREEZE, &mut buf, size) }.map(drop)
}

/// Outcome of a batch lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLookup {
    /// Elements written to the key and value buffers.
    pub count: u32,
    /// The kernel reported the end of the map (`ENOENT`); `count` still holds the last elements.
    pub done: bool,
}

/// Flags of the batch commands.
#[derive(Debug, Default, Clone, Copy)]
pub struct BatchFlags {
    /// Per-element flags, e.g. `BPF_F_LOCK` (or `BPF_ANY`... for updates).
    pub elem_flags: u64,
    pub flags: u64,
}

/// `BPF_MAP_LOOKUP_BATCH`: reads up to as many elements as `keys`/`values` hold, starting after
/// the position `in_batch` (from a previous call's `out_batch`; `None` to start). `out_batch` must
/// hold `max(key_size, 4)` bytes.
pub fn map_lookup_batch(
    map: BorrowedFd<'_>,
    in_batch: Option<&[u8]>,
    out_batch: &mut [u8],
    keys: &mut [u8],
    values: &mut [u8],
    flags: BatchFlags,
) -> Result<BatchLookup, SysError> {
    lookup_batch_cmd(bpf_cmd::BPF_MAP_LOOKUP_BATCH, map, in_batch, out_batch, keys, values, flags)
}

/// `BPF_MAP_LOOKUP_AND_DELETE_BATCH`: as [`map_lookup_batch`], deleting what it returns.
pub fn map_lookup_and_delete_batch(
    map: BorrowedFd<'_>,
    in_batch: Option<&[u8]>,
    out_batch: &mut [u8],
    keys: &mut [u8],
    values: &mut [u8],
    flags: BatchFlags,
) -> Result<BatchLookup, SysError> {
    lookup_batch_cmd(bpf_cmd::BPF_MAP_LOOKUP_AND_DELETE_BATCH, map, in_batch, out_batch, keys, values, flags)
}

/// `BPF_MAP_UPDATE_BATCH`: stores every key of `keys` with the matching value of `values`;
/// returns how many were stored.
pub fn map_update_batch(map: BorrowedFd<'_>, keys: &[u8], values: &[u8], flags: BatchFlags) -> Result<u32, SysError> {
    const OP: &str = "BPF_MAP_UPDATE_BATCH";
    let sizes = ElemSizes::of(map, OP)?;
    let count = sizes.key_count(OP, keys.len())?;
    sizes.check_values(OP, values.len(), count)?;
    let ptrs = BatchPtrs { keys: keys.as_ptr() as u64, values: values.as_ptr() as u64, ..Default::default() };
    // SAFETY: the kernel reads `count` keys and values, which the buffers hold.
    let (result, out) = unsafe { batch_cmd(bpf_cmd::BPF_MAP_UPDATE_BATCH, map, count, flags, ptrs) };
    result.map(|()| out.count)
}

/// `BPF_MAP_DELETE_BATCH`: deletes every key of `keys`; returns how many were deleted.
pub fn map_delete_batch(map: BorrowedFd<'_>, keys: &[u8], flags: BatchFlags) -> Result<u32, SysError> {
    const OP: &str = "BPF_MAP_DELETE_BATCH";
    let sizes = ElemSizes::of(map, OP)?;
    let count = sizes.key_count(OP, keys.len())?;
    let ptrs = BatchPtrs { keys: keys.as_ptr() as u64, ..Default::default() };
    // SAFETY: the kernel reads `count` keys, which the buffer holds.
    let (result, out) = unsafe { batch_cmd(bpf_cmd::BPF_MAP_DELETE_BATCH, map, count, flags, ptrs) };
    result.map(|()| out.count)
}

fn lookup_batch_cmd(
    cmd: bpf_cmd::Type,
    map: BorrowedFd<'_>,
    in_batch: Option<&[u8]>,
    out_batch: &mut [u8],
    keys: &mut [u8],
    values: &mut [u8],
    flags: BatchFlags,
) -> Result<BatchLookup, SysError> {
    let op = super::raw::cmd_name(cmd);
    let sizes = ElemSizes::of(map, op)?;
    let count = sizes.key_count(op, keys.len())?;
    sizes.check_values(op, values.len(), count)?;
    // Hash maps use a u32 bucket cursor, array-like maps a key.
    let cursor = sizes.key.max(4);
    if out_batch.len() < cursor || in_batch.is_some_and(|b| b.len() < cursor) {
        return Err(SysError::invalid(op, format!("batch cursor buffers must hold {cursor} bytes")));
    }
    let ptrs = BatchPtrs {
        in_batch: in_batch.map_or(0, |b| b.as_ptr() as u64),
        out_batch: out_batch.as_mut_ptr() as u64,
        keys: keys.as_mut_ptr() as u64,
        values: values.as_mut_ptr() as u64,
    };
    // SAFETY: the kernel writes at most `count` keys and values and one cursor, all checked.
    let (result, out) = unsafe { batch_cmd(cmd, map, count, flags, ptrs) };
    match result {
        Ok(()) => Ok(BatchLookup { count: out.count, done: false }),
        Err(e) if e.is(libc::ENOENT) => Ok(BatchLookup { count: out.count, done: true }),
        Err(e) => Err(e),
    }
}

/// User buffers of a batch command (0 = not passed).
#[derive(Default)]
struct BatchPtrs {
    in_batch: u64,
    out_batch: u64,
    keys: u64,
    values: u64,
}

/// Issues a batch command and returns the `batch` attributes as the kernel left them (it
/// writes back `count` also on failure).
///
/// # Safety
/// The pointers in `ptrs` must be valid for `count` elements of the map (and one cursor).
unsafe fn batch_cmd(
    cmd: bpf_cmd::Type,
    map: BorrowedFd<'_>,
    count: u32,
    flags: BatchFlags,
    ptrs: BatchPtrs,
) -> (Result<(), SysError>, uapi::bpf_attr__bindgen_ty_3) {
    let mut buf = Attr::zeroed();
    let b = member!(buf, batch);
    b.map_fd = map.as_raw_fd() as u32;
    b.count = count;
    b.elem_flags = flags.elem_flags;
    b.flags = flags.flags;
    (b.in_batch, b.out_batch, b.keys, b.values) = (ptrs.in_batch, ptrs.out_batch, ptrs.keys, ptrs.values);
    let size = attr_size!(uapi::bpf_attr__bindgen_ty_3, flags);
    // SAFETY: forwarded to the caller.
    let result = unsafe { bpf(cmd, &mut buf, size) };
    (result.map(drop), *member!(buf, batch))
}

/// Issues one of the `BPF_MAP_*_ELEM` commands.
///
/// # Safety
/// `key` and `value` must be null or valid for the map's key and (per-CPU) value sizes.
unsafe fn elem_cmd(cmd: bpf_cmd::Type, map: BorrowedFd<'_>, key: u64, value: u64, flags: u64) -> Result<(), SysError> {
    let mut buf = Attr::zeroed();
    let e = member!(buf, __bindgen_anon_2);
    e.map_fd = map.as_raw_fd() as u32;
    e.key = key;
    e.__bindgen_anon_1.value = value;
    e.flags = flags;
    let size = attr_size!(uapi::bpf_attr__bindgen_ty_2, flags);
    // SAFETY: forwarded to the caller.
    unsafe { bpf(cmd, &mut buf, size) }.map(drop)
}

/// Maps with a zero key size (queues, stacks, bloom filters) need a null key pointer.
fn key_ptr(key: &[u8]) -> u64 {
    if key.is_empty() {
        0
    } else {
        key.as_ptr() as u64
    }
}

pub(crate) fn fd_u32(fd: Option<BorrowedFd<'_>>) -> u32 {
    fd.map_or(0, |fd| fd.as_raw_fd() as u32)
}

/// Buffer sizes the kernel uses for one element of a map.
struct ElemSizes {
    key: usize,
    /// Value bytes per element as user space sees them (all CPUs for per-CPU maps).
    value: usize,
}

impl ElemSizes {
    fn of(map: BorrowedFd<'_>, op: &'static str) -> Result<Self, SysError> {
        // A failure here is reported as the info command's own (the caller says what it was
        // doing), so that an error names the command that really failed.
        let info = obj_get_info_by_fd::<uapi::bpf_map_info>(map)?;
        let mut value = info.value_size as usize;
        if is_per_cpu(info.type_) {
            let cpus = possible_cpus().map_err(|e| SysError::invalid(op, format!("reading possible CPUs: {e}")))?;
            value = value.next_multiple_of(8) * cpus;
        }
        Ok(ElemSizes { key: info.key_size as usize, value })
    }

    fn check_key(&self, op: &'static str, key: &[u8]) -> Result<(), SysError> {
        if key.len() < self.key {
            return Err(SysError::invalid(op, format!("key buffer of {} bytes, map keys have {}", key.len(), self.key)));
        }
        Ok(())
    }

    fn check_values(&self, op: &'static str, len: usize, count: u32) -> Result<(), SysError> {
        let need = self.value.saturating_mul(count as usize);
        if len < need {
            return Err(SysError::invalid(op, format!("value buffer of {len} bytes, {count} map value(s) need {need}")));
        }
        Ok(())
    }

    /// Number of whole keys in a buffer of `len` bytes.
    fn key_count(&self, op: &'static str, len: usize) -> Result<u32, SysError> {
        if self.key == 0 {
            return Err(SysError::invalid(op, "batch operations need a map with keys"));
        }
        u32::try_from(len / self.key).map_err(|_| SysError::invalid(op, "too many keys for one batch"))
    }
}

/// Map types whose values user space reads and writes once per possible CPU.
pub fn is_per_cpu(map_type: bpf_map_type::Type) -> bool {
    matches!(
        map_type,
        bpf_map_type::BPF_MAP_TYPE_PERCPU_HASH
            | bpf_map_type::BPF_MAP_TYPE_PERCPU_ARRAY
            | bpf_map_type::BPF_MAP_TYPE_LRU_PERCPU_HASH
            | bpf_map_type::BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE
    )
}
