//! The voluntary forms over HTTP: the definitions for the chatter page, submissions (proved by
//! the chat's resume token, stored with no link to it), and erasure by deletion code.

use axum::{
    extract::{rejection::JsonRejection, Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use zeroize::Zeroizing;

use crate::{
    forms::{self, AnswerError, FormKind, Outcome},
    hub::{FormSlot, TicketError},
    state::AppState,
};

/// A refusal with a stable code, a sentence and, where one is to blame, the field.
#[derive(Debug)]
pub struct FormApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
}

impl FormApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> FormApiError {
        FormApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    fn internal(error: impl std::fmt::Display) -> FormApiError {
        tracing::error!(%error, "form request failed");
        FormApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side. Nothing was stored.",
        )
    }
}

impl From<AnswerError> for FormApiError {
    fn from(error: AnswerError) -> FormApiError {
        FormApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: error.code,
            message: error.message,
            field: error.field,
        }
    }
}

impl From<JsonRejection> for FormApiError {
    fn from(rejection: JsonRejection) -> FormApiError {
        match rejection {
            JsonRejection::BytesRejection(_) => FormApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "The form is larger than Haven accepts (16 KB).",
            ),
            JsonRejection::MissingJsonContentType(_) => FormApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid_request",
                "Send the form as application/json.",
            ),
            other => FormApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("The body is not the expected JSON: {}", other.body_text()),
            ),
        }
    }
}

impl IntoResponse for FormApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "code": self.code, "message": self.message });
        if let Some(field) = self.field {
            body["field"] = json!(field);
        }
        (self.status, Json(body)).into_response()
    }
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

pub async fn public_forms(
    State(state): State<AppState>,
    Query(query): Query<LangQuery>,
) -> Json<Value> {
    let config = &state.config;
    let default = config.program.languages[0].as_str();
    let lang = query.lang.as_deref().unwrap_or(default);
    let form = |kind| {
        let form = forms::public_form(&config.forms, kind, lang, default);
        // A form with no questions is not offered.
        (!form["questions"].as_array().is_some_and(Vec::is_empty)).then_some(form)
    };
    Json(json!({
        "intake": form(FormKind::Intake),
        "survey": form(FormKind::Survey),
        "privacy_url": "/privacy",
        "forget_url": "/forget",
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    token: Zeroizing<String>,
    version: u32,
    #[serde(default)]
    answers: Map<String, Value>,
}

pub async fn submit(
    State(state): State<AppState>,
    Path(form): Path<String>,
    body: Result<Json<Submission>, JsonRejection>,
) -> Result<Response, FormApiError> {
    let kind = FormKind::parse(&form).ok_or_else(|| {
        FormApiError::new(StatusCode::NOT_FOUND, "not_found", "There is no such form.")
    })?;
    let Json(submission) = body?;
    // Bad answers are refused before the chat's one ticket is taken.
    let checked = state
        .forms
        .check(kind, submission.version, &submission.answers)?;
    let slot = match kind {
        FormKind::Intake => FormSlot::Intake,
        FormKind::Survey => FormSlot::Survey,
    };
    let window = state.forms.survey_window();
    let ticket = state
        .coordinator
        .take_form_ticket(&submission.token, slot, window)
        .await
        .map_err(|_| {
            FormApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "cluster_unavailable",
                "This Haven node cannot reach the rest of its cluster; try again in a moment.",
            )
        })?
        .map_err(|error| match error {
            TicketError::NoChat => FormApiError::new(
                StatusCode::FORBIDDEN,
                "not_eligible",
                format!(
                    "Forms are accepted only from a chat that is open or ended less than {} minutes ago.",
                    window.as_secs() / 60
                ),
            ),
            TicketError::AlreadyTaken => FormApiError::new(
                StatusCode::CONFLICT,
                "already_submitted",
                "This chat has already sent this form.",
            ),
        })?;
    if checked.under_13 {
        state.coordinator.mark_under_13(&submission.token).await;
    }
    match state.forms.store(kind, ticket, checked).await {
        Ok(Outcome::Stored { deletion_code }) => Ok((
            StatusCode::CREATED,
            Json(json!({ "stored": true, "deletion_code": deletion_code.as_str() })),
        )
            .into_response()),
        Ok(Outcome::NotStored) => Ok(Json(json!({ "stored": false })).into_response()),
        Err(error) => {
            state
                .coordinator
                .return_form_ticket(&submission.token, slot)
                .await;
            Err(FormApiError::internal(error))
        }
    }
}

#[derive(Deserialize)]
pub struct Forget {
    code: Zeroizing<String>,
}

/// Always the same answer, whether the code matched, was used before, or is malformed.
pub async fn forget(
    State(state): State<AppState>,
    body: Result<Json<Forget>, JsonRejection>,
) -> Result<Response, FormApiError> {
    if !state.forget_budget.allow() {
        return Err(FormApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Too many deletion requests right now. Try again in a minute.",
        ));
    }
    let Json(forget) = body?;
    state
        .forms
        .forget(&forget.code)
        .await
        .map_err(FormApiError::internal)?;
    Ok(Json(json!({
        "message": "If this code matched answers that were still kept, they have been erased, with any follow-up email. The code cannot be used again."
    }))
    .into_response())
}
