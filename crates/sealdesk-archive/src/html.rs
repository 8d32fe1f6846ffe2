//! The readable transcript: one self-contained HTML page, every text escaped, no script, a
//! Content-Security-Policy that forbids loading anything.

use std::fmt::Write as _;

/// One line of a transcript.
#[derive(Debug, Clone)]
pub(crate) struct HtmlMessage {
    pub at: String,
    pub sender: String,
    pub text: String,
    /// An internal note (staff only; never shown to the visitor).
    pub internal: bool,
}

/// One conversation's section.
#[derive(Debug, Clone)]
pub(crate) struct HtmlConversation {
    pub id: String,
    pub created_at: String,
    pub state: String,
    pub note: Option<String>,
    pub messages: Vec<HtmlMessage>,
}

/// Escapes text for HTML element content and quoted attributes (OWASP XSS Prevention Cheat
/// Sheet, rule 1).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

const HEAD: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<title>";
const STYLE: &str = "<style>body{font:15px/1.45 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}\
section{border-top:1px solid #ccc;padding:1rem 0}h2{font-size:1rem;margin:0 0 .5rem}\
.meta,.note{color:#555;font-size:.85rem}.msg{margin:.4rem 0}.who{font-weight:600}\
.internal{background:#fff6d6;border-left:3px solid #b58900;padding:.2rem .5rem}\
time{color:#666;font-size:.8rem;margin-left:.5rem}p{margin:.1rem 0 0;white-space:pre-wrap}</style>";

/// The whole page.
pub(crate) fn page(tenant_name: &str, conversations: &[HtmlConversation]) -> String {
    let title = escape(&format!("{tenant_name}: conversation archive"));
    let mut out = format!("{HEAD}{title}</title>{STYLE}</head><body><h1>{title}</h1>\n");
    for c in conversations {
        let _ = writeln!(
            out,
            "<section><h2>Conversation {}</h2><div class=\"meta\">opened {} · {}</div>",
            escape(&c.id),
            escape(&c.created_at),
            escape(&c.state)
        );
        if let Some(note) = &c.note {
            let _ = writeln!(out, "<div class=\"note\">{}</div>", escape(note));
        }
        for m in &c.messages {
            let class = if m.internal { "msg internal" } else { "msg" };
            let _ = writeln!(
                out,
                "<div class=\"{class}\"><span class=\"who\">{}</span><time>{}</time><p>{}</p></div>",
                escape(&m.sender),
                escape(&m.at),
                escape(&m.text)
            );
        }
        out.push_str("</section>\n");
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_the_chat_said_is_escaped() {
        let evil = "<script>alert(1)</script> & \"quoted\" 'single' <img src=x onerror=y>";
        let html = page(
            "Acme <b>",
            &[HtmlConversation {
                id: "c1".into(),
                created_at: "2026-11-22T10:00:00Z".into(),
                state: "closed".into(),
                note: None,
                messages: vec![HtmlMessage {
                    at: "2026-11-22T10:00:01Z".into(),
                    sender: "Jane <D>".into(),
                    text: evil.into(),
                    internal: true,
                }],
            }],
        );
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<img"));
        assert!(!html.contains("<b>"));
        assert!(html.contains(
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; &#x27;single&#x27;"
        ));
        assert!(html.contains("Jane &lt;D&gt;"));
        assert!(html.contains("<div class=\"msg internal\">"));
        assert!(html.contains("default-src 'none'"));
    }
}
