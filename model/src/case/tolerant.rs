//! Reading actions tolerantly: an action whose `type` this build does not know (a newer
//! layout wrote it) is kept as its raw JSON instead of making the whole document unreadable.
//! Shared by case events ([`super::Action`]) and patrol log entries
//! ([`crate::patrol::PatrolAction`]).
//!
//! Actions live inside JSON strings (events are JSON strings in automerge lists), so the raw
//! form is captured with `serde_json`'s `RawValue`: only JSON deserializers are supported,
//! and serialising an unknown action writes back exactly the bytes it was read from.

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Writes an unknown action's JSON back as it was read.
pub(crate) fn serialize_raw<S: Serializer>(raw: &str, s: S) -> Result<S::Ok, S::Error> {
    let value = RawValue::from_string(raw.to_string()).map_err(S::Error::custom)?;
    value.serialize(s)
}

/// The `type` tag of an action object.
#[derive(Deserialize)]
struct Tag<'a> {
    #[serde(rename = "type", borrow)]
    type_name: Cow<'a, str>,
}

/// Reads one JSON value with a derived (remote) deserializer, refusing trailing bytes.
pub(crate) fn strictly<T>(
    raw: &str,
    read: impl for<'a, 'b> FnOnce(
        &'b mut serde_json::Deserializer<serde_json::de::StrRead<'a>>,
    ) -> Result<T, serde_json::Error>,
) -> Result<T, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(raw);
    let value = read(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Reads an action: `strict` for a `type` among `known` (its errors stand: a known type with
/// an invalid payload is an error), `unknown(type, raw JSON)` for any other type.
pub(crate) fn deserialize<'de, D, T>(
    d: D,
    known: &[&str],
    strict: impl FnOnce(&str) -> Result<T, serde_json::Error>,
    unknown: impl FnOnce(String, String) -> T,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let raw: Box<RawValue> = Deserialize::deserialize(d)?;
    let tag: Tag<'_> = serde_json::from_str(raw.get()).map_err(D::Error::custom)?;
    if known.contains(&tag.type_name.as_ref()) {
        strict(raw.get()).map_err(D::Error::custom)
    } else if tag.type_name.is_empty() {
        Err(D::Error::custom("an action's `type` is empty"))
    } else {
        Ok(unknown(tag.type_name.into_owned(), raw.get().to_string()))
    }
}

/// Implements `Serialize` and `Deserialize` for an action enum read tolerantly: `$ty` derives
/// both with `#[serde(remote = "Self")]` (its known actions) and has a variant
/// `Unknown { type_name: String, raw: String }`; `$types` lists the `type`s it knows.
macro_rules! tolerant_serde {
    ($ty:ident, $types:expr) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $ty::Unknown { raw, .. } => $crate::case::tolerant::serialize_raw(raw, s),
                    known => $ty::serialize(known, s),
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                $crate::case::tolerant::deserialize(
                    d,
                    $types,
                    |raw| $crate::case::tolerant::strictly(raw, |de| $ty::deserialize(de)),
                    |type_name, raw| $ty::Unknown { type_name, raw },
                )
            }
        }
    };
}
pub(crate) use tolerant_serde;
