//! Times shown at the desk: in the street's time zone (the working calendar's UTC offset).

use chrono::{DateTime, FixedOffset};

/// `YYYY-MM-DD HH:MM` at `offset_minutes` east of UTC ("—" for a time that cannot be shown).
pub fn format(ms: i64, offset_minutes: i64) -> String {
    let Some(offset) = i32::try_from(offset_minutes * 60)
        .ok()
        .and_then(FixedOffset::east_opt)
    else {
        return "—".into();
    };
    DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&offset)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|| "—".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_china_time() {
        // 2026-12-05 16:00 UTC is 2026-12-06 00:00 in China.
        assert_eq!(
            format(1_764_950_400_000 + 365 * 86_400_000, 480),
            "2026-12-06 00:00"
        );
        assert_eq!(format(i64::MAX, 480), "—");
    }
}
