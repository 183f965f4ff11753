//! The console's static files, embedded in the binary: the server may run with no
//! internet, so nothing comes from a CDN. Third-party files and their licences are
//! listed in `assets/vendor/README.md`.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// The embedded files: name, content type, bytes.
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/console.css"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/console.js"),
    ),
    (
        "htmx-2.0.11.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/htmx-2.0.11.min.js"),
    ),
    (
        "htmx-ext-sse-2.2.4.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/htmx-ext-sse-2.2.4.min.js"),
    ),
    (
        "LICENSE-htmx.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/vendor/LICENSE-htmx.txt"),
    ),
    (
        "LICENSE-htmx-ext-sse.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/vendor/LICENSE-htmx-ext-sse.txt"),
    ),
];

/// `GET /assets/{file}`.
pub async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, kind, bytes)) => (
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => super::PageError::new(
            StatusCode::NOT_FOUND,
            "Not found",
            &format!("no asset '{file}'"),
        )
        .into_response(),
    }
}
