//! The CJK font a notice board is drawn with: where to find one on a server, how to load it
//! (a single `.ttf`/`.otf`, or a `.ttc`/`.otc` collection whose Simplified Chinese face is
//! picked), and the metrics layout needs (glyph ids and advances, ascent and descent, in ems).
//!
//! No font ships with the project: a server gets one from its system's packages (Debian:
//! `fonts-noto-cjk` or the smaller `fonts-wqy-microhei`) or from `--font PATH`.

use super::BoardError;
use ab_glyph::{Font, FontVec, GlyphId};
use std::path::{Path, PathBuf};

/// Well-known places of CJK fonts, searched in this order when no font is given: Noto Sans
/// CJK (Debian/Ubuntu, Arch, Fedora), WenQuanYi Micro Hei and Zen Hei, Droid Sans Fallback,
/// then the macOS and Windows system fonts.
pub const DEFAULT_FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "C:\\Windows\\Fonts\\msyh.ttc",
    "C:\\Windows\\Fonts\\simhei.ttf",
];

/// Characters a face must have to be taken for a Chinese font.
const PROBE: &str = "街长公示栏网格员电话";

/// A loaded CJK font face, with the whole file it came from (a collection keeps all its faces:
/// the PDF subsetter reads the chosen one by index).
pub struct BoardFont {
    font: FontVec,
    index: u32,
    family: String,
    postscript: String,
    source: String,
}

impl std::fmt::Debug for BoardFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoardFont")
            .field("family", &self.family)
            .field("index", &self.index)
            .field("source", &self.source)
            .finish()
    }
}

/// What one face of a file offers.
struct FaceInfo {
    index: u32,
    family: String,
    postscript: String,
    chinese: bool,
}

fn face_info(data: &[u8], index: u32) -> Option<FaceInfo> {
    let face = ttf_parser::Face::parse(data, index).ok()?;
    // The US English name when there is one (messages and PDF names read better), else any.
    let name = |id: u16| {
        let named = || face.names().into_iter().filter(move |n| n.name_id == id);
        named()
            .filter(|n| n.language() == ttf_parser::Language::English_UnitedStates)
            .find_map(|n| n.to_string())
            .or_else(|| named().find_map(|n| n.to_string()))
            .unwrap_or_default()
    };
    let family = {
        let typographic = name(ttf_parser::name_id::TYPOGRAPHIC_FAMILY);
        if typographic.is_empty() {
            name(ttf_parser::name_id::FAMILY)
        } else {
            typographic
        }
    };
    let chinese = PROBE.chars().all(|c| face.glyph_index(c).is_some());
    Some(FaceInfo {
        index,
        family,
        postscript: name(ttf_parser::name_id::POST_SCRIPT_NAME),
        chinese,
    })
}

/// The face to use from a file: one with Chinese glyphs, preferring a Simplified Chinese face
/// (`… SC`) of a collection, then a proportional one (not `Mono`), then the first.
fn pick_face(data: &[u8]) -> Option<FaceInfo> {
    let count = ttf_parser::fonts_in_collection(data).unwrap_or(1);
    (0..count)
        .filter_map(|i| face_info(data, i))
        .filter(|f| f.chinese)
        .min_by_key(|f| {
            let sc = f.family.ends_with(" SC") || f.family.contains(" SC ");
            (!sc, f.family.contains("Mono"), f.index)
        })
}

impl BoardFont {
    /// Loads a font from its bytes; `source` names them in errors. A collection's faces are
    /// looked at in turn and the Simplified Chinese one is taken.
    pub fn from_bytes(data: Vec<u8>, source: &str) -> Result<BoardFont, BoardError> {
        let err = |reason: String| BoardError::Font {
            source_name: source.to_string(),
            reason,
        };
        let count = ttf_parser::fonts_in_collection(&data).unwrap_or(1);
        if (0..count).all(|i| ttf_parser::Face::parse(&data, i).is_err()) {
            return Err(err(
                "not a TrueType/OpenType font or collection (.ttf, .otf, .ttc)".into(),
            ));
        }
        let info = pick_face(&data).ok_or_else(|| {
            err(format!(
                "has no Chinese glyphs (looked for {PROBE}); use a CJK font such as Noto Sans CJK SC"
            ))
        })?;
        let font = FontVec::try_from_vec_and_index(data, info.index)
            .map_err(|e| err(format!("face {}: {e}", info.index)))?;
        Ok(BoardFont {
            font,
            index: info.index,
            family: info.family,
            postscript: info.postscript,
            source: source.to_string(),
        })
    }

    /// Loads the font file at `path`.
    pub fn load(path: &Path) -> Result<BoardFont, BoardError> {
        let data = std::fs::read(path).map_err(|e| BoardError::Font {
            source_name: path.display().to_string(),
            reason: format!("cannot read it: {e}"),
        })?;
        Self::from_bytes(data, &path.display().to_string())
    }

    /// The first of `paths` that exists, loaded; [`BoardError::NoFont`] naming every path
    /// when none exists. A path that exists but is no usable font is an error too (it is not
    /// skipped silently).
    pub fn find_in(paths: &[PathBuf]) -> Result<BoardFont, BoardError> {
        match paths.iter().find(|p| p.is_file()) {
            Some(p) => Self::load(p),
            None => Err(BoardError::NoFont {
                tried: paths.to_vec(),
            }),
        }
    }

    /// The font at `explicit` when given, else the first of [`DEFAULT_FONT_PATHS`] present.
    pub fn find(explicit: Option<&Path>) -> Result<BoardFont, BoardError> {
        match explicit {
            Some(p) => Self::load(p),
            None => Self::find_in(&default_paths()),
        }
    }

    /// The face's family name, e.g. `Noto Sans CJK SC`.
    pub fn family(&self) -> &str {
        &self.family
    }

    /// The face's PostScript name (may be empty).
    pub fn postscript_name(&self) -> &str {
        &self.postscript
    }

    /// Where the font came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The face's index in its file (0 for a single font).
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The whole font file (all faces of a collection).
    pub fn data(&self) -> &[u8] {
        self.font.as_slice()
    }

    /// The glyph-drawing face.
    pub(crate) fn face(&self) -> &FontVec {
        &self.font
    }

    fn upem(&self) -> f32 {
        self.font.units_per_em().unwrap_or(1000.0)
    }

    /// The glyph id of `c` (0, the `.notdef` box, when the face lacks it).
    pub fn glyph(&self, c: char) -> u16 {
        self.font.glyph_id(c).0
    }

    /// The advance of glyph `id`, in ems.
    pub fn advance(&self, id: u16) -> f32 {
        self.font.h_advance_unscaled(GlyphId(id)) / self.upem()
    }

    /// Ascent above the baseline, in ems (positive).
    pub fn ascent(&self) -> f32 {
        self.font.ascent_unscaled() / self.upem()
    }

    /// Descent below the baseline, in ems (negative).
    pub fn descent(&self) -> f32 {
        self.font.descent_unscaled() / self.upem()
    }

    /// The face's bounding box (x min, y min, x max, y max), in ems.
    pub fn bbox(&self) -> [f32; 4] {
        let u = self.upem();
        match ttf_parser::Face::parse(self.data(), self.index) {
            Ok(f) => {
                let r = f.global_bounding_box();
                [
                    f32::from(r.x_min) / u,
                    f32::from(r.y_min) / u,
                    f32::from(r.x_max) / u,
                    f32::from(r.y_max) / u,
                ]
            }
            Err(_) => [0.0, self.descent(), 1.0, self.ascent()],
        }
    }

    /// The width of `text` at `size` (any unit: the result is in the same unit).
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.advance(self.glyph(c)))
            .sum::<f32>()
            * size
    }
}

/// [`DEFAULT_FONT_PATHS`] as paths.
pub fn default_paths() -> Vec<PathBuf> {
    DEFAULT_FONT_PATHS.iter().map(PathBuf::from).collect()
}
