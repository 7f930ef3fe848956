//! Byte-level mutations of seed inputs, for the random runs of `cargo test`.
//!
//! Purely random bytes rarely get past a format's first check (a magic number, a version
//! byte, a JSON brace). Under `cargo test`, bolero generates a [`Mutation`] instead, and the
//! target runs on a corpus seed with the mutation's edits applied: the same idea as
//! libFuzzer's mutators, without coverage feedback.

/// One edit of a seed.
pub type Edit = (u32, u8, u8);

/// Edits to apply to the corpus seed with index `seed` (modulo the corpus size): each edit is
/// `(position, operation, byte)`, the position taken modulo the length.
pub type Mutation = (u16, Vec<Edit>);

/// `seed` with `edits` applied: operation 0 overwrites, 1 inserts, 2 removes, 3 flips bits,
/// 4 duplicates a run of up to `byte` bytes, 5 cuts the input off, others set a byte to an
/// interesting value (0, 0x7f, 0x80, 0xff).
pub fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for &(pos, op, byte) in edits {
        if out.is_empty() {
            out.push(byte);
            continue;
        }
        let at = usize::try_from(pos).unwrap_or(0) % out.len();
        match op % 8 {
            0 => out[at] = byte,
            1 => out.insert(at, byte),
            2 => {
                out.remove(at);
            }
            3 => out[at] ^= byte | 1,
            4 => {
                let end = (at + usize::from(byte)).min(out.len());
                let run = out[at..end].to_vec();
                out.splice(at..at, run);
            }
            5 => out.truncate(at),
            _ => out[at] = [0, 0x7f, 0x80, 0xff][usize::from(byte % 4)],
        }
        if out.len() > crate::MAX_INPUT {
            out.truncate(crate::MAX_INPUT);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_in_order_and_stay_in_bounds() {
        assert_eq!(apply(b"abc", &[(1, 0, b'x')]), b"axc");
        assert_eq!(apply(b"abc", &[(4, 1, b'x')]), b"axbc");
        assert_eq!(apply(b"abc", &[(0, 2, 0)]), b"bc");
        assert_eq!(apply(b"abc", &[(1, 4, 2)]), b"abcbc");
        assert_eq!(apply(b"abc", &[(2, 5, 0)]), b"ab");
        assert_eq!(apply(b"", &[(9, 2, b'z'), (0, 6, 3)]), [0xff]);
        assert_eq!(apply(b"ab", &[(0, 3, 0)]), [b'a' ^ 1, b'b']);
    }
}
