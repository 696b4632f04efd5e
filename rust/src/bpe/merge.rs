//! The merge model: turns one piece's bytes into token ids by repeatedly
//! merging the adjacent pair with the lowest rank (leftmost on ties).
//!
//! Pairs are looked up by the two ids, `(left, right) -> (rank, merged id)`.
//! A tokenizer from tiktoken ranks lists every split of every token, so the
//! rank of a pair is the rank of its concatenation, as tiktoken has it; one
//! from a merges list lists exactly its merges, as HF `tokenizers` has it.
//! Pieces that are one token are found by a single lookup first. Short
//! pieces merge in small arrays with a scan for the minimum; long ones with a
//! heap and a linked list of parts.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::hash::FastMap;

/// No merge: the rank of a pair that is not in the table.
pub const NO_RANK: u32 = u32::MAX;

/// Pieces up to this many bytes merge in stack arrays.
const SMALL: usize = 48;

#[inline]
fn key(left: u32, right: u32) -> u64 {
    (u64::from(left) << 32) | u64::from(right)
}

/// Pieces up to this many bytes are looked up whole by a packed integer key
/// (no pointer to follow, one cache miss); longer ones by their bytes.
const PACKED: usize = 15;

/// The bytes of a short piece and its length in one integer.
#[inline(always)]
fn pack(bytes: &[u8]) -> u128 {
    let mut buf = [0u8; 16];
    buf[..bytes.len()].copy_from_slice(bytes);
    buf[15] = bytes.len() as u8;
    u128::from_le_bytes(buf)
}

/// Bytes to ids by lowest-rank merges (see the module documentation).
#[derive(Debug, Clone)]
pub struct MergeModel {
    byte_ids: [u32; 256],
    pairs: FastMap<u64, (u32, u32)>,
    whole_short: FastMap<u128, u32>,
    whole_long: FastMap<Box<[u8]>, u32>,
}

impl MergeModel {
    /// A model from the ids of the 256 bytes and the pair table. `whole` is
    /// filled by [`MergeModel::set_whole`].
    pub fn new(byte_ids: [u32; 256], pairs: FastMap<u64, (u32, u32)>) -> Self {
        MergeModel {
            byte_ids,
            pairs,
            whole_short: FastMap::default(),
            whole_long: FastMap::default(),
        }
    }

    /// Adds `(left, right) -> (rank, id)` to a pair table.
    pub fn add_pair(
        pairs: &mut FastMap<u64, (u32, u32)>,
        left: u32,
        right: u32,
        rank: u32,
        id: u32,
    ) {
        pairs.insert(key(left, right), (rank, id));
    }

    /// Tokens that a piece equal to their bytes encodes to directly.
    pub fn set_whole(&mut self, whole: FastMap<Box<[u8]>, u32>) {
        self.whole_short.clear();
        self.whole_long.clear();
        for (bytes, id) in whole {
            if bytes.len() <= PACKED {
                self.whole_short.insert(pack(&bytes), id);
            } else {
                self.whole_long.insert(bytes, id);
            }
        }
    }

    #[inline(always)]
    fn whole(&self, piece: &[u8]) -> Option<u32> {
        if piece.len() <= PACKED {
            self.whole_short.get(&pack(piece)).copied()
        } else {
            self.whole_long.get(piece).copied()
        }
    }

    /// The id of the single byte `b`.
    pub fn byte_id(&self, b: u8) -> u32 {
        self.byte_ids[b as usize]
    }

    #[inline(always)]
    fn pair(&self, left: u32, right: u32, limit: u32) -> (u32, u32) {
        match self.pairs.get(&key(left, right)) {
            Some(&(rank, id)) if rank < limit => (rank, id),
            _ => (NO_RANK, 0),
        }
    }

    /// Appends the ids of `piece` to `out`.
    #[inline]
    pub fn encode_piece(&self, piece: &[u8], out: &mut Vec<u32>) {
        match piece.len() {
            0 => {}
            1 => out.push(self.byte_ids[piece[0] as usize]),
            _ => {
                if let Some(id) = self.whole(piece) {
                    out.push(id);
                } else {
                    self.merge(piece, NO_RANK, out);
                }
            }
        }
    }

    /// Merges `piece` using only pairs of rank below `limit` (no lookup of
    /// whole tokens); appends the ids to `out`.
    pub fn merge(&self, piece: &[u8], limit: u32, out: &mut Vec<u32>) {
        if piece.len() <= SMALL {
            self.merge_small(piece, limit, out);
        } else {
            self.merge_long(piece, limit, out);
        }
    }

    fn merge_small(&self, piece: &[u8], limit: u32, out: &mut Vec<u32>) {
        let mut len = piece.len();
        if len == 0 {
            return;
        }
        let mut ids = [0u32; SMALL];
        // pairs[i]: (rank, merged id) of ids[i] and ids[i + 1].
        let mut pairs = [(NO_RANK, 0u32); SMALL];
        for (slot, &b) in ids.iter_mut().zip(piece) {
            *slot = self.byte_ids[b as usize];
        }
        for i in 0..len - 1 {
            pairs[i] = self.pair(ids[i], ids[i + 1], limit);
        }
        while len > 1 {
            let mut best = NO_RANK;
            let mut at = 0;
            for (i, &(rank, _)) in pairs[..len - 1].iter().enumerate() {
                if rank < best {
                    best = rank;
                    at = i;
                }
            }
            if best == NO_RANK {
                break;
            }
            ids[at] = pairs[at].1;
            ids.copy_within(at + 2..len, at + 1);
            pairs.copy_within(at + 2..len, at + 1);
            len -= 1;
            pairs[at] = if at + 1 < len {
                self.pair(ids[at], ids[at + 1], limit)
            } else {
                (NO_RANK, 0)
            };
            if at > 0 {
                pairs[at - 1] = self.pair(ids[at - 1], ids[at], limit);
            }
        }
        out.extend_from_slice(&ids[..len]);
    }

    fn merge_long(&self, piece: &[u8], limit: u32, out: &mut Vec<u32>) {
        let n = piece.len();
        // Parts are named by the byte offset where they start; `next[i]` is
        // where the part after part i starts (n at the end).
        let mut ids: Vec<u32> = piece.iter().map(|&b| self.byte_ids[b as usize]).collect();
        let mut next: Vec<usize> = (1..=n).collect();
        let mut prev: Vec<usize> = (0..n).map(|i| i.wrapping_sub(1)).collect();
        let mut alive = vec![true; n];
        // (rank, left start, right start, right end): valid while both parts
        // still span exactly those bytes.
        let mut heap = BinaryHeap::with_capacity(n);
        for i in 0..n - 1 {
            let (rank, _) = self.pair(ids[i], ids[i + 1], limit);
            if rank != NO_RANK {
                heap.push(Reverse((rank, i, i + 1, i + 2)));
            }
        }
        while let Some(Reverse((_, left, right, right_end))) = heap.pop() {
            if !alive[left] || !alive[right] || next[left] != right || next[right] != right_end {
                continue;
            }
            let (_, id) = self.pair(ids[left], ids[right], limit);
            ids[left] = id;
            alive[right] = false;
            next[left] = right_end;
            if right_end < n {
                prev[right_end] = left;
                let (rank, _) = self.pair(id, ids[right_end], limit);
                if rank != NO_RANK {
                    heap.push(Reverse((rank, left, right_end, next[right_end])));
                }
            }
            let before = prev[left];
            if before != usize::MAX {
                let (rank, _) = self.pair(ids[before], id, limit);
                if rank != NO_RANK {
                    heap.push(Reverse((rank, before, left, right_end)));
                }
            }
        }
        let mut i = 0;
        while i < n {
            out.push(ids[i]);
            i = next[i];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes are their own ids; "ab" = 256 (rank 0), "bc" = 257 (rank 1),
    /// "aa" = 258 (rank 2), "abc" from "ab"+"c" = 259 (rank 3).
    fn toy() -> MergeModel {
        let mut byte_ids = [0u32; 256];
        for (i, slot) in byte_ids.iter_mut().enumerate() {
            *slot = i as u32;
        }
        let mut pairs = FastMap::default();
        MergeModel::add_pair(&mut pairs, 97, 98, 0, 256);
        MergeModel::add_pair(&mut pairs, 98, 99, 1, 257);
        MergeModel::add_pair(&mut pairs, 97, 97, 2, 258);
        MergeModel::add_pair(&mut pairs, 256, 99, 3, 259);
        MergeModel::new(byte_ids, pairs)
    }

    #[test]
    fn small_and_long_paths_agree() {
        let model = toy();
        let mut rng = 12345u64;
        for len in 1..200 {
            let piece: Vec<u8> = (0..len)
                .map(|_| {
                    rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1);
                    b"abcx"[(rng >> 40) as usize % 4]
                })
                .collect();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            if len <= SMALL {
                model.merge_small(&piece, NO_RANK, &mut a);
            } else {
                a = reference(&model, &piece);
            }
            model.merge_long(&piece, NO_RANK, &mut b);
            assert_eq!(a, b, "{:?}", String::from_utf8_lossy(&piece));
        }
    }

    /// The plain quadratic algorithm, for comparison.
    fn reference(model: &MergeModel, piece: &[u8]) -> Vec<u32> {
        let mut ids: Vec<u32> = piece.iter().map(|&b| model.byte_id(b)).collect();
        loop {
            let best = (0..ids.len().saturating_sub(1))
                .map(|i| (model.pair(ids[i], ids[i + 1], NO_RANK), i))
                .min_by_key(|&((rank, _), i)| (rank, i));
            match best {
                Some(((rank, id), i)) if rank != NO_RANK => {
                    ids[i] = id;
                    ids.remove(i + 1);
                }
                _ => return ids,
            }
        }
    }

    #[test]
    fn merges_lowest_rank_first_and_leftmost_on_ties() {
        let model = toy();
        let mut out = Vec::new();
        model.encode_piece(b"abc", &mut out);
        assert_eq!(out, [259]);
        out.clear();
        model.encode_piece(b"aaa", &mut out);
        assert_eq!(out, [258, 97]);
        out.clear();
        model.merge(b"abc", 3, &mut out);
        assert_eq!(out, [256, 99]);
    }
}
