//! The desk's errors, answered as a page in Chinese that names the problem.

use crate::error::ServerError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

/// What went wrong on a desk request.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// Something the person asked for does not exist (or they may not see it).
    #[error("{0}")]
    NotFound(String),
    /// The person may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request is malformed (a form field, a filter).
    #[error("{0}")]
    BadRequest(String),
    /// A form post without this session's CSRF token.
    #[error("表单已过期或来源不明，请刷新页面后重试")]
    Csrf,
    /// From the server underneath.
    #[error(transparent)]
    Server(#[from] ServerError),
}

impl DeskError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            DeskError::NotFound(_) => StatusCode::NOT_FOUND,
            DeskError::Forbidden(_) | DeskError::Csrf => StatusCode::FORBIDDEN,
            DeskError::BadRequest(_) => StatusCode::BAD_REQUEST,
            DeskError::Server(e) => e.status(),
        }
    }

    /// The message shown to the person (internal errors show an id, never their text).
    fn message(&self) -> String {
        match self {
            DeskError::Server(e @ (ServerError::Storage(_) | ServerError::Internal(_))) => {
                let id = uuid::Uuid::now_v7().to_string();
                tracing::error!(error_id = %id, error = %e, "desk request failed");
                format!("服务器内部错误（编号 {id}），请联系管理员")
            }
            DeskError::Server(ServerError::NotFound) => "未找到".to_string(),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for DeskError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = self.message();
        let page = html! {
            (maud::DOCTYPE)
            html lang="zh-CN" {
                head {
                    meta charset="utf-8";
                    title { "出错了 · 响应工作台" }
                    link rel="stylesheet" href=(crate::desk::layout::CSS_PATH);
                }
                body.error-page {
                    main {
                        h1 { "出错了（" (status.as_u16()) "）" }
                        p.error-message role="alert" { (message) }
                        p { a href="javascript:history.back()" { "返回上一页" } " · " a href="/desk/" { "回到总览" } }
                    }
                }
            }
        };
        (status, page).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_show_their_text() {
        let e = DeskError::Server(ServerError::Internal("SELECT secret FROM x".into()));
        assert!(!e.message().contains("SELECT"));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_refusal_names_its_reason() {
        let e = DeskError::Forbidden("无权派遣此案件".into());
        assert_eq!(e.status(), StatusCode::FORBIDDEN);
        assert!(e.message().contains("派遣"));
    }
}
