//! Files the desk hands out: CSV that spreadsheet programs open safely (a UTF-8 byte order
//! mark so Excel reads the Chinese, RFC 4180 quoting, and cells that cannot run as formulas),
//! and the `Content-Disposition` header that names a download in Chinese.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The UTF-8 byte order mark, which tells Excel the file is UTF-8.
pub const BOM: &str = "\u{feff}";

/// One CSV field: neutralised against formula injection (a field starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading `'`, so a spreadsheet shows it as text
/// instead of running it), then quoted when it holds a comma, a quote, a line break or
/// leading/trailing spaces (quotes doubled, RFC 4180).
pub fn csv_field(value: &str) -> String {
    let neutral = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_string(),
    };
    let needs_quotes = neutral.contains([',', '"', '\r', '\n'])
        || neutral.starts_with(' ')
        || neutral.ends_with(' ');
    if needs_quotes {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// A whole CSV file: the byte order mark, then one line per row, fields separated by commas,
/// lines ended by CRLF (RFC 4180).
pub fn csv<R, F>(rows: R) -> String
where
    R: IntoIterator<Item = F>,
    F: IntoIterator<Item = String>,
{
    let mut out = String::from(BOM);
    for row in rows {
        let fields: Vec<String> = row.into_iter().map(|f| csv_field(&f)).collect();
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Percent-encodes everything but RFC 5987 `attr-char`s, for `filename*=UTF-8''…`.
fn rfc5987(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'!'
            | b'#'
            | b'$'
            | b'&'
            | b'+'
            | b'-'
            | b'.'
            | b'^'
            | b'_'
            | b'`'
            | b'|'
            | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `attachment; filename="<ascii>"; filename*=UTF-8''<name>`: browsers save the file under
/// `name` (Chinese), old ones under `ascii`. Characters outside `[A-Za-z0-9._-]` in `ascii`
/// become `_`.
pub fn content_disposition(ascii: &str, name: &str) -> HeaderValue {
    let ascii: String = ascii
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let value = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        rfc5987(name)
    );
    // Only visible ASCII is left in `value`.
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// A download: `body` as `content_type`, saved as `name` (`ascii` for old browsers), never
/// cached by a shared cache.
pub fn attachment(
    content_type: &'static str,
    ascii: &str,
    name: &str,
    body: impl Into<axum::body::Body>,
) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                content_disposition(ascii, name),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body.into(),
    )
        .into_response()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Reads a CSV body back (RFC 4180: quoted fields, doubled quotes, CRLF lines).
    pub(crate) fn parse_csv(text: &str) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        let mut row = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => field.push(c),
                (false, '"') => quoted = true,
                (false, ',') => row.push(std::mem::take(&mut field)),
                (false, '\r') if chars.peek() == Some(&'\n') => {}
                (false, '\n') => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                (false, c) => field.push(c),
            }
        }
        assert!(!quoted, "unterminated quote");
        if !field.is_empty() || !row.is_empty() {
            row.push(field);
            rows.push(row);
        }
        rows
    }

    #[test]
    fn fields_are_quoted_and_parse_back() {
        let hostile = [
            "张三, \"小张\"",
            "line\r\nbreak",
            " padded ",
            "plain",
            "",
            "=HYPERLINK(\"http://x\")",
        ];
        let body = csv([hostile.iter().map(|s| s.to_string())]);
        assert!(body.starts_with(BOM));
        let back = parse_csv(body.strip_prefix(BOM).unwrap());
        assert_eq!(back.len(), 1);
        assert_eq!(back[0][0], "张三, \"小张\"");
        assert_eq!(back[0][1], "line\r\nbreak");
        assert_eq!(back[0][2], " padded ");
        assert_eq!(back[0][3], "plain");
        assert_eq!(back[0][4], "");
        assert_eq!(back[0][5], "'=HYPERLINK(\"http://x\")");
    }

    #[test]
    fn formulas_are_neutralised() {
        for s in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            let f = csv_field(s);
            let inner = f.trim_start_matches('"');
            assert!(inner.starts_with('\''), "{s:?} -> {f:?}");
        }
        assert_eq!(csv_field("85.0%"), "85.0%");
        assert_eq!(csv_field("网格一"), "网格一");
    }

    #[test]
    fn the_file_name_is_chinese_with_an_ascii_fallback() {
        let v = content_disposition("rankings grid.csv", "考核 网格\".csv");
        let s = v.to_str().unwrap();
        assert!(
            s.starts_with("attachment; filename=\"rankings_grid.csv\"; "),
            "{s}"
        );
        assert!(s.contains("filename*=UTF-8''%E8%80%83%E6%A0%B8%20"), "{s}");
        assert!(!s.contains("\"."), "{s}");
    }
}
