//! Image files (PNG, JPEG, BMP, GIF, WebP, TIFF, and Netpbm's PGM, PPM and PBM) of any size and colour type, decoded by the
//! `image` crate, turned upright by their EXIF orientation and with any transparency laid over a
//! background that shows the ink ([`parse_image`]), into `[channels, height, width]` inputs with
//! values in [0, 1]: grey (1 channel) or colour (3 channels, RGB), resized or centre-cropped to
//! the input size.

use super::error::{open_file, read_file, DataError, DataResult};
use image::metadata::Orientation;
use image::{imageops::FilterType, DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Cursor, Seek};
use std::path::Path;

/// File name extensions (lower case) of the image formats read.
pub const IMAGE_EXTENSIONS: [&str; 12] = [
    "png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff", "pgm", "ppm", "pbm", "pnm",
];

/// Whether `path`'s extension names one of the image formats read (case-insensitively).
pub fn is_image_file(path: &Path) -> bool {
    has_extension(path, &IMAGE_EXTENSIONS)
}

/// Whether `path`'s extension (case-insensitive) is one of `extensions`.
pub fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.contains(&e.to_ascii_lowercase().as_str()))
}

/// How an image of another aspect ratio is brought to the input size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fit {
    /// Scaled to exactly the input size (the aspect ratio may change).
    #[default]
    Resize,
    /// Scaled so that it covers the input size, then the centre cut out (nothing is distorted,
    /// the borders of the longer side are lost).
    Crop,
}

/// The most memory one decode may allocate: a header claiming more is an error, not an
/// allocation. It is the only limit, so a picture of any shape decodes if its pixels fit.
const MAX_DECODE_BYTES: u64 = 256 << 20;

/// A reader of the image `source` holds, its format told by its first bytes, with the decode
/// limit set.
fn reader<R: BufRead + Seek>(source: R, origin: &str) -> DataResult<ImageReader<R>> {
    let mut reader = ImageReader::new(source)
        .with_guessed_format()
        .map_err(|e| DataError::new(origin, format!("cannot read image: {e}")))?;
    let mut limits = image::Limits::no_limits();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    Ok(reader)
}

fn corrupt(origin: &str, e: image::ImageError) -> DataError {
    DataError::new(origin, format!("not a readable image: {e}"))
}

/// [`corrupt`], saying for a TIFF the decoder reads but not in its kind of samples (32-bit
/// float or integer grey, a palette) which kinds it does read.
fn unread(origin: &str, format: Option<ImageFormat>, e: image::ImageError) -> DataError {
    match (format, &e) {
        (Some(ImageFormat::Tiff), image::ImageError::Unsupported(_)) => DataError::new(
            origin,
            format!(
                "not a readable image: a TIFF of samples the decoder does not read ({e}); grey, \
                 RGB and RGBA TIFFs of 8 or 16 bits per sample are read: save it as one"
            ),
        ),
        _ => corrupt(origin, e),
    }
}

/// Decodes the image file at `path`; an unreadable or corrupt file is an error naming it.
pub fn decode_image(path: &Path) -> DataResult<DynamicImage> {
    parse_image(&read_file(path)?, &path.display().to_string())
}

/// Decodes an image file's bytes (`origin` names them in errors), turned upright as its EXIF
/// orientation says: a phone stores a photo's pixels as its sensor saw them and records in that
/// tag how the picture was held, so a digit photographed in portrait would otherwise reach the
/// model lying on its side. A decode needing more than 256 MiB is an error, so a corrupt header
/// cannot make it allocate without bound.
pub fn parse_image(bytes: &[u8], origin: &str) -> DataResult<DynamicImage> {
    if bytes.is_empty() {
        return Err(DataError::new(
            origin,
            "not a readable image: an empty file (0 bytes)",
        ));
    }
    let reader = reader(Cursor::new(bytes), origin)?;
    if reader.format() == Some(ImageFormat::Jpeg) && !jpeg_ends(bytes) {
        return Err(DataError::new(
            origin,
            "not a readable image: a JPEG cut short (it runs out before its end-of-image marker; \
             an interrupted download or copy?)",
        ));
    }
    let format = reader.format();
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| unread(origin, format, e))?;
    if decoder.total_bytes() > MAX_DECODE_BYTES {
        return Err(DataError::new(
            origin,
            format!(
                "not a readable image: decoding it would take {} bytes, more than the {} allowed",
                decoder.total_bytes(),
                MAX_DECODE_BYTES
            ),
        ));
    }
    // Unreadable EXIF data is no reason to refuse the pixels: such a picture is taken as it is
    // stored, as image viewers take it.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| unread(origin, format, e))?;
    image.apply_orientation(orientation);
    Ok(flatten_transparency(image))
}

/// Whether a JPEG's image ends with its end-of-image marker (`FF D9`). The decoder fills a scan
/// that stops early with flat grey instead of failing, so a file cut short by an interrupted
/// download or copy would be read as another picture without a word. The walk follows the
/// file's structure from its start: each marker segment is skipped by its length (so an EXIF
/// thumbnail's markers inside an `APP1` segment are never seen), and after each start of scan
/// (`FF DA`) the entropy-coded data runs to the next marker, since inside it a `FF` byte is
/// always followed by `00` (a stuffed byte) or a restart marker `D0`–`D7`. The first
/// end-of-image marker met ends the picture: whatever follows (a second picture, the video of
/// a phone's "motion photo") is not the decoder's business. A file that runs out before any
/// scan is left to the decoder, which refuses it with its own words.
fn jpeg_ends(bytes: &[u8]) -> bool {
    const END_OF_IMAGE: u8 = 0xD9;
    const START_OF_SCAN: u8 = 0xDA;
    let is_restart = |m: u8| (0xD0..=0xD7).contains(&m);
    let mut scanned = false;
    let mut at = 2; // after the start-of-image marker, which the format check has seen
    loop {
        // The next marker: a run of FF fill bytes, then its code. Stray bytes before it
        // (which decoders skip with a warning) are skipped too.
        while at < bytes.len() && bytes[at] != 0xFF {
            at += 1;
        }
        while at < bytes.len() && bytes[at] == 0xFF {
            at += 1;
        }
        let Some(&marker) = bytes.get(at) else {
            return !scanned;
        };
        at += 1;
        if marker == END_OF_IMAGE {
            return true;
        }
        if marker == 0x00 || marker == 0x01 || is_restart(marker) {
            continue; // no length field
        }
        let Some(length) = bytes.get(at..at + 2) else {
            return !scanned;
        };
        at += usize::from(u16::from_be_bytes([length[0], length[1]]));
        if marker == START_OF_SCAN {
            scanned = true;
            // Entropy-coded data: up to the first FF not followed by 00, a restart marker or
            // another FF (fill before the marker).
            loop {
                match bytes.get(at..at + 2) {
                    None => return false,
                    Some(&[0xFF, next]) if next != 0x00 && !is_restart(next) && next != 0xFF => {
                        break
                    }
                    Some(_) => at += 1,
                }
            }
        }
    }
}

/// `image` with its transparency composited over a background that shows its ink: white under
/// dark ink, black under light ink (the ink's luminance is the opacity-weighted mean of the
/// image's). A drawing app exports a digit as strokes on a transparent background whose colour
/// channels are all black or all white; dropping the alpha channel, as converting to grey or
/// RGB does, would leave a blank picture. An image without transparent pixels is returned as
/// it is.
fn flatten_transparency(image: DynamicImage) -> DynamicImage {
    if !image.color().has_alpha() {
        return image;
    }
    let rgba = image.to_rgba32f();
    if rgba.pixels().all(|p| p[3] >= 1.0) {
        return image;
    }
    let luminance = |p: &image::Rgba<f32>| 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2];
    let (weighted, opacity) = rgba.pixels().fold((0.0f64, 0.0f64), |(l, a), p| {
        (l + (p[3] * luminance(p)) as f64, a + p[3] as f64)
    });
    let background = if opacity > 0.0 && weighted / opacity > 0.5 {
        0.0
    } else {
        1.0
    };
    let flat = image::Rgb32FImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y);
        image::Rgb([0, 1, 2].map(|c| p[3] * p[c] + (1.0 - p[3]) * background))
    });
    DynamicImage::ImageRgb32F(flat)
}

/// The colour channels of the image file at `path` (1 for grey, 3 for colour), read from its
/// header without decoding the pixels.
pub fn colour_channels(path: &Path) -> DataResult<usize> {
    let origin = path.display().to_string();
    let decoder = reader(open_file(path)?, &origin)?
        .into_decoder()
        .map_err(|e| corrupt(&origin, e))?;
    Ok(if decoder.color_type().has_color() {
        3
    } else {
        1
    })
}

/// `image` as a `[channels, height, width]` input in [0, 1] (channel-major), converted to grey
/// (`channels` = 1) or RGB (3) and brought to `height × width` by `fit`. Grey is the `image`
/// crate's luma, `0.2126 R + 0.7152 G + 0.0722 B` (Rec. 709, on the stored values), not the
/// Rec. 601 weights of Pillow's `convert("L")` and torchvision (`0.299, 0.587, 0.114`): a colour
/// picture made grey in Python first differs by up to a tenth of the range.
pub fn image_input(
    image: &DynamicImage,
    channels: usize,
    height: usize,
    width: usize,
    fit: Fit,
    origin: &str,
) -> DataResult<Vec<f32>> {
    let (h, w) = (height as u32, width as u32);
    if h == 0 || w == 0 || h as usize != height || w as usize != width {
        return Err(DataError::new(
            origin,
            format!("cannot resize to {height}×{width}"),
        ));
    }
    let levels = float_levels(image, origin)?;
    let image = levels.as_ref().unwrap_or(image);
    let sized = match fit {
        Fit::Resize => image.resize_exact(w, h, FilterType::Triangle),
        Fit::Crop => image.resize_to_fill(w, h, FilterType::Triangle),
    };
    let interleaved: Vec<f32> = match channels {
        1 => sized.to_luma32f().into_raw(),
        3 => sized.to_rgb32f().into_raw(),
        c => {
            return Err(DataError::new(
                origin,
                format!("{c} channels: images are read as 1 (grey) or 3 (colour) channels"),
            ))
        }
    };
    let plane = height * width;
    let mut planar = vec![0.0; channels * plane];
    for (i, pixel) in interleaved.chunks_exact(channels).enumerate() {
        for (c, &v) in pixel.iter().enumerate() {
            planar[c * plane + i] = v;
        }
    }
    Ok(planar)
}

/// A floating-point `image` (an RGB or RGBA float TIFF; the decoder refuses a grey one, naming
/// its colour type) as light levels in [0, 1], as the integer formats
/// always are, whatever its size (resizing clamps, a copy at size would not): levels above 1 are
/// read as 1 and below 0 as 0, as a display shows them; a value that is not a finite number is an
/// error naming the file and the pixel. `None` for an integer image, which needs nothing.
fn float_levels(image: &DynamicImage, origin: &str) -> DataResult<Option<DynamicImage>> {
    let (samples, channels): (&[f32], usize) = match image {
        DynamicImage::ImageRgb32F(pixels) => (pixels, 3),
        DynamicImage::ImageRgba32F(pixels) => (pixels, 4),
        _ => return Ok(None),
    };
    if let Some(i) = samples.iter().position(|v| !v.is_finite()) {
        let (pixel, width) = (i / channels, image.width() as usize);
        return Err(DataError::new(
            origin,
            format!(
                "pixel ({}, {}) holds {} (not a light level)",
                pixel % width,
                pixel / width,
                samples[i]
            ),
        ));
    }
    let mut levels = image.clone();
    let clamp = |v: &mut f32| *v = v.clamp(0.0, 1.0);
    match &mut levels {
        DynamicImage::ImageRgb32F(pixels) => pixels.iter_mut().for_each(clamp),
        DynamicImage::ImageRgba32F(pixels) => pixels.iter_mut().for_each(clamp),
        _ => {}
    }
    Ok(Some(levels))
}

/// The image file at `path` as a `[channels, height, width]` input (see [`image_input`]).
pub fn load_image(path: &Path, shape: [usize; 3], fit: Fit) -> DataResult<Vec<f32>> {
    let [channels, height, width] = shape;
    let origin = path.display().to_string();
    image_input(&decode_image(path)?, channels, height, width, fit, &origin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_util::temp_path;
    use image::{Rgb, RgbImage};

    /// A 4×2 colour image: left half red, right half blue.
    fn two_colours() -> RgbImage {
        RgbImage::from_fn(4, 2, |x, _| {
            if x < 2 {
                Rgb([255, 0, 0])
            } else {
                Rgb([0, 0, 255])
            }
        })
    }

    #[test]
    fn colour_png_is_planar_and_scaled_to_unit_range() {
        let path = temp_path("two-colours.png");
        two_colours().save(&path).unwrap();
        assert_eq!(colour_channels(&path).unwrap(), 3);
        let x = load_image(&path, [3, 2, 4], Fit::Resize).unwrap();
        assert_eq!(&x[..8], &[1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
        assert_eq!(&x[8..16], &[0.0; 8]);
        assert_eq!(&x[16..], &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0]);
        let grey = load_image(&path, [1, 2, 4], Fit::Resize).unwrap();
        assert!(
            grey[0] > 0.1 && grey[0] < 0.5 && grey[3] < grey[0],
            "{grey:?}"
        );
    }

    /// A 2×2 grey TIFF of 32-bit float samples (little-endian, one uncompressed strip).
    fn float_tiff() -> Vec<u8> {
        // (tag, type: 3 SHORT or 4 LONG, value); the pixels follow the header and the IFD.
        let pixels_at = 8 + 2 + 10 * 12 + 4;
        let entries: [(u16, u16, u32); 10] = [
            (256, 3, 2),                // width
            (257, 3, 2),                // height
            (258, 3, 32),               // bits per sample
            (259, 3, 1),                // no compression
            (262, 3, 1),                // grey, black is zero
            (273, 4, pixels_at as u32), // the strip's offset
            (277, 3, 1),                // samples per pixel
            (278, 3, 2),                // rows per strip
            (279, 4, 16),               // the strip's bytes
            (339, 3, 3),                // samples are IEEE floats
        ];
        let mut b = b"II*\0".to_vec();
        b.extend_from_slice(&8u32.to_le_bytes());
        b.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for (tag, kind, value) in entries {
            b.extend_from_slice(&tag.to_le_bytes());
            b.extend_from_slice(&kind.to_le_bytes());
            b.extend_from_slice(&1u32.to_le_bytes());
            // A SHORT sits in the first two bytes of the value field.
            b.extend_from_slice(&value.to_le_bytes());
        }
        b.extend_from_slice(&0u32.to_le_bytes());
        assert_eq!(b.len(), pixels_at);
        for v in [0.0f32, 0.25, 0.5, 1.0] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b
    }

    /// A TIFF of samples the decoder does not read says so, and which ones it reads.
    #[test]
    fn a_float_tiff_is_refused_naming_the_tiffs_read() {
        let e = parse_image(&float_tiff(), "scan.tif").unwrap_err();
        assert_eq!(e.origin, "scan.tif");
        assert!(
            e.problem
                .starts_with("not a readable image: a TIFF of samples the decoder does not")
                && e.problem
                    .contains("grey, RGB and RGBA TIFFs of 8 or 16 bits per sample are read"),
            "{e}"
        );
    }

    /// The lossless formats read the same pixels, whatever the extension's case.
    #[test]
    fn every_lossless_format_reads_alike() {
        let png = temp_path("two-colours-ref.png");
        two_colours().save(&png).unwrap();
        let want = load_image(&png, [3, 2, 4], Fit::Resize).unwrap();
        for name in ["bmp", "gif", "tif", "tiff", "TIF", "ppm", "pnm"] {
            let path = temp_path(&format!("two-colours-as.{name}"));
            let format = image::ImageFormat::from_extension(name).unwrap();
            two_colours().save_with_format(&path, format).unwrap();
            assert!(is_image_file(&path), "{name}");
            assert_eq!(
                load_image(&path, [3, 2, 4], Fit::Resize).unwrap(),
                want,
                "{name}"
            );
        }
    }

    #[test]
    fn crop_keeps_the_centre_and_resize_squeezes() {
        let image = DynamicImage::ImageRgb8(two_colours());
        // 2×2 from 4×2: the crop keeps the middle two columns (one red, one blue) as they are;
        // the resize filters each half, mostly red on the left, mostly blue on the right.
        let crop = image_input(&image, 3, 2, 2, Fit::Crop, "t").unwrap();
        assert_eq!(&crop[..4], &[1.0, 0.0, 1.0, 0.0]);
        let squeeze = image_input(&image, 3, 2, 2, Fit::Resize, "t").unwrap();
        assert!(squeeze[0] > 0.5 && squeeze[1] < 0.5, "{squeeze:?}");
        let tall = image_input(&image, 3, 4, 2, Fit::Crop, "t").unwrap();
        assert!(tall[..8].iter().all(|&v| v > 0.0 && v < 1.0), "{tall:?}");
        let err = image_input(&image, 4, 2, 2, Fit::Resize, "t").unwrap_err();
        assert!(err.problem.contains("4 channels"), "{err}");
    }

    /// Floating-point pixels are light levels clamped to [0, 1] whether or not the picture is
    /// resized (a copy at size kept 0..255 before, a resize clamped), and a NaN is refused,
    /// naming the pixel.
    #[test]
    fn float_pixels_are_levels_in_the_unit_range_and_nan_is_refused() {
        let bright =
            image::Rgb32FImage::from_fn(2, 2, |x, _| image::Rgb([255.0 * x as f32, 0.5, -3.0]));
        let bright = DynamicImage::ImageRgb32F(bright);
        for (height, width) in [(2, 2), (4, 4)] {
            let input = image_input(&bright, 3, height, width, Fit::Resize, "t").unwrap();
            assert!(
                input.iter().all(|v| (0.0..=1.0).contains(v)),
                "{height}×{width}: {input:?}"
            );
        }
        assert_eq!(
            image_input(&bright, 3, 2, 2, Fit::Resize, "t").unwrap()[..4],
            [0.0, 1.0, 0.0, 1.0]
        );
        let mut nan = image::Rgb32FImage::new(3, 2);
        nan.put_pixel(2, 1, image::Rgb([0.0, f32::NAN, 0.0]));
        let err = image_input(
            &DynamicImage::ImageRgb32F(nan),
            1,
            2,
            3,
            Fit::Resize,
            "f.tif",
        )
        .unwrap_err();
        assert_eq!(err.problem, "pixel (2, 1) holds NaN (not a light level)");
    }

    /// A JPEG stored as the sensor saw it (left red, right blue) with EXIF orientation 6
    /// ("rotate 90° clockwise to view") decodes upright: red on top, blue below.
    #[test]
    fn exif_orientation_turns_a_photo_upright() {
        use image::ImageEncoder;
        let sensor = RgbImage::from_fn(16, 8, |x, _| {
            if x < 8 {
                Rgb([255, 0, 0])
            } else {
                Rgb([0, 0, 255])
            }
        });
        // A little-endian TIFF header and one IFD entry: tag 0x0112 (orientation), SHORT, 6.
        let exif = [
            0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0,
            0,
        ];
        let encode = |exif: Option<&[u8]>| {
            let mut bytes = Vec::new();
            let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 95);
            if let Some(exif) = exif {
                encoder.set_exif_metadata(exif.to_vec()).unwrap();
            }
            encoder
                .write_image(sensor.as_raw(), 16, 8, image::ExtendedColorType::Rgb8)
                .unwrap();
            bytes
        };
        let upright = parse_image(&encode(Some(&exif)), "photo.jpg")
            .unwrap()
            .to_rgb8();
        assert_eq!(upright.dimensions(), (8, 16));
        let (top, bottom) = (upright.get_pixel(4, 3), upright.get_pixel(4, 12));
        assert!(top[0] > 200 && top[2] < 60, "top {top:?}");
        assert!(bottom[2] > 200 && bottom[0] < 60, "bottom {bottom:?}");
        let as_stored = parse_image(&encode(None), "plain.jpg").unwrap();
        assert_eq!((as_stored.width(), as_stored.height()), (16, 8));
    }

    /// Strokes on a transparent background come out as ink on a background that shows it,
    /// whichever colour the strokes are; an opaque image with an alpha channel is unchanged.
    #[test]
    fn transparency_is_flattened_under_a_contrasting_background() {
        use image::{Rgba, RgbaImage};
        for (ink, background) in [(0u8, 1.0f32), (255, 0.0)] {
            // A 4×4 picture: a vertical stroke in column 1, fully transparent elsewhere (its
            // colour channels there the stroke's colour, as drawing apps leave them).
            let drawing = RgbaImage::from_fn(4, 4, |x, _| {
                Rgba([ink, ink, ink, [0, 255][(x == 1) as usize]])
            });
            let flat = flatten_transparency(DynamicImage::ImageRgba8(drawing)).to_luma32f();
            for (x, _, p) in flat.enumerate_pixels() {
                let want = if x == 1 {
                    ink as f32 / 255.0
                } else {
                    background
                };
                assert!((p[0] - want).abs() < 1e-6, "ink {ink}: ({x}) {p:?}");
            }
        }
        let opaque = DynamicImage::ImageRgba8(RgbaImage::from_pixel(2, 2, Rgba([9, 9, 9, 255])));
        assert_eq!(flatten_transparency(opaque.clone()), opaque);
        let half = RgbaImage::from_pixel(1, 1, Rgba([255, 255, 255, 128]));
        let grey = flatten_transparency(DynamicImage::ImageRgba8(half)).to_luma32f();
        assert!(
            (grey.get_pixel(0, 0)[0] - 128.0 / 255.0).abs() < 1e-6,
            "light ink over black"
        );
    }

    /// A picture of any shape decodes when its pixels fit the decode budget: a 20,000-pixel
    /// strip (past the image crate's default side limit) is read.
    #[test]
    fn a_long_strip_is_read() {
        let path = temp_path("strip.png");
        RgbImage::from_fn(20_000, 2, |x, _| Rgb([(x % 256) as u8, 0, 0]))
            .save(&path)
            .unwrap();
        assert_eq!(load_image(&path, [3, 2, 4], Fit::Resize).unwrap().len(), 24);
    }

    /// A JPEG cut inside its scan data decodes (the decoder fills the rest), so it is refused
    /// by its missing end marker; whole files, with an EXIF thumbnail's markers before the scan
    /// or bytes after the end (a motion photo's video among them), still read.
    #[test]
    fn a_jpeg_cut_short_is_refused() {
        let picture = RgbImage::from_fn(48, 32, |x, y| Rgb([(x * 5) as u8, (y * 7) as u8, 90]));
        let mut whole = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut whole, 90)
            .encode_image(&picture)
            .unwrap();
        assert!(parse_image(&whole, "whole.jpg").is_ok());
        let cut = &whole[..whole.len() * 3 / 4];
        let err = parse_image(cut, "cut.jpg").unwrap_err();
        assert_eq!(err.origin, "cut.jpg");
        assert!(err.problem.contains("a JPEG cut short"), "{err}");
        let mut trailing = whole.clone();
        trailing.extend_from_slice(b"appended by a camera");
        assert!(parse_image(&trailing, "trailing.jpg").is_ok());
        // A phone's motion photo: the picture, then a video whose bytes hold a start of scan
        // and no end-of-image marker after it.
        let mut motion = whole.clone();
        motion.extend_from_slice(&[
            0, 0, 0, 0x18, b'f', b't', b'y', b'p', 0xFF, 0xDA, 0x00, 0x08,
        ]);
        motion.extend((0..600u32).map(|i| (i * 7 % 251) as u8));
        assert!(parse_image(&motion, "motion.jpg").is_ok());
        // An APP1 segment holding a thumbnail's markers (SOI, SOS, EOI) before the real scan,
        // then the real file cut short: refused; whole: read.
        let thumbnail = [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0xD9];
        let with_thumbnail = |body: &[u8]| {
            let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, (thumbnail.len() + 2) as u8];
            bytes.extend_from_slice(&thumbnail);
            bytes.extend_from_slice(&body[2..]);
            bytes
        };
        assert!(parse_image(&with_thumbnail(&whole), "thumb.jpg").is_ok());
        let err = parse_image(&with_thumbnail(cut), "thumb-cut.jpg").unwrap_err();
        assert!(err.problem.contains("a JPEG cut short"), "{err}");
    }

    #[test]
    fn corrupt_image_names_the_file() {
        let path = temp_path("corrupt.png");
        let mut bytes = Vec::new();
        two_colours()
            .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
            .unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let err = load_image(&path, [3, 2, 2], Fit::Resize).unwrap_err();
        assert_eq!(err.origin, path.display().to_string());
        assert!(err.problem.contains("not a readable image"), "{err}");
        std::fs::write(&path, b"hello").unwrap();
        let err = colour_channels(&path).unwrap_err();
        assert!(err.problem.contains("not a readable image"), "{err}");
    }
}
