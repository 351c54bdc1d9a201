//! Hash slots: CRC16 (XMODEM) of the key or its hash tag, mod 16384
//! (cluster.c: keyHashSlot(), crc16.c), and the 16384-bit slot sets that
//! nodes claim in every bus header.

use std::fmt::Write as _;

/// `CLUSTER_SLOTS`.
pub const SLOTS: usize = 16384;

/// CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection.
pub fn crc16(bytes: &[u8]) -> u16 {
    const TABLE: [u16; 256] = table();
    bytes.iter().fold(0u16, |crc, &b| {
        (crc << 8) ^ TABLE[(((crc >> 8) as u8) ^ b) as usize]
    })
}

const fn table() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            bit += 1;
        }
        t[i] = crc;
        i += 1;
    }
    t
}

/// The slot of a key: only the hash tag is hashed when the key has one
/// (the first `{`, then the first `}` after it, with something between).
pub fn key_hash_slot(key: &[u8]) -> u16 {
    let hashed = hash_tag(key).unwrap_or(key);
    crc16(hashed) & 0x3FFF
}

fn hash_tag(key: &[u8]) -> Option<&[u8]> {
    let open = key.iter().position(|&b| b == b'{')?;
    let close = key[open + 1..].iter().position(|&b| b == b'}')?;
    (close > 0).then(|| &key[open + 1..open + 1 + close])
}

/// A set of slots, as the 2048-byte bitmap of a bus header.
#[derive(Clone, PartialEq, Eq)]
pub struct SlotSet {
    bits: Box<[u64; SLOTS / 64]>,
    /// How many bits are set (`node->numslots`), kept up to date.
    count: usize,
}

impl Default for SlotSet {
    fn default() -> Self {
        SlotSet {
            bits: Box::new([0; SLOTS / 64]),
            count: 0,
        }
    }
}

impl std::fmt::Debug for SlotSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SlotSet({})", self.ranges_text())
    }
}

impl SlotSet {
    pub fn range(lo: u16, hi: u16) -> Self {
        let mut s = SlotSet::default();
        for slot in lo..=hi {
            s.insert(slot);
        }
        s
    }

    pub fn contains(&self, slot: u16) -> bool {
        self.bits[slot as usize / 64] & (1 << (slot % 64)) != 0
    }

    pub fn insert(&mut self, slot: u16) {
        if !self.contains(slot) {
            self.bits[slot as usize / 64] |= 1 << (slot % 64);
            self.count += 1;
        }
    }

    pub fn remove(&mut self, slot: u16) {
        if self.contains(slot) {
            self.bits[slot as usize / 64] &= !(1 << (slot % 64));
            self.count -= 1;
        }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        // Set bits only, lowest first: a node's table walks every peer's
        // slots when it loads, and most words of most sets are empty.
        self.bits.iter().enumerate().flat_map(|(i, &w)| {
            let mut rest = w;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let b = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    (i * 64 + b) as u16
                })
            })
        })
    }

    /// Contiguous ranges, as CLUSTER NODES and CLUSTER SLOTS show them.
    pub fn ranges(&self) -> Vec<(u16, u16)> {
        let mut out: Vec<(u16, u16)> = Vec::new();
        let mut extend = |lo: u16, hi: u16| match out.last_mut() {
            Some((_, end)) if *end + 1 == lo => *end = hi,
            _ => out.push((lo, hi)),
        };
        for (i, &w) in self.bits.iter().enumerate() {
            let base = (i * 64) as u16;
            match w {
                0 => {}
                u64::MAX => extend(base, base + 63),
                _ => {
                    for b in 0..64 {
                        if w & (1 << b) != 0 {
                            extend(base + b, base + b);
                        }
                    }
                }
            }
        }
        out
    }

    /// `0-5460 5462`, as in CLUSTER NODES.
    pub fn ranges_text(&self) -> String {
        let mut s = String::new();
        for (i, (lo, hi)) in self.ranges().into_iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            if lo == hi {
                let _ = write!(s, "{lo}");
            } else {
                let _ = write!(s, "{lo}-{hi}");
            }
        }
        s
    }
}

/// Slots split evenly among `masters`, as `redis-cli --cluster create`
/// assigns them (clusterManagerCommandCreate(): lround of a float cursor).
pub fn even_split(masters: usize) -> Vec<(u16, u16)> {
    let per = SLOTS as f32 / masters as f32;
    let mut out = Vec::new();
    let mut first: i64 = 0;
    let mut cursor: f32 = 0.0;
    for i in 0..masters {
        let mut last = (cursor + per - 1.0).round() as i64;
        if last > SLOTS as i64 || i == masters - 1 {
            last = SLOTS as i64 - 1;
        }
        if last < first {
            last = first;
        }
        out.push((first as u16, last as u16));
        first = last + 1;
        cursor += per;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_check_value() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
    }

    /// Vectors from CLUSTER KEYSLOT on Redis 7.0.
    #[test]
    fn key_slots_match_redis() {
        for (key, slot) in [
            ("foo", 12182),
            ("bar", 5061),
            ("hello", 866),
            ("user1000", 3443),
            ("{user1000}.following", 3443),
            ("{user1000}.followers", 3443),
            ("foo{}{bar}", 8363),
            ("foo{{bar}}zap", 4015),
            ("foo{bar}{zap}", 5061),
            ("", 0),
            ("key:0", 2592),
            ("key:1", 6657),
            ("key:42", 2583),
        ] {
            assert_eq!(key_hash_slot(key.as_bytes()), slot, "{key}");
        }
    }

    #[test]
    fn even_split_matches_redis_cli() {
        assert_eq!(
            even_split(3),
            vec![(0, 5460), (5461, 10922), (10923, 16383)]
        );
        assert_eq!(even_split(1), vec![(0, 16383)]);
        let five = even_split(5);
        assert_eq!(five.first(), Some(&(0, 3276)));
        assert_eq!(five.last().map(|r| r.1), Some(16383));
    }

    #[test]
    fn slot_set_counts_and_ranges_survive_edits() {
        let mut s = SlotSet::range(0, 200);
        s.insert(5);
        assert_eq!(s.len(), 201);
        s.remove(64);
        s.remove(64);
        assert_eq!(s.len(), 200);
        assert_eq!(s.ranges(), vec![(0, 63), (65, 200)]);
    }

    #[test]
    fn slot_set_ranges() {
        let mut s = SlotSet::range(0, 5);
        s.insert(9);
        s.remove(3);
        assert_eq!(s.ranges_text(), "0-2 4-5 9");
        assert_eq!(s.len(), 6);
        assert!(s.contains(9) && !s.contains(3));
    }

    proptest::proptest! {
        /// The set bits, lowest first: what a walk of every slot finds.
        #[test]
        fn iter_lists_exactly_the_slots_held(slots in proptest::collection::vec(0..SLOTS as u16, 0..300)) {
            let mut s = SlotSet::default();
            for &slot in &slots {
                s.insert(slot);
            }
            let brute: Vec<u16> = (0..SLOTS as u16).filter(|&x| s.contains(x)).collect();
            proptest::prop_assert_eq!(s.iter().collect::<Vec<_>>(), brute);
        }
    }
}
