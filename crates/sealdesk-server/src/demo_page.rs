//! The demo shop page of `sealdesk serve --demo` (`/demo/`): a plain product page that embeds
//! the widget exactly as a customer's site would, with the snippet the console's generator
//! makes (SRI-pinned module, inbox, pinned tenant root keys). Only served with `--demo` and
//! a web build.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealdesk_proto::{TeamId, TenantId};

/// What the demo page embeds.
#[derive(Debug, Clone)]
pub struct DemoPage {
    /// The demo tenant.
    pub tenant: TenantId,
    /// Its inbox.
    pub team: TeamId,
    /// Its registered root keys, pinned in the snippet.
    pub roots: Vec<[u8; 32]>,
}

/// The stylesheet of the demo page (served as a file: the page's CSP has no inline style).
pub const CSS: &str = "body{margin:0;font:16px/1.5 system-ui,sans-serif;background:#f7f7f9;color:#1b1b1f}\
header{background:#1d2a44;color:#fff;padding:18px 32px;font-size:22px;font-weight:700}\
main{max-width:760px;margin:32px;display:grid;gap:16px}\
section{background:#fff;border-radius:12px;padding:20px 24px;box-shadow:0 1px 3px rgba(0,0,0,.08)}\
h1{margin:0 0 8px;font-size:28px}p{margin:0}.note{color:#555;font-size:14px}";

/// The `<script>` element that embeds the widget: what a tenant pastes into its pages.
pub fn snippet(page: &DemoPage, widget_src: &str, integrity: &str) -> String {
    let keys: Vec<String> = page
        .roots
        .iter()
        .map(|k| format!("ed25519:{}", URL_SAFE_NO_PAD.encode(k)))
        .collect();
    format!(
        "<script type=\"module\" src=\"{widget_src}\" integrity=\"{integrity}\" \
         crossorigin=\"anonymous\" data-sealdesk-inbox=\"{}/{}\" data-sealdesk-tenant-key=\"{}\">\
         </script>",
        page.tenant,
        page.team,
        keys.join(",")
    )
}

/// The page. Every inserted value is an id, a base64url key or a base64 hash: no escaping
/// can be needed, and the snippet test checks the characters.
pub fn html(page: &DemoPage, integrity: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Demo Shop</title><link rel=\"stylesheet\" href=\"/demo/demo.css\"></head>\
         <body><header>Demo Shop</header><main>\
         <section><h1>Order #1042</h1><p>Your parcel left our warehouse on Monday.</p></section>\
         <section><p>Questions? Chat with us: the button in the corner. Your messages are \
         end-to-end encrypted between you and our agents.</p>\
         <p class=\"note\">This page embeds the Sealdesk widget with one script element, \
         as a shop's own site would.</p>\
         </section></main>{}</body></html>\n",
        snippet(page, crate::web::WIDGET_PATH, integrity)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snippet_pins_the_inbox_and_the_roots() {
        let page = DemoPage {
            tenant: "0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70".parse().unwrap(),
            team: "0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f71".parse().unwrap(),
            roots: vec![[0xfb; 32], [1; 32]],
        };
        let s = snippet(&page, "/widget/sealdesk-widget.js", "sha384-abc+/=");
        assert!(s.contains("data-sealdesk-inbox=\"0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70/0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f71\""));
        assert!(s.contains(&format!(
            "data-sealdesk-tenant-key=\"ed25519:{},ed25519:{}\"",
            URL_SAFE_NO_PAD.encode([0xfb; 32]),
            URL_SAFE_NO_PAD.encode([1; 32])
        )));
        assert!(s.contains("integrity=\"sha384-abc+/=\" crossorigin=\"anonymous\""));
        // Nothing in the page needs escaping: only ids, base64url keys and the hash.
        let page_html = html(&page, "sha384-abc+/=");
        let attributes = &page_html[page_html.find("<script").unwrap()..];
        assert!(!attributes.contains('\''));
        assert!(!attributes.contains("<script src"));
    }
}
