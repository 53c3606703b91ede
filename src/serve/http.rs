//! The HTTP side of `serve`: loopback by default, pages from memory, server-sent events.

use std::io::{ErrorKind, Write as _};
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{bail, Result};
use tiny_http::{Header, Method, Request, Response, Server, StatusCode};

use super::{Shared, LIVE_CSS, LIVE_JS};

/// Binds `bind:port`; a port in use moves to the next free one (and says so).
pub fn bind(bind: &str, port: u16) -> Result<(Server, SocketAddr)> {
    let tries = if port == 0 { 1 } else { 20 };
    for offset in 0..tries {
        let candidate = port.saturating_add(offset);
        let address = format!("{bind}:{candidate}");
        match Server::http(&address) {
            Ok(server) => {
                let Some(local) = server.server_addr().to_ip() else {
                    bail!("cannot tell which address {address} is served on");
                };
                if offset > 0 {
                    eprintln!("note: port {port} is in use; using {candidate} instead");
                }
                return Ok((server, local));
            }
            Err(e) => {
                let in_use = e
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == ErrorKind::AddrInUse);
                if !in_use {
                    bail!("cannot listen on {address}: {e}");
                }
            }
        }
    }
    bail!(
        "ports {port} to {} are all in use\nhelp: pass --port with a free port",
        port.saturating_add(tries - 1)
    )
}

pub fn serve(server: &Server, shared: &Shared) {
    for request in server.incoming_requests() {
        handle(request, shared);
    }
}

/// The site-relative file a URL path names, or `None` for anything that tries to leave
/// the site: `..` segments (also percent-encoded), backslashes, NUL, absolute paths.
pub fn site_path(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_decode(path)?;
    if !decoded.starts_with('/') || decoded.starts_with("//") || decoded.contains(['\\', '\0']) {
        return None;
    }
    let mut parts = Vec::new();
    for segment in decoded.split('/').skip(1) {
        match segment {
            "" | "." => {}
            ".." => return None,
            s if s.contains(':') => return None,
            s => parts.push(s),
        }
    }
    let mut rel = parts.join("/");
    if rel.is_empty() || decoded.ends_with('/') {
        if !rel.is_empty() {
            rel.push('/');
        }
        rel.push_str("index.html");
    }
    Some(rel)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/atom+xml",
        "csv" => "text/csv; charset=utf-8",
        "ics" => "text/calendar; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// A page's bytes, shared with the site: answering a request does not copy them (the
/// exports of a large repository are tens of megabytes).
struct Body(Arc<Vec<u8>>);

impl AsRef<[u8]> for Body {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

fn respond(request: Request, status: u16, kind: &str, body: impl Into<Arc<Vec<u8>>>) {
    let body = body.into();
    let length = body.len();
    let mut response = Response::new(
        StatusCode(status),
        Vec::new(),
        std::io::Cursor::new(Body(body)),
        Some(length),
        None,
    );
    // Header::from_bytes only fails on bytes that are invalid in a header; ours are fixed.
    for (name, value) in [("Content-Type", kind), ("Cache-Control", "no-store")] {
        if let Ok(h) = Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(h);
        }
    }
    let _ = request.respond(response);
}

fn handle(request: Request, shared: &Shared) {
    if !matches!(request.method(), Method::Get | Method::Head) {
        respond(
            request,
            405,
            "text/plain; charset=utf-8",
            b"method not allowed\n".to_vec(),
        );
        return;
    }
    let url = request.url().to_owned();
    match url.split('?').next().unwrap_or("") {
        "/__debrief/events" => {
            let mut writer = request.into_writer();
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: keep-alive\r\n\r\nretry: 1000\n\n";
            if writer
                .write_all(head.as_bytes())
                .and_then(|()| writer.flush())
                .is_ok()
            {
                shared
                    .clients
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(writer);
            }
            return;
        }
        "/__debrief/live.js" => {
            return respond(
                request,
                200,
                "text/javascript; charset=utf-8",
                LIVE_JS.as_bytes().to_vec(),
            )
        }
        "/__debrief/live.css" => {
            return respond(
                request,
                200,
                "text/css; charset=utf-8",
                LIVE_CSS.as_bytes().to_vec(),
            )
        }
        "/__debrief/status.json" => {
            let site = shared
                .site
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let body = serde_json::json!({ "version": site.version, "diagnostics": site.problems });
            return respond(
                request,
                200,
                "application/json",
                body.to_string().into_bytes(),
            );
        }
        _ => {}
    }
    let site = shared
        .site
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let found = site_path(&url).and_then(|rel| {
        site.pages
            .get(&rel)
            .map(|b| (rel.clone(), Arc::clone(b)))
            .or_else(|| {
                site.pages
                    .get(&format!("{rel}/index.html"))
                    .map(|b| (format!("{rel}/index.html"), Arc::clone(b)))
            })
    });
    match found {
        Some((rel, body)) => {
            drop(site);
            respond(request, 200, content_type(&rel), body);
        }
        None => {
            let body = site
                .pages
                .get("404.html")
                .cloned()
                .unwrap_or_else(|| Arc::new(b"not found\n".to_vec()));
            drop(site);
            respond(request, 404, "text/html; charset=utf-8", body);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::site_path;

    #[test]
    fn paths_stay_inside_the_site() {
        assert_eq!(site_path("/").as_deref(), Some("index.html"));
        assert_eq!(
            site_path("/actions/").as_deref(),
            Some("actions/index.html")
        );
        assert_eq!(
            site_path("/static/style.css?v=1").as_deref(),
            Some("static/style.css")
        );
        assert_eq!(site_path("/a%20b.html").as_deref(), Some("a b.html"));
        for hostile in [
            "/../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/a/..%2f..%2fetc",
            "//etc/passwd",
            "/a\\..\\b",
            "/C:/x",
            "/%00",
            "/%zz",
            "etc/passwd",
        ] {
            assert_eq!(site_path(hostile), None, "{hostile}");
        }
    }
}
