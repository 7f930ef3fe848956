//! The message of an [`ApiError`] in Simplified Chinese or English, written for the grid
//! worker holding the phone: short, plain, and saying what to do next. A refusal of the rules
//! is its own sentence ([`xiangying_core::Denied`]); every other error has a message per code.
//! The developer's detail (`detail`, `problem`, the server's words) stays in the error's
//! fields and its `Display`, for logs and reports.

use crate::codes::ErrorCode;
use crate::error::ApiError;

/// The languages messages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    /// Simplified Chinese (`zh-Hans`).
    Zh,
    /// English (`en`).
    En,
}

impl Lang {
    /// The language for a BCP 47 locale tag (`zh-Hans-CN`, `zh_CN`, `en-US`, …): Chinese for
    /// any `zh` tag, English otherwise.
    fn of(locale: &str) -> Lang {
        let tag = locale.trim().to_ascii_lowercase();
        if tag == "zh" || tag.starts_with("zh-") || tag.starts_with("zh_") {
            Lang::Zh
        } else {
            Lang::En
        }
    }
}

/// The message of `error` for a person to read, in the language of `locale` (a BCP 47 tag
/// such as `zh-Hans-CN` or `en-US`, as the platform gives the device's locale): Simplified
/// Chinese for any `zh` tag, English otherwise.
#[uniffi::export]
pub fn api_error_message(error: ApiError, locale: String) -> String {
    message(&error, &locale)
}

/// [`api_error_message`] for Rust callers.
pub fn message(error: &ApiError, locale: &str) -> String {
    let lang = Lang::of(locale);
    match (error, lang) {
        (ApiError::NotAllowed { reason, .. }, Lang::En) => sentence(reason),
        (ApiError::NotAllowed { reason_zh, .. }, Lang::Zh) => format!("{reason_zh}。"),
        (ApiError::NotFound { what, .. }, Lang::En) => {
            format!("This {what} is not on this phone. Sync, then try again.")
        }
        (ApiError::NotFound { what, .. }, Lang::Zh) => {
            format!("手机上找不到这个{}，请先同步再试。", what_zh(what))
        }
        (ApiError::InvalidInput { field, problem }, Lang::En) => {
            format!("Please check {}: {problem}.", field.replace('_', " "))
        }
        (ApiError::InvalidInput { field, .. }, Lang::Zh) => {
            format!("“{}”填写有误，请检查后再试。", field_zh(field))
        }
        (ApiError::ServerRejected { status, code, .. }, lang) => {
            server(ErrorCode::of_server(code), *status, lang)
        }
        (e, lang) => fixed(e.code(), lang).to_string(),
    }
}

/// The rule's sentence with a full stop (not capitalised: it may start with a person's id).
fn sentence(text: &str) -> String {
    format!("{text}.")
}

/// The messages that need no data from the error.
fn fixed(code: ErrorCode, lang: Lang) -> &'static str {
    let (en, zh) = match code {
        ErrorCode::Storage => (
            "The phone could not save the data (storage full or damaged). Free some space and try again; what was saved before is safe.",
            "手机存储出错（可能空间不足）。请清理空间后再试，之前保存的数据不会丢失。",
        ),
        ErrorCode::Network => (
            "No connection to the server. Your work is kept on the phone and is sent when you are back online.",
            "连不上服务器。工作已保存在手机上，联网后会自动上传。",
        ),
        ErrorCode::Unauthorised => (
            "This phone is no longer signed in to the server. Ask your administrator for a new enrolment code.",
            "这台手机已不能登录服务器，请向管理员要一个新的登记码重新登记。",
        ),
        ErrorCode::Cancelled => (
            "Stopped. What was already done is kept and the rest carries on next time.",
            "已停止。已完成的部分会保留，下次接着进行。",
        ),
        ErrorCode::UpgradeRequired => (
            "This app is too old for the server. Update the app; your saved work is kept.",
            "应用版本太旧，请更新应用。已保存的工作不会丢失。",
        ),
        ErrorCode::ServerTooOld => (
            "The server is older than this app. Tell your administrator; your work is kept and sent later.",
            "服务器版本比应用旧，请告诉管理员。工作已保存，之后会上传。",
        ),
        ErrorCode::CorruptCase => (
            "This case's data on the phone is damaged. Other cases still work; please report it.",
            "手机上这个案件的数据已损坏，其他案件不受影响，请报告这个问题。",
        ),
        ErrorCode::NotSetUp => (
            "This phone is not set up yet. Enrol it with the code from your administrator.",
            "这台手机还没有设置，请用管理员给的登记码登记。",
        ),
        ErrorCode::PhotoTooLarge => (
            "The photo is too large. Take it again at a lower resolution.",
            "照片太大，请调低分辨率后重拍。",
        ),
        ErrorCode::PhotoTooManyPixels => (
            "The photo has too many pixels. Take it again at a lower resolution.",
            "照片像素太多，请调低分辨率后重拍。",
        ),
        ErrorCode::PhotoUnsupportedFormat => (
            "This picture format cannot be used. Use a JPEG, PNG or WebP photo.",
            "不支持这种图片格式，请使用 JPEG、PNG 或 WebP 照片。",
        ),
        ErrorCode::PhotoHeic => (
            "HEIC photos cannot be used. Set the camera to Most Compatible (JPEG) and take it again.",
            "不支持 HEIC 照片，请把相机格式设为“兼容性最佳”（JPEG）后重拍。",
        ),
        ErrorCode::PhotoCorrupt => (
            "The photo file is damaged. Take it again.",
            "照片文件已损坏，请重拍。",
        ),
        ErrorCode::PhotoEncode => (
            "The photo could not be processed. Take it again.",
            "照片处理失败，请重拍。",
        ),
        ErrorCode::TlsUnknownIssuer => (
            "The server's certificate is not from an authority this phone trusts. Nothing was sent; ask your administrator to check the server address and the enrolment's certificate settings.",
            "服务器证书不是本机信任的机构签发的，没有发送任何数据。请让管理员检查服务器地址和登记时的证书设置。",
        ),
        ErrorCode::TlsPinMismatch => (
            "The server's certificate does not match the one this phone was enrolled with. Nothing was sent; tell your administrator.",
            "服务器证书与登记时绑定的证书不符，没有发送任何数据，请告诉管理员。",
        ),
        ErrorCode::TlsExpired => (
            "The server's certificate has expired or is not valid yet. Check the phone's date and time; if they are right, tell your administrator.",
            "服务器证书已过期或尚未生效。请检查手机的日期和时间；如果无误，请告诉管理员。",
        ),
        ErrorCode::TlsNameMismatch => (
            "The server's certificate is for another address. Nothing was sent; check the server address with your administrator.",
            "服务器证书与服务器地址不符，没有发送任何数据，请和管理员核对服务器地址。",
        ),
        ErrorCode::TlsOther => (
            "The secure connection to the server was refused. Nothing was sent; tell your administrator.",
            "与服务器的安全连接被拒绝，没有发送任何数据，请告诉管理员。",
        ),
        // Internal, and the codes whose messages need the error's data (a wrong call here
        // still says something useful).
        _ => (
            "Something went wrong in the app. Try again; if it keeps happening, report it.",
            "应用出错了，请重试；如果反复出现，请报告这个问题。",
        ),
    };
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

/// The message of a server's refusal, by its code.
fn server(code: ErrorCode, status: u16, lang: Lang) -> String {
    let (en, zh) = match code {
        ErrorCode::Unauthorised => return fixed(ErrorCode::Unauthorised, lang).to_string(),
        ErrorCode::UpgradeRequired => return fixed(ErrorCode::UpgradeRequired, lang).to_string(),
        ErrorCode::ServerTooOld => return fixed(ErrorCode::ServerTooOld, lang).to_string(),
        ErrorCode::Quarantined => (
            "The server has blocked this phone. Contact your administrator.",
            "服务器已停用这台手机，请联系管理员。",
        ),
        ErrorCode::Tampering => (
            "The server refused changes that alter past records. Contact your administrator.",
            "服务器拒绝了改动历史记录的更改，请联系管理员。",
        ),
        ErrorCode::Forbidden => (
            "The server does not let you do this. Check the case is in your area, or ask your supervisor.",
            "服务器不允许你这样操作。请确认案件在你的负责范围内，或询问上级。",
        ),
        ErrorCode::BadRequest => (
            "The server could not read the request. Update the app; if it keeps happening, report it.",
            "服务器无法识别这个请求。请更新应用；如果反复出现，请报告这个问题。",
        ),
        ErrorCode::TooLarge => (
            "Too much to send at once. Try again with fewer or smaller photos.",
            "一次发送的内容太大，请减少照片后再试。",
        ),
        ErrorCode::OverLimit => (
            "This is more than the server allows. Send less at once, or ask your administrator.",
            "超出了服务器的限额，请减少数量后再试，或询问管理员。",
        ),
        ErrorCode::Overloaded => (
            "The server is busy. The phone tries again shortly; nothing is lost.",
            "服务器繁忙，手机稍后会自动重试，数据不会丢失。",
        ),
        ErrorCode::DeviceBusy => (
            "This phone is already syncing. Wait a moment.",
            "这台手机正在同步，请稍等。",
        ),
        ErrorCode::TooManyRequests => (
            "Too many tries. Wait a few minutes, then try again.",
            "尝试次数太多，请过几分钟再试。",
        ),
        ErrorCode::Expired => (
            "The enrolment code has expired. Ask your administrator for a new one.",
            "登记码已过期，请向管理员要一个新的。",
        ),
        ErrorCode::NotFound => (
            "The server does not have this, or does not show it to you. Sync and check.",
            "服务器上没有这项内容，或你无权查看。请同步后确认。",
        ),
        ErrorCode::Conflict => (
            "The server holds something different. Sync, then try again.",
            "服务器上的数据已有变化，请同步后再试。",
        ),
        ErrorCode::NoOrg => (
            "The server is not set up yet. Contact your administrator.",
            "服务器还没有设置好，请联系管理员。",
        ),
        ErrorCode::Internal => (
            "The server had a problem. Try again later; if it keeps happening, report it.",
            "服务器出错了，请稍后再试；如果反复出现，请报告这个问题。",
        ),
        _ => {
            return match lang {
                Lang::En => format!(
                    "The server refused this (HTTP {status}). If it keeps happening, report it."
                ),
                Lang::Zh => {
                    format!("服务器拒绝了这个请求（HTTP {status}），如果反复出现，请报告这个问题。")
                }
            };
        }
    };
    match lang {
        Lang::En => en.to_string(),
        Lang::Zh => zh.to_string(),
    }
}

/// The kind of thing a `NotFound` names, in Chinese.
fn what_zh(what: &str) -> &str {
    match what {
        "case" => "案件",
        "person" => "人员",
        "category" => "类别",
        "grid" => "网格",
        "segment" => "路段",
        "community" => "社区",
        "department" => "部门",
        "photo" => "照片",
        "patrol" => "巡查",
        "community grid chief of community" => "社区网格长",
        _ => "记录",
    }
}

/// The field an `InvalidInput` names, in Chinese; a field this build does not name as
/// written.
fn field_zh(field: &str) -> &str {
    match field {
        "description" => "描述",
        "location" => "位置",
        "category" => "类别",
        "server_url" => "服务器地址",
        "code" => "登记码",
        "enrolment link" => "登记二维码",
        "platform" => "平台",
        "app_version" => "应用版本",
        "hash" => "照片编号",
        "reason" => "原因",
        "note" => "说明",
        "hours" => "延期时长",
        "org" => "名册",
        "case" => "案件",
        "patrol" => "巡查",
        "points" => "轨迹点",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_zh_tag_is_chinese_and_the_rest_english() {
        assert_eq!(Lang::of("zh-Hans-CN"), Lang::Zh);
        assert_eq!(Lang::of("zh_CN"), Lang::Zh);
        assert_eq!(Lang::of("zh"), Lang::Zh);
        assert_eq!(Lang::of("en-US"), Lang::En);
        assert_eq!(Lang::of(""), Lang::En);
        assert_eq!(Lang::of("zhx"), Lang::En);
    }
}
