//! The registry of live C handles, so that a closed, freed or made-up pointer is refused with
//! `EINVAL` and a sentence instead of being dereferenced.
//!
//! `struct bpf_object *` and caller-owned `struct btf *` are `Box` pointers; program and map
//! handles live in boxed slices inside their object. The registry records, per live object,
//! the address ranges of those slices (keyed by start address, so finding the slice that
//! contains a pointer is one ordered-map lookup) and the BTF view it handed out. Every entry
//! point asks here before it turns a pointer into a reference: one mutex lock and one lookup.
//!
//! Limits: a freed address that the allocator hands to a new object of the same kind is
//! indistinguishable from the old handle; and validation is not synchronisation: closing an
//! object on one thread while another thread uses it remains the caller's bug, as in libbpf.
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use parking_lot::Mutex;

use super::btf::btf;
use super::guard::{CError, CResult};
use super::map::bpf_map;
use super::object::bpf_object;
use super::program::bpf_program;

/// Who frees a `struct btf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BtfOwner {
    /// The caller, with `btf__free` (handles from `btf__new`, `btf__parse`, ...).
    Caller,
    /// The object at this address, at `bpf_object__close` (`bpf_object__btf`).
    Object(usize),
}

/// Which slice of an object a handle range is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SliceKind {
    Programs,
    Maps,
}

/// One live object's handle slice: `[start, end)` of `size`-byte elements.
#[derive(Debug, Clone, Copy)]
struct Span {
    end: usize,
    elem_size: usize,
}

#[derive(Default)]
struct Registry {
    /// Live objects and the BTF view each handed out (if any).
    objects: HashMap<usize, Option<usize>>,
    /// Program and map slices of live objects, by start address.
    programs: BTreeMap<usize, Span>,
    maps: BTreeMap<usize, Span>,
    btfs: HashMap<usize, BtfOwner>,
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);

fn with_registry<R>(f: impl FnOnce(&mut Registry) -> R) -> R {
    let mut guard = REGISTRY.lock();
    f(guard.get_or_insert_with(Registry::default))
}

/// The address range of a slice, or None when it is empty (an empty boxed slice's pointer is
/// dangling and may equal anything).
fn slice_range<T>(items: &[T]) -> Option<Range<usize>> {
    if items.is_empty() || std::mem::size_of::<T>() == 0 {
        return None;
    }
    let start = items.as_ptr() as usize;
    Some(start..start + std::mem::size_of_val(items))
}

impl Registry {
    fn spans(&mut self, kind: SliceKind) -> &mut BTreeMap<usize, Span> {
        match kind {
            SliceKind::Programs => &mut self.programs,
            SliceKind::Maps => &mut self.maps,
        }
    }

    fn add_span<T>(&mut self, kind: SliceKind, items: &[T]) {
        if let Some(range) = slice_range(items) {
            let span = Span { end: range.end, elem_size: std::mem::size_of::<T>() };
            self.spans(kind).insert(range.start, span);
        }
    }

    fn remove_span<T>(&mut self, kind: SliceKind, items: &[T]) {
        if let Some(range) = slice_range(items) {
            self.spans(kind).remove(&range.start);
        }
    }

    /// Whether `addr` is the start of an element of a registered slice.
    fn contains(&mut self, kind: SliceKind, addr: usize) -> bool {
        let Some((&start, span)) = self.spans(kind).range(..=addr).next_back() else { return false };
        addr < span.end && (addr - start) % span.elem_size == 0
    }
}

/// Records a newly opened object with its program and map slices (which never change size).
pub(crate) fn register_object(obj: &bpf_object) {
    with_registry(|r| {
        r.objects.insert(obj as *const bpf_object as usize, None);
        r.add_span(SliceKind::Programs, &obj.programs);
        r.add_span(SliceKind::Maps, &obj.maps);
    });
}

/// Forgets an object about to be closed, with its handles and its BTF view. Returns false,
/// touching nothing, when `obj` is not a live object.
pub(crate) fn unregister_object(obj: *const bpf_object) -> bool {
    with_registry(|r| {
        let Some(btf_view) = r.objects.remove(&(obj as usize)) else { return false };
        if let Some(b) = btf_view {
            r.btfs.remove(&b);
        }
        // SAFETY: obj was registered and not yet unregistered, so it is a live object.
        let obj = unsafe { &*obj };
        r.remove_span(SliceKind::Programs, &obj.programs);
        r.remove_span(SliceKind::Maps, &obj.maps);
        true
    })
}

/// Records the BTF view an object hands out (`bpf_object__btf`): usable until the object is
/// closed, never by `btf__free`.
pub(crate) fn register_object_btf(obj: *const bpf_object, b: *const btf) {
    with_registry(|r| {
        if let Some(view) = r.objects.get_mut(&(obj as usize)) {
            *view = Some(b as usize);
            r.btfs.insert(b as usize, BtfOwner::Object(obj as usize));
        }
    });
}

/// Records a `struct btf` the caller owns and frees with `btf__free`.
pub(crate) fn register_btf(b: *const btf) {
    with_registry(|r| r.btfs.insert(b as usize, BtfOwner::Caller));
}

/// Forgets a caller-owned BTF about to be freed; refuses unknown and object-owned ones.
pub(crate) fn unregister_btf(b: *const btf) -> CResult<()> {
    with_registry(|r| match r.btfs.get(&(b as usize)) {
        None => Err(not_live(b, "btf", "freed or never created")),
        Some(BtfOwner::Object(obj)) => Err(CError::invalid(format!(
            "{b:p} is the BTF of bpf_object {:#x}, freed by bpf_object__close; ignored",
            obj
        ))),
        Some(BtfOwner::Caller) => {
            r.btfs.remove(&(b as usize));
            Ok(())
        }
    })
}

fn not_live<T>(ptr: *const T, kind: &str, why: &str) -> CError {
    CError::invalid(format!("{ptr:p} is not a live {kind} ({why})"))
}

fn null(what: &str) -> CError {
    CError::invalid(format!("{what} is NULL"))
}

fn is_live_object(addr: usize) -> bool {
    with_registry(|r| r.objects.contains_key(&addr))
}

/// Checks that `obj` is a live object (NULL or unknown: `EINVAL` with a sentence).
pub(crate) fn check_object(obj: *const bpf_object) -> CResult<()> {
    if obj.is_null() {
        return Err(null("obj"));
    }
    if !is_live_object(obj as usize) {
        return Err(not_live(obj, "bpf_object", "closed or never opened"));
    }
    Ok(())
}

/// A live object, shared.
///
/// # Safety
/// No exclusive reference to the object may be live for `'a`.
pub(crate) unsafe fn object_ref<'a>(obj: *const bpf_object) -> CResult<&'a bpf_object> {
    check_object(obj)?;
    // SAFETY: registered objects are live Box allocations.
    Ok(unsafe { &*obj })
}

/// A live object, exclusive.
///
/// # Safety
/// No other reference to the object may be live for `'a`.
pub(crate) unsafe fn object_mut<'a>(obj: *mut bpf_object) -> CResult<&'a mut bpf_object> {
    check_object(obj)?;
    // SAFETY: registered objects are live Box allocations; exclusivity per the contract.
    Ok(unsafe { &mut *obj })
}

/// Checks that `prog` is a program handle of a live object.
pub(crate) fn check_program(prog: *const bpf_program) -> CResult<()> {
    if prog.is_null() {
        return Err(null("prog"));
    }
    if !with_registry(|r| r.contains(SliceKind::Programs, prog as usize)) {
        return Err(not_live(prog, "bpf_program", "its object was closed, or it never was a program"));
    }
    Ok(())
}

/// Checks that `map` is a map handle of a live object.
pub(crate) fn check_map(map: *const bpf_map) -> CResult<()> {
    if map.is_null() {
        return Err(null("map"));
    }
    if !with_registry(|r| r.contains(SliceKind::Maps, map as usize)) {
        return Err(not_live(map, "bpf_map", "its object was closed, or it never was a map"));
    }
    Ok(())
}

/// Checks that `b` is a live `struct btf` (caller-owned, or the view of a live object).
pub(crate) fn check_btf(b: *const btf) -> CResult<()> {
    if b.is_null() {
        return Err(null("btf"));
    }
    if !with_registry(|r| r.btfs.contains_key(&(b as usize))) {
        return Err(not_live(b, "btf", "freed, its object closed, or never created"));
    }
    Ok(())
}

/// A live BTF, shared.
///
/// # Safety
/// No exclusive reference to it may be live for `'a`.
pub(crate) unsafe fn btf_ref<'a>(b: *const btf) -> CResult<&'a btf> {
    check_btf(b)?;
    // SAFETY: registered BTF handles are live Box allocations.
    Ok(unsafe { &*b })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_lookup_accepts_element_starts_only() {
        let mut r = Registry::default();
        let items = [0u64; 3];
        r.add_span(SliceKind::Maps, &items);
        let base = items.as_ptr() as usize;
        assert!(r.contains(SliceKind::Maps, base));
        assert!(r.contains(SliceKind::Maps, base + 16));
        assert!(!r.contains(SliceKind::Maps, base + 4), "inside an element");
        assert!(!r.contains(SliceKind::Maps, base + 24), "one past the end");
        assert!(!r.contains(SliceKind::Programs, base), "other kind");
        r.remove_span(SliceKind::Maps, &items);
        assert!(!r.contains(SliceKind::Maps, base));
    }

    #[test]
    fn empty_slices_register_nothing() {
        let mut r = Registry::default();
        let none: [u64; 0] = [];
        r.add_span(SliceKind::Programs, &none);
        assert!(r.programs.is_empty());
    }

    #[test]
    fn unknown_pointers_are_refused_with_a_sentence() {
        let fake = 0x1000 as *const bpf_object;
        let err = check_object(fake).unwrap_err();
        assert_eq!(err.errno, libc::EINVAL);
        assert_eq!(err.message.as_deref(), Some("0x1000 is not a live bpf_object (closed or never opened)"));
        assert_eq!(check_object(std::ptr::null()).unwrap_err(), CError::invalid("obj is NULL"));
        assert!(!unregister_object(fake));
        assert!(unregister_btf(0x2000 as *const btf).is_err());
    }
}
