//! The desk's page shell: the head, the navigation bar with the signed-in person, and the
//! embedded stylesheet and script (served from the binary, never from a CDN).

use super::Shared;
use super::session::DeskUser;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// The stylesheet, embedded.
const CSS: &str = include_str!("assets/desk.css");
/// The script, embedded.
const JS: &str = include_str!("assets/desk.js");
/// Where the stylesheet is served (the build's version busts caches after an upgrade).
pub const CSS_PATH: &str = concat!("/desk/assets/desk.css?v=", env!("CARGO_PKG_VERSION"));
/// Where the script is served.
pub const JS_PATH: &str = concat!("/desk/assets/desk.js?v=", env!("CARGO_PKG_VERSION"));
/// The desk's icon, embedded (without one every page logs a failed `/favicon.ico` load).
const ICON: &str = include_str!("assets/icon.svg");
/// Where the icon is served.
pub const ICON_PATH: &str = concat!("/desk/assets/icon.svg?v=", env!("CARGO_PKG_VERSION"));

/// The pages of the navigation bar, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// 总览: today's counts and trends.
    Overview,
    /// 地图: the street drawn from the roster, with case pins.
    Map,
    /// 案件: the case list and case pages.
    Cases,
    /// 考核: rankings.
    Rankings,
    /// 公示栏: notice boards.
    Boards,
    /// 设备: enrolled devices and enrolment codes.
    Devices,
    /// 人员: the roster.
    People,
}

impl Nav {
    /// Every page, in the bar's order.
    pub const ALL: [Nav; 7] = [
        Nav::Overview,
        Nav::Map,
        Nav::Cases,
        Nav::Rankings,
        Nav::Boards,
        Nav::Devices,
        Nav::People,
    ];

    /// The page's name in the bar.
    pub fn label(self) -> &'static str {
        match self {
            Nav::Overview => "总览",
            Nav::Map => "地图",
            Nav::Cases => "案件",
            Nav::Rankings => "考核",
            Nav::Boards => "公示栏",
            Nav::Devices => "设备",
            Nav::People => "人员",
        }
    }

    /// The page's address.
    pub fn href(self) -> &'static str {
        match self {
            Nav::Overview => "/desk/",
            Nav::Map => "/desk/map",
            Nav::Cases => "/desk/cases",
            Nav::Rankings => "/desk/rankings",
            Nav::Boards => "/desk/boards",
            Nav::Devices => "/desk/devices",
            Nav::People => "/desk/people",
        }
    }

    /// Whether the page reloads itself when cases change (rankings and notice boards are
    /// read for meetings and cost a computation: they stay as they are until asked).
    pub fn live(self) -> bool {
        !matches!(self, Nav::Rankings | Nav::Boards)
    }

    /// The access key (Alt+key in Chromium) that opens the page from the keyboard.
    pub fn access_key(self) -> &'static str {
        match self {
            Nav::Overview => "1",
            Nav::Map => "2",
            Nav::Cases => "3",
            Nav::Rankings => "4",
            Nav::Boards => "5",
            Nav::Devices => "6",
            Nav::People => "7",
        }
    }
}

/// A whole page: `title` in the head and as the heading, `body` under the navigation bar with
/// `active` marked. Forms inside `body` carry `user.csrf` themselves ([`csrf_field`]).
pub fn page(user: &DeskUser, active: Nav, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="csrf-token" content=(user.csrf);
                title { (title) " · 响应工作台" }
                link rel="stylesheet" href=(CSS_PATH);
                link rel="icon" type="image/svg+xml" href=(ICON_PATH);
                script src=(JS_PATH) defer {}
            }
            body data-page=(active.href()) data-live=(if active.live() { "on" } else { "off" }) {
                a.skip href="#main" { "跳到正文" }
                header.top {
                    span.brand { "响应 · " (user.roster.street.name) "网格化管理中心" }
                    nav aria-label="主导航" {
                        ul {
                            @for item in Nav::ALL {
                                li {
                                    a href=(item.href()) accesskey=(item.access_key())
                                        aria-current=[(item == active).then_some("page")] {
                                        (item.label())
                                    }
                                }
                            }
                        }
                    }
                    div.who {
                        span.person title=(user.person.as_str()) { (user.name) "（" (user.role_label()) "）" }
                        form method="post" action="/desk/logout" {
                            (csrf_field(user))
                            button.link type="submit" { "退出" }
                        }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
                div #live-status.live role="status" aria-live="polite" {}
            }
        }
    }
}

/// The hidden CSRF field every desk form carries.
pub fn csrf_field(user: &DeskUser) -> Markup {
    html! { input type="hidden" name="_csrf" value=(user.csrf); }
}

/// A page for someone not signed in (the sign-in page): the head and `body`, no navigation.
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · 响应工作台" }
                link rel="stylesheet" href=(CSS_PATH);
                link rel="icon" type="image/svg+xml" href=(ICON_PATH);
            }
            body.bare {
                main #main { (body) }
            }
        }
    }
}

/// Inline JSON data for a page's script, escaped so that it cannot close the script element.
pub fn json_data(id: &str, value: &serde_json::Value) -> Markup {
    let text = value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    html! { script type="application/json" id=(id) { (PreEscaped(text)) } }
}

/// The asset routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/desk/assets/desk.css",
            get(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
        .route(
            "/desk/assets/desk.js",
            get(|| async { asset("text/javascript; charset=utf-8", JS) }),
        )
        .route(
            "/desk/assets/icon.svg",
            get(|| async { asset("image/svg+xml", ICON) }),
        )
}

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_json_cannot_close_its_script() {
        let v = serde_json::json!({ "t": "</script><script>alert(1)</script>" });
        let m = json_data("d", &v).into_string();
        assert_eq!(m.matches("</script>").count(), 1, "{m}");
    }

    #[test]
    fn every_page_has_a_distinct_address_and_key() {
        let mut hrefs: Vec<_> = Nav::ALL.iter().map(|n| n.href()).collect();
        hrefs.sort();
        hrefs.dedup();
        assert_eq!(hrefs.len(), Nav::ALL.len());
        let mut keys: Vec<_> = Nav::ALL.iter().map(|n| n.access_key()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), Nav::ALL.len());
    }
}
