//! The enrolment link a phone scans from the desk's printed QR codes (decision 0041):
//! `xiangying://enrol?server=<percent-encoded base URL>&code=<enrolment code>`.
//!
//! [`parse_enrol_link`] reads it strictly: the scheme and path exactly, both parameters exactly
//! once and nothing else, an `http`/`https` base URL with a host and without credentials, a
//! query or a fragment, and a code of the enrolment alphabet. Anything else is refused naming
//! the problem, so a QR code from elsewhere never points the phone at an unknown server by
//! accident.

use crate::error::{Error, Result};

/// What every enrolment link starts with.
pub const ENROL_LINK_PREFIX: &str = "xiangying://enrol?";
/// The longest link read (a QR code holds more, a base URL never needs it).
pub const MAX_ENROL_LINK: usize = 1024;

/// An enrolment link's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolLink {
    /// The server's base URL, e.g. `https://xy.example.gov.cn` (no trailing slash).
    pub server: String,
    /// The enrolment code, as printed (e.g. `K7QMX-4XWDA-9PLRT`).
    pub code: String,
}

fn refuse(problem: impl Into<String>) -> Error {
    Error::InvalidInput {
        field: "enrolment link",
        problem: problem.into(),
    }
}

/// Decodes `%XX` escapes; `+` stays a plus. Refuses a broken escape or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| refuse("a broken %-escape"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| refuse("an escape that is not UTF-8"))
}

/// Reads an enrolment link (see the module doc), or says what is wrong with it.
pub fn parse_enrol_link(link: &str) -> Result<EnrolLink> {
    let link = link.trim();
    if link.len() > MAX_ENROL_LINK {
        return Err(refuse(format!("longer than {MAX_ENROL_LINK} bytes")));
    }
    let query = link
        .strip_prefix(ENROL_LINK_PREFIX)
        .ok_or_else(|| refuse(format!("does not start with {ENROL_LINK_PREFIX}")))?;
    let (mut server, mut code) = (None, None);
    for pair in query.split('&') {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| refuse(format!("parameter {pair:?} has no value")))?;
        let slot = match key {
            "server" => &mut server,
            "code" => &mut code,
            other => return Err(refuse(format!("unknown parameter {other:?}"))),
        };
        if slot.replace(percent_decode(value)?).is_some() {
            return Err(refuse(format!("parameter {key:?} given twice")));
        }
    }
    let server = server.ok_or_else(|| refuse("no server"))?;
    let code = code.ok_or_else(|| refuse("no code"))?;
    let url = reqwest::Url::parse(&server).map_err(|e| refuse(format!("server: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse("server: not an http or https address"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(refuse("server: no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("server: carries credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("server: carries a query or fragment"));
    }
    let letters = code.chars().filter(|c| *c != '-').count();
    if !(8..=32).contains(&letters) || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(refuse("code: not an enrolment code"));
    }
    Ok(EnrolLink {
        server: server.trim_end_matches('/').to_string(),
        code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_desk_link_is_read() {
        let l = parse_enrol_link(
            "xiangying://enrol?server=https%3A%2F%2Fxy.example.gov.cn%3A8470%2F&code=K7QMX-4XWDA-9PLRT",
        )
        .unwrap();
        assert_eq!(l.server, "https://xy.example.gov.cn:8470");
        assert_eq!(l.code, "K7QMX-4XWDA-9PLRT");
        // Parameters in either order, an unescaped URL, a path prefix, surrounding spaces.
        let l = parse_enrol_link(" xiangying://enrol?code=ABCD2345&server=http://10.0.0.5/xy ")
            .unwrap();
        assert_eq!(l.server, "http://10.0.0.5/xy");
        assert_eq!(l.code, "ABCD2345");
    }

    #[test]
    fn anything_else_is_refused_naming_the_problem() {
        let cases = [
            ("https://xy.example/enrol?code=ABCD2345", "does not start"),
            (
                "xiangying://enroll?server=http%3A%2F%2Fa&code=ABCD2345",
                "does not start",
            ),
            ("xiangying://enrol?server=http%3A%2F%2Fa", "no code"),
            ("xiangying://enrol?code=ABCD2345", "no server"),
            (
                "xiangying://enrol?server=http%3A%2F%2Fa&code=ABCD2345&x=1",
                "unknown parameter",
            ),
            (
                "xiangying://enrol?server=http%3A%2F%2Fa&code=ABCD2345&code=EFGH2345",
                "twice",
            ),
            ("xiangying://enrol?server&code=ABCD2345", "no value"),
            (
                "xiangying://enrol?server=http%3A%2F%2Fa%2&code=ABCD2345",
                "escape",
            ),
            (
                "xiangying://enrol?server=http%3A%2F%2Fa%FF&code=ABCD2345",
                "UTF-8",
            ),
            (
                "xiangying://enrol?server=ftp%3A%2F%2Fa&code=ABCD2345",
                "http or https",
            ),
            (
                "xiangying://enrol?server=javascript%3Aalert(1)&code=ABCD2345",
                "server",
            ),
            (
                "xiangying://enrol?server=http%3A%2F%2Fu%3Ap%40a&code=ABCD2345",
                "credentials",
            ),
            (
                "xiangying://enrol?server=http%3A%2F%2Fa%3Fq%3D1&code=ABCD2345",
                "query",
            ),
            ("xiangying://enrol?server=http%3A%2F%2Fa&code=AB", "code"),
            (
                "xiangying://enrol?server=http%3A%2F%2Fa&code=ABCD%0A2345",
                "code",
            ),
            (
                "xiangying://enrol?server=http%3A%2F%2Fa&code=ABCD2345<script>",
                "code",
            ),
        ];
        for (link, problem) in cases {
            let e = parse_enrol_link(link).unwrap_err().to_string();
            assert!(e.contains(problem), "{link}: {e}");
            assert!(e.contains("enrolment link"), "{e}");
        }
        let long = format!(
            "xiangying://enrol?server=http%3A%2F%2F{}&code=ABCD2345",
            "a".repeat(1100)
        );
        assert!(
            parse_enrol_link(&long)
                .unwrap_err()
                .to_string()
                .contains("longer")
        );
    }
}
