//! The device store.
