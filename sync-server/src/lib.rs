//! The Xiangying sync server.

pub mod error;
pub mod storage;
