//! [`PhotoWarning`]: what the pipeline could not read or apply in a photo it still processed.
//!
//! Metadata and colour problems never refuse a photo (evidence is worth more than its EXIF),
//! but they are never dropped silently either: each one is a warning in [`super::PhotoMeta`].

use serde::{Deserialize, Serialize};
use std::fmt;

/// Something in the source photo the pipeline could not read or use. The photo was still
/// processed; the warning says what is missing from the result or may be off in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PhotoWarning {
    /// The EXIF block is damaged: what could be read was kept, the rest was skipped.
    ExifDamaged {
        /// The reader's complaints, e.g. "Truncated field value".
        errors: Vec<String>,
    },
    /// The EXIF block could not be read at all: no orientation, time or place from it.
    ExifUnreadable {
        /// Why, e.g. "Invalid TIFF byte order".
        reason: String,
    },
    /// An EXIF field the pipeline uses is present but its value cannot be used.
    ExifFieldInvalid {
        /// Which field: "orientation", "capture time" or "GPS position".
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The embedded colour profile (or the colour space the EXIF names) could not be
    /// applied: the pixels were taken as sRGB, so colours may be off.
    ColourProfileUnusable {
        /// Why, e.g. "profile is 12000000 bytes, more than 4194304".
        reason: String,
    },
}

impl fmt::Display for PhotoWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhotoWarning::ExifDamaged { errors } => write!(
                f,
                "the photo's EXIF block is damaged ({}); what could be read was kept",
                errors.join("; ")
            ),
            PhotoWarning::ExifUnreadable { reason } => write!(
                f,
                "the photo's EXIF block could not be read ({reason}): no orientation, time or \
                 place from it"
            ),
            PhotoWarning::ExifFieldInvalid { field, reason } => {
                write!(f, "the photo's EXIF {field} could not be used: {reason}")
            }
            PhotoWarning::ColourProfileUnusable { reason } => write!(
                f,
                "the photo's colour profile could not be applied ({reason}); its colours were \
                 taken as sRGB and may be off"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_problem_and_json_is_tagged() {
        let w = PhotoWarning::ExifFieldInvalid {
            field: "orientation".into(),
            reason: "value 9 is not 1-8".into(),
        };
        assert_eq!(
            w.to_string(),
            "the photo's EXIF orientation could not be used: value 9 is not 1-8"
        );
        let json = serde_json::to_string(&w).unwrap();
        assert!(json.contains(r#""kind":"exif_field_invalid""#), "{json}");
        assert_eq!(serde_json::from_str::<PhotoWarning>(&json).unwrap(), w);
        let c = PhotoWarning::ColourProfileUnusable {
            reason: "garbage".into(),
        };
        assert!(c.to_string().contains("taken as sRGB"));
    }
}
