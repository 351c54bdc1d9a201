//! The replication backlog as Redis 7.0 keeps it: one list of buffer blocks
//! shared by the backlog and every replica's output buffer, trimmed only by
//! whole head blocks once more than `repl-backlog-size` is held and no replica
//! still references the head (replication.c: feedReplicationBuffer(),
//! incrementalTrimReplicationBacklog()).
//!
//! Besides the byte accounting, the backlog keeps the commands themselves at
//! their offsets, so a partial resync can send exactly the missing commands.

use std::collections::VecDeque;

use crate::proto::{Cmd, decimal_len_u64};

/// `PROTO_REPLY_CHUNK_BYTES`: the smallest block Redis requests.
const CHUNK: u64 = 16 * 1024;
/// `sizeof(replBufBlock)` on a 64-bit build.
const BLOCK_HEADER: u64 = 40;
/// A block's list node (24) and `replBufBlock` header, counted per block
/// in a replica's output buffer.
const NODE_OVERHEAD: u64 = 24 + BLOCK_HEADER;
/// `REPL_BACKLOG_TRIM_BLOCKS_PER_CALL`: the most blocks one trim frees.
pub const TRIM_BLOCKS_PER_CALL: usize = 64;

/// jemalloc's usable size for a request: sizes are rounded up to classes
/// spaced four per doubling (so 16,424 bytes become 20,480).
pub fn jemalloc_usable(size: u64) -> u64 {
    if size <= 8 {
        return 8;
    }
    if size <= 128 {
        return size.div_ceil(16) * 16;
    }
    let pow = 63 - (size - 1).leading_zeros() as u64; // 2^pow < size <= 2^(pow+1)
    let step = 1u64 << (pow - 2);
    size.div_ceil(step) * step
}

/// The data capacity of a block Redis allocates while `len` bytes of the
/// current piece remain to be fed.
pub fn block_capacity(len: u64, backlog_size: u64) -> u64 {
    let limit = (backlog_size / 16).max(CHUNK);
    let request = len.max(CHUNK).min(limit);
    jemalloc_usable(request + BLOCK_HEADER) - BLOCK_HEADER
}

#[derive(Clone, Copy, Debug)]
struct Block {
    /// Offset of the first byte in the block.
    start: u64,
    used: u64,
    capacity: u64,
}

#[derive(Debug)]
pub struct Backlog {
    pub size: u64,
    /// Bytes the backlog covers (`repl_backlog_histlen`).
    pub histlen: u64,
    /// Offset of the first byte held (`repl_backlog->offset`).
    pub first_byte: u64,
    blocks: VecDeque<Block>,
    /// Commands with the offset of their first byte, covering at least the
    /// blocks still held.
    cmds: VecDeque<(u64, Cmd)>,
    /// How many commands were dropped from the front of `cmds`: command
    /// number `n` (counting from the backlog's first) is `cmds[n - dropped]`.
    dropped: u64,
}

impl Backlog {
    /// A new backlog starts empty, at `master_repl_offset + 1`.
    pub fn new(size: u64, master_repl_offset: u64) -> Self {
        Self {
            size,
            histlen: 0,
            first_byte: master_repl_offset + 1,
            blocks: VecDeque::new(),
            cmds: VecDeque::new(),
            dropped: 0,
        }
    }

    /// Appends one command to the stream. `offset` is `master_repl_offset`
    /// and is advanced by the command's bytes. `pinned` is the lowest offset
    /// a replica's output buffer still references (it blocks trimming).
    /// Returns true when a new block was added (when Redis checks replica
    /// output buffer limits).
    pub fn feed(&mut self, cmd: Cmd, offset: &mut u64, pinned: Option<u64>) -> bool {
        let start = *offset + 1;
        let total = cmd.resp_len();
        let mut new_block = false;
        let fits = self
            .blocks
            .back()
            .is_some_and(|t| t.capacity - t.used >= total);
        if fits {
            // The common case: the whole command fits in the tail block.
            let tail = self.blocks.back_mut().expect("checked");
            tail.used += total;
            *offset += total;
            self.histlen += total;
        } else {
            let (pieces, n) = resp_pieces(&cmd, total);
            for &piece in &pieces[..n] {
                new_block |= self.append(piece, offset);
            }
        }
        self.cmds.push_back((start, cmd));
        if new_block {
            self.trim(*offset, pinned);
        }
        new_block
    }

    /// A replica's output buffer memory when it still needs `next_offset`:
    /// from the block holding that byte to the end of the tail block, plus
    /// per-block overhead (getClientOutputBufferMemoryUsage()).
    /// A replica that has everything counts nothing here (CLIENT LIST
    /// still shows the tail block it references: [`Self::referenced`]).
    pub fn buffer_usage(&self, next_offset: u64) -> u64 {
        match self.blocks.back() {
            Some(tail) if next_offset < tail.start + tail.used => {
                self.referenced(next_offset).map_or(0, |(_, bytes)| bytes)
            }
            _ => 0,
        }
    }

    /// What a replica's output buffer holds when it still needs
    /// `next_offset`, as CLIENT LIST shows it (getClientOutputBufferMemoryUsage()):
    /// the blocks from the one holding that byte to the tail (the tail alone
    /// once it has everything), each with its list node and header. Returns
    /// `(blocks, bytes)`, or `None` while no block exists.
    pub fn referenced(&self, next_offset: u64) -> Option<(u64, u64)> {
        let tail = self.blocks.back()?;
        let idx = self
            .blocks
            .partition_point(|b| b.start + b.used <= next_offset)
            .min(self.blocks.len() - 1);
        let first = &self.blocks[idx];
        let n = (self.blocks.len() - idx) as u64;
        Some((
            n,
            tail.start + tail.capacity - first.start + NODE_OVERHEAD * n,
        ))
    }

    /// Appends one piece, filling the tail block and opening new blocks
    /// sized for what remains of the piece. True if a block was added.
    fn append(&mut self, mut len: u64, offset: &mut u64) -> bool {
        let mut new_block = false;
        while len > 0 {
            if let Some(tail) = self.blocks.back_mut()
                && tail.used < tail.capacity
            {
                let copy = len.min(tail.capacity - tail.used);
                tail.used += copy;
                len -= copy;
                *offset += copy;
                self.histlen += copy;
            }
            if len > 0 {
                let capacity = block_capacity(len, self.size);
                let copy = len.min(capacity);
                self.blocks.push_back(Block {
                    start: *offset + 1,
                    used: copy,
                    capacity,
                });
                len -= copy;
                *offset += copy;
                self.histlen += copy;
                new_block = true;
            }
        }
        new_block
    }

    /// Drops whole head blocks while the backlog holds more than its size
    /// without them and no replica references them.
    pub fn trim(&mut self, master_repl_offset: u64, pinned: Option<u64>) {
        self.trim_blocks(master_repl_offset, pinned, usize::MAX);
    }

    /// resizeReplicationBacklog() once `CONFIG SET repl-backlog-size` has
    /// a new value (already raised to 16 KB): the new size, then
    /// incrementalTrimReplicationBacklog(REPL_BACKLOG_TRIM_BLOCKS_PER_CALL).
    /// Shrinking drops whole head blocks no replica references, at most 64
    /// of them now (the rest go at later trims), so PSYNC offsets before
    /// the new first byte need a full resync. Growing keeps what is held;
    /// blocks allocated from then on are sized for the new size.
    pub fn resize(&mut self, size: u64, master_repl_offset: u64, pinned: Option<u64>) {
        self.size = size;
        self.trim_blocks(master_repl_offset, pinned, TRIM_BLOCKS_PER_CALL);
    }

    /// incrementalTrimReplicationBacklog(max_blocks).
    fn trim_blocks(&mut self, master_repl_offset: u64, pinned: Option<u64>, max_blocks: usize) {
        let mut trimmed = 0;
        while self.histlen > self.size && self.blocks.len() > 1 && trimmed < max_blocks {
            let head = self.blocks[0];
            if pinned.is_some_and(|p| p < head.start + head.used) {
                break;
            }
            if self.histlen - head.capacity <= self.size {
                break;
            }
            self.histlen -= head.capacity;
            self.blocks.pop_front();
            trimmed += 1;
        }
        self.first_byte = master_repl_offset - self.histlen + 1;
        while self
            .cmds
            .get(1)
            .is_some_and(|(start, _)| *start <= self.first_byte)
        {
            self.cmds.pop_front();
            self.dropped += 1;
        }
    }

    /// Can a replica asking for `psync_offset` be served from here?
    pub fn covers(&self, psync_offset: u64) -> bool {
        self.first_byte <= psync_offset && psync_offset <= self.first_byte + self.histlen
    }

    /// The commands from `offset` on, stopping once `room` bytes are taken
    /// (the command that crosses it is taken whole, as a partial write
    /// leaves the rest of it queued); also the offset of the first command
    /// left, or `None` when all were taken. `hint` is the number of the
    /// command at `offset` as the last call left it: when it still names
    /// that command, no search is needed (a streaming replica asks for
    /// the very next command each time); it is set to the number of the
    /// first command left.
    pub fn since_within(&self, offset: u64, room: u64, hint: &mut u64) -> (Vec<Cmd>, Option<u64>) {
        let hinted = (hint.checked_sub(self.dropped)).filter(|&i| {
            self.cmds
                .get(i as usize)
                .is_some_and(|(start, _)| *start == offset)
        });
        let idx = match hinted {
            Some(i) => i as usize,
            None => self.cmds.partition_point(|(start, _)| *start < offset),
        };
        let mut cmds = Vec::new();
        let mut taken = 0;
        for (n, (start, cmd)) in self.cmds.range(idx..).enumerate() {
            if taken >= room {
                *hint = self.dropped + (idx + n) as u64;
                return (cmds, Some(*start));
            }
            taken += cmd.resp_len();
            cmds.push(cmd.clone());
        }
        *hint = self.dropped + self.cmds.len() as u64;
        (cmds, None)
    }

    pub fn since(&self, psync_offset: u64) -> (Vec<Cmd>, u64) {
        let (cmds, _) = self.since_within(psync_offset, u64::MAX, &mut 0);
        let bytes = cmds.iter().map(Cmd::resp_len).sum();
        (cmds, bytes)
    }
}

/// The pieces `replicationFeedSlaves()` feeds one by one: the array header,
/// then for each argument its `$len\r\n` header, its bytes and `\r\n`.
/// Only the argument bodies can be large; small commands are one piece.
fn resp_pieces(cmd: &Cmd, total: u64) -> ([u64; 10], usize) {
    let args: [u64; 3] = match cmd {
        Cmd::Set(k, v) => [3, k.len() as u64, v.byte_len() as u64],
        Cmd::Publish { channel, message } => [7, channel.len() as u64, message.len() as u64],
        _ => return ([total, 0, 0, 0, 0, 0, 0, 0, 0, 0], 1),
    };
    let mut pieces = [0u64; 10];
    pieces[0] = 3 + decimal_len_u64(3) as u64;
    for (i, a) in args.into_iter().enumerate() {
        pieces[1 + 3 * i] = 3 + decimal_len_u64(a) as u64;
        pieces[2 + 3 * i] = a;
        pieces[3 + 3 * i] = 2;
    }
    debug_assert_eq!(pieces.iter().sum::<u64>(), total);
    (pieces, 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Value, WriteTag};

    #[test]
    fn jemalloc_classes() {
        assert_eq!(jemalloc_usable(16_424), 20_480);
        assert_eq!(jemalloc_usable(65_576), 81_920);
        assert_eq!(jemalloc_usable(16_384), 16_384);
        assert_eq!(block_capacity(27, 1 << 20), 20_440);
    }

    fn set(i: u32, len: u32) -> Cmd {
        Cmd::Set(
            format!("key:{i:06}").into(),
            Value::Blob {
                tag: WriteTag { client: 0, seq: i },
                len,
            },
        )
    }

    #[test]
    fn histlen_stays_between_size_and_size_plus_one_block() {
        let size = 16 * 1024;
        let mut b = Backlog::new(size, 0);
        let mut off = 0;
        let mut seen_trim = false;
        for i in 0..5000 {
            b.feed(set(i, 100), &mut off, None);
            // beforeSleep() trims after every event-loop pass.
            b.trim(off, None);
            assert_eq!(b.first_byte + b.histlen, off + 1);
            if b.first_byte > 1 {
                seen_trim = true;
                assert!(
                    b.histlen > size && b.histlen <= size + 20_440,
                    "{}",
                    b.histlen
                );
                assert_eq!((b.first_byte - 1) % 20_440, 0);
            }
        }
        assert!(seen_trim);
    }

    #[test]
    fn pinned_blocks_are_not_trimmed() {
        let mut b = Backlog::new(16 * 1024, 0);
        let mut off = 0;
        for i in 0..5000 {
            b.feed(set(i, 100), &mut off, Some(1));
        }
        assert_eq!(b.first_byte, 1);
        assert_eq!(b.histlen, off);
    }

    /// resizeReplicationBacklog(): a shrink frees whole head blocks down to
    /// the new size, at most 64 of them in one call
    /// (incrementalTrimReplicationBacklog(REPL_BACKLOG_TRIM_BLOCKS_PER_CALL)),
    /// and none a replica still references.
    #[test]
    fn a_shrink_trims_at_most_64_unpinned_blocks() {
        let fill = |b: &mut Backlog| {
            let mut off = 0;
            for i in 0..80_000 {
                b.feed(set(i, 100), &mut off, None);
            }
            off
        };
        let mut b = Backlog::new(10 << 20, 0);
        let off = fill(&mut b);
        let first = b.first_byte;
        b.resize(16 * 1024, off, None);
        assert_eq!(b.size, 16 * 1024);
        assert_eq!(b.first_byte - first, 64 * 20_440);
        assert_eq!(b.first_byte + b.histlen, off + 1);
        b.resize(16 * 1024, off, None);
        assert_eq!(b.first_byte - first, 128 * 20_440);

        let mut b = Backlog::new(10 << 20, 0);
        let off = fill(&mut b);
        let first = b.first_byte;
        b.resize(16 * 1024, off, Some(first + 3 * 20_440));
        assert_eq!(b.first_byte - first, 3 * 20_440);
    }

    #[test]
    fn serves_commands_from_a_boundary() {
        let mut b = Backlog::new(1 << 20, 0);
        let mut off = 0;
        for i in 0..10 {
            b.feed(set(i, 10), &mut off, None);
        }
        let one = set(0, 10).resp_len();
        let (cmds, bytes) = b.since(1 + 7 * one);
        assert_eq!(cmds.len(), 3);
        assert_eq!(bytes, 3 * one);
        assert!(b.covers(off + 1));
        assert!(!b.covers(off + 2));
    }

    proptest::proptest! {
        /// Served from its hint, a replica gets what a search from its
        /// offset gives, through feeds, trims and partial writes; a stale
        /// or wrong hint only costs the search.
        #[test]
        fn a_hint_serves_what_a_search_serves(
            steps in proptest::collection::vec((1u32..3000, 0u64..4000, proptest::bool::ANY), 1..200),
        ) {
            let mut b = Backlog::new(16 * 1024, 0);
            let mut off = 0;
            let (mut next, mut hint) = (1, 0);
            for (i, (len, room, serve)) in steps.into_iter().enumerate() {
                b.feed(set(i as u32, len), &mut off, Some(next));
                if serve && next <= off {
                    let mut wrong = u64::MAX;
                    let searched = b.since_within(next, room, &mut wrong);
                    let served = b.since_within(next, room, &mut hint);
                    proptest::prop_assert_eq!(&served, &searched);
                    proptest::prop_assert_eq!(hint, wrong);
                    next = served.1.unwrap_or(off + 1);
                }
            }
        }
    }
}
