//! What anyone may read: health and the chatter page's settings (no secrets).

use axum::{extract::State, Json};
use serde_json::{json, Value};

use crate::startup::AppState;

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn config(State(state): State<AppState>) -> Json<Value> {
    let program = &state.config.program;
    Json(json!({
        "program_name": program.name,
        "page_title": program.page_title,
        "emergency": program.emergency,
        "contacts": {
            "phone": program.hotline_phone,
            "text": program.hotline_text,
            "note": program.offline_note,
        },
        "mandated_reporting": program.mandated_reporting,
        "quick_exit_url": program.quick_exit_url,
        "languages": program.languages,
        "queues": state.config.queues,
        "open_now": state.hub.is_open_now(),
    }))
}
