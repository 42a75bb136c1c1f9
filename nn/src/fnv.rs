//! FNV-1a, 64 bits: a small, dependency-free hash for checksums and fingerprints that catch
//! corruption and change (not tampering): a checkpoint's checksum, the replicas' parameter
//! agreement, a task's labels.

/// The running hash. `0xcbf29ce484222325` is the offset basis, `0x100000001b3` the prime.
#[derive(Clone, Copy, Debug)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    /// Adds `bytes` as they are.
    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Fnv1a {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        self
    }

    /// Adds `bytes`, then their length, so that ("ab", "c") and ("a", "bc") hash differently.
    pub fn field(&mut self, bytes: &[u8]) -> &mut Fnv1a {
        self.bytes(bytes).bytes(&(bytes.len() as u64).to_le_bytes())
    }

    /// The hash so far.
    pub fn value(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published FNV-1a 64 test vectors, and fields that differ only in where they split.
    #[test]
    fn known_values_and_separate_fields() {
        assert_eq!(Fnv1a::default().value(), 0xcbf2_9ce4_8422_2325);
        assert_eq!(Fnv1a::default().bytes(b"a").value(), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(
            Fnv1a::default().bytes(b"foobar").value(),
            0x8594_4171_f739_67e8
        );
        let (mut ab_c, mut a_bc) = (Fnv1a::default(), Fnv1a::default());
        ab_c.field(b"ab").field(b"c");
        a_bc.field(b"a").field(b"bc");
        assert_ne!(ab_c.value(), a_bc.value());
    }
}
