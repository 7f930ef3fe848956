//! The crate's error type.

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A roster or catalogue file is invalid.
    #[error(transparent)]
    Org(#[from] crate::org::OrgError),
}
