//! The observatory page served at `/` (assets embedded in the binary).

use axum::Router;
use axum::response::Html;
use axum::routing::get;

use crate::app::App;

/// Routes of the page.
pub fn routes() -> Router<App> {
    Router::new().route("/", get(index))
}

async fn index() -> Html<&'static str> {
    Html(concat!(
        "<!doctype html><meta charset=utf-8><title>Aion</title>",
        "<h1>Aion</h1><p>The REST API is under <a href=/api/v1/openapi.json>/api/v1</a>; ",
        "the observatory protocol is <code>aion.observatory.v1</code> at <code>/api/v1/sessions/{id}/ws</code>.</p>"
    ))
}
