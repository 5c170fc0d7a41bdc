//! Reading image files with the `image` crate: the header alone ([`probe`]: size and EXIF
//! orientation, no pixel decoding) and the full decode ([`decode`]: EXIF orientation applied,
//! any colour type (grayscale, 16-bit, RGBA, palette, CMYK) converted to 8-bit RGB).

use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage, metadata::Orientation};
use std::path::Path;

/// What the header of an image file says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Size `(width, height)` as stored, before the EXIF orientation.
    pub stored: (u32, u32),
    /// The EXIF orientation (`NoTransforms` when there is none).
    pub orientation: Orientation,
}

impl Header {
    /// `true` when the orientation exchanges width and height.
    pub fn swaps(&self) -> bool {
        matches!(
            self.orientation,
            Orientation::Rotate90
                | Orientation::Rotate270
                | Orientation::Rotate90FlipH
                | Orientation::Rotate270FlipH
        )
    }

    /// Size `(width, height)` of the image as shown (orientation applied): the frame the
    /// annotations are in.
    pub fn size(&self) -> (u32, u32) {
        let (w, h) = self.stored;
        if self.swaps() { (h, w) } else { (w, h) }
    }
}

/// Why an image could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The file does not exist.
    Missing,
    /// It exists but does not decode (message from the decoder).
    Unreadable(String),
}

fn reader(path: &Path) -> Result<ImageReader<std::io::BufReader<std::fs::File>>, ReadError> {
    let r = ImageReader::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ReadError::Missing,
        _ => ReadError::Unreadable(e.to_string()),
    })?;
    r.with_guessed_format()
        .map_err(|e| ReadError::Unreadable(e.to_string()))
}

/// Reads the header of `path` (size and orientation) without decoding pixels.
pub fn probe(path: &Path) -> Result<Header, ReadError> {
    let mut dec = reader(path)?
        .into_decoder()
        .map_err(|e| ReadError::Unreadable(e.to_string()))?;
    let stored = dec.dimensions();
    let orientation = dec.orientation().unwrap_or(Orientation::NoTransforms);
    Ok(Header {
        stored,
        orientation,
    })
}

/// Decodes `path` to 8-bit RGB with its EXIF orientation applied.
pub fn decode(path: &Path) -> Result<RgbImage, ReadError> {
    let mut dec = reader(path)?
        .into_decoder()
        .map_err(|e| ReadError::Unreadable(e.to_string()))?;
    let orientation = dec.orientation().unwrap_or(Orientation::NoTransforms);
    let mut img =
        DynamicImage::from_decoder(dec).map_err(|e| ReadError::Unreadable(e.to_string()))?;
    img.apply_orientation(orientation);
    Ok(img.to_rgb8())
}
