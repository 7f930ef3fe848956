//! The desk's enrolment QR codes (decision 0041): a phone scans
//! `xiangying://enrol?server=<percent-encoded base URL>&code=<code>` and reads it here, with the
//! core's strict parser (`xiangying_core::sync::enrol_link`), before it enrols with
//! `XiangyingDevice::enrol`. No store is touched.

use crate::error::ApiResult;
use xiangying_core::sync::enrol_link as core_link;

/// An enrolment link's parts, as the desk's QR code gives them: what
/// `XiangyingDevice::enrol` takes as its server URL and code.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnrolLink {
    /// The server's base URL, e.g. `https://xy.example.gov.cn` (no trailing slash).
    pub server: String,
    /// The enrolment code, as printed (e.g. `K7QMX-4XWDA-9PLRT`).
    pub code: String,
}

impl From<core_link::EnrolLink> for EnrolLink {
    fn from(l: core_link::EnrolLink) -> EnrolLink {
        EnrolLink {
            server: l.server,
            code: l.code,
        }
    }
}

/// Reads the text of a scanned enrolment QR code (`xiangying://enrol?server=…&code=…`),
/// strictly: anything else (another scheme or path, a missing, repeated or unknown parameter,
/// a server that is not a plain `http`/`https` base URL, a code outside the enrolment
/// alphabet) is [`crate::ApiError::InvalidInput`] with field `enrolment link` (code
/// `InvalidInput`), naming the problem, so a QR code from elsewhere never points the phone at
/// an unknown server.
#[uniffi::export]
pub fn parse_enrol_link(text: String) -> ApiResult<EnrolLink> {
    Ok(core_link::parse_enrol_link(&text)?.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ApiError, ErrorCode, api_error_message};

    #[test]
    fn a_desk_link_is_read_and_anything_else_is_invalid_input() {
        let l = parse_enrol_link(
            "xiangying://enrol?server=https%3A%2F%2Fxy.example.gov.cn%3A8470%2F&code=K7QMX-4XWDA-9PLRT"
                .to_string(),
        )
        .unwrap();
        assert_eq!(
            l,
            EnrolLink {
                server: "https://xy.example.gov.cn:8470".to_string(),
                code: "K7QMX-4XWDA-9PLRT".to_string(),
            }
        );
        for bad in [
            "https://xy.example.gov.cn/enrol?code=K7QMX-4XWDA-9PLRT",
            "xiangying://enrol?server=ftp%3A%2F%2Fa&code=ABCD2345",
            "xiangying://enrol?server=http%3A%2F%2Fa",
        ] {
            let e = parse_enrol_link(bad.to_string()).unwrap_err();
            assert!(
                matches!(&e, ApiError::InvalidInput { field, .. } if field == "enrolment link"),
                "{bad}: {e:?}"
            );
            assert_eq!(e.code(), ErrorCode::InvalidInput);
            assert!(api_error_message(e.clone(), "zh".to_string()).contains("登记二维码"));
            assert!(api_error_message(e, "en".to_string()).contains("enrolment link"));
        }
    }
}
