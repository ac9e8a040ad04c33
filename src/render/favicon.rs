//! The site's icon → `/favicon.ico`, the last place readers and browsers
//! look for one (Miniflux tries Atom `icon`, JSON Feed `favicon`, the
//! page's `rel=icon`, then `/favicon.ico`), and what the icon's file says
//! of itself: its type and whether it is square.
//!
//! An ICO file may hold a PNG as it is (since Windows Vista; every browser
//! reads it), so a PNG icon is wrapped in the 22-byte ICO header rather
//! than decoded and re-encoded: the `ico` crate only does the latter, and
//! caps icons at 256 pixels, while a reader's icon is often 512. An ICO
//! icon is published as it is. Pure: bytes in, bytes out.

use super::{Output, OutputKind};

/// Where browsers look when a page names no icon.
pub const FAVICON: &str = "favicon.ico";

/// What the icon's bytes are.
#[derive(Debug, PartialEq, Eq)]
pub struct IconFile {
    /// `/favicon.ico`, when the icon is a PNG or an ICO.
    pub favicon: Option<Output>,
    /// What is wrong with it, in the writer's words.
    pub problems: Vec<String>,
}

/// Reads the icon's header (with `imagesize`, never decoding the picture)
/// and makes `/favicon.ico` from it.
pub fn render(icon: &[u8]) -> IconFile {
    let mut problems = Vec::new();
    let kind = imagesize::image_type(icon).ok();
    match imagesize::blob_size(icon) {
        Ok(size) if size.width != size.height => problems.push(format!(
            "the icon is {}×{} pixels; readers show it in a square, so make it square (512×512 is a good size)",
            size.width, size.height
        )),
        Ok(_) => {}
        Err(_) => problems.push(
            "the icon is not a picture episodic can read: use a square PNG (512×512 is a good size)".to_owned(),
        ),
    }
    let favicon = match kind {
        Some(imagesize::ImageType::Ico) => Some(icon.to_vec()),
        Some(imagesize::ImageType::Png) => imagesize::blob_size(icon).ok().and_then(|size| {
            let side = |pixels: usize| u8::try_from(pixels).ok().filter(|_| pixels < 256).unwrap_or(0);
            ico_holding_png(icon, side(size.width), side(size.height))
        }),
        _ => {
            if kind.is_some() {
                problems.push("/favicon.ico is made only from a PNG or ICO icon; this one is served at its own address only".to_owned());
            }
            None
        }
    };
    let favicon = favicon.map(|bytes| Output::new(FAVICON.to_owned(), OutputKind::Asset, bytes));
    IconFile { favicon, problems }
}

/// An ICO file (ICONDIR + one ICONDIRENTRY, little-endian) holding `png`;
/// `width` and `height` are the entry's bytes, 0 meaning 256 or more.
fn ico_holding_png(png: &[u8], width: u8, height: u8) -> Option<Vec<u8>> {
    const HEADER: u32 = 6 + 16;
    let length = u32::try_from(png.len()).ok()?;
    let mut ico = Vec::with_capacity(png.len() + 22);
    ico.extend_from_slice(&0u16.to_le_bytes()); // reserved
    ico.extend_from_slice(&1u16.to_le_bytes()); // type: icon
    ico.extend_from_slice(&1u16.to_le_bytes()); // one image
    ico.extend_from_slice(&[width, height, 0, 0]); // no palette, reserved
    ico.extend_from_slice(&1u16.to_le_bytes()); // colour planes
    ico.extend_from_slice(&32u16.to_le_bytes()); // bits per pixel
    ico.extend_from_slice(&length.to_le_bytes());
    ico.extend_from_slice(&HEADER.to_le_bytes()); // where the PNG starts
    ico.extend_from_slice(png);
    Some(ico)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first 24 bytes of a PNG: signature and IHDR with its size.
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&width.to_be_bytes());
        png.extend_from_slice(&height.to_be_bytes());
        png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        png
    }

    #[test]
    fn a_png_is_wrapped_in_an_ico_that_names_its_size() {
        let png = png_header(64, 64);
        let file = render(&png);
        assert_eq!(file.problems, Vec::<String>::new());
        let ico = file.favicon.unwrap();
        assert_eq!(ico.path, "favicon.ico");
        assert_eq!(&ico.bytes().unwrap()[..6], &[0, 0, 1, 0, 1, 0]);
        assert_eq!(&ico.bytes().unwrap()[6..10], &[64, 64, 0, 0]);
        assert_eq!(&ico.bytes().unwrap()[14..18], &u32::try_from(png.len()).unwrap().to_le_bytes());
        assert_eq!(&ico.bytes().unwrap()[18..22], &22u32.to_le_bytes());
        assert_eq!(&ico.bytes().unwrap()[22..], &png[..]);
        // imagesize reads it back as an ICO of the same size.
        assert_eq!(imagesize::image_type(ico.bytes().unwrap()).unwrap(), imagesize::ImageType::Ico);
        let size = imagesize::blob_size(ico.bytes().unwrap()).unwrap();
        assert_eq!((size.width, size.height), (64, 64));
    }

    #[test]
    fn sides_of_256_or_more_are_written_as_zero() {
        let ico = render(&png_header(512, 512)).favicon.unwrap();
        assert_eq!(&ico.bytes().unwrap()[6..8], &[0, 0]);
    }

    #[test]
    fn an_oblong_icon_is_a_problem_but_still_published() {
        let file = render(&png_header(400, 200));
        assert_eq!(
            file.problems,
            [
                "the icon is 400×200 pixels; readers show it in a square, so make it square (512×512 is a good size)"
            ]
        );
        assert!(file.favicon.is_some());
    }

    #[test]
    fn a_jpeg_makes_no_favicon_and_garbage_is_named() {
        let jpeg = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xc0\0\x11\x08\0\x20\0\x20\x03\x01\x22\0\x02\x11\x01\x03\x11\x01\xff\xd9";
        let file = render(jpeg);
        assert!(file.favicon.is_none());
        assert_eq!(file.problems.len(), 1, "{:?}", file.problems);
        assert!(
            file.problems[0].starts_with("/favicon.ico is made only from a PNG or ICO"),
            "{:?}",
            file.problems
        );
        let garbage = render(b"not a picture");
        assert!(garbage.favicon.is_none());
        assert!(garbage.problems[0].starts_with("the icon is not a picture"), "{:?}", garbage.problems);
    }
}
