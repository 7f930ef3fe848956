//! Wire types of `POST /v1/photos`: several small photo files (thumbnails, mostly) sent whole
//! in one request, each answered on its own (docs/decisions/0059-small-photo-files-in-one-request.md).
//!
//! Bodies are postcard, like the sync's. The answer carries one outcome a file, in the order
//! sent, as an HTTP status and the refusal's stable code: a reader that meets a status it does
//! not know treats the file as refused with that status, so new outcomes stay readable.

use serde::{Deserialize, Serialize};

/// The most files one batch may carry; a server refuses more before touching any.
pub const MAX_BATCH_FILES: usize = 64;

/// The body of `POST /v1/photos`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoBatch {
    /// The files, each whole.
    pub files: Vec<BatchFile>,
}

/// One whole file of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchFile {
    /// Its SHA-256, lowercase hex: the name the case references it by.
    pub hash: String,
    /// Its bytes.
    #[serde(with = "crate::sync::wire::serde_bytes_compat")]
    pub bytes: Vec<u8>,
}

/// The body of a `200` answer to `POST /v1/photos`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoBatchAnswer {
    /// One a file, in the order the files were sent.
    pub outcomes: Vec<BatchOutcome>,
}

/// What became of one file of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchOutcome {
    /// The status a `PATCH` of the file alone would have had: [`STORED`] when the server
    /// holds it whole (now or already), otherwise the refusal's status (404 not referenced by
    /// the device's cases, 413 over its quota, 422 damaged, ...).
    pub status: u16,
    /// The refusal's stable code (empty when stored).
    pub code: String,
    /// The refusal's message, for people (empty when stored).
    pub message: String,
}

/// [`BatchOutcome::status`] of a file the server holds whole.
pub const STORED: u16 = 201;

impl BatchOutcome {
    /// The outcome of a file the server holds whole.
    pub fn stored() -> BatchOutcome {
        BatchOutcome {
            status: STORED,
            code: String::new(),
            message: String::new(),
        }
    }

    /// True when the server holds the file whole.
    pub fn is_stored(&self) -> bool {
        self.status == STORED
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode, encode};

    #[test]
    fn a_batch_round_trips_with_its_bytes_in_one_run() {
        let batch = PhotoBatch {
            files: vec![
                BatchFile {
                    hash: "ab".repeat(32),
                    bytes: vec![7; 1000],
                },
                BatchFile {
                    hash: "cd".repeat(32),
                    bytes: Vec::new(),
                },
            ],
        };
        let bytes = encode(&batch).unwrap();
        assert!(bytes.len() < 1000 + 2 * 64 + 20, "{} bytes", bytes.len());
        assert_eq!(decode::<PhotoBatch>(&bytes).unwrap(), batch);
        assert!(decode::<PhotoBatch>(&bytes[..bytes.len() - 3]).is_err());
    }

    #[test]
    fn an_unknown_status_reads_as_refused() {
        let answer = PhotoBatchAnswer {
            outcomes: vec![
                BatchOutcome::stored(),
                BatchOutcome {
                    status: 299,
                    code: "something_new".into(),
                    message: "a later server's outcome".into(),
                },
            ],
        };
        let read: PhotoBatchAnswer = decode(&encode(&answer).unwrap()).unwrap();
        assert!(read.outcomes[0].is_stored());
        assert!(!read.outcomes[1].is_stored());
        assert_eq!(read.outcomes[1].code, "something_new");
    }
}
