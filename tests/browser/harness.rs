//! Real Chromium for the browser tests: launching, isolated contexts, polling helpers, and the
//! small servers the tests need (a neutral "quick exit" page, a host page for the widget, and a
//! TCP proxy that can cut the chatter's network path).

use std::{
    io::Write,
    net::SocketAddr,
    path::Path,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use chromiumoxide::{
    cdp::{
        browser_protocol::{
            emulation::SetDeviceMetricsOverrideParams,
            input::{
                DispatchKeyEventParams, DispatchKeyEventType, DispatchMouseEventParams,
                DispatchMouseEventType, MouseButton,
            },
            target::{CreateBrowserContextParams, CreateTargetParams},
        },
        js_protocol::runtime::{EvaluateParams, ExecutionContextId},
    },
    Browser, BrowserConfig, Page,
};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::{
    io::copy_bidirectional,
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// How long a test waits for something it expects to see in the browser.
pub const UI_WAIT: Duration = Duration::from_secs(10);

/// A JS expression that is `true` when `condition` is truthy, and `false` when it throws.
fn truthy(condition: &str) -> String {
    format!("(() => {{ try {{ return !!({condition}); }} catch (e) {{ return false; }} }})()")
}

/// `true` when Chromium is installed. Without it: in CI (`CI=true`) the test fails; on a
/// developer's machine it is skipped with a loud message.
pub fn chromium_available() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{CHROMIUM} is missing: the browser tests must run in CI (install Debian's `chromium` package)");
    }
    // Written to stderr directly: libtest captures `eprintln!` of passing tests.
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "\n################################################################################"
        );
        let _ = writeln!(
            err,
            "##  SKIPPING the browser tests: no Chromium at {CHROMIUM}."
        );
        let _ = writeln!(
            err,
            "##  Install it (apt-get install chromium) to run them. In CI (CI=true) they fail."
        );
        let _ = writeln!(
            err,
            "################################################################################\n"
        );
    });
    false
}

/// One headless Chromium with its own fresh profile directory.
pub struct Chrome {
    pub browser: Browser,
    handler: JoinHandle<()>,
    _profile: tempfile::TempDir,
}

impl Chrome {
    pub async fn launch() -> Chrome {
        let profile = tempfile::tempdir().expect("profile dir");
        let config = BrowserConfig::builder()
            .chrome_executable(CHROMIUM)
            .no_sandbox()
            .user_data_dir(profile.path())
            .window_size(1280, 900)
            .viewport(None)
            .launch_timeout(Duration::from_secs(30))
            .request_timeout(Duration::from_secs(20))
            .args([
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication",
                "--password-store=basic",
                "--use-mock-keychain",
                "--autoplay-policy=no-user-gesture-required",
            ])
            .build()
            .expect("browser config");
        let (browser, mut handler) = Browser::launch(config).await.expect("chromium starts");
        let handler = tokio::spawn(async move {
            // Events the CDP bindings do not know are reported as errors: keep going.
            while handler.next().await.is_some() {}
        });
        Chrome {
            browser,
            handler,
            _profile: profile,
        }
    }

    /// A new isolated browser context (like an incognito window) with one blank tab.
    pub async fn new_context(&self) -> Tab {
        let context = self
            .browser
            .create_browser_context(CreateBrowserContextParams::default())
            .await
            .expect("browser context");
        let page = self
            .browser
            .new_page(
                CreateTargetParams::builder()
                    .url("about:blank")
                    .browser_context_id(context)
                    .build()
                    .expect("target params"),
            )
            .await
            .expect("new page");
        Tab { page }
    }

    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.browser.close()).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.browser.wait()).await;
        self.handler.abort();
    }
}

/// A browser tab with the helpers the tests use. Selectors are CSS; conditions are JavaScript
/// expressions evaluated in the page.
pub struct Tab {
    pub page: Page,
}

impl Tab {
    pub async fn goto(&self, url: &str) {
        self.page.goto(url).await.expect("navigation");
    }

    /// Evaluate `js` (an expression; promises are awaited) and deserialize the result.
    pub async fn eval<T: DeserializeOwned>(&self, js: &str) -> T {
        self.try_eval(js)
            .await
            .unwrap_or_else(|e| panic!("evaluating `{js}` failed: {e}"))
    }

    pub async fn try_eval<T: DeserializeOwned>(&self, js: &str) -> Result<T, String> {
        self.evaluate(js, None).await
    }

    /// Evaluate `js` in the main frame, or in the execution `context` of another frame.
    async fn evaluate<T: DeserializeOwned>(
        &self,
        js: &str,
        context: Option<ExecutionContextId>,
    ) -> Result<T, String> {
        let mut builder = EvaluateParams::builder()
            .expression(js)
            .await_promise(true)
            .return_by_value(true);
        if let Some(context) = context {
            builder = builder.context_id(context);
        }
        let params = builder.build().map_err(|e| e.to_string())?;
        let result = self
            .page
            .evaluate_expression(params)
            .await
            .map_err(|e| e.to_string())?;
        result.into_value::<T>().map_err(|e| e.to_string())
    }

    /// Poll `condition` until it is truthy; panic with `what` and the page's text otherwise.
    pub async fn wait(&self, condition: &str, what: &str) {
        self.wait_for(condition, what, UI_WAIT).await
    }

    pub async fn wait_for(&self, condition: &str, what: &str, limit: Duration) {
        let js = truthy(condition);
        let start = Instant::now();
        loop {
            if let Ok(true) = self.try_eval::<bool>(&js).await {
                return;
            }
            if start.elapsed() > limit {
                let url: String = self.try_eval("location.href").await.unwrap_or_default();
                let text: String = self
                    .try_eval(
                        "document.body ? document.body.innerText.slice(0, 3000) : '(no body)'",
                    )
                    .await
                    .unwrap_or_default();
                panic!("timed out after {limit:?} waiting for {what}\n  condition: {condition}\n  url: {url}\n  page text:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Wait until the element exists and is rendered (not hidden, has a box).
    pub async fn wait_visible(&self, selector: &str) {
        let sel = js_str(selector);
        self.wait(
            &format!("(() => {{ const e = document.querySelector({sel}); return e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden'; }})()"),
            &format!("{selector} to be visible"),
        )
        .await
    }

    pub async fn wait_hidden(&self, selector: &str) {
        let sel = js_str(selector);
        self.wait(
            &format!("(() => {{ const e = document.querySelector({sel}); return !e || e.getClientRects().length === 0; }})()"),
            &format!("{selector} to be hidden"),
        )
        .await
    }

    /// Wait until the text of `selector` contains `needle`.
    pub async fn wait_text(&self, selector: &str, needle: &str) {
        let sel = js_str(selector);
        let n = js_str(needle);
        self.wait(
            &format!("(() => {{ const e = document.querySelector({sel}); return e && e.textContent.includes({n}); }})()"),
            &format!("{selector} to contain {needle:?}"),
        )
        .await
    }

    pub async fn visible(&self, selector: &str) -> bool {
        let sel = js_str(selector);
        self.eval(&format!(
            "(() => {{ const e = document.querySelector({sel}); return !!e && e.getClientRects().length > 0; }})()"
        ))
        .await
    }

    pub async fn text(&self, selector: &str) -> String {
        let sel = js_str(selector);
        self.eval(&format!(
            "(() => {{ const e = document.querySelector({sel}); return e ? e.textContent : ''; }})()"
        ))
        .await
    }

    pub async fn count(&self, selector: &str) -> usize {
        let sel = js_str(selector);
        self.eval(&format!("document.querySelectorAll({sel}).length"))
            .await
    }

    /// Texts of every element matching `selector`.
    pub async fn texts(&self, selector: &str) -> Vec<String> {
        let sel = js_str(selector);
        self.eval(&format!(
            "[...document.querySelectorAll({sel})].map(e => e.textContent)"
        ))
        .await
    }

    /// A real mouse click in the middle of the element (a trusted event, with user activation).
    pub async fn click(&self, selector: &str) {
        self.wait_visible(selector).await;
        let sel = js_str(selector);
        let (x, y): (f64, f64) = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({sel}); e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; }})()"
            ))
            .await;
        self.mouse_click(x, y).await;
    }

    /// Click with `element.click()` in one evaluation: for lists that re-render at any moment
    /// (the queue), where a mouse click could land on a row that just moved.
    pub async fn js_click(&self, selector: &str) {
        self.wait_visible(selector).await;
        let sel = js_str(selector);
        let clicked: bool = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({sel}); if (!e || e.disabled) return false; e.click(); return true; }})()"
            ))
            .await;
        assert!(clicked, "{selector} could be clicked");
    }

    pub async fn mouse_click(&self, x: f64, y: f64) {
        for kind in [
            DispatchMouseEventType::MouseMoved,
            DispatchMouseEventType::MousePressed,
            DispatchMouseEventType::MouseReleased,
        ] {
            let mut builder = DispatchMouseEventParams::builder()
                .r#type(kind.clone())
                .x(x)
                .y(y);
            if kind != DispatchMouseEventType::MouseMoved {
                builder = builder.button(MouseButton::Left).click_count(1);
            }
            self.page
                .execute(builder.build().expect("mouse event"))
                .await
                .expect("mouse event sent");
        }
    }

    /// Focus the element and type `text` key by key (real key events: `input` fires).
    pub async fn type_into(&self, selector: &str, text: &str) {
        self.wait_visible(selector).await;
        let sel = js_str(selector);
        self.eval::<bool>(&format!(
            "(() => {{ const e = document.querySelector({sel}); e.focus(); return document.activeElement === e; }})()"
        ))
        .await;
        self.type_text(text).await;
    }

    /// Type `text` into whatever has the focus.
    pub async fn type_text(&self, text: &str) {
        for ch in text.chars() {
            self.page
                .execute(
                    DispatchKeyEventParams::builder()
                        .r#type(DispatchKeyEventType::KeyDown)
                        .text(ch.to_string())
                        .build()
                        .expect("key event"),
                )
                .await
                .expect("key down");
            self.page
                .execute(
                    DispatchKeyEventParams::builder()
                        .r#type(DispatchKeyEventType::KeyUp)
                        .build()
                        .expect("key event"),
                )
                .await
                .expect("key up");
        }
    }

    /// Press and release one named key (`Escape`, `Enter`, `Shift`, ...) on the focused element.
    pub async fn press(&self, key: Key) {
        let (name, code, vk, modifiers, text) = key.spec();
        let mut down = DispatchKeyEventParams::builder()
            .r#type(if text.is_some() {
                DispatchKeyEventType::KeyDown
            } else {
                DispatchKeyEventType::RawKeyDown
            })
            .key(name)
            .code(code)
            .windows_virtual_key_code(vk)
            .native_virtual_key_code(vk)
            .modifiers(modifiers);
        if let Some(text) = text {
            down = down.text(text);
        }
        self.page
            .execute(down.build().expect("key event"))
            .await
            .expect("key down");
        self.page
            .execute(
                DispatchKeyEventParams::builder()
                    .r#type(DispatchKeyEventType::KeyUp)
                    .key(name)
                    .code(code)
                    .windows_virtual_key_code(vk)
                    .native_virtual_key_code(vk)
                    .build()
                    .expect("key event"),
            )
            .await
            .expect("key up");
    }

    /// Emulate a screen `width` x `height` CSS pixels (mobile when narrow).
    pub async fn set_viewport(&self, width: i64, height: i64) {
        self.page
            .execute(
                SetDeviceMetricsOverrideParams::builder()
                    .width(width)
                    .height(height)
                    .device_scale_factor(1.0)
                    .mobile(width < 600)
                    .build()
                    .expect("metrics"),
            )
            .await
            .expect("viewport set");
    }

    /// `history.back()` (the evaluation may be cut short by the navigation it starts).
    pub async fn back(&self) {
        let _ = self.try_eval::<bool>("history.back(), true").await;
    }

    pub async fn url(&self) -> String {
        self.try_eval::<String>("location.href")
            .await
            .unwrap_or_default()
    }

    /// Poll until the tab's URL starts with `prefix`.
    pub async fn wait_url(&self, prefix: &str) {
        let start = Instant::now();
        loop {
            let url = self.url().await;
            if url.starts_with(prefix) {
                return;
            }
            if start.elapsed() > UI_WAIT {
                panic!("timed out waiting for the tab to reach {prefix}; it is at {url}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Evaluate `js` inside the first frame (not the main one) whose URL starts with `prefix`.
    pub async fn eval_in_frame(&self, prefix: &str, js: &str) -> Result<Value, String> {
        let frames = self.page.frames().await.map_err(|e| e.to_string())?;
        for frame in frames {
            let url = self
                .page
                .frame_url(frame.clone())
                .await
                .map_err(|e| e.to_string())?
                .unwrap_or_default();
            if !url.starts_with(prefix) {
                continue;
            }
            let Some(context) = self
                .page
                .frame_execution_context(frame)
                .await
                .map_err(|e| e.to_string())?
            else {
                return Err("frame has no execution context yet".into());
            };
            return self.evaluate(js, Some(context)).await;
        }
        Err(format!("no frame at {prefix}"))
    }

    /// Poll a condition inside the frame at `prefix`.
    pub async fn wait_in_frame(&self, prefix: &str, condition: &str, what: &str) {
        let js = truthy(condition);
        let start = Instant::now();
        loop {
            if let Ok(Value::Bool(true)) = self.eval_in_frame(prefix, &js).await {
                return;
            }
            if start.elapsed() > UI_WAIT {
                panic!("timed out waiting in frame {prefix} for {what}: {condition}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Set a permission (e.g. "notifications") for `origin` in this tab's browser context over
    /// the DevTools protocol (`Browser.setPermission`), as a person answering the prompt would.
    pub async fn set_permission(&self, name: &str, granted: bool, origin: &str) {
        use chromiumoxide::cdp::browser_protocol::{
            browser::{PermissionDescriptor, PermissionSetting, SetPermissionParams},
            target::GetTargetInfoParams,
        };
        let info = self
            .page
            .execute(GetTargetInfoParams {
                target_id: Some(self.page.target_id().clone()),
            })
            .await
            .expect("target info");
        let mut params = SetPermissionParams::new(
            PermissionDescriptor::new(name),
            if granted {
                PermissionSetting::Granted
            } else {
                PermissionSetting::Denied
            },
        );
        params.origin = Some(origin.to_string());
        params.browser_context_id = info.result.target_info.browser_context_id.clone();
        self.page.execute(params).await.expect("permission set");
    }

    /// Inject the vendored axe-core and return the serious and critical violations as text.
    pub async fn axe_serious(&self, label: &str) -> Vec<String> {
        let loaded: bool = self.eval("typeof window.axe === 'object'").await;
        if !loaded {
            let source = include_str!("vendor/axe.min.js");
            self.try_eval::<Value>(&format!("{source}\n;true"))
                .await
                .expect("axe-core injected");
        }
        let violations: Vec<Value> = self
            .eval(
                "axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary) })))",
            )
            .await;
        violations
            .into_iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious") | Some("critical")))
            .map(|v| {
                format!(
                    "[{label}] {} ({}): {} at {}",
                    v["id"], v["impact"], v["help"], v["nodes"]
                )
            })
            .collect()
    }
}

/// Keys the tests press.
#[derive(Clone, Copy, Debug)]
pub enum Key {
    Escape,
    Enter,
    Shift,
    Tab,
    ShiftTab,
}

impl Key {
    fn spec(self) -> (&'static str, &'static str, i64, i64, Option<&'static str>) {
        match self {
            Key::Escape => ("Escape", "Escape", 27, 0, None),
            Key::Enter => ("Enter", "Enter", 13, 0, Some("\r")),
            Key::Shift => ("Shift", "ShiftLeft", 16, 8, None),
            Key::Tab => ("Tab", "Tab", 9, 0, None),
            Key::ShiftTab => ("Tab", "Tab", 9, 8, None),
        }
    }
}

/// A JavaScript string literal for `s`.
pub fn js_str(s: &str) -> String {
    serde_json::to_string(s).expect("string literal")
}

// ------------------------------------------------------------------------------------ servers

/// A tiny HTTP server for pages that are not Haven's: each route is (path, html).
pub struct SidePages {
    pub port: u16,
    task: JoinHandle<()>,
}

impl SidePages {
    pub async fn start(routes: Vec<(&'static str, String)>) -> SidePages {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind side server");
        SidePages::start_on(listener, routes).await
    }

    /// Like `start`, on a listener the caller bound already (to know the port in advance).
    pub async fn start_on(listener: TcpListener, routes: Vec<(&'static str, String)>) -> SidePages {
        let mut router = axum::Router::new();
        for (path, html) in routes {
            router = router.route(
                path,
                axum::routing::get(move || {
                    let html = html.clone();
                    async move {
                        (
                            [(axum::http::header::CACHE_CONTROL, "no-store")],
                            axum::response::Html(html),
                        )
                    }
                }),
            );
        }
        let port = listener.local_addr().expect("addr").port();
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("side server");
        });
        SidePages { port, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for SidePages {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The neutral page Quick exit sends people to (`/weather`), on its own port (no internet
/// needed), and a page the person was on before opening the chat (`/before`).
pub async fn exit_site() -> SidePages {
    SidePages::start(vec![(
        "/weather",
        "<!doctype html><html lang=\"en\"><head><title>Weather</title></head><body><h1>Today: sunny</h1></body></html>".to_string(),
    ), (
        "/before",
        "<!doctype html><html lang=\"en\"><head><title>Search</title></head><body><h1>Search results</h1></body></html>".to_string(),
    )])
    .await
}

/// A TCP proxy in front of Haven. Pages loaded through it open their WebSocket through it too,
/// so `cut()` truly drops the chatter's connection (both ends see the TCP connection close)
/// and refuses new ones until `restore()`.
pub struct CutProxy {
    pub port: u16,
    down: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<JoinHandle<()>>>>,
    task: JoinHandle<()>,
}

impl CutProxy {
    /// A listener bound first, so that Haven can be started with the proxy's origin as its
    /// `server.public_origin` (the origin the browser sees).
    pub async fn listener() -> (TcpListener, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let origin = format!("http://{}", listener.local_addr().expect("addr"));
        (listener, origin)
    }

    pub fn start_on(listener: TcpListener, target: u16) -> CutProxy {
        let port = listener.local_addr().expect("addr").port();
        let down = Arc::new(AtomicBool::new(false));
        let live: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (d, l) = (down.clone(), live.clone());
        let task = tokio::spawn(async move {
            let target: SocketAddr = ([127, 0, 0, 1], target).into();
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if d.load(Ordering::SeqCst) {
                    drop(inbound); // the network is "down": close at once
                    continue;
                }
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                let mut live = l.lock().expect("proxy lock");
                live.retain(|h| !h.is_finished());
                live.push(conn);
            }
        });
        CutProxy {
            port,
            down,
            live,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// Drop every open connection and refuse new ones.
    pub fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for conn in self.live.lock().expect("proxy lock").drain(..) {
            conn.abort();
        }
    }

    pub fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.task.abort();
        for conn in self.live.lock().expect("proxy lock").drain(..) {
            conn.abort();
        }
    }
}

/// A TCP proxy whose `stall()` makes every open connection go silent without closing (as when
/// a phone changes networks or a middlebox drops a connection): no byte passes either way and
/// neither end is told. Connections made after the stall work normally.
pub struct StallProxy {
    pub port: u16,
    stall: Arc<tokio::sync::Notify>,
    task: JoinHandle<()>,
}

impl StallProxy {
    /// Starts on a listener bound first (`CutProxy::listener`), so that Haven can be started
    /// with the proxy's origin as its `server.public_origin`.
    pub fn start_on(listener: TcpListener, target: u16) -> StallProxy {
        let port = listener.local_addr().expect("addr").port();
        let stall = Arc::new(tokio::sync::Notify::new());
        let signal = stall.clone();
        let task = tokio::spawn(async move {
            let target: SocketAddr = ([127, 0, 0, 1], target).into();
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                let signal = signal.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    let stalled = signal.notified();
                    tokio::pin!(stalled);
                    stalled.as_mut().enable();
                    tokio::select! {
                        _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = stalled => {
                            // Hold both ends open, silent, for as long as the test runs.
                            std::future::pending::<()>().await;
                        }
                    }
                });
            }
        });
        StallProxy { port, stall, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// Every connection open now stops passing bytes, without closing.
    pub fn stall(&self) {
        self.stall.notify_waiters();
    }
}

impl Drop for StallProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
