//! Text kept compressed in memory: an episode's HTML is read only when a
//! document showing it is rendered, and a site of 10,000 episodes holds
//! 120 MB of it (the largest part of a serving process). zstd at level 1
//! halves it; unpacking an episode takes microseconds.

use std::cell::RefCell;
use std::fmt;
use zstd::bulk::Decompressor;

const LEVEL: i32 = 1;

/// A string, compressed.
#[derive(Clone, PartialEq, Eq)]
pub struct PackedText {
    /// The string's length in bytes, which unpacking needs.
    len: usize,
    packed: Box<[u8]>,
}

impl PackedText {
    pub fn new(text: &str) -> Self {
        let packed =
            zstd::bulk::compress(text.as_bytes(), LEVEL).expect("compressing into memory cannot fail");
        PackedText { len: text.len(), packed: packed.into_boxed_slice() }
    }

    /// The text, unpacked.
    pub fn unpack(&self) -> String {
        // A decompression context per thread: making one per call took as
        // long as the decompression itself.
        thread_local! {
            static CONTEXT: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
        }
        let bytes = CONTEXT.with_borrow_mut(|context| {
            let context = match context {
                Some(context) => context,
                None => context.insert(Decompressor::new().expect("a zstd context")),
            };
            context.decompress(&self.packed, self.len).expect("our own zstd frame decompresses")
        });
        String::from_utf8(bytes).expect("packed from a str")
    }

    /// The unpacked length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for PackedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PackedText({} bytes in {})", self.len, self.packed.len())
    }
}

#[cfg(test)]
mod tests {
    use super::PackedText;

    #[test]
    fn unpacks_to_what_was_packed() {
        for text in ["", "<p>새벽 세 시의 배포</p>", &"<p>A long night.</p>".repeat(1000)] {
            let packed = PackedText::new(text);
            assert_eq!((packed.unpack().as_str(), packed.len()), (text, text.len()));
        }
    }
}
