//! Pages and assets answer only GET and HEAD; anything else is `405` with `Allow`, never the
//! page itself (OPTIONS, TRACE, PUT on `/` used to answer 200 with the chat page).

use axum::{
    extract::{Request, State},
    http::Method,
    response::{IntoResponse, Response},
};

use super::error::ApiError;
use crate::state::AppState;

pub async fn pages(state: State<AppState>, request: Request) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        super::assets::serve(state, request).await
    } else {
        ApiError::MethodNotAllowed.into_response()
    }
}
