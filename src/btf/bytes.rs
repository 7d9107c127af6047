//! Byte-order aware reading and writing of the fixed-size integers BTF is made of.

/// Byte order of a BTF or `.BTF.ext` blob, detected from its magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Endian {
    #[default]
    Little,
    Big,
}

/// The BTF magic as a native number; a blob of the other byte order reads it swapped.
pub(crate) const BTF_MAGIC: u16 = 0xeb9f;

impl Endian {
    /// Detects the byte order from the first two bytes of a blob.
    pub(crate) fn from_magic(bytes: [u8; 2]) -> Option<Endian> {
        if u16::from_le_bytes(bytes) == BTF_MAGIC {
            Some(Endian::Little)
        } else if u16::from_be_bytes(bytes) == BTF_MAGIC {
            Some(Endian::Big)
        } else {
            None
        }
    }
}

/// Reads integers from a byte slice; every read is bounds-checked and returns `None` past the end.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    pub data: &'a [u8],
    pub endian: Endian,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8], endian: Endian) -> Self {
        Reader { data, endian }
    }

    fn array<const N: usize>(&self, off: usize) -> Option<[u8; N]> {
        let end = off.checked_add(N)?;
        self.data.get(off..end)?.try_into().ok()
    }

    pub fn u32(&self, off: usize) -> Option<u32> {
        let b = self.array::<4>(off)?;
        Some(match self.endian {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        })
    }
}

/// Appends integers in a fixed byte order.
pub(crate) struct Writer {
    pub out: Vec<u8>,
    pub endian: Endian,
}

impl Writer {
    pub fn new(endian: Endian) -> Self {
        Writer {
            out: Vec::new(),
            endian,
        }
    }

    pub fn u8(&mut self, v: u8) {
        self.out.push(v);
    }

    pub fn u16(&mut self, v: u16) {
        let b = match self.endian {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        };
        self.out.extend_from_slice(&b);
    }

    pub fn u32(&mut self, v: u32) {
        let b = match self.endian {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        };
        self.out.extend_from_slice(&b);
    }
}
