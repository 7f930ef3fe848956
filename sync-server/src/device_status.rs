//! What the server records about each device for the desk's devices page (decision 0041):
//! last seen, and what a device reports with each sync in its headers (app version, outbox
//! length, last sync failure, photo files it cannot send), read strictly and ignored (never
//! refused) when malformed.

use crate::state::AppState;
use crate::storage::{DeviceRow, SyncReport, with_tx};
use axum::http::HeaderMap;
use xiangying_model::sync::version::{
    CLIENT_HEADER, LAST_ERROR_HEADER, OUTBOX_HEADER, PHOTOS_UNREADABLE_HEADER, check_error_code,
    parse_outbox,
};

/// Last seen is written outside syncs only when it moved by at least this much (ms): a
/// device polling the wake-up channel costs at most one write a minute.
pub const TOUCH_STEP_MS: i64 = 60_000;
/// The longest `xiangying-client` header kept.
pub const MAX_CLIENT_LEN: usize = 128;

/// One header's value as text, when present exactly once.
fn one<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    if values.next().is_some() {
        return None;
    }
    first.to_str().ok()
}

/// The app version as [`CLIENT_HEADER`] carries it: at most [`MAX_CLIENT_LEN`] bytes of
/// printable ASCII (spaces included), else `None`.
pub fn app_version(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()
        && v.len() <= MAX_CLIENT_LEN
        && v.bytes().all(|b| b.is_ascii_graphic() || b == b' '))
    .then(|| v.to_string())
}

/// What a sync request's headers report, each field `None` when absent or malformed.
pub fn report_from(headers: &HeaderMap) -> SyncReport {
    SyncReport {
        app_version: one(headers, CLIENT_HEADER).and_then(app_version),
        outbox: one(headers, OUTBOX_HEADER).and_then(parse_outbox),
        last_error: one(headers, LAST_ERROR_HEADER)
            .and_then(check_error_code)
            .map(str::to_string),
        photos_unreadable: one(headers, PHOTOS_UNREADABLE_HEADER).and_then(parse_outbox),
    }
}

/// Records a refused sync: what the device reported, and the refusal's code. A failure to
/// record is logged, never answered (the device gets the refusal it earned).
pub fn record_refused(state: &AppState, device: &DeviceRow, report: &SyncReport, code: &str) {
    let now = chrono::Utc::now().timestamp_millis();
    if let Err(err) = with_tx(state.storage.as_ref(), |tx| {
        tx.record_sync(&device.id, now, report)?;
        tx.record_refusal(&device.id, code, now)
    }) {
        tracing::warn!(device = %device.id, error = %err, "device status not recorded");
    }
}

/// Exercises [`crate::storage::DeviceStatusTx`] on a store (both backends run it): last seen
/// moves outside syncs only by a step, a sync's report replaces the previous one, a refusal
/// keeps the report.
#[cfg(test)]
pub(crate) fn exercise_storage(storage: &dyn crate::storage::Storage) {
    use xiangying_model::ids::DeviceId;
    let (a, b) = (DeviceId::from("dev-a"), DeviceId::from("dev-b"));
    let step = TOUCH_STEP_MS;
    let read = |id: &DeviceId| {
        with_tx(storage, |tx| tx.device_statuses())
            .unwrap()
            .into_iter()
            .find(|s| &s.device == id)
    };
    assert_eq!(read(&a), None);
    with_tx(storage, |tx| tx.touch_device(&a, 1_000_000, step)).unwrap();
    assert_eq!(read(&a).unwrap().last_seen, 1_000_000);
    // Within the step: nothing written.
    with_tx(storage, |tx| {
        tx.touch_device(&a, 1_000_000 + step - 1, step)
    })
    .unwrap();
    assert_eq!(read(&a).unwrap().last_seen, 1_000_000);
    with_tx(storage, |tx| tx.touch_device(&a, 1_000_000 + step, step)).unwrap();
    assert_eq!(read(&a).unwrap().last_seen, 1_000_000 + step);
    let report = SyncReport {
        app_version: Some("app=2.3.0; core=0.1.0".into()),
        outbox: Some(u64::MAX),
        last_error: Some("network".into()),
        photos_unreadable: Some(3),
    };
    // A sync writes last seen at once, whatever the step.
    with_tx(storage, |tx| {
        tx.record_sync(&a, 1_000_000 + step + 1, &report)
    })
    .unwrap();
    let s = read(&a).unwrap();
    assert_eq!(s.last_seen, 1_000_000 + step + 1);
    assert_eq!(s.app_version, report.app_version);
    assert_eq!(s.outbox, Some(i64::MAX as u64));
    assert_eq!(s.last_error.as_deref(), Some("network"));
    assert_eq!(s.photos_unreadable, Some(3));
    with_tx(storage, |tx| tx.record_refusal(&a, "over_limit", 5_000_000)).unwrap();
    let s = read(&a).unwrap();
    assert_eq!(s.refusal, Some(("over_limit".to_string(), 5_000_000)));
    assert_eq!(
        s.outbox,
        Some(i64::MAX as u64),
        "a refusal keeps the report"
    );
    // A report without fields clears the old ones; the refusal stays.
    with_tx(storage, |tx| {
        tx.record_sync(&a, 6_000_000, &SyncReport::default())
    })
    .unwrap();
    let s = read(&a).unwrap();
    assert_eq!(
        (s.app_version, s.outbox, s.last_error, s.photos_unreadable),
        (None, None, None, None)
    );
    assert_eq!(s.refusal, Some(("over_limit".to_string(), 5_000_000)));
    // A refusal for a device never seen makes its row.
    with_tx(storage, |tx| {
        tx.record_refusal(&b, "bad_request", 7_000_000)
    })
    .unwrap();
    assert_eq!(read(&b).unwrap().last_seen, 7_000_000);
    assert_eq!(
        with_tx(storage, |tx| tx.device_statuses()).unwrap().len(),
        2
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn device_status_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let storage = crate::storage::sqlite::SqliteStorage::open(dir.path()).unwrap();
        exercise_storage(&storage);
    }

    fn headers(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_bytes(v).unwrap());
        }
        h
    }

    #[test]
    fn a_device_report_is_read_from_its_headers() {
        let r = report_from(&headers(&[
            (CLIENT_HEADER, b"app=2.3.0; core=0.1.0"),
            (OUTBOX_HEADER, b"17"),
            (LAST_ERROR_HEADER, b"network"),
            (PHOTOS_UNREADABLE_HEADER, b"2"),
        ]));
        assert_eq!(r.app_version.as_deref(), Some("app=2.3.0; core=0.1.0"));
        assert_eq!(r.outbox, Some(17));
        assert_eq!(r.last_error.as_deref(), Some("network"));
        assert_eq!(r.photos_unreadable, Some(2));
        assert_eq!(report_from(&HeaderMap::new()), SyncReport::default());
    }

    #[test]
    fn hostile_headers_are_ignored_one_by_one() {
        let long = "a".repeat(MAX_CLIENT_LEN + 1);
        let r = report_from(&headers(&[
            (CLIENT_HEADER, long.as_bytes()),
            (OUTBOX_HEADER, b"-3"),
            (LAST_ERROR_HEADER, b"Name Zhang San 13800000000"),
            (PHOTOS_UNREADABLE_HEADER, b"1e9"),
        ]));
        assert_eq!(r, SyncReport::default());
        let r = report_from(&headers(&[
            (CLIENT_HEADER, b"app=1\tcore=2"),
            (OUTBOX_HEADER, b"12abc"),
            (LAST_ERROR_HEADER, "网络".as_bytes()),
            (PHOTOS_UNREADABLE_HEADER, b"99999999999"),
        ]));
        assert_eq!(r, SyncReport::default());
        // Bytes beyond ASCII (hyper lets them through) are no text.
        let r = report_from(&headers(&[(CLIENT_HEADER, b"app=\xff\xfe")]));
        assert_eq!(r.app_version, None);
        // Twice is once too many.
        let r = report_from(&headers(&[(OUTBOX_HEADER, b"1"), (OUTBOX_HEADER, b"2")]));
        assert_eq!(r.outbox, None);
        // Each field stands alone.
        let r = report_from(&headers(&[
            (OUTBOX_HEADER, b"99999999999"),
            (LAST_ERROR_HEADER, b"tls_expired"),
        ]));
        assert_eq!(
            (r.outbox, r.last_error.as_deref()),
            (None, Some("tls_expired"))
        );
    }
}
