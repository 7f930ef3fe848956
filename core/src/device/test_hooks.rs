//! Hooks for the mixed-version suites and the benchmarks (cargo feature `test-hooks`, never
//! in the app): this build plays a device of the next layout, which writes actions and root
//! keys this build does not know, and raises reports with photos processed elsewhere.
//! Everything goes through the ordinary write path: the store, its index tables and the
//! outbox.

use super::{Device, Made};
use crate::case::{Action, CaseDoc, Event};
use crate::document::Document;
use crate::error::{Error, Result};
use crate::store::Origin;
use automerge::ScalarValue;

impl Device {
    /// Raises a report with photos that were processed elsewhere (the benchmarks make
    /// thousands of distinct files of a chosen size without decoding and encoding each one):
    /// stored, referenced and queued for upload exactly as [`Device::report_with_photos`]
    /// does with what the photo pipeline returns.
    pub fn report_with_processed_photos_for_tests(
        &self,
        r: &crate::NewReport,
        photos: &[crate::photo::ProcessedPhoto],
    ) -> Result<String> {
        self.report_prepared(r, &|person, at| {
            photos
                .iter()
                .map(|p| {
                    self.prepare_processed(
                        p,
                        &crate::photo::Capture::default(),
                        crate::case::PhotoStage::Before,
                        person,
                        at,
                    )
                })
                .collect()
        })
    }

    /// Appends an event whose action is the JSON object `action_json` (any `type`, known or
    /// not), signed by this device's person, unchecked, and queues it for sync. Returns the
    /// event id.
    pub fn append_raw_action_for_tests(&self, case_id: &str, action_json: &str) -> Result<String> {
        let action: Action =
            serde_json::from_str(action_json).map_err(|e| Error::InvalidInput {
                field: "action",
                problem: e.to_string(),
            })?;
        let event = Event::new(self.now(), self.claim()?, action);
        let _editing = self.editing();
        let (mut doc, read_at) = self.store.load_tracked::<CaseDoc>(case_id, &self.actor)?;
        let change = doc.append_event(&event).map_err(|e| corrupt(case_id, e))?;
        self.write(
            &doc,
            &change,
            Made::ChangedFrom(read_at),
            Origin::Local,
            &[],
            self.now(),
        )?;
        Ok(event.id)
    }

    /// Puts the scalar `value` under the root key `key` of a case, unchecked, and queues the
    /// change for sync (a newer layout's key, or, on a case not synced yet, its `layout`).
    pub fn put_root_key_for_tests(
        &self,
        case_id: &str,
        key: &str,
        value: ScalarValue,
    ) -> Result<()> {
        let _editing = self.editing();
        let (mut doc, read_at) = self.store.load_tracked::<CaseDoc>(case_id, &self.actor)?;
        let change = doc
            .put_root_scalar(key, value)
            .map_err(|e| corrupt(case_id, e))?;
        self.write(
            &doc,
            &change,
            Made::ChangedFrom(read_at),
            Origin::Local,
            &[],
            self.now(),
        )
    }
}

fn corrupt(case_id: &str, e: crate::case::DocError) -> Error {
    Error::CorruptCase {
        case_id: case_id.to_string(),
        reason: e.to_string(),
    }
}
