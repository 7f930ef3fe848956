//! Photos on cases: camera bytes are processed ([`crate::photo`]), stored by hash under the
//! data folder's `photos/`, referenced from the case document with their stage, and queued for
//! upload, all before the reference is committed, so a case never points at a missing file.

use super::{Device, Made};
use crate::case::{CaseDoc, PhotoRef, PhotoStage, fold, rules};
use crate::error::{Error, Result};
use crate::photo::{
    CameraPhoto, Capture, PhotoFiles, PhotoOptions, ProcessedPhoto, place_or, process,
};
use crate::store::{Origin, Upload};

/// Minutes east of UTC assumed for a capture time that carries no offset: the street's zone.
const LOCAL_OFFSET_MINUTES: i64 = 8 * 60;

impl Device {
    /// The device's photo files.
    pub fn photo_files(&self) -> PhotoFiles {
        PhotoFiles::new(self.dir.join("photos"))
    }

    /// Processes a camera photo (JPEG, PNG or WebP; HEIC must be converted by the platform
    /// first), stores photo and thumbnail, and returns the reference and the files to upload.
    /// The camera's record of time and place wins over the EXIF's.
    pub(super) fn prepare_photo(
        &self,
        camera: &CameraPhoto<'_>,
        stage: PhotoStage,
        person: &str,
        now: i64,
    ) -> Result<(PhotoRef, Vec<(String, u64)>)> {
        let processed = process(camera.bytes, &PhotoOptions::default())?;
        self.prepare_processed(&processed, &camera.capture, stage, person, now)
    }

    /// [`Device::prepare_photo`] for a photo already processed.
    pub(super) fn prepare_processed(
        &self,
        processed: &ProcessedPhoto,
        capture: &Capture,
        stage: PhotoStage,
        person: &str,
        now: i64,
    ) -> Result<(PhotoRef, Vec<(String, u64)>)> {
        let stored = self.photo_files().store(processed)?;
        // What the pipeline could not read (damaged EXIF, an unusable colour profile) reaches
        // the app's log with the photo's name.
        for w in &processed.meta.warnings {
            log::warn!("photo {}: {w}", stored.photo.sha256);
        }
        let exif_time = processed
            .meta
            .captured_at
            .as_ref()
            .map(|t| match t.unix_seconds {
                Some(s) => s * 1000,
                None => (t.local.and_utc().timestamp() - LOCAL_OFFSET_MINUTES * 60) * 1000,
            });
        let captured_at = capture.taken_at.or(exif_time);
        let place = place_or(capture, processed.meta.gps);
        let photo = PhotoRef {
            hash: stored.photo.sha256.clone(),
            thumb: stored.thumbnail.sha256.clone(),
            stage,
            bytes: stored.photo.bytes,
            captured_at,
            place,
            added_by: person.to_string(),
            added_at: now,
        };
        let files = vec![
            (stored.photo.sha256, stored.photo.bytes),
            (stored.thumbnail.sha256, stored.thumbnail.bytes),
        ];
        Ok((photo, files))
    }

    /// Attaches a photo to a case the person is involved in. The bytes are processed and stored
    /// first; a rejected photo ([`Error::Photo`]) writes nothing.
    pub fn attach_photo(&self, case_id: &str, bytes: &[u8], stage: PhotoStage) -> Result<PhotoRef> {
        self.attach_camera_photo(case_id, &CameraPhoto::bytes(bytes), stage)
    }

    /// Attaches a photo with the camera's record of its time and place (WGS-84), which win
    /// over the EXIF's; otherwise as [`Device::attach_photo`].
    pub fn attach_camera_photo(
        &self,
        case_id: &str,
        camera: &CameraPhoto<'_>,
        stage: PhotoStage,
    ) -> Result<PhotoRef> {
        let claim = self.claim()?;
        let _editing = self.editing();
        let (mut doc, read_at) = self.store.load_tracked::<CaseDoc>(case_id, &self.actor)?;
        let corrupt = |e: crate::case::DocError| Error::CorruptCase {
            case_id: case_id.to_string(),
            reason: e.to_string(),
        };
        let facts = doc.facts().map_err(corrupt)?;
        let state = fold(&facts, &doc.events().map_err(corrupt)?);
        if !rules::involved(&facts, &state, &claim) {
            return Err(Error::NotAllowed {
                action: "attach a photo".into(),
                reason: crate::case::Denied::NotInvolved {
                    person: claim.person.clone(),
                },
            });
        }
        let now = self.now();
        let (photo, files) = self.prepare_photo(camera, stage, &claim.person, now)?;
        // The same photo attached again at the same stage is already there.
        if let Some(existing) = doc
            .photos()
            .map_err(corrupt)?
            .into_iter()
            .find(|p| p.hash == photo.hash && p.stage == stage)
        {
            return Ok(existing);
        }
        let change = doc.add_photo(&photo).map_err(corrupt)?;
        let made = Made::ChangedFrom(read_at);
        self.write(&doc, &change, made, Origin::Local, &files, now)?;
        Ok(photo)
    }

    /// Reads a stored photo or thumbnail by hash, checking its bytes against the hash.
    pub fn photo(&self, hash: &str) -> Result<Vec<u8>> {
        Ok(self.photo_files().read(hash)?)
    }

    /// Photo files waiting for upload, oldest first.
    pub fn pending_uploads(&self, limit: u32) -> Result<Vec<Upload>> {
        self.store.uploads_pending(limit)
    }
}
