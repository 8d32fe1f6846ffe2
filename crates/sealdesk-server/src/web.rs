//! The built web clients (widget, console) served from `web_dir`.
//!
//! Every file is read once at start-up into memory: the set is small and fixed per release,
//! so requests never touch the file system and no request path ever reaches it (no
//! traversal; OWASP ASVS 4.0 V12.5.1). Each file gets its content type, an `ETag`, and its
//! Subresource Integrity value (W3C SRI, SHA-384) for the widget snippet.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use sha2::{Digest, Sha256, Sha384};

pub use crate::demo_page::DemoPage;

/// The top-level folders of `web_dir` that are served (anything else there is ignored).
pub const SERVED: [&str; 2] = ["widget", "console"];
/// The widget module, as the snippet names it.
pub const WIDGET_PATH: &str = "/widget/sealdesk-widget.js";
const MAX_FILES: usize = 500;
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
const MAX_DEPTH: usize = 6;

/// The console's pages may load only their own scripts and styles and talk only to this
/// server (OWASP ASVS 4.0 V14.4.3; no inline script, no framing).
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The demo shop page: what a tenant's page embedding the widget needs, no more. Its only
/// images are the widget's previews of decrypted attachments, read from `blob:` URLs (OWASP
/// ASVS 4.0 V14.4.3; web/README.md "Content-Security-Policy of a host page").
pub const DEMO_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// Why the web directory could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum WebAssetsError {
    /// Reading failed.
    #[error("cannot read the web directory {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The directory does not hold a build.
    #[error("{0}")]
    Invalid(String),
}

/// One file.
#[derive(Debug, Clone)]
pub struct Asset {
    /// The bytes.
    pub body: Bytes,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Strong `ETag` (quoted).
    pub etag: String,
    /// `sha384-…`, for `integrity` attributes.
    pub integrity: String,
}

/// The served files by URL path (`/widget/sealdesk-widget.js`).
#[derive(Debug, Default)]
pub struct WebAssets {
    files: HashMap<String, Asset>,
}

fn content_type(path: &Path) -> Option<&'static str> {
    Some(match path.extension()?.to_str()? {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WebAssetsError + '_ {
    move |source| WebAssetsError::Io {
        path: path.to_owned(),
        source,
    }
}

impl WebAssets {
    /// Reads the served folders of `dir`. Files of unknown types, dot files and anything
    /// that is not a regular file (symbolic links included) are skipped.
    pub fn load(dir: &Path) -> Result<Self, WebAssetsError> {
        let mut assets = WebAssets::default();
        for top in SERVED {
            let folder = dir.join(top);
            if folder.is_dir() {
                assets.walk(&folder, &format!("/{top}"), 0)?;
            }
        }
        if assets.files.is_empty() {
            return Err(WebAssetsError::Invalid(format!(
                "{} holds no widget/ or console/ build: run `npm ci && npm run build` in web/",
                dir.display()
            )));
        }
        Ok(assets)
    }

    fn walk(&mut self, dir: &Path, prefix: &str, depth: usize) -> Result<(), WebAssetsError> {
        if depth > MAX_DEPTH {
            return Err(WebAssetsError::Invalid(format!(
                "{} is nested too deeply",
                dir.display()
            )));
        }
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let meta = std::fs::symlink_metadata(&path).map_err(io(&path))?;
            let url = format!("{prefix}/{name}");
            if meta.is_dir() {
                self.walk(&path, &url, depth + 1)?;
            } else if meta.is_file()
                && let Some(kind) = content_type(&path)
            {
                if meta.len() > MAX_FILE_BYTES || self.files.len() >= MAX_FILES {
                    return Err(WebAssetsError::Invalid(format!(
                        "{} is too large, or there are too many files",
                        path.display()
                    )));
                }
                let body = Bytes::from(std::fs::read(&path).map_err(io(&path))?);
                self.files.insert(url, Asset::new(body, kind));
            }
        }
        Ok(())
    }

    /// The file at a URL path; a path ending in `/` means its `index.html`.
    pub fn get(&self, path: &str) -> Option<&Asset> {
        if path.ends_with('/') {
            self.files.get(&format!("{path}index.html"))
        } else {
            self.files.get(path)
        }
    }

    /// How many files are served.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether nothing is served.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

impl Asset {
    fn new(body: Bytes, content_type: &'static str) -> Self {
        let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&body))[..32]);
        let integrity = format!("sha384-{}", STANDARD.encode(Sha384::digest(&body)));
        Self {
            body,
            content_type,
            etag,
            integrity,
        }
    }
}

/// The demo shop page and its stylesheet, when `--demo` set one up.
pub fn respond_demo(
    assets: &WebAssets,
    demo: &DemoPage,
    method: &Method,
    path: &str,
) -> Option<Response> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let (body, content_type) = match path {
        "/demo" | "/demo/" => {
            let integrity = &assets.get(WIDGET_PATH)?.integrity;
            (
                crate::demo_page::html(demo, integrity),
                "text/html; charset=utf-8",
            )
        }
        "/demo/demo.css" => (crate::demo_page::CSS.to_owned(), "text/css; charset=utf-8"),
        _ => return None,
    };
    let mut response = Response::new(Body::from(body));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if content_type.starts_with("text/html") {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEMO_CSP),
        );
    }
    Some(response)
}

/// The response for `path`, or `None` when it is not a served file (or not GET/HEAD).
pub fn respond(
    assets: &WebAssets,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Option<Response> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let asset = assets.get(path)?;
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == asset.etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else if method == Method::HEAD {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(asset.body.clone()))
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    if let Ok(etag) = HeaderValue::from_str(&asset.etag) {
        h.insert(header::ETAG, etag);
    }
    // Revalidate after five minutes: names are not content-hashed, the ETag keeps it cheap.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300, must-revalidate"),
    );
    if path.starts_with("/widget/") {
        // Loaded cross-origin by customers' pages as a module with `integrity`: that needs
        // CORS, and the resource policy must allow other origins.
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.insert(
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        );
    }
    if asset.content_type.starts_with("text/html") {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, body) in files {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, body).unwrap();
        }
        dir
    }

    #[test]
    fn serves_only_known_files_of_the_served_folders() {
        let dir = build(&[
            ("widget/sealdesk-widget.js", b"export {};"),
            ("console/index.html", b"<!doctype html>"),
            ("console/assets/app.css", b"body{}"),
            ("console/.secret.js", b"x"),
            ("console/notes.exe", b"x"),
            ("other/leak.js", b"x"),
            ("manifest.json", b"{}"),
        ]);
        let assets = WebAssets::load(dir.path()).unwrap();
        assert_eq!(assets.len(), 3);
        assert!(assets.get(WIDGET_PATH).is_some());
        assert!(assets.get("/console/").is_some());
        assert!(assets.get("/console/assets/app.css").is_some());
        for missing in [
            "/console/.secret.js",
            "/console/notes.exe",
            "/other/leak.js",
            "/manifest.json",
            "/console/../manifest.json",
            "/widget/",
        ] {
            assert!(assets.get(missing).is_none(), "{missing}");
        }
    }

    #[test]
    fn integrity_is_the_sri_sha384_of_the_bytes() {
        // SHA-384 of "abc": FIPS 180-2 appendix D.1.
        let asset = Asset::new(Bytes::from_static(b"abc"), "text/plain; charset=utf-8");
        let expected = hex::decode(
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed\
             8086072ba1e7cc2358baeca134c825a7",
        )
        .unwrap();
        assert_eq!(
            asset.integrity,
            format!("sha384-{}", STANDARD.encode(expected))
        );
    }

    #[test]
    fn an_empty_or_missing_build_is_refused() {
        let dir = build(&[("manifest.json", b"{}")]);
        assert!(matches!(
            WebAssets::load(dir.path()),
            Err(WebAssetsError::Invalid(_))
        ));
        assert!(WebAssets::load(&dir.path().join("nope")).is_err());
    }

    #[test]
    fn headers_fit_the_kind_of_file() {
        let dir = build(&[
            ("widget/sealdesk-widget.js", b"export {};"),
            ("console/index.html", b"<!doctype html>"),
        ]);
        let assets = WebAssets::load(dir.path()).unwrap();
        let none = HeaderMap::new();
        let widget = respond(&assets, &Method::GET, WIDGET_PATH, &none).unwrap();
        assert_eq!(widget.status(), StatusCode::OK);
        assert_eq!(widget.headers()["access-control-allow-origin"], "*");
        assert_eq!(
            widget.headers()["cross-origin-resource-policy"],
            "cross-origin"
        );
        assert!(
            widget.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/javascript")
        );
        let page = respond(&assets, &Method::GET, "/console/", &none).unwrap();
        assert_eq!(page.headers()["content-security-policy"], PAGE_CSP);
        assert!(page.headers().get("access-control-allow-origin").is_none());
        // Revalidation, HEAD, and methods that are not served.
        let mut cached = HeaderMap::new();
        cached.insert(header::IF_NONE_MATCH, widget.headers()["etag"].clone());
        let again = respond(&assets, &Method::GET, WIDGET_PATH, &cached).unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert!(respond(&assets, &Method::HEAD, WIDGET_PATH, &none).is_some());
        assert!(respond(&assets, &Method::POST, WIDGET_PATH, &none).is_none());
    }

    /// The console may show images from blob: (attachment previews) and data: (the TOTP QR
    /// code); the demo shop only the widget's previews, from blob:.
    #[test]
    fn pages_allow_only_the_images_they_show() {
        let img_src = |csp: &str| {
            csp.split(';')
                .map(str::trim)
                .find(|d| d.starts_with("img-src "))
                .map(str::to_owned)
        };
        assert_eq!(
            img_src(PAGE_CSP).as_deref(),
            Some("img-src 'self' data: blob:")
        );
        let dir = build(&[("widget/sealdesk-widget.js", b"export {};")]);
        let assets = WebAssets::load(dir.path()).unwrap();
        let demo = DemoPage {
            tenant: "0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70".parse().unwrap(),
            team: "0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f71".parse().unwrap(),
            roots: vec![[1; 32]],
        };
        let page = respond_demo(&assets, &demo, &Method::GET, "/demo/").unwrap();
        let csp = page.headers()["content-security-policy"].to_str().unwrap();
        assert_eq!(csp, DEMO_CSP);
        assert_eq!(img_src(csp).as_deref(), Some("img-src blob:"));
        assert!(!csp.contains("unsafe-inline") && !csp.contains("data:"));
        let css = respond_demo(&assets, &demo, &Method::GET, "/demo/demo.css").unwrap();
        assert!(css.headers().get("content-security-policy").is_none());
    }
}
