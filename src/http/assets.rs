//! The pages in `web/`: embedded in the binary for a single-file deploy, or read from
//! `server.web_dir` during development.

use std::path::{Component, Path, PathBuf};

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use rust_embed::RustEmbed;

use crate::startup::AppState;

#[derive(RustEmbed)]
#[folder = "web/"]
struct Embedded;

/// Maps a URL path to a file under `web/`.
fn file_for(path: &str) -> Option<String> {
    let file = match path {
        "/" | "/chat" | "/chat/" => "chat/index.html".to_string(),
        "/console" | "/console/" => "console/index.html".to_string(),
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
    let Some(body) = load(&state, &file).await else {
        return not_found();
    };
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

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not found\n").into_response()
}

#[cfg(test)]
mod tests {
    use super::file_for;

    #[test]
    fn paths_map_into_web_and_never_out() {
        assert_eq!(file_for("/").as_deref(), Some("chat/index.html"));
        assert_eq!(file_for("/console").as_deref(), Some("console/index.html"));
        assert_eq!(file_for("/chat/chat.js").as_deref(), Some("chat/chat.js"));
        assert_eq!(file_for("/../Cargo.toml"), None);
        assert_eq!(file_for("/chat/../../x"), None);
    }
}
