//! The desk in a real browser (decision 0043): headless Chromium driven through chromedriver
//! ([`xiangying_tests::webdriver`]) against a real server on 127.0.0.1 with the sample street.
//!
//! Without chromedriver these tests fail with how to install it, unless `XY_SKIP_BROWSER=1`.

use xiangying_tests::webdriver::{Browser, SCREEN};
use xiangying_tests::{Field, sample_org};

/// Where a signed-out browser starts: the overview, which sends it to the sign-in page (the
/// check below).
const START: &str = "/desk/";

/// Whether `s` holds a CJK ideograph.
fn has_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[test]
fn an_unsigned_browser_at_the_desk_gets_the_chinese_sign_in_page_without_console_errors() {
    let Some(b) = Browser::for_test() else { return };
    let f = Field::new(sample_org());

    b.goto(&format!("{}{START}", f.server.url()));

    // Sent to the sign-in page, which says so in Chinese.
    let url = b.current_url();
    assert!(
        url.starts_with(&format!("{}/desk/login", f.server.url())),
        "not at the sign-in page: {url}"
    );
    let title = b.title();
    assert!(title.contains("登录"), "title: {title}");
    assert!(
        has_chinese(&b.find("h1").text()),
        "heading: {}",
        b.page_source()
    );
    assert_eq!(b.find("html").attr("lang").as_deref(), Some("zh-CN"));
    // The embedded stylesheet arrived and applies (the sign-in body is styled as `bare`).
    let sheets = b.execute(
        "return Array.from(document.styleSheets).filter(s => s.cssRules.length > 0).length;",
        vec![],
    );
    assert!(sheets.as_u64().unwrap_or(0) >= 1, "no stylesheet: {sheets}");

    let errors = b.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");

    let png = b.screenshot_png();
    let shot = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
        .expect("the screenshot is a PNG");
    assert_eq!((shot.width(), shot.height()), SCREEN, "screenshot size");
}

#[test]
fn the_harness_reports_script_errors_and_missing_elements() {
    let Some(b) = Browser::for_test() else { return };
    let f = Field::new(sample_org());
    b.goto(&format!("{}/desk/login", f.server.url()));
    let _ = b.console_errors();

    // An uncaught error in the page reaches console_errors.
    b.execute(
        "setTimeout(function () { throw new Error('harness-check'); }, 0); return null;",
        vec![],
    );
    b.wait_until("the thrown error in the console", |b| {
        b.console()
            .iter()
            .any(|e| e.message.contains("harness-check"))
    });

    assert!(b.try_find("#no-such-element").is_none());
    assert!(b.find_all("#no-such-element").is_empty());

    // A cookie set for the site is kept, and deleted with the others.
    b.set_cookie("xy_probe", "1");
    assert_eq!(b.cookie("xy_probe").as_deref(), Some("1"));
    b.set_cookie("__Host-xy_probe", "2");
    assert_eq!(b.cookie("__Host-xy_probe").as_deref(), Some("2"));
    b.delete_cookies();
    assert_eq!(b.cookie("xy_probe"), None);
    assert_eq!(b.cookie("__Host-xy_probe"), None);

    // The page is the office screen's size; a taller shot is as tall as asked, and the page
    // goes back to the screen's size after it.
    assert_eq!(b.viewport_size(), SCREEN);
    let tall = image::load_from_memory(&b.screenshot_png_at_height(1200)).expect("png");
    assert_eq!((tall.width(), tall.height()), (SCREEN.0, 1200));
    assert_eq!(b.viewport_size(), SCREEN);
}

#[test]
fn the_harness_types_clicks_and_waits_for_what_a_script_adds() {
    let Some(b) = Browser::for_test() else { return };
    let f = Field::new(sample_org());
    b.goto(&format!("{}/desk/login", f.server.url()));

    // A form a script adds after the page has loaded: wait_for finds it.
    b.execute(
        "setTimeout(function () {
           var f = document.createElement('form');
           f.innerHTML = '<label for=q>名称</label><input id=q name=q data-kind=probe>' +
             '<button type=button id=go>确定</button><output id=out></output>';
           document.querySelector('main').appendChild(f);
           f.querySelector('#go').addEventListener('click', function () {
             f.querySelector('#out').textContent = '收到：' + f.querySelector('#q').value;
           });
         }, 0);
         return null;",
        vec![],
    );
    let input = b.wait_for("#q");
    assert_eq!(input.tag(), "input");
    assert_eq!(input.attr("data-kind").as_deref(), Some("probe"));
    assert_eq!(input.attr("no-such-attribute"), None);
    input.send_keys("井盖");
    assert_eq!(input.property("value"), serde_json::json!("井盖"));
    input.clear();
    input.send_keys("路灯");
    b.find("#go").click();
    assert_eq!(b.find("#out").text(), "收到：路灯");
    assert!(
        b.find("main > form:last-child")
            .try_find("#go")
            .is_some_and(|e| e.displayed())
    );
    assert!(b.console_errors().is_empty());
}
