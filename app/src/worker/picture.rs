//! Decoding PNG clips into pixels the UI can upload as a texture.
//!
//! Decoding runs on the worker thread, never while drawing. The `image` crate
//! (PNG only) is the one eframe already builds for its icons, so it adds no
//! compile time.

use std::sync::Arc;

use image::ImageFormat;

use super::Problem;

/// Thumbnails fit in this many pixels per side.
pub const THUMB_SIDE: u32 = 96;
/// The image view's texture fits in this many pixels per side; it is shown
/// scaled to fit anyway, and a 4K screenshot at full size would cost 32 MiB.
pub const VIEW_SIDE: u32 = 2048;

/// A decoded image: its original size, and RGBA pixels scaled to fit a box.
#[derive(Clone, PartialEq, Eq)]
pub struct Picture {
    /// The entry's seq: with the side, it names the texture.
    pub seq: u64,
    /// The image's own size in pixels.
    pub width: u32,
    pub height: u32,
    /// The size of the PNG in bytes.
    pub encoded: u64,
    /// The pixels' size, at most the box side asked for.
    pub pixels_size: [usize; 2],
    /// Unmultiplied RGBA, row by row.
    pub rgba: Arc<[u8]>,
}

impl std::fmt::Debug for Picture {
    // Like clips, pictures never reach the logs: only their sizes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Picture(seq {}, {}x{}, {} bytes)",
            self.seq, self.width, self.height, self.encoded
        )
    }
}

/// Decodes `png`, scaled down (never up) to fit `side` × `side`.
pub fn decode(seq: u64, png: &[u8], side: u32) -> Result<Picture, Problem> {
    let image = image::load_from_memory_with_format(png, ImageFormat::Png)
        .map_err(|err| Problem::new(format!("cannot decode the PNG image (seq {seq}): {err}")))?
        .into_rgba8();
    let (width, height) = image.dimensions();
    let scale = (f64::from(side) / f64::from(width.max(height).max(1))).min(1.0);
    let fitted = if scale < 1.0 {
        let w = ((f64::from(width) * scale).round() as u32).max(1);
        let h = ((f64::from(height) * scale).round() as u32).max(1);
        image::imageops::thumbnail(&image, w, h)
    } else {
        image
    };
    let pixels_size = [fitted.width() as usize, fitted.height() as usize];
    Ok(Picture {
        seq,
        width,
        height,
        encoded: png.len() as u64,
        pixels_size,
        rgba: fitted.into_raw().into(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A `width` × `height` PNG with a diagonal gradient.
    pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbaImage::from_fn(width, height, |x, y| {
            image::Rgba([(x * 255 / width) as u8, (y * 255 / height) as u8, 160, 255])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn decodes_and_fits_without_upscaling() {
        let small = decode(1, &png(40, 20), THUMB_SIDE).unwrap();
        assert_eq!((small.width, small.height), (40, 20));
        assert_eq!(small.pixels_size, [40, 20]);
        assert_eq!(small.rgba.len(), 40 * 20 * 4);

        let big = decode(2, &png(400, 100), THUMB_SIDE).unwrap();
        assert_eq!((big.width, big.height), (400, 100));
        assert_eq!(big.pixels_size, [96, 24]);
    }

    #[test]
    fn garbage_is_an_error() {
        let err = decode(3, b"\x89PNG\r\n\x1a\nnot really", 64).unwrap_err();
        assert!(err.message.contains("seq 3"), "{err:?}");
    }
}
