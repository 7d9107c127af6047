//! A map of an opened object: its definition (changeable until load), its kernel fd after load,
//! and for global data its value memory (see [`MmapRegion`]).
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use crate::object::{MapOrigin, MapSlot, MapSpec, MapType};
use crate::sys::{self, uapi};

use super::error::LoadError;
use super::mmap::{mmap_size, MmapRegion};

/// libbpf's `LIBBPF_PIN_BY_NAME`.
pub const PIN_BY_NAME: u32 = 1;

#[derive(Debug)]
pub struct Map {
    pub(crate) name: String,
    pub(crate) real_name: String,
    pub(crate) origin: MapOrigin,
    pub(crate) map_type: MapType,
    pub(crate) key_size: u32,
    pub(crate) value_size: u32,
    pub(crate) max_entries: u32,
    pub(crate) map_flags: u32,
    pub(crate) numa_node: u32,
    pub(crate) map_extra: u64,
    pub(crate) ifindex: u32,
    pub(crate) pinning: u32,
    pub(crate) pin_path: Option<PathBuf>,
    pub(crate) pinned: bool,
    pub(crate) autocreate: bool,
    pub(crate) readonly: bool,
    pub(crate) btf_key_type_id: u32,
    pub(crate) btf_value_type_id: u32,
    /// Definition of the inner map (map-in-map): the template created at load.
    pub(crate) inner: Option<Box<Map>>,
    pub(crate) initial_slots: Vec<MapSlot>,
    /// Section offset of a `.maps` definition (relocations find the map by it).
    pub(crate) section_offset: u64,
    /// The value memory of global data and `.kconfig` maps.
    pub(crate) mmap: Option<MmapRegion>,
    pub(crate) fd: Option<OwnedFd>,
    /// The fd came from `reuse_fd` or a pinned map: the map is not created at load.
    pub(crate) reused: bool,
    pub(crate) loaded: bool,
}

impl Map {
    pub(crate) fn from_spec(spec: &MapSpec, section_data: Option<&[u8]>) -> Result<Map, LoadError> {
        let mut map = Map {
            name: spec.name.clone(),
            real_name: spec.real_name.clone(),
            origin: spec.origin.clone(),
            map_type: spec.map_type,
            key_size: spec.key_size,
            value_size: spec.value_size,
            max_entries: spec.max_entries,
            map_flags: spec.map_flags,
            numa_node: spec.numa_node,
            map_extra: spec.map_extra,
            ifindex: 0,
            pinning: spec.pinning,
            pin_path: None,
            pinned: false,
            autocreate: true,
            readonly: spec.readonly,
            btf_key_type_id: spec.key_type_id.unwrap_or(0),
            btf_value_type_id: spec.value_type_id.unwrap_or(0),
            inner: None,
            initial_slots: spec.initial_slots.clone(),
            section_offset: spec.section_offset,
            mmap: None,
            fd: None,
            reused: false,
            loaded: false,
        };
        if let Some(inner) = &spec.inner {
            map.inner = Some(Box::new(Map::from_spec(inner, None)?));
        }
        if map.has_value_memory() {
            let mut region = MmapRegion::anonymous(map.value_size as usize, mmap_size(map.value_size, 1))
                .map_err(|source| LoadError::Mmap { map: map.name.clone(), op: "allocating the initial value", source })?;
            if let Some(data) = section_data {
                let n = data.len().min(region.size());
                region
                    .write(0, &data[..n])
                    .map_err(|source| LoadError::Mmap { map: map.name.clone(), op: "copying the initial value", source })?;
            }
            map.mmap = Some(region);
        }
        Ok(map)
    }

    /// Global data and `.kconfig` maps keep their value in user memory before load.
    fn has_value_memory(&self) -> bool {
        matches!(self.origin, MapOrigin::Data | MapOrigin::Kconfig)
    }

    /// libbpf refuses some setters once the object was loaded (even if the load failed)...
    fn check_not_loaded(&self) -> Result<(), LoadError> {
        if self.loaded {
            return Err(LoadError::Busy { what: "map", name: self.name.clone() });
        }
        Ok(())
    }

    /// ...and others only while the map has an fd (created, reused or pinned-and-reused), so
    /// they succeed again after a failed load closed it, or for maps not created.
    fn check_no_fd(&self) -> Result<(), LoadError> {
        if self.fd.is_some() {
            return Err(LoadError::Busy { what: "map", name: self.name.clone() });
        }
        Ok(())
    }

    fn invalid(&self, reason: impl Into<String>) -> LoadError {
        LoadError::Invalid { what: "map", name: self.name.clone(), reason: reason.into() }
    }

    // ----------------------------------------------------------------- getters

    pub fn name(&self) -> &str {
        &self.name
    }
    /// Variable name for `.maps` maps, section name for global data.
    pub fn real_name(&self) -> &str {
        &self.real_name
    }
    pub fn origin(&self) -> &MapOrigin {
        &self.origin
    }
    /// libbpf's `bpf_map__is_internal`: global data and `.kconfig` maps.
    pub fn is_internal(&self) -> bool {
        self.has_value_memory()
    }
    pub fn map_type(&self) -> MapType {
        self.map_type
    }
    pub fn key_size(&self) -> u32 {
        self.key_size
    }
    pub fn value_size(&self) -> u32 {
        self.value_size
    }
    pub fn max_entries(&self) -> u32 {
        self.max_entries
    }
    pub fn map_flags(&self) -> u32 {
        self.map_flags
    }
    pub fn numa_node(&self) -> u32 {
        self.numa_node
    }
    pub fn map_extra(&self) -> u64 {
        self.map_extra
    }
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }
    pub fn btf_key_type_id(&self) -> u32 {
        self.btf_key_type_id
    }
    pub fn btf_value_type_id(&self) -> u32 {
        self.btf_value_type_id
    }
    /// The `pinning` attribute of the definition (`PIN_BY_NAME` or 0).
    pub fn pinning(&self) -> u32 {
        self.pinning
    }
    /// Offset of the definition in `.maps` (0 for internal maps).
    pub fn section_offset(&self) -> u64 {
        self.section_offset
    }
    pub fn pin_path(&self) -> Option<&Path> {
        self.pin_path.as_deref()
    }
    pub fn is_pinned(&self) -> bool {
        self.pinned
    }
    pub fn autocreate(&self) -> bool {
        self.autocreate
    }
    pub fn inner_map(&self) -> Option<&Map> {
        self.inner.as_deref()
    }
    pub fn inner_map_mut(&mut self) -> Option<&mut Map> {
        self.inner.as_deref_mut()
    }
    pub fn initial_slots(&self) -> &[MapSlot] {
        &self.initial_slots
    }
    /// The map's fd once created (or reused).
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.fd.as_ref().map(|fd| fd.as_fd())
    }
    pub fn is_reused(&self) -> bool {
        self.reused
    }

    /// The value memory of global data/`.kconfig` maps: pointer and size (libbpf's
    /// `bpf_map__initial_value`). Before load it is the initial image; after load the same
    /// address shows the live map (read-only for `.rodata`).
    pub fn initial_value(&self) -> Option<(*mut u8, usize)> {
        self.mmap.as_ref().map(|m| (m.as_ptr(), m.size()))
    }

    /// The value bytes (see [`Map::initial_value`]).
    pub fn initial_value_bytes(&self) -> Option<&[u8]> {
        self.mmap.as_ref().map(|m| m.bytes())
    }

    // ----------------------------------------------------------------- setters (before load)

    pub fn set_type(&mut self, map_type: MapType) -> Result<(), LoadError> {
        self.check_no_fd()?;
        self.map_type = map_type;
        Ok(())
    }
    pub fn set_key_size(&mut self, size: u32) -> Result<(), LoadError> {
        self.check_no_fd()?;
        if self.key_size != size {
            // The BTF key type no longer describes the key.
            self.btf_key_type_id = 0;
            self.btf_value_type_id = 0;
        }
        self.key_size = size;
        Ok(())
    }

    /// Changes the value size; a global data map's memory is reallocated (its address changes,
    /// like libbpf's `bpf_map__set_value_size`) and its BTF value type dropped.
    pub fn set_value_size(&mut self, size: u32) -> Result<(), LoadError> {
        self.check_no_fd()?;
        if let Some(region) = &self.mmap {
            if self.map_type != MapType::ARRAY {
                return Err(self.invalid("only ARRAY data maps can be resized"));
            }
            let new = region
                .resized(size as usize, mmap_size(size, self.max_entries))
                .map_err(|source| LoadError::Mmap { map: self.name.clone(), op: "resizing the value", source })?;
            self.mmap = Some(new);
        }
        if self.value_size != size {
            self.btf_key_type_id = 0;
            self.btf_value_type_id = 0;
        }
        self.value_size = size;
        Ok(())
    }

    pub fn set_max_entries(&mut self, max_entries: u32) -> Result<(), LoadError> {
        self.check_not_loaded()?;
        if self.is_internal() && max_entries != 1 {
            return Err(self.invalid("global data maps have exactly one entry"));
        }
        self.max_entries = max_entries;
        Ok(())
    }
    pub fn set_map_flags(&mut self, flags: u32) -> Result<(), LoadError> {
        self.check_no_fd()?;
        self.map_flags = flags;
        Ok(())
    }
    pub fn set_numa_node(&mut self, node: u32) -> Result<(), LoadError> {
        self.check_no_fd()?;
        self.numa_node = node;
        Ok(())
    }
    pub fn set_map_extra(&mut self, extra: u64) -> Result<(), LoadError> {
        self.check_no_fd()?;
        self.map_extra = extra;
        Ok(())
    }
    pub fn set_ifindex(&mut self, ifindex: u32) -> Result<(), LoadError> {
        self.check_no_fd()?;
        self.ifindex = ifindex;
        Ok(())
    }
    pub fn set_autocreate(&mut self, autocreate: bool) -> Result<(), LoadError> {
        self.check_not_loaded()?;
        self.autocreate = autocreate;
        Ok(())
    }
    /// Sets (or with `None` clears) where the map is pinned; at load an existing compatible
    /// pinned map there is reused, otherwise the new map is pinned there.
    pub fn set_pin_path(&mut self, path: Option<&Path>) -> Result<(), LoadError> {
        self.pin_path = path.map(Path::to_path_buf);
        Ok(())
    }

    /// Replaces the initial value (libbpf's `bpf_map__set_initial_value`): `data` must be
    /// exactly the value size.
    pub fn set_initial_value(&mut self, data: &[u8]) -> Result<(), LoadError> {
        if self.fd.is_some() {
            return Err(self.invalid("the map exists in the kernel; its initial value can't change"));
        }
        if self.origin == MapOrigin::Kconfig {
            return Err(self.invalid(".kconfig values come from the kernel configuration"));
        }
        let Some(region) = self.mmap.as_mut() else {
            return Err(self.invalid("only global data maps have an initial value"));
        };
        if data.len() != region.size() {
            return Err(LoadError::Invalid {
                what: "map",
                name: self.name.clone(),
                reason: format!("initial value of {} bytes, the value has {}", data.len(), region.size()),
            });
        }
        region
            .write(0, data)
            .map_err(|source| LoadError::Mmap { map: self.name.clone(), op: "writing the initial value", source })
    }

    /// Adopts an existing map (libbpf's `bpf_map__reuse_fd`): the fd is duplicated, the
    /// definition taken from the kernel, and the map is not created at load.
    /// Like libbpf 1.1 this is allowed at any time (an existing fd is replaced).
    pub fn reuse_fd(&mut self, fd: BorrowedFd<'_>) -> Result<(), LoadError> {
        let info = sys::obj_get_info_by_fd::<uapi::bpf_map_info>(fd)
            .map_err(|source| LoadError::Map { map: self.name.clone(), op: "reading the reused map's info", source })?;
        let dup = fd.try_clone_to_owned().map_err(|e| LoadError::Map {
            map: self.name.clone(),
            op: "duplicating the reused fd",
            source: sys::SysError::new("F_DUPFD_CLOEXEC", e.raw_os_error().unwrap_or(libc::EBADF)),
        })?;
        let name = sys::c_chars_to_string(&info.name);
        if !name.is_empty() {
            self.name = name;
        }
        self.map_type = MapType(info.type_);
        self.key_size = info.key_size;
        self.value_size = info.value_size;
        self.max_entries = info.max_entries;
        self.map_flags = info.map_flags;
        self.map_extra = info.map_extra;
        self.btf_key_type_id = info.btf_key_type_id;
        self.btf_value_type_id = info.btf_value_type_id;
        self.fd = Some(dup);
        self.reused = true;
        Ok(())
    }

    // ----------------------------------------------------------------- pinning

    /// Pins the map at `path` or its pin path, with libbpf 1.1's rules: a path different from
    /// the pin path is refused, pinning twice at the pin path is a no-op, a given path becomes
    /// the pin path, the parent directory is created (one level) and must be on a bpffs.
    pub fn pin(&mut self, path: Option<&Path>) -> Result<(), LoadError> {
        match (&self.pin_path, path) {
            (Some(existing), Some(p)) if existing != p => {
                return Err(self.invalid(format!("already has pin path '{}' different from '{}'", existing.display(), p.display())));
            }
            (Some(_), _) if self.pinned => return Ok(()),
            (Some(_), _) => {}
            (None, None) => return Err(self.invalid("missing a path to pin the map at")),
            (None, Some(_)) if self.pinned => {
                return Err(LoadError::Pin {
                    map: self.name.clone(),
                    op: "pin",
                    path: String::new(),
                    source: sys::SysError::new("already pinned", libc::EEXIST),
                })
            }
            (None, Some(p)) => self.pin_path = Some(p.to_path_buf()),
        }
        let path = self.pin_path.clone().unwrap_or_default();
        make_parent_dir(&path)?;
        check_bpffs_path("map", &self.name, &path)?;
        let fd = self.fd.as_ref().ok_or_else(|| LoadError::Pin {
            map: self.name.clone(),
            op: "BPF_OBJ_PIN",
            path: path.display().to_string(),
            source: sys::SysError::new("the map was not created", libc::EBADF),
        })?;
        sys::obj_pin(fd.as_fd(), &path).map_err(|source| LoadError::Pin {
            map: self.name.clone(),
            op: "BPF_OBJ_PIN",
            path: path.display().to_string(),
            source,
        })?;
        self.pinned = true;
        Ok(())
    }

    /// Removes the pin at `path` or the pin path (a path different from the pin path is
    /// refused, like libbpf 1.1).
    pub fn unpin(&mut self, path: Option<&Path>) -> Result<(), LoadError> {
        let path = match (&self.pin_path, path) {
            (Some(existing), Some(p)) if existing != p => {
                return Err(self.invalid(format!("already has pin path '{}' different from '{}'", existing.display(), p.display())));
            }
            (Some(existing), _) => existing.clone(),
            (None, Some(p)) => p.to_path_buf(),
            (None, None) => return Err(self.invalid("no path to unpin the map from")),
        };
        check_bpffs_path("map", &self.name, &path)?;
        std::fs::remove_file(&path).map_err(|source| LoadError::Io { path: path.display().to_string(), source })?;
        self.pinned = false;
        Ok(())
    }

    // ----------------------------------------------------------------- element access

    fn live_fd(&self) -> Result<BorrowedFd<'_>, LoadError> {
        self.fd().ok_or_else(|| self.invalid("map has no fd (not loaded or not created)"))
    }

    pub fn lookup_elem(&self, key: &[u8], value: &mut [u8], flags: u64) -> Result<(), LoadError> {
        sys::map_lookup_elem(self.live_fd()?, key, value, flags)
            .map_err(|source| LoadError::Map { map: self.name.clone(), op: "lookup", source })
    }
    pub fn update_elem(&self, key: &[u8], value: &[u8], flags: u64) -> Result<(), LoadError> {
        sys::map_update_elem(self.live_fd()?, key, value, flags)
            .map_err(|source| LoadError::Map { map: self.name.clone(), op: "update", source })
    }
    pub fn delete_elem(&self, key: &[u8], flags: u64) -> Result<(), LoadError> {
        sys::map_delete_elem(self.live_fd()?, key, flags)
            .map_err(|source| LoadError::Map { map: self.name.clone(), op: "delete", source })
    }
    pub fn get_next_key(&self, key: Option<&[u8]>, next: &mut [u8]) -> Result<(), LoadError> {
        sys::map_get_next_key(self.live_fd()?, key, next)
            .map_err(|source| LoadError::Map { map: self.name.clone(), op: "get_next_key", source })
    }
}

/// Creates the pin path's parent directory (one level, mode 0700) unless it exists, as libbpf
/// does before pinning.
pub(crate) fn make_parent_dir(path: &Path) -> Result<(), LoadError> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else { return Ok(()) };
    let mut builder = std::fs::DirBuilder::new();
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(LoadError::Io { path: dir.display().to_string(), source: e }),
        _ => Ok(()),
    }
}

/// libbpf's `check_path`: the directory of a pin path must be on a bpffs (`EINVAL` otherwise).
pub(crate) fn check_bpffs_path(what: &'static str, name: &str, path: &Path) -> Result<(), LoadError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match sys::bpffs::is_bpffs(dir) {
        Ok(true) => Ok(()),
        Ok(false) => Err(LoadError::Invalid { what, name: name.to_string(), reason: format!("pin path {} is not on BPF FS", path.display()) }),
        Err(source) => Err(LoadError::Io { path: dir.display().to_string(), source }),
    }
}
