//! The desk's main flow in a real browser (headless Chromium through chromedriver) against a
//! real server with real phones: the centre signs in, finds a case by its number, dispatches
//! it to a department; the department signs in and sees it; the department's phone syncs and
//! has the event. Then the refusals: a wrong password, an expired session, a forged form post.
//! And every page of the desk loads with no console error.

use xiangying_core::case::{Action, Author, Status};
use xiangying_server::desk::{password, session};
use xiangying_tests::desk::{escalated_case, report};
use xiangying_tests::webdriver::Browser;
use xiangying_tests::{Field, sample_org, server_counts};

const CENTRE_PASSWORD: &str = "centre-pass-2026";
const POLICE_PASSWORD: &str = "police-pass-2026";

/// A street with a case escalated to the street centre, and desk passwords; returns the case
/// id and number.
fn street(f: &mut Field) -> (String, String) {
    let id = escalated_case(f);
    let number = f.dev("gw1").case(&id).unwrap().number.unwrap();
    let state = f.state();
    let now = xiangying_server::desk::now_ms();
    password::set_password(state.storage.as_ref(), "center", CENTRE_PASSWORD, now).unwrap();
    password::set_password(state.storage.as_ref(), "police1", POLICE_PASSWORD, now).unwrap();
    (id, number)
}

/// Signs in through the sign-in form, starting from `start`.
fn sign_in(b: &Browser, base: &str, start: &str, person: &str, password: &str) {
    b.goto(&format!("{base}{start}"));
    b.wait_for("#person").send_keys(person);
    b.find("#password").send_keys(password);
    b.find("form button[type=submit]").click();
    b.wait_for("header.top");
}

/// Fails on any console error on the page now in the browser.
fn no_console_errors(b: &Browser, page: &str) {
    let errors = b.console_errors();
    assert!(errors.is_empty(), "console errors on {page}: {errors:?}");
}

#[test]
fn the_centre_dispatches_a_case_found_by_number_and_the_department_sees_it_on_desk_and_phone() {
    let Some(b) = Browser::for_test() else { return };
    let mut f = Field::new(sample_org());
    let (id, number) = street(&mut f);
    let base = f.server.url();

    // Signing in from the overview comes back to it.
    sign_in(&b, &base, "/desk/", "center", CENTRE_PASSWORD);
    assert!(b.current_url().ends_with("/desk/"), "{}", b.current_url());
    no_console_errors(&b, "the overview");

    // Find the case by its number.
    b.goto(&format!("{base}/desk/cases"));
    let search = b.wait_for("input[name=q]");
    search.send_keys(&number);
    search.send_keys(xiangying_tests::webdriver::keys::ENTER);
    b.wait_until("the search's answer", |b| b.current_url().contains("q="));
    b.wait_until("the case in the list", |b| {
        b.page_source().contains(&format!("/desk/cases/{id}"))
    });
    b.find(&format!("a[href='/desk/cases/{id}']")).click();
    b.wait_for("form[data-action=dispatch]");
    assert!(b.find("main h1").text().contains(&number));
    no_console_errors(&b, "the case page");

    // Dispatch it to the police.
    let form = b.find("form[data-action=dispatch]");
    form.try_find("input[name=department][value=police]")
        .expect("police checkbox")
        .click();
    form.try_find("input[name=note]")
        .expect("note")
        .send_keys("请派出所现场处置");
    form.try_find("button[type=submit]")
        .expect("button")
        .click();
    b.wait_for(".flash.ok");
    assert!(b.find("ol.timeline").text().contains("派遣"));
    assert!(b.find("main").text().contains("已派遣"));

    // The department's phone has the event, authored by the centre staff member.
    f.dev("police1").sync_now(&|_| {}).unwrap();
    let v = f.dev("police1").case(&id).unwrap();
    assert_eq!(v.state.status, Status::Dispatched);
    let last = v.state.history.last().unwrap();
    assert!(matches!(last.event.action, Action::Dispatched { .. }));
    assert!(matches!(&last.event.by, Author::Person(c) if c.person == "center"));

    // Sign out; the department signs in and finds the case in its list.
    b.find("header.top form button[type=submit]").click();
    b.wait_for("#person");
    sign_in(&b, &base, "/desk/cases", "police1", POLICE_PASSWORD);
    b.wait_until("the dispatched case in the department's list", |b| {
        b.page_source().contains(&format!("/desk/cases/{id}"))
    });
    b.find(&format!("a[href='/desk/cases/{id}']")).click();
    b.wait_for("ol.timeline");
    assert!(b.find("ol.timeline").text().contains("请派出所现场处置"));
    no_console_errors(&b, "the department's case page");
}

#[test]
fn a_wrong_password_an_expired_session_and_a_forged_post_are_refused() {
    let Some(b) = Browser::for_test() else { return };
    let mut f = Field::new(sample_org());
    let (id, _) = street(&mut f);
    let base = f.server.url();
    let state = f.state();

    // A wrong password: still on the sign-in page, told so in Chinese.
    b.goto(&format!("{base}/desk/"));
    b.wait_for("#person").send_keys("center");
    b.find("#password").send_keys("not-the-password");
    b.find("form button[type=submit]").click();
    // The answer is a new page: wait for its refusal, not for the old page's field.
    b.wait_until("the refusal of the wrong password", |b| {
        b.page_source().contains("不正确")
    });
    assert!(
        b.current_url().contains("/desk/login"),
        "{}",
        b.current_url()
    );
    assert!(b.try_find("header.top").is_none());

    // An expired session (opened 13 hours ago: past the 12-hour limit) goes to sign-in.
    let old = xiangying_server::desk::now_ms() - 13 * 3_600_000;
    let token = session::open_session(state.storage.as_ref(), "center", old).unwrap();
    b.set_cookie(session::SESSION_COOKIE, &token);
    b.goto(&format!("{base}/desk/cases/{id}"));
    b.wait_for("#person");
    assert!(
        b.current_url().contains("/desk/login"),
        "{}",
        b.current_url()
    );

    // A live session, and a form post with a forged CSRF token: refused, nothing stored.
    let token = session::open_session(
        state.storage.as_ref(),
        "center",
        xiangying_server::desk::now_ms(),
    )
    .unwrap();
    b.delete_cookies();
    b.goto(&format!("{base}/desk/login"));
    b.set_cookie(session::SESSION_COOKIE, &token);
    b.goto(&format!("{base}/desk/cases/{id}"));
    b.wait_for("form[data-action=dispatch]");
    let before = server_counts(&f);
    let status = b.execute(
        "const body = new URLSearchParams({_csrf: 'forged', action: 'dispatch', \
           department: 'police', note: 'x'}); \
         return fetch(location.pathname, {method: 'POST', body: body, \
           headers: {'content-type': 'application/x-www-form-urlencoded'}}) \
           .then(r => r.status);",
        vec![],
    );
    assert_eq!(status, serde_json::json!(403));
    // And a form whose token field was emptied by hand.
    b.execute(
        "document.querySelector('form[data-action=dispatch] input[name=_csrf]').value = '';",
        vec![],
    );
    let form = b.find("form[data-action=dispatch]");
    form.try_find("input[name=department][value=police]")
        .expect("police checkbox")
        .click();
    form.try_find("button[type=submit]")
        .expect("button")
        .click();
    b.wait_until("the refusal page", |b| {
        b.page_source().contains("表单已过期")
    });
    assert_eq!(server_counts(&f), before, "a refused post stored something");
    assert_eq!(
        f.dev("gw1").case(&id).unwrap().state.status,
        Status::Escalated
    );
}

#[test]
fn every_desk_page_loads_with_no_console_error() {
    let Some(b) = Browser::for_test() else { return };
    let mut f = Field::new(sample_org());
    let (id, _) = street(&mut f);
    let base = f.server.url();
    sign_in(&b, &base, "/desk/", "center", CENTRE_PASSWORD);
    let pages = [
        "/desk/".to_string(),
        "/desk/map".to_string(),
        "/desk/cases".to_string(),
        format!("/desk/cases/{id}"),
        "/desk/rankings".to_string(),
        "/desk/boards".to_string(),
        "/desk/devices".to_string(),
        "/desk/people".to_string(),
    ];
    for page in &pages {
        b.goto(&format!("{base}{page}"));
        b.wait_for("main h1");
        let title = b.title();
        assert!(!title.contains("出错了"), "{page}: {title}");
        assert!(b.try_find("header.top").is_some(), "{page}: no navigation");
        no_console_errors(&b, page);
    }
    // The account page (sign out here or everywhere) stands apart from the navigation.
    b.goto(&format!("{base}/desk/account"));
    b.wait_for("main");
    assert!(!b.title().contains("出错了"), "{}", b.title());
    no_console_errors(&b, "/desk/account");
}

#[test]
fn an_open_page_shows_a_phones_new_report_without_a_reload() {
    let Some(b) = Browser::for_test() else { return };
    let mut f = Field::new(sample_org());
    let (_, _) = street(&mut f);
    let base = f.server.url();
    sign_in(&b, &base, "/desk/cases", "center", CENTRE_PASSWORD);
    b.wait_for("main h1");
    // The live poll has started (it first learns the feed's position).
    b.wait_until("the live poll to start", |b| {
        b.execute(
            "return performance.getEntriesByType('resource')\
               .filter(e => e.name.includes('/desk/live')).length;",
            vec![],
        )
        .as_u64()
        .unwrap_or(0)
            > 0
    });
    // Mark this page: a reload would lose the mark, an in-place update keeps it.
    b.execute("window.__stayed = true; return null;", vec![]);
    let id = f
        .dev("gw1")
        .report(&report("路灯不亮，夜间通行危险"))
        .unwrap();
    f.dev("gw1").sync_now(&|_| {}).unwrap();
    b.wait_until("the new case in the open list", |b| {
        b.page_source().contains(&format!("/desk/cases/{id}"))
    });
    assert_eq!(
        b.execute("return window.__stayed === true;", vec![]),
        serde_json::json!(true),
        "the page was reloaded instead of updated in place"
    );
    assert!(b.find("#live-status").text().contains("已更新"));
    no_console_errors(&b, "the live case list");
}
