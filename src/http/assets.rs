//! The pages in `web/`: embedded in the binary for a single-file deploy, or read from
//! `server.web_dir` during development.

use std::path::{Component, Path, PathBuf};

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use rust_embed::RustEmbed;

use crate::state::AppState;

#[derive(RustEmbed)]
#[folder = "web/"]
struct Embedded;

/// Maps a URL path to a file under `web/`.
fn file_for(path: &str) -> Option<String> {
    let file = match path {
        "/" | "/chat" | "/chat/" => "chat/index.html".to_string(),
        "/console" | "/console/" => "console/index.html".to_string(),
        "/stats" | "/stats/" => "stats/index.html".to_string(),
        "/forget" | "/forget/" => "forget/index.html".to_string(),
        "/followups" | "/followups/" => "followups/index.html".to_string(),
        "/admin" | "/admin/" => "admin/index.html".to_string(),
        other => other.trim_start_matches('/').to_string(),
    };
    // No way out of web/: only plain path segments.
    let clean = Path::new(&file)
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    (clean && !file.is_empty()).then_some(file)
}

async fn load(state: &AppState, file: &str) -> Option<Vec<u8>> {
    let dir = &state.config.server.web_dir;
    if dir.is_empty() {
        Embedded::get(file).map(|f| f.data.into_owned())
    } else {
        let path: PathBuf = Path::new(dir).join(file);
        tokio::fs::read(path).await.ok()
    }
}

pub async fn serve(State(state): State<AppState>, request: Request) -> Response {
    let Some(file) = file_for(request.uri().path()) else {
        return not_found();
    };
    let Some(mut body) = load(&state, &file).await else {
        return not_found();
    };
    if file == "chat/index.html" {
        body = with_exit_url(&body, &state.config.program.quick_exit_url);
    }
    let mime = mime_guess::from_path(&file).first_or_octet_stream();
    let mut response = body.into_response();
    if let Ok(value) = HeaderValue::from_str(mime.essence_str()) {
        let value = if mime.type_() == mime_guess::mime::TEXT
            || file.ends_with(".js")
            || file.ends_with(".json")
        {
            HeaderValue::from_str(&format!("{}; charset=utf-8", mime.essence_str()))
                .unwrap_or(value)
        } else {
            value
        };
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

/// The placeholder in `web/chat/index.html` for the neutral site, so that Quick exit is a plain
/// link that works before (or without) any script.
const EXIT_URL_PLACEHOLDER: &str = "__QUICK_EXIT_URL__";

fn with_exit_url(html: &[u8], url: &str) -> Vec<u8> {
    String::from_utf8_lossy(html)
        .replace(EXIT_URL_PLACEHOLDER, &html_escape(url))
        .into_bytes()
}

/// Escapes text for HTML: element content or an attribute value in double quotes.
pub(super) fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not found\n").into_response()
}

#[cfg(test)]
mod tests {
    use super::{file_for, with_exit_url};

    #[test]
    fn the_exit_url_goes_into_the_page_escaped() {
        let html = br#"<a href="__QUICK_EXIT_URL__">"#;
        let out = with_exit_url(html, r#"https://example.org/?a=1&b="x"<y>'"#);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"<a href="https://example.org/?a=1&amp;b=&quot;x&quot;&lt;y&gt;&#39;">"#
        );
    }

    #[test]
    fn paths_map_into_web_and_never_out() {
        assert_eq!(file_for("/").as_deref(), Some("chat/index.html"));
        assert_eq!(file_for("/console").as_deref(), Some("console/index.html"));
        assert_eq!(file_for("/chat/chat.js").as_deref(), Some("chat/chat.js"));
        assert_eq!(file_for("/../Cargo.toml"), None);
        assert_eq!(file_for("/chat/../../x"), None);
    }
}
