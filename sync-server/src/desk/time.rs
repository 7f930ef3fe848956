//! Times shown at the desk: in the street's time zone (the working calendar's UTC offset for
//! a case's own times, China Standard Time for lists, days and periods), and "how long ago".

use chrono::{DateTime, FixedOffset, TimeZone};

/// China Standard Time, seconds east of UTC.
pub const CHINA_OFFSET_S: i32 = 8 * 3600;
/// A day, in ms.
const DAY_MS: i64 = 86_400_000;

/// A time (ms) in China time, formatted (`chrono` format); empty when it cannot be shown.
pub fn china_time(ms: i64, fmt: &str) -> String {
    FixedOffset::east_opt(CHINA_OFFSET_S)
        .and_then(|tz| tz.timestamp_millis_opt(ms).single())
        .map(|t| t.format(fmt).to_string())
        .unwrap_or_default()
}

/// The start (ms) of the China day holding `ms`.
pub fn china_day_start(ms: i64) -> i64 {
    let shift = i64::from(CHINA_OFFSET_S) * 1000;
    (ms + shift).div_euclid(DAY_MS) * DAY_MS - shift
}

/// How long ago `ms` was at `now`, in Chinese: 刚刚, 3 分钟前, 2 小时前, 5 天前.
pub fn relative(now: i64, ms: i64) -> String {
    let secs = (now - ms).max(0) / 1000;
    match secs {
        0..60 => "刚刚".to_string(),
        60..3600 => format!("{} 分钟前", secs / 60),
        3600..86_400 => format!("{} 小时前", secs / 3600),
        _ => format!("{} 天前", secs / 86_400),
    }
}

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
