//! Precompressed variants of an output: gzip, brotli and zstd, made once per
//! build (never per request) and kept only when smaller than the original.
//!
//! Deterministic: the same bytes always compress to the same bytes (no
//! timestamps or file names in the gzip header), so variants on disk are
//! rewritten only when their source changes, and nginx `gzip_static` /
//! `brotli_static` or a CDN origin bucket can serve feeds/ as it is.

use crate::render::{Output, OutputKind};
use bytes::Bytes;
use std::io::Write;

/// A content coding (RFC 9110 §8.4.1), in our order of preference at equal
/// quality: brotli compresses feeds best, zstd decodes fastest, gzip is
/// understood everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Encoding {
    Brotli,
    Zstd,
    Gzip,
    Identity,
}

impl Encoding {
    pub const COMPRESSED: [Encoding; 3] = [Encoding::Brotli, Encoding::Zstd, Encoding::Gzip];

    /// The token in `Accept-Encoding` / `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Zstd => "zstd",
            Encoding::Gzip => "gzip",
            Encoding::Identity => "identity",
        }
    }

    /// The suffix of the variant file beside the original (`rss.xml.br`).
    pub fn file_suffix(self) -> &'static str {
        match self {
            Encoding::Brotli => ".br",
            Encoding::Zstd => ".zst",
            Encoding::Gzip => ".gz",
            Encoding::Identity => "",
        }
    }
}

/// How hard to compress. Live edits are served at once with a quick gzip,
/// which every reader accepts, then with the best variants once edits
/// pause: on a 660 KB feed, gzip 9 + brotli 6 + zstd 9 take 63 ms of one
/// core, and an edit touches six such feeds; gzip 1 takes 4 ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effort {
    Quick,
    Best,
    /// The final effort for one of thousands of like documents (episode
    /// pages, archive blocks): gzip 3 alone, which every client takes. On
    /// 10,000 episodes (520 MB of pages and archives) brotli + zstd + gzip 9
    /// made the build take 77 s, gzip 6 alone 28 s, gzip 3 alone 17 s,
    /// 2.6% larger than gzip 4.
    Bulk,
}

/// Best levels, measured on a 620 KB feed (50 long episodes): gzip 9 takes
/// 22 ms (zlib-rs; miniz_oxide took 40); brotli 6 takes 33 ms and is within 3% of quality 9's size, which
/// takes 91 ms and allocates a 25 MB hasher (6 MB here, which keeps the
/// server under 50 MB); zstd 9 takes 20 ms, within 1.5% of level 15's size
/// (92 ms). Quick: gzip 1 (+55% size, 6× faster than 9).
const GZIP_LEVEL: u32 = 9;
const GZIP_QUICK_LEVEL: u32 = 1;
const GZIP_BULK_LEVEL: u32 = 3;
const BROTLI_QUALITY: u32 = 6;
const BROTLI_WINDOW: u32 = 22;
const ZSTD_LEVEL: i32 = 9;

impl Effort {
    /// The encodings made at this effort, in preference order.
    pub fn encodings(self) -> &'static [Encoding] {
        match self {
            Effort::Quick => &[Encoding::Gzip],
            Effort::Best => &Encoding::COMPRESSED,
            Effort::Bulk => &[Encoding::Gzip],
        }
    }

    /// How `output` is compressed once edits pause, and in `build`.
    pub fn finished(output: &Output) -> Effort {
        if output.bulk { Effort::Bulk } else { Effort::Best }
    }
}

/// Whether compressing this output can pay: text does, images and audio are
/// compressed already.
pub fn is_compressible(output: &Output) -> bool {
    match output.kind {
        OutputKind::Rss
        | OutputKind::Atom
        | OutputKind::JsonFeed
        | OutputKind::Page
        | OutputKind::Listing => true,
        OutputKind::Asset => is_text(&output.path),
    }
}

/// Whether a file named `path` is text (a stylesheet, an SVG, a
/// transcript), which compresses; images, audio and video do not.
pub fn is_text(path: &str) -> bool {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    mime.type_() == mime_guess::mime::TEXT
        || matches!(mime.subtype().as_str(), "json" | "xml" | "javascript" | "svg")
        || mime.suffix().is_some_and(|s| matches!(s.as_str(), "xml" | "json"))
}

/// The variants `output` gets at `effort`: none when compressing cannot pay.
pub fn encodings(output: &Output, effort: Effort) -> &'static [Encoding] {
    if is_compressible(output) { effort.encodings() } else { &[] }
}

/// `bytes` in `encoding`.
pub fn compress(bytes: &[u8], encoding: Encoding, effort: Effort) -> Vec<u8> {
    match encoding {
        Encoding::Identity => bytes.to_vec(),
        Encoding::Gzip => {
            let level = match effort {
                Effort::Best => GZIP_LEVEL,
                Effort::Bulk => GZIP_BULK_LEVEL,
                Effort::Quick => GZIP_QUICK_LEVEL,
            };
            let mut encoder = flate2::GzBuilder::new()
                .mtime(0)
                .operating_system(255)
                .write(Vec::with_capacity(bytes.len() / 3), flate2::Compression::new(level));
            encoder.write_all(bytes).expect("writing to a Vec cannot fail");
            encoder.finish().expect("writing to a Vec cannot fail")
        }
        Encoding::Brotli => {
            let mut out = Vec::with_capacity(bytes.len() / 3);
            let params = brotli::enc::BrotliEncoderParams {
                quality: BROTLI_QUALITY as i32,
                lgwin: BROTLI_WINDOW as i32,
                size_hint: bytes.len(),
                ..Default::default()
            };
            brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("writing to a Vec cannot fail");
            out
        }
        Encoding::Zstd => {
            zstd::bulk::compress(bytes, ZSTD_LEVEL).expect("compressing into memory cannot fail")
        }
    }
}

/// Every compressed variant of `output` (whose bytes are `bytes`) that is
/// smaller than it.
pub fn variants(output: &Output, bytes: &[u8], effort: Effort) -> Vec<(Encoding, Bytes)> {
    encodings(output, effort)
        .iter()
        .map(|&encoding| (encoding, compress(bytes, encoding, effort)))
        .filter(|(_, compressed)| compressed.len() < bytes.len())
        .map(|(encoding, bytes)| (encoding, Bytes::from(bytes)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn feed() -> Output {
        let bytes = Bytes::from("<rss><item>새벽 세 시의 배포</item></rss>".repeat(200));
        Output::new("s/rss.xml".into(), OutputKind::Rss, bytes)
    }

    #[test]
    fn variants_decode_to_the_original_and_are_deterministic() {
        let output = feed();
        let first = variants(&output, output.bytes().unwrap(), Effort::Best);
        assert_eq!(first.iter().map(|(e, _)| *e).collect::<Vec<_>>(), Encoding::COMPRESSED);
        assert_eq!(first, variants(&output, output.bytes().unwrap(), Effort::Best));
        let quick = variants(&output, output.bytes().unwrap(), Effort::Quick);
        assert_eq!(quick.iter().map(|(e, _)| *e).collect::<Vec<_>>(), [Encoding::Gzip]);
        for (encoding, bytes) in first.into_iter().chain(quick) {
            let decoded = match encoding {
                Encoding::Gzip => {
                    let mut out = Vec::new();
                    flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut out).unwrap();
                    out
                }
                Encoding::Brotli => {
                    let mut out = Vec::new();
                    brotli::BrotliDecompress(&mut &bytes[..], &mut out).unwrap();
                    out
                }
                Encoding::Zstd => zstd::bulk::decompress(&bytes, 1 << 20).unwrap(),
                Encoding::Identity => unreachable!(),
            };
            assert_eq!(decoded, output.bytes().unwrap().as_ref(), "{encoding:?}");
        }
    }

    #[test]
    fn only_smaller_variants_of_text_are_kept() {
        let tiny = Output::new("rss.xml".into(), OutputKind::Rss, Bytes::from_static(b"<a/>"));
        assert!(variants(&tiny, tiny.bytes().unwrap(), Effort::Best).is_empty());
        let png = Output::new("s/a.png".into(), OutputKind::Asset, Bytes::from(vec![0; 4096]));
        assert!(variants(&png, png.bytes().unwrap(), Effort::Best).is_empty());
        let svg = Output::new("s/a.svg".into(), OutputKind::Asset, Bytes::from(vec![b' '; 4096]));
        assert_eq!(variants(&svg, svg.bytes().unwrap(), Effort::Best).len(), 3);
    }
}
