//! Benchmarks of the photo pipeline on a 12-megapixel phone-like JPEG (4000 × 3000).
//!
//! The source photo is generated here (sky gradient, buildings with hard edges, textured
//! ground, sensor-like noise; baseline 4:2:0 JPEG at quality 92, ~4–5 MB like a phone's)
//! and written to `target/tmp/photo_12mp.jpg` (and `photo_12mp_portrait.jpg`, the same
//! picture stored sideways with EXIF orientation 6, and `photo_12mp_p3.jpg`, the same pixels
//! tagged with a Display P3 ICC profile as an iPhone's, which the pipeline converts to sRGB)
//! so that the same files can be fed to the example and to `vipsthumbnail`; see
//! docs/BENCHMARKS.md. The last two read the processed photo back as an upload does, with
//! and without the hash check the server makes anyway.
//!
//! ```text
//! cargo bench -p xiangying-core --bench photo
//! ```

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::PathBuf;
use xiangying_core::photo::{PhotoFiles, PhotoOptions, process};

/// A deterministic, photo-like RGB picture.
fn synth_photo(w: u32, h: u32) -> Vec<u8> {
    let mut s: u32 = 0x9E37_79B9;
    let mut out = Vec::with_capacity((w * h * 3) as usize);
    let horizon = h * 2 / 5;
    for y in 0..h {
        for x in 0..w {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            // Sensor noise, a little stronger in the shadows.
            let noise = (s % 13) as i32 - 6;
            let fx = x as f32 / w as f32;
            let fy = y as f32 / h as f32;
            let (mut r, mut g, mut b);
            if y < horizon {
                // Sky: smooth gradient with a soft cloud band.
                let cloud = ((fx * 9.0 + fy * 4.0).sin() * (fx * 3.0).cos() * 30.0) as i32;
                r = 90 + (fy * 80.0) as i32 + cloud;
                g = 140 + (fy * 60.0) as i32 + cloud;
                b = 215 - (fy * 30.0) as i32 + cloud / 2;
            } else {
                // Ground: a textured road surface getting lighter towards the viewer.
                let tex = ((x as f32 * 0.37).sin() * (y as f32 * 0.23).cos() * 14.0) as i32;
                let lane = if (x + y / 3) % 400 < 14 && y > h * 3 / 5 {
                    90
                } else {
                    0
                };
                r = 70 + (fy * 50.0) as i32 + tex + lane;
                g = 72 + (fy * 45.0) as i32 + tex + lane;
                b = 68 + (fy * 40.0) as i32 + tex + lane;
            }
            // Buildings: flat facades with window grids, hard edges against the sky.
            let bx = x / 420;
            let top = horizon.saturating_sub(150 + (bx * 97 % 5) * 120);
            if y >= top && y < horizon + 300 && (x % 420) < 380 {
                let window = (x % 40) < 22 && (y % 56) < 30;
                let base = 120 + (bx * 37 % 80) as i32;
                r = if window { 40 } else { base };
                g = if window { 55 } else { base - 15 };
                b = if window { 70 } else { base - 35 };
            }
            for v in [r, g, b] {
                out.push((v + noise).clamp(0, 255) as u8);
            }
        }
    }
    out
}

fn jpeg(rgb: &[u8], w: u16, h: u16) -> Vec<u8> {
    jpeg_with_icc(rgb, w, h, None)
}

/// The Display P3 profile an iPhone photo carries (moxcms's own, encoded).
fn display_p3_icc() -> Vec<u8> {
    match moxcms::ColorProfile::new_display_p3().encode() {
        Ok(icc) => icc,
        Err(e) => panic!("cannot encode the Display P3 profile: {e}"),
    }
}

fn jpeg_with_icc(rgb: &[u8], w: u16, h: u16, icc: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 92);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    if let Some(icc) = icc
        && let Err(e) = enc.add_icc_profile(icc)
    {
        panic!("cannot add the ICC profile: {e}");
    }
    if let Err(e) = enc.encode(rgb, w, h, jpeg_encoder::ColorType::Rgb) {
        panic!("cannot encode the benchmark photo: {e}");
    }
    out
}

/// Rotates an RGB buffer 90° counter-clockwise (what a phone held upright stores when it
/// writes orientation 6).
fn rotate_ccw(rgb: &[u8], w: usize, h: usize) -> Vec<u8> {
    let mut out = vec![0u8; rgb.len()];
    for y in 0..w {
        for x in 0..h {
            let (sx, sy) = (w - 1 - y, x);
            let (o, i) = ((y * h + x) * 3, (sy * w + sx) * 3);
            out[o..o + 3].copy_from_slice(&rgb[i..i + 3]);
        }
    }
    out
}

/// An APP1 segment with only an orientation tag, spliced after SOI.
fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01".to_vec();
    tiff.extend([0x01, 0x12, 0, 3, 0, 0, 0, 1]);
    tiff.extend(orientation.to_be_bytes());
    tiff.extend([0, 0, 0, 0, 0, 0]);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend(((tiff.len() + 8) as u16).to_be_bytes());
    out.extend(b"Exif\0\0");
    out.extend(&tiff);
    out.extend(&jpeg[2..]);
    out
}

fn write_input(name: &str, bytes: &[u8]) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    if let Err(e) = std::fs::write(&path, bytes) {
        panic!("cannot write {}: {e}", path.display());
    }
    eprintln!(
        "benchmark input: {} ({} bytes)",
        path.display(),
        bytes.len()
    );
    path
}

fn bench(c: &mut Criterion) {
    let (w, h) = (4000u16, 3000u16);
    let rgb = synth_photo(w.into(), h.into());
    let landscape = jpeg(&rgb, w, h);
    let portrait = with_orientation(&jpeg(&rotate_ccw(&rgb, w.into(), h.into()), h, w), 6);
    let p3 = jpeg_with_icc(&rgb, w, h, Some(&display_p3_icc()));
    drop(rgb);
    write_input("photo_12mp.jpg", &landscape);
    write_input("photo_12mp_portrait.jpg", &portrait);
    write_input("photo_12mp_p3.jpg", &p3);
    let opts = PhotoOptions::default();

    let mut group = c.benchmark_group("photo");
    group.sample_size(30);
    group.bench_function("process_12mp_landscape", |b| {
        b.iter(|| process(black_box(&landscape), &opts))
    });
    group.bench_function("process_12mp_portrait_orientation6", |b| {
        b.iter(|| process(black_box(&portrait), &opts))
    });
    group.bench_function("process_12mp_display_p3_to_srgb", |b| {
        b.iter(|| process(black_box(&p3), &opts))
    });
    let processed = match process(&landscape, &opts) {
        Ok(p) => p,
        Err(e) => panic!("benchmark photo failed: {e}"),
    };
    eprintln!(
        "outputs: photo {}x{} {} bytes (q{}), thumbnail {}x{} {} bytes (q{})",
        processed.photo.width,
        processed.photo.height,
        processed.photo.len(),
        processed.photo.quality,
        processed.thumbnail.width,
        processed.thumbnail.height,
        processed.thumbnail.len(),
        processed.thumbnail.quality
    );
    group.bench_function("store_new_photo_with_fsync", |b| {
        b.iter_batched(
            || match tempfile::tempdir() {
                Ok(d) => d,
                Err(e) => panic!("tempdir: {e}"),
            },
            |dir| {
                let files = PhotoFiles::new(dir.path());
                black_box(files.store(&processed)).is_ok()
            },
            BatchSize::PerIteration,
        )
    });
    // Reading a stored photo to upload it: checked against its hash (as the uploader did
    // before issue 18's change) or as it is, the server checking it instead.
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let files = PhotoFiles::new(dir.path());
    let stored = match files.store(&processed) {
        Ok(s) => s.photo.sha256,
        Err(e) => panic!("store: {e}"),
    };
    group.bench_function("read_photo_checked", |b| {
        b.iter(|| files.read(black_box(&stored)).map(|v| v.len()))
    });
    group.bench_function("read_photo_to_send", |b| {
        b.iter(|| files.read_to_send(black_box(&stored)).map(|v| v.len()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
