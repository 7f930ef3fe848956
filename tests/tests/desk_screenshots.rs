//! Screenshots of every desk page on the demo's street, for `docs/desk/` (decision 0043). Not a
//! check: an ignored test that `scripts/desk-screenshots` runs. It serves the Zhenxing street,
//! runs a small field day of the demo on it (real devices through real HTTP), signs a street
//! centre staff member in with a session cookie, visits each page of [`PAGES`] at 1366×768 and
//! writes one PNG per page into `XY_SCREENSHOTS_DIR` (default `docs/desk/`).
//!
//! A page that is not there yet (the browser lands on the sign-in page, or on something that is
//! not a desk page) is reported and skipped, so the script works before every part is merged.

use std::path::PathBuf;
use xiangying_server::desk::session::{SESSION_COOKIE, open_session};
use xiangying_tests::webdriver::Browser;
use xiangying_tests::{Field, env_or, zhenxing_org};

/// The address of one case, read from the first case link of the case list.
const ONE_CASE: &str = "<first case of the list>";

/// Every page to shoot, in one place: file name (without `.png`), address, what it is.
const PAGES: &[(&str, &str, &str)] = &[
    ("overview", "/desk/", "总览"),
    ("map", "/desk/map", "地图"),
    ("cases", "/desk/cases", "案件列表"),
    ("case", ONE_CASE, "一个案件"),
    ("rankings", "/desk/rankings", "考核"),
    ("boards", "/desk/boards", "公示栏"),
    ("devices", "/desk/devices", "设备"),
    ("people", "/desk/people", "人员"),
];

/// Where the PNGs go.
fn out_dir() -> PathBuf {
    std::env::var_os("XY_SCREENSHOTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/desk"))
}

#[test]
#[ignore = "writes docs/desk/*.png: run by scripts/desk-screenshots"]
fn desk_screenshots() {
    let b = Browser::start().unwrap_or_else(|e| panic!("{e}"));
    let out = out_dir();
    std::fs::create_dir_all(&out).expect("screenshot folder");

    // The demo's street with a small field day on it.
    let f = Field::new(zhenxing_org());
    let state = f.state();
    let grids = env_or("XY_SHOTS_GRIDS", 8usize);
    let reports = env_or("XY_SHOTS_REPORTS", 2usize);
    let day = xiangying_demo::field_day(
        &state,
        &f.server.url(),
        &f.root.path().join("demo-devices"),
        grids,
        reports,
        &|_| {},
    )
    .expect("field day");
    println!(
        "field day: {} devices, {} cases, {} patrols",
        day.devices, day.cases, day.patrols
    );
    let base = f.server.url();
    let save = |name: &str| {
        let path = out.join(format!("{name}.png"));
        std::fs::write(&path, b.screenshot_png()).expect("write PNG");
        let errors = b.console_errors();
        if !errors.is_empty() {
            println!("  console errors on {name}: {errors:?}");
        }
        println!("wrote {}", path.display());
    };

    // The sign-in page, before signing in.
    b.goto(&format!("{base}/desk/login"));
    save("login");

    // A centre staff member, signed in by a session cookie.
    let roster = f.dev_roster();
    let who = xiangying_demo::desk_sign_in(&state, &roster).expect("desk sign-in");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default();
    let cookie = open_session(state.storage.as_ref(), &who.person, now).expect("session");
    b.set_cookie(SESSION_COOKIE, &cookie);

    let mut skipped = Vec::new();
    for (name, path, what) in PAGES {
        let url = if *path == ONE_CASE {
            b.goto(&format!("{base}/desk/cases"));
            match b
                .try_find("a[href^='/desk/cases/']")
                .and_then(|a| a.attr("href"))
            {
                Some(href) => format!("{base}{href}"),
                None => {
                    skipped.push(format!("{name} ({what}): no case link on the case list"));
                    continue;
                }
            }
        } else {
            format!("{base}{path}")
        };
        b.goto(&url);
        let landed = b.current_url();
        // Every desk page carries `body[data-page]` (desk::layout::page).
        if landed.contains("/desk/login") || b.try_find("body[data-page]").is_none() {
            skipped.push(format!(
                "{name} ({what}): {url} shows “{}” at {landed}",
                b.title()
            ));
            let _ = b.console_errors();
            continue;
        }
        save(name);
    }
    for s in &skipped {
        println!("skipped {s}");
    }
    println!(
        "{} of {} pages shot (and the sign-in page)",
        PAGES.len() - skipped.len(),
        PAGES.len()
    );
}
