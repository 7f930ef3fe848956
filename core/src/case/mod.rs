//! Case documents.
