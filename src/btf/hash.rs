//! A fast hash for the names and type records the linker and dedup index, seeded once per
//! process.
//!
//! Why seeded: names come from the input objects, so with a fixed hash function crafted names
//! could all land on one hash and turn every index lookup into a scan of all of them. With a
//! secret per-process seed nobody can compute such a set in advance. Why not SipHash (std's
//! `RandomState`): it costs several times more per short name, and every name of every input
//! goes through these indexes. Hashes only ever pick buckets and candidates, which are then
//! compared exactly, so no output depends on the seed.
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

/// Odd constants with well-spread bits (from the digits of pi), combined with the seed.
const MUL_A: u64 = 0x243f_6a88_85a3_08d3;
const MUL_B: u64 = 0x1319_8a2e_0370_7344;

/// The process seed, drawn from std's randomly keyed SipHash state (seeded by the OS).
fn process_seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| std::collections::hash_map::RandomState::new().hash_one(0x0062_7066_6c69_6e6b_u64))
}

/// The 128-bit product of `a` and `b`, its halves folded together: every input bit reaches
/// the result, unlike a plain 64-bit multiply whose low bits ignore the high ones.
#[inline]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Hashes 64-bit words (and byte strings as words) under the process seed.
#[derive(Clone, Copy)]
pub struct SeededHasher {
    acc: u64,
    key: u64,
}

impl Default for SeededHasher {
    fn default() -> Self {
        let seed = process_seed();
        SeededHasher { acc: seed, key: (seed ^ MUL_B) | 1 }
    }
}

impl SeededHasher {
    #[inline]
    pub fn add(&mut self, word: u64) {
        self.acc = folded_multiply(self.acc ^ word, self.key ^ MUL_A);
    }

    /// Adds the bytes, then their length (so that trailing zero bytes count).
    #[inline]
    pub fn add_bytes(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.add(u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]));
        }
        let tail = words.remainder();
        if !tail.is_empty() {
            self.add(tail_word(tail));
        }
        self.add(bytes.len() as u64);
    }

    #[inline]
    pub fn finish_word(&self) -> u64 {
        folded_multiply(self.acc, self.key)
    }

    /// The hash of one byte string.
    #[inline]
    pub fn of_bytes(bytes: &[u8]) -> u64 {
        let mut h = SeededHasher::default();
        h.add_bytes(bytes);
        h.finish_word()
    }
}

impl Hasher for SeededHasher {
    fn finish(&self) -> u64 {
        self.finish_word()
    }
    fn write(&mut self, bytes: &[u8]) {
        self.add_bytes(bytes);
    }
    fn write_u32(&mut self, v: u32) {
        self.add(u64::from(v));
    }
    fn write_u64(&mut self, v: u64) {
        self.add(v);
    }
    fn write_usize(&mut self, v: usize) {
        self.add(v as u64);
    }
}

/// `BuildHasher` for `HashMap`s keyed by names or ids.
#[derive(Clone, Copy, Default)]
pub struct Seeded;

impl BuildHasher for Seeded {
    type Hasher = SeededHasher;
    fn build_hasher(&self) -> SeededHasher {
        SeededHasher::default()
    }
}

/// For maps whose keys already are seeded hashes: the key is its own hash.
#[derive(Default)]
pub struct PrehashedHasher(u64);

impl Hasher for PrehashedHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Not used by u64 keys; any stable fold of the bytes would do.
        self.0 = SeededHasher::of_bytes(bytes);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

pub type Prehashed = std::hash::BuildHasherDefault<PrehashedHasher>;

/// The 1..=7 bytes of `tail` as a little-endian word, zero-extended, read with at most two
/// loads whose overlap repeats the same bytes at the same places.
#[inline]
fn tail_word(tail: &[u8]) -> u64 {
    let n = tail.len();
    let u32_at = |at: usize| tail.get(at..at + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let byte_at = |at: usize| tail.get(at).map_or(0, |&b| u64::from(b));
    match n {
        0 => 0,
        1..=3 => byte_at(0) | byte_at(n / 2) << (8 * (n / 2)) | byte_at(n - 1) << (8 * (n - 1)),
        4..=7 => u64::from(u32_at(0)) | u64::from(u32_at(n - 4)) << (8 * (n - 4)),
        _ => tail.iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_word_is_the_little_endian_value_of_the_bytes() {
        let bytes = [0x11u8, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77];
        for n in 0..=bytes.len() {
            let expected = bytes[..n].iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            assert_eq!(tail_word(&bytes[..n]), expected, "{n} bytes");
        }
    }

    #[test]
    fn equal_bytes_hash_equal_and_lengths_count() {
        assert_eq!(SeededHasher::of_bytes(b"task_struct"), SeededHasher::of_bytes(b"task_struct"));
        assert_ne!(SeededHasher::of_bytes(b"a"), SeededHasher::of_bytes(b"a\0"));
        assert_ne!(SeededHasher::of_bytes(b""), SeededHasher::of_bytes(b"\0"));
    }

    #[test]
    fn short_names_spread_over_buckets() {
        // 4096 names p0..p4095 must not crowd into a few of 256 buckets.
        let mut buckets = [0u32; 256];
        for i in 0..4096 {
            buckets[(SeededHasher::of_bytes(format!("p{i}").as_bytes()) & 255) as usize] += 1;
        }
        assert!(buckets.iter().all(|&n| n < 48), "{buckets:?}");
    }
}
