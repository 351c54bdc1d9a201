//! Timers as each node kind names them.
//!
//! The kernel carries every timer as one `u64` token: one event queue serves
//! every kind of node, and the world's process enum hands each timer to the
//! node that set it. A node kind names its timers with an enum and converts
//! them to and from the token in one place, its [`Timer`] impl, so no handler
//! packs bits and the kernel learns nothing about what a timer means.

/// A node kind's timers, and the one lossless conversion to the kernel's
/// token and back.
pub trait Timer: Sized {
    /// The token the kernel carries for this timer.
    fn encode(self) -> u64;
    /// The timer a token stands for; `None` for a token this kind never
    /// encodes.
    fn decode(token: u64) -> Option<Self>;
}

/// How many low bits of a token [`pack`] gives the kind.
const KIND_BITS: u32 = 8;

/// The largest argument [`pack`] keeps whole (2^56 - 1).
pub const MAX_ARG: u64 = u64::MAX >> KIND_BITS;

/// A token for a timer of kind `kind` with an argument (a generation, a
/// connection id): the kind in the low byte, the argument above it. Only
/// [`Timer`] impls call this.
pub fn pack(kind: u8, arg: u64) -> u64 {
    debug_assert!(arg <= MAX_ARG, "timer argument {arg} does not fit");
    u64::from(kind) | (arg << KIND_BITS)
}

/// The kind and argument [`pack`] put in a token.
pub fn unpack(token: u64) -> (u8, u64) {
    ((token & 0xff) as u8, token >> KIND_BITS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_and_unpack_are_inverse_over_the_whole_range() {
        for kind in [0, 1, 7, 255] {
            for arg in [0, 1, 255, 256, u64::from(u32::MAX), MAX_ARG] {
                assert_eq!(unpack(pack(kind, arg)), (kind, arg));
            }
        }
        assert_eq!(pack(2, 3), 0x302);
    }
}
