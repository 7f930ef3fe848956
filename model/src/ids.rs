//! Ids as types: one newtype per kind of id ([`DocId`], [`DeviceId`], [`PersonId`],
//! [`PhotoHash`], [`ActorHex`]), so that a function taking several ids side by side (a device
//! and a document, a photo and its uploader) cannot be handed them in the wrong order.
//!
//! Each is the plain text it wraps and nothing more: serialized transparently, displayed as
//! the text, built from any text without checking it (ids come back from stored text; the
//! checking of hostile input stays where the input arrives). Their text form is exactly the
//! one stored in databases, documents and fixtures, and sent on the wire (decision 0027).

use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use std::fmt;

/// Defines one id newtype over `String` with its conversions.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a text as this kind of id (not checked).
            pub fn new(text: impl Into<String>) -> $name {
                $name(text.into())
            }

            /// The id's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id's text, owned.
            pub fn into_string(self) -> String {
                self.0
            }

            /// Whether the text is empty.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> $name {
                $name(text)
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> $name {
                $name(text.to_string())
            }
        }

        impl From<&String> for $name {
            fn from(text: &String) -> $name {
                $name(text.clone())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }
    };
}

id_type!(
    /// A synced document's id (a case's or a patrol's, any kind's): a UUID made on the device.
    DocId
);
id_type!(
    /// An enrolled device's id: random, handed out by the server at enrolment.
    DeviceId
);
id_type!(
    /// A person's id in the roster.
    PersonId
);
id_type!(
    /// A photo file's SHA-256, lower-case hex: the name it is stored and referenced by.
    PhotoHash
);
id_type!(
    /// An automerge actor id, hex: who wrote a change.
    ActorHex
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn ids_serialize_and_display_exactly_as_their_text() {
        let text = "019a-case-1";
        let doc = DocId::from(text);
        assert_eq!(doc.to_string(), text);
        assert_eq!(format!("{doc}"), text);
        assert_eq!(doc.as_str(), text);
        assert_eq!(AsRef::<str>::as_ref(&doc), text);
        assert_eq!(doc, text);
        assert_eq!(String::from(doc.clone()), text);

        // JSON: the plain string, both ways.
        assert_eq!(
            serde_json::to_string(&DeviceId::from(text)).unwrap(),
            serde_json::to_string(text).unwrap()
        );
        let back: PersonId = serde_json::from_str("\"p1\"").unwrap();
        assert_eq!(back, PersonId::from("p1"));

        // postcard (the wire): the same bytes as the plain string, both ways.
        let plain = postcard::to_stdvec(&text.to_string()).unwrap();
        assert_eq!(postcard::to_stdvec(&PhotoHash::from(text)).unwrap(), plain);
        assert_eq!(postcard::to_stdvec(&ActorHex::from(text)).unwrap(), plain);
        let decoded: DocId = postcard::from_bytes(&plain).unwrap();
        assert_eq!(decoded, doc);

        // As a map key and inside a struct, as a String would be.
        let mut map = BTreeMap::new();
        map.insert(DocId::from("c1"), 1);
        assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"c1":1}"#);
        assert_eq!(map.get("c1"), Some(&1));
    }

    #[test]
    fn ids_of_different_kinds_order_and_compare_by_text() {
        let (a, b) = (DocId::from("a"), DocId::from("b"));
        assert!(a < b);
        let mut ids = vec![b.clone(), a.clone()];
        ids.sort();
        assert_eq!(ids, vec![a, b]);
        assert_eq!(DocId::default().as_str(), "");
        assert!(DocId::default().is_empty());
        assert_eq!("d1", DeviceId::from("d1"));
        assert_eq!(DeviceId::from("d1").into_string(), "d1");
    }
}
