//! A small W3C WebDriver client for the desk's browser tests (decision 0043): it starts
//! `chromedriver` on a free loopback port, opens a session with headless Chromium at the desk's
//! office screen size (1366×768, `zh-CN`, a profile folder of its own), and drives it over plain
//! HTTP with the suites' own client ([`crate::http_builder`]).
//!
//! The calls a flow test needs and nothing more: go to an address, find elements by CSS, type,
//! click, read text and attributes, run a script, read the browser console's errors (Chromium's
//! log endpoint), take PNG screenshots, set and delete cookies, and wait for an element with a
//! bounded number of tries. Every failure names the WebDriver command and the error the driver
//! gave; the driver and the browser are stopped when the [`Browser`] is dropped.
//!
//! Which programs: `chromedriver` (or `XY_CHROMEDRIVER`) and `chromium` (or `XY_CHROMIUM`), as
//! Debian packages them (`scripts/test` installs them). [`Browser::for_test`] is what a test
//! calls: without chromedriver it fails with a hint, unless `XY_SKIP_BROWSER=1`.

use serde_json::{Value, json};
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The desk's office screen: the window every session starts with.
pub const SCREEN: (u32, u32) = (1366, 768);

/// How many times [`Browser::wait_for`] and [`Browser::wait_until`] look before failing, and
/// the pause between looks (a bound on tries, not a timed assertion).
pub const WAIT_TRIES: u32 = 200;
/// The pause between two looks of a wait.
pub const WAIT_PAUSE: Duration = Duration::from_millis(50);

/// The key W3C WebDriver names a web element by in its answers.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Special keys for [`Element::send_keys`] (WebDriver's code points).
pub mod keys {
    /// Enter.
    pub const ENTER: &str = "\u{E007}";
    /// Tab.
    pub const TAB: &str = "\u{E004}";
    /// Escape.
    pub const ESCAPE: &str = "\u{E00C}";
    /// Backspace.
    pub const BACKSPACE: &str = "\u{E003}";
}

/// What went wrong talking to the driver.
#[derive(Debug)]
pub enum WebDriverError {
    /// chromedriver could not be found or started, or the session could not be opened.
    Start(String),
    /// The HTTP exchange with chromedriver failed (connection, unreadable answer).
    Transport {
        /// The command, as `METHOD path`.
        command: String,
        /// What failed.
        detail: String,
    },
    /// chromedriver answered with a WebDriver error.
    Command {
        /// The command, as `METHOD path`.
        command: String,
        /// The WebDriver error code (`no such element`, `javascript error`, ...).
        error: String,
        /// The driver's message.
        message: String,
    },
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebDriverError::Start(m) => write!(f, "starting the browser: {m}"),
            WebDriverError::Transport { command, detail } => {
                write!(f, "WebDriver {command}: {detail}")
            }
            WebDriverError::Command {
                command,
                error,
                message,
            } => write!(f, "WebDriver {command}: {error}: {message}"),
        }
    }
}

impl std::error::Error for WebDriverError {}

impl WebDriverError {
    /// The WebDriver error code, when the driver gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            WebDriverError::Command { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// One message of the browser's console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// `SEVERE`, `WARNING`, `INFO`, `DEBUG`.
    pub level: String,
    /// Where it came from (`javascript`, `network`, `console-api`, ...).
    pub source: String,
    /// The message, with the address and line it names.
    pub message: String,
}

/// A headless Chromium driven through chromedriver. Dropping it ends the session and stops
/// chromedriver.
pub struct Browser {
    driver: Child,
    /// `http://127.0.0.1:<port>`.
    endpoint: String,
    /// `<endpoint>/session/<id>`.
    session: String,
    http: reqwest::blocking::Client,
    /// The browser's profile folder and chromedriver's log.
    dir: tempfile::TempDir,
    /// The room the window takes around the page (width, height), measured at the start.
    chrome: (u32, u32),
    /// Console messages read from the driver but not yet handed out.
    console: std::cell::RefCell<Vec<LogEntry>>,
}

/// An element of the page, found by [`Browser::find`] and friends.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
    /// The selector it was found by, for messages.
    css: String,
}

/// Whether `XY_SKIP_BROWSER=1` asks to skip the browser tests.
pub fn skip_requested() -> bool {
    std::env::var("XY_SKIP_BROWSER").as_deref() == Ok("1")
}

/// The program the environment variable `env` names, or else the first of `names` on `PATH`;
/// `None` when that is not a file.
fn program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env)
        && !p.is_empty()
    {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// chromedriver's path, if there is one.
pub fn chromedriver() -> Option<PathBuf> {
    program("XY_CHROMEDRIVER", &["chromedriver"])
}

/// Chromium's path, if there is one (otherwise chromedriver looks for a browser itself).
pub fn chromium() -> Option<PathBuf> {
    program(
        "XY_CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    )
}

/// A loopback port nobody listens on now.
fn free_port() -> Result<u16, WebDriverError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| WebDriverError::Start(format!("no free port: {e}")))
}

/// The command-line switches of the browser.
fn chromium_args(profile: &Path) -> Vec<String> {
    vec![
        "--headless=new".into(),
        // CI runs as root, where Chromium's sandbox cannot start.
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        // Containers have a small /dev/shm.
        "--disable-dev-shm-usage".into(),
        format!("--window-size={},{}", SCREEN.0, SCREEN.1),
        "--lang=zh-CN".into(),
        "--no-first-run".into(),
        format!("--user-data-dir={}", profile.display()),
    ]
}

impl Browser {
    /// The browser for a test: started, or `None` (the test returns early) when chromedriver is
    /// missing and `XY_SKIP_BROWSER=1` says to skip knowingly. Without chromedriver and without
    /// that, it fails with how to install it: silently skipping would hide breakage.
    pub fn for_test() -> Option<Browser> {
        if chromedriver().is_none() {
            if skip_requested() {
                eprintln!("XY_SKIP_BROWSER=1 and no chromedriver: browser test skipped");
                return None;
            }
            panic!(
                "chromedriver is not installed: the desk's browser tests need Debian's chromium \
                 and chromium-driver (`apt-get install -y chromium chromium-driver \
                 fonts-noto-cjk`, as ./scripts/test does), or set XY_SKIP_BROWSER=1 to skip them \
                 knowingly"
            );
        }
        match Browser::start() {
            Ok(b) => Some(b),
            Err(e) => panic!("{e}"),
        }
    }

    /// Starts chromedriver on a free loopback port and opens a headless Chromium session at
    /// 1366×768 with the console log enabled.
    pub fn start() -> Result<Browser, WebDriverError> {
        let driver_path = chromedriver().ok_or_else(|| {
            WebDriverError::Start("chromedriver is not on PATH (nor in XY_CHROMEDRIVER)".into())
        })?;
        let dir = tempfile::tempdir()
            .map_err(|e| WebDriverError::Start(format!("no temporary folder: {e}")))?;
        let port = free_port()?;
        let log = dir.path().join("chromedriver.log");
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                WebDriverError::Start(format!("cannot run {}: {e}", driver_path.display()))
            })?;
        let http = crate::http_builder()
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| WebDriverError::Start(format!("HTTP client: {e}")))?;
        let mut b = Browser {
            driver,
            endpoint: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            http,
            dir,
            chrome: (0, 0),
            console: Default::default(),
        };
        b.wait_ready()?;
        let mut options = json!({ "args": chromium_args(&b.dir.path().join("profile")) });
        if let Some(bin) = chromium() {
            options["binary"] = json!(bin);
        }
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
            "goog:loggingPrefs": { "browser": "ALL" },
        }}});
        let url = format!("{}/session", b.endpoint);
        let answer = b
            .send("POST /session", b.http.post(&url).json(&caps))
            .map_err(|e| WebDriverError::Start(format!("{e}{}", b.driver_log_tail())))?;
        let id = answer["sessionId"]
            .as_str()
            .ok_or_else(|| WebDriverError::Start(format!("no session id in {answer}")))?;
        b.session = format!("{}/session/{id}", b.endpoint);
        // `--window-size` is the outer window: headless Chromium still takes room for its
        // (invisible) toolbars. Measure that room once, so the page gets the whole screen.
        let room = b.command(
            "POST",
            "/execute/sync",
            Some(json!({
                "script": "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];",
                "args": [],
            })),
        )?;
        let room = |i: usize| {
            room[i]
                .as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(0)
        };
        b.chrome = (room(0), room(1));
        b.command(
            "POST",
            "/window/rect",
            Some(json!({ "width": SCREEN.0 + b.chrome.0, "height": SCREEN.1 + b.chrome.1 })),
        )?;
        Ok(b)
    }

    /// Waits until chromedriver answers `/status` as ready, or it has exited.
    fn wait_ready(&mut self) -> Result<(), WebDriverError> {
        let url = format!("{}/status", self.endpoint);
        for _ in 0..WAIT_TRIES {
            if let Ok(Some(status)) = self.driver.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = self.driver.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                return Err(WebDriverError::Start(format!(
                    "chromedriver exited ({status}): {}{}",
                    err.trim(),
                    self.driver_log_tail()
                )));
            }
            if let Ok(r) = self.http.get(&url).send()
                && let Ok(v) = r.json::<Value>()
                && v["value"]["ready"] == json!(true)
            {
                return Ok(());
            }
            std::thread::sleep(WAIT_PAUSE);
        }
        Err(WebDriverError::Start(format!(
            "chromedriver did not answer on {} after {WAIT_TRIES} tries",
            self.endpoint
        )))
    }

    /// The last lines of chromedriver's log, to add to a start-up failure.
    fn driver_log_tail(&self) -> String {
        let text =
            std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n");
        if tail.is_empty() {
            String::new()
        } else {
            format!("\nchromedriver's log ends:\n{tail}")
        }
    }

    /// Sends a request and reads WebDriver's answer: its `value`, or the error it names.
    fn send(
        &self,
        command: &str,
        req: reqwest::blocking::RequestBuilder,
    ) -> Result<Value, WebDriverError> {
        let transport = |detail: String| WebDriverError::Transport {
            command: command.to_string(),
            detail,
        };
        let resp = req.send().map_err(|e| transport(e.to_string()))?;
        let status = resp.status();
        let body: Value = resp
            .json()
            .map_err(|e| transport(format!("HTTP {status}, unreadable answer: {e}")))?;
        let value = body.get("value").cloned().unwrap_or(Value::Null);
        if let Some(error) = value.get("error").and_then(Value::as_str) {
            return Err(WebDriverError::Command {
                command: command.to_string(),
                error: error.to_string(),
                message: value["message"].as_str().unwrap_or_default().to_string(),
            });
        }
        if !status.is_success() {
            return Err(transport(format!("HTTP {status}: {body}")));
        }
        Ok(value)
    }

    /// A session command: `method` on `path` under the session, with a JSON body for POST.
    pub fn command(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WebDriverError> {
        let url = format!("{}{path}", self.session);
        let req = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => self
                .http
                .post(&url)
                .json(&body.unwrap_or_else(|| json!({}))),
        };
        self.send(&format!("{method} {path}"), req)
    }

    /// [`Browser::command`], failing the test with the driver's error.
    fn must(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.command(method, path, body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Goes to `url` and waits for the page to load.
    pub fn goto(&self, url: &str) {
        self.must("POST", "/url", Some(json!({ "url": url })));
    }

    /// Goes back one page in the history.
    pub fn back(&self) {
        self.must("POST", "/back", None);
    }

    /// The address of the page shown.
    pub fn current_url(&self) -> String {
        self.must("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The page's title.
    pub fn title(&self) -> String {
        self.must("GET", "/title", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The page's HTML as the browser has it now.
    pub fn page_source(&self) -> String {
        self.must("GET", "/source", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The element an answer names.
    fn element(&self, v: &Value, css: &str) -> Option<Element<'_>> {
        Some(Element {
            browser: self,
            id: v.get(ELEMENT_KEY)?.as_str()?.to_string(),
            css: css.to_string(),
        })
    }

    /// The first element matching `css`, or `None`.
    pub fn try_find(&self, css: &str) -> Option<Element<'_>> {
        let by = json!({ "using": "css selector", "value": css });
        match self.command("POST", "/element", Some(by)) {
            Ok(v) => self.element(&v, css),
            Err(e) if e.code() == Some("no such element") => None,
            Err(e) => panic!("{e}"),
        }
    }

    /// The first element matching `css`; fails the test naming the selector and the page when
    /// there is none.
    pub fn find(&self, css: &str) -> Element<'_> {
        self.try_find(css).unwrap_or_else(|| {
            panic!(
                "no element matches `{css}` on {} ({})",
                self.current_url(),
                self.title()
            )
        })
    }

    /// Every element matching `css`, in document order.
    pub fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        let by = json!({ "using": "css selector", "value": css });
        let v = self.must("POST", "/elements", Some(by));
        v.as_array()
            .map(|a| a.iter().filter_map(|e| self.element(e, css)).collect())
            .unwrap_or_default()
    }

    /// Looks for `css` up to [`WAIT_TRIES`] times, pausing [`WAIT_PAUSE`] between looks (for
    /// what a script adds after the page has loaded); fails naming what it waited for.
    pub fn wait_for(&self, css: &str) -> Element<'_> {
        for _ in 0..WAIT_TRIES {
            if let Some(e) = self.try_find(css) {
                return e;
            }
            std::thread::sleep(WAIT_PAUSE);
        }
        panic!(
            "waited for `{css}` {WAIT_TRIES} times on {}: it never appeared",
            self.current_url()
        )
    }

    /// Checks `condition` up to [`WAIT_TRIES`] times, pausing between; fails with `what`.
    pub fn wait_until(&self, what: &str, condition: impl Fn(&Browser) -> bool) {
        for _ in 0..WAIT_TRIES {
            if condition(self) {
                return;
            }
            std::thread::sleep(WAIT_PAUSE);
        }
        panic!(
            "waited {WAIT_TRIES} times for {what} on {}: never true",
            self.current_url()
        )
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) in the page and returns what
    /// it returns.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.must(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Reads the browser console's new messages into the buffer (the driver hands each out
    /// once).
    fn drain_console(&self) {
        let v = self.must("POST", "/se/log", Some(json!({ "type": "browser" })));
        let entries = v.as_array().cloned().unwrap_or_default();
        self.console
            .borrow_mut()
            .extend(entries.iter().map(|e| LogEntry {
                level: e["level"].as_str().unwrap_or_default().to_string(),
                source: e["source"].as_str().unwrap_or_default().to_string(),
                message: e["message"].as_str().unwrap_or_default().to_string(),
            }));
    }

    /// Every console message since the last call (script errors, failed loads, `console.*`).
    pub fn console(&self) -> Vec<LogEntry> {
        self.drain_console();
        std::mem::take(&mut *self.console.borrow_mut())
    }

    /// The console's errors (level `SEVERE`: uncaught script errors, `console.error`, failed
    /// loads, refused content) since the last call to this or [`Browser::console`].
    pub fn console_errors(&self) -> Vec<String> {
        self.console()
            .into_iter()
            .filter(|e| e.level == "SEVERE")
            .map(|e| e.message)
            .collect()
    }

    /// A PNG of the page as shown (1366×768 unless resized).
    pub fn screenshot_png(&self) -> Vec<u8> {
        use base64::Engine;
        let v = self.must("GET", "/screenshot", None);
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("the screenshot is not base64: {e}"))
    }

    /// Makes the page (the viewport, what a screenshot shows) `width` × `height` pixels.
    pub fn set_viewport_size(&self, width: u32, height: u32) {
        self.must(
            "POST",
            "/window/rect",
            Some(json!({ "width": width + self.chrome.0, "height": height + self.chrome.1 })),
        );
    }

    /// The page's size now (`innerWidth` × `innerHeight`).
    pub fn viewport_size(&self) -> (u32, u32) {
        let v = self.execute("return [window.innerWidth, window.innerHeight];", vec![]);
        let side = |i: usize| {
            v[i].as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0)
        };
        (side(0), side(1))
    }

    /// The height of the whole page, in CSS pixels.
    pub fn page_height(&self) -> u32 {
        let v = self.execute(
            "return Math.ceil(Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0));",
            vec![],
        );
        v.as_u64()
            .and_then(|h| u32::try_from(h).ok())
            .unwrap_or(SCREEN.1)
    }

    /// A PNG of the page `height` pixels high at the screen's width (the page is made that
    /// tall for the shot, then put back to the screen's size).
    pub fn screenshot_png_at_height(&self, height: u32) -> Vec<u8> {
        self.set_viewport_size(SCREEN.0, height);
        let png = self.screenshot_png();
        self.set_viewport_size(SCREEN.0, SCREEN.1);
        png
    }

    /// A PNG of the whole page (at most `max_height` pixels high), never less than a screen.
    pub fn screenshot_png_full(&self, max_height: u32) -> Vec<u8> {
        let h = self.page_height().clamp(SCREEN.1, max_height.max(SCREEN.1));
        self.screenshot_png_at_height(h)
    }

    /// Sets a cookie for the current page's site (go to a page of the site first), for path
    /// `/`, HTTP only, `SameSite=Lax`; `Secure` when its name asks for it (`__Host-`,
    /// `__Secure-`: Chromium takes secure cookies on 127.0.0.1).
    pub fn set_cookie(&self, name: &str, value: &str) {
        let secure = name.starts_with("__Host-") || name.starts_with("__Secure-");
        self.must(
            "POST",
            "/cookie",
            Some(json!({ "cookie": {
                "name": name, "value": value, "path": "/", "httpOnly": true, "sameSite": "Lax",
                "secure": secure,
            }})),
        );
    }

    /// The value of the cookie `name` the browser holds for the current page, if any.
    pub fn cookie(&self, name: &str) -> Option<String> {
        match self.command("GET", &format!("/cookie/{name}"), None) {
            Ok(v) => v["value"].as_str().map(str::to_string),
            Err(e) if e.code() == Some("no such cookie") => None,
            Err(e) => panic!("{e}"),
        }
    }

    /// Deletes every cookie of the current page's site.
    pub fn delete_cookies(&self) {
        self.must("DELETE", "/cookie", None);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            // Closes Chromium; the driver is stopped next whatever the answer.
            let _ = self.http.delete(&self.session).send();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Element<'_> {
    /// `method` on `path` under this element.
    fn must(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.browser
            .command(method, &format!("/element/{}{path}", self.id), body)
            .unwrap_or_else(|e| panic!("element `{}`: {e}", self.css))
    }

    /// Clicks it (scrolled into view first, as a person would).
    pub fn click(&self) {
        self.must("POST", "/click", None);
    }

    /// Types `text` into it ([`keys`] for Enter, Tab, ...).
    pub fn send_keys(&self, text: &str) {
        self.must("POST", "/value", Some(json!({ "text": text })));
    }

    /// Empties an input or text area.
    pub fn clear(&self) {
        self.must("POST", "/clear", None);
    }

    /// Its visible text.
    pub fn text(&self) -> String {
        self.must("GET", "/text", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// An attribute's value, or `None` when it has none.
    pub fn attr(&self, name: &str) -> Option<String> {
        self.must("GET", &format!("/attribute/{name}"), None)
            .as_str()
            .map(str::to_string)
    }

    /// A DOM property's value (`value` of an input as typed, `checked`, ...).
    pub fn property(&self, name: &str) -> Value {
        self.must("GET", &format!("/property/{name}"), None)
    }

    /// Its tag name, lower case.
    pub fn tag(&self) -> String {
        self.must("GET", "/name", None)
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
    }

    /// Whether it is shown.
    pub fn displayed(&self) -> bool {
        self.must("GET", "/displayed", None) == json!(true)
    }

    /// The first element under it matching `css`, or `None`.
    pub fn try_find(&self, css: &str) -> Option<Element<'_>> {
        let by = json!({ "using": "css selector", "value": css });
        match self
            .browser
            .command("POST", &format!("/element/{}/element", self.id), Some(by))
        {
            Ok(v) => self.browser.element(&v, css),
            Err(e) if e.code() == Some("no such element") => None,
            Err(e) => panic!("element `{}`: {e}", self.css),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webdriver_error_names_the_command_and_the_code() {
        let e = WebDriverError::Command {
            command: "POST /element".into(),
            error: "no such element".into(),
            message: "Unable to locate element".into(),
        };
        assert_eq!(e.code(), Some("no such element"));
        assert_eq!(
            e.to_string(),
            "WebDriver POST /element: no such element: Unable to locate element"
        );
    }

    #[test]
    fn the_browser_starts_headless_at_the_office_screen_size() {
        let args = chromium_args(Path::new("/tmp/p"));
        for want in [
            "--headless=new",
            "--no-sandbox",
            "--window-size=1366,768",
            "--lang=zh-CN",
            "--user-data-dir=/tmp/p",
        ] {
            assert!(args.iter().any(|a| a == want), "{want} missing: {args:?}");
        }
    }
}
