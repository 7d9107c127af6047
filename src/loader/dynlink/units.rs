//! Loaded objects' code made ready for linking into a program: the provider images a program
//! (transitively) imports from, with their maps and BTF reopened by id.
//!
//! Opening by id is what makes the registry's plain data usable, and holding the fds is what
//! makes a dependent keep its providers alive (one-way, as the seed asks): an object that
//! bound to providers keeps their maps and BTF open for its own life, so code imported from
//! them later (for example into extensions of a library's functions) still finds them.
use std::collections::{HashMap, VecDeque};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::Arc;

use crate::btf::{Btf, BtfShift};
use crate::linker::dynamic::ProviderImage;
use crate::sys;

use super::super::error::LoadError;
use super::super::externs::{ExternValue, ResolvedExterns};
use super::super::link::LinkContext;

/// One provider ready for linking.
pub(crate) struct ImportedUnit {
    pub image: Arc<ProviderImage>,
    /// The provider's map fds, in `image.maps` order.
    maps: Vec<OwnedFd>,
    btf_fd: OwnedFd,
    /// The provider's kernel externs, plus its own extern functions bound to other units.
    externs: ResolvedExterns,
}

/// Providers and (transitively) the providers they were bound to, each once, as link units
/// numbered from `first_unit`.
pub(crate) struct ImportSet {
    pub first_unit: usize,
    pub units: Vec<ImportedUnit>,
}

/// A provider's kernel object could not be reopened by id (`ENOENT`: it was unloaded).
fn gone(image: &ProviderImage, what: String, source: sys::SysError) -> LoadError {
    let hint = if source.is(libc::ENOENT) { "; was it unloaded?" } else { "" };
    LoadError::Kernel { what: format!("reopening {what} of provider '{}'{hint}", image.object), source }
}

impl std::fmt::Debug for ImportSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.units.iter().map(|u| u.image.object.as_str()).collect();
        f.debug_struct("ImportSet").field("first_unit", &self.first_unit).field("providers", &names).finish()
    }
}

impl ImportSet {
    /// `roots` and everything they depend on, breadth first; units numbered from `first_unit`.
    pub fn closure<'i>(roots: impl IntoIterator<Item = &'i Arc<ProviderImage>>, first_unit: usize) -> Result<ImportSet, LoadError> {
        let mut images: Vec<Arc<ProviderImage>> = Vec::new();
        let mut queue: VecDeque<Arc<ProviderImage>> = roots.into_iter().cloned().collect();
        while let Some(image) = queue.pop_front() {
            if images.iter().any(|i| i.token == image.token) {
                continue;
            }
            queue.extend(image.deps.iter().map(|(_, dep)| dep.clone()));
            images.push(image);
        }
        let unit_of: HashMap<u64, usize> = images.iter().enumerate().map(|(i, img)| (img.token, first_unit + i)).collect();
        let mut units = Vec::with_capacity(images.len());
        for image in images {
            let maps = image
                .maps
                .iter()
                .map(|m| sys::map_get_fd_by_id(m.id, 0).map_err(|e| gone(&image, format!("map '{}' (id {})", m.name, m.id), e)))
                .collect::<Result<Vec<_>, _>>()?;
            let btf_fd = sys::btf_get_fd_by_id(image.btf_id).map_err(|e| gone(&image, format!("BTF (id {})", image.btf_id), e))?;
            let mut externs = ResolvedExterns { values: image.externs.clone() };
            for (name, dep) in &image.deps {
                externs.values.insert(name.clone(), ExternValue::Function { provider_unit: unit_of.get(&dep.token).copied() });
            }
            units.push(ImportedUnit { image, maps, btf_fd, externs });
        }
        Ok(ImportSet { first_unit, units })
    }

    /// The link unit number of the provider with registry token `token`.
    pub fn unit_of(&self, token: u64) -> Option<usize> {
        self.units.iter().position(|u| u.image.token == token).map(|i| self.first_unit + i)
    }

    /// The image of link unit `unit`.
    pub fn image(&self, unit: usize) -> Option<&Arc<ProviderImage>> {
        unit.checked_sub(self.first_unit).and_then(|i| self.units.get(i)).map(|u| &u.image)
    }

    /// The kernel's (fixed-up) BTF of each unit, appended to `btf`; returns each unit's shift.
    pub fn append_btfs(&self, btf: &mut Btf) -> Result<Vec<BtfShift>, LoadError> {
        let mut shifts = Vec::with_capacity(self.units.len());
        for unit in &self.units {
            let object = &unit.image.object;
            let data = sys::btf_data(unit.btf_fd.as_fd()).map_err(|e| gone(&unit.image, "BTF".into(), e))?;
            let theirs = Btf::parse(&data).map_err(|source| LoadError::Btf { object: object.clone(), source })?;
            let shift = btf.append_btf(&theirs).map_err(|source| LoadError::Btf { object: object.clone(), source })?;
            shifts.push(shift);
        }
        Ok(shifts)
    }

    /// The kernel BTF fd of the unit numbered `unit`.
    pub fn btf_fd(&self, unit: usize) -> Option<std::os::fd::BorrowedFd<'_>> {
        unit.checked_sub(self.first_unit).and_then(|i| self.units.get(i)).map(|u| u.btf_fd.as_fd())
    }

    /// Link contexts of every unit, with `shifts` (from [`ImportSet::append_btfs`]; empty:
    /// the units' records keep their own ids, for a program loaded with the first unit's BTF).
    pub fn contexts(&self, shifts: &[BtfShift]) -> Vec<LinkContext<'_>> {
        let mut out = Vec::with_capacity(self.units.len());
        for (i, unit) in self.units.iter().enumerate() {
            let image = &unit.image;
            let mut ctx = LinkContext::new(&image.spec, &image.code, &unit.externs, self.first_unit + i);
            for (m, fd) in image.maps.iter().zip(&unit.maps) {
                ctx.add_map(&m.name, &m.real_name, &m.origin, Some(fd.as_raw_fd()));
            }
            ctx.btf_ext = image.btf_ext.as_deref();
            ctx.btf_shift = shifts.get(i).copied().unwrap_or_default();
            out.push(ctx);
        }
        out
    }
}
