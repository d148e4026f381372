//! What anyone may read: health and the chatter page's settings (no secrets).

use std::collections::BTreeMap;

use axum::{
    extract::{Query, State},
    Json,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{hub::hours::unix_now, state::AppState};

/// `ok` on a node of its own. In a cluster, also what this node can reach: 503 `unhealthy`
/// while it cannot reach NATS, PostgreSQL or a coordinator, so that a load balancer sends
/// nobody here meanwhile (docs/cluster.md).
pub async fn healthz(State(state): State<AppState>) -> axum::response::Response {
    use axum::{http::StatusCode, response::IntoResponse};
    let Some(cluster) = &state.cluster else {
        return Json(json!({ "status": "ok" })).into_response();
    };
    let health = cluster.health();
    let (status, word) = if health.ready() {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unhealthy")
    };
    (status, Json(json!({ "status": word, "cluster": health }))).into_response()
}

#[derive(Debug, Deserialize)]
pub struct ConfigQuery {
    /// The language of the top-level texts; anything not offered gets the default language.
    lang: Option<String>,
}

/// The chatter page's settings. Top-level texts are in `?lang=` (or the default language);
/// `texts` holds every offered language, fallbacks filled in, so a language switch needs no
/// second request.
pub async fn config(
    State(state): State<AppState>,
    Query(query): Query<ConfigQuery>,
) -> Json<Value> {
    // The file's configuration with admins' edits over it.
    let config = state.settings.current();
    let program = &config.program;
    let default = program.languages[0].as_str();
    let lang = query
        .lang
        .as_deref()
        .filter(|l| program.languages.iter().any(|o| o == l))
        .unwrap_or(default);
    let text = program.text_for(lang, &config.queues);
    let texts: BTreeMap<&str, Value> = program
        .languages
        .iter()
        .map(|l| {
            let t = program.text_for(l, &config.queues);
            (l.as_str(), serde_json::to_value(t).unwrap_or(Value::Null))
        })
        .collect();
    let queues: Vec<Value> = config
        .queues
        .iter()
        .map(|q| {
            json!({
                "id": q.id,
                "name": text.queue_names.get(&q.id).unwrap_or(&q.name),
                "languages": q.languages,
            })
        })
        .collect();
    let service = state.coordinator.service().await;
    let open_now = service.open_now;
    let next_open_at = state
        .hub
        .program()
        .hours
        .next_open_at(unix_now())
        .map(|secs| secs * 1000);
    Json(json!({
        "lang": lang,
        "program_name": text.program_name,
        "page_title": text.page_title,
        "emergency": text.emergency,
        "contacts": {
            "phone": text.hotline_phone,
            "text": text.hotline_text,
            "note": text.offline_note,
        },
        "mandated_reporting": text.mandated_reporting,
        "texts": texts,
        "dial": {
            "emergency": program.emergency_number,
            "hotline": dialable(&text.hotline_phone),
            "sms": program.hotline_sms,
            "sms_body": program.hotline_sms_body,
        },
        "quick_exit_url": program.quick_exit_url,
        "languages": program.languages,
        "queues": queues,
        "open_now": open_now,
        "on_duty": open_now && service.on_duty > 0,
        "next_open_at": next_open_at,
        "page": {
            "forget_on_pagehide": config.chatter_page.forget_on_pagehide,
            "escape_key": config.chatter_page.escape_key,
        },
    }))
}

/// What a `tel:` link dials for a phone number as people write it ("1-800-799-7233").
fn dialable(phone: &str) -> String {
    phone
        .chars()
        .enumerate()
        .filter(|&(i, c)| c.is_ascii_digit() || (i == 0 && c == '+'))
        .map(|(_, c)| c)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn phone_numbers_dial_as_digits() {
        assert_eq!(super::dialable("1-800-799-7233"), "18007997233");
        assert_eq!(super::dialable("+44 (0)20 7946 0000"), "+4402079460000");
    }
}
