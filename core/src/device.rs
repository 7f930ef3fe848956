//! The façade.

/// A device.
pub struct Device;
