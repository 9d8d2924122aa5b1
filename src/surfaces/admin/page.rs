//! The admin endpoints for a browser (SPEC §5): when a request prefers
//! `text/html`, the dry-run is a page (statements with their locks and
//! hazards, refusals with their safe paths, unmanaged objects, the plan hash,
//! a Migrate button posting with `expectPlan`), and every failure is a page too.
//!
//! The token never reaches a page nor a URL it links: a dry-run opened with
//! `?token=` is answered `303 See Other` to the same URL without it, setting
//! the `reconcile_admin` cookie, whose value is an HMAC-SHA256 of a fixed label
//! keyed by the token (so the browser keeps no copy of the token). Links and
//! the form's action are relative to the page, so that a mount prefix is kept.
//!
//! JSON clients (no `Accept`, `*/*`, `application/json`) get exactly the
//! answers they got before: nothing here changes a JSON body.

use std::fmt::Write;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::catalog::history::Entry;
use crate::pipeline::PlanOutcome;
use crate::plan::render::Statement;
use crate::plan::rules::Finding;
use crate::surfaces::report::human_bytes;

/// The cookie that stands for the token in a browser.
pub const COOKIE_NAME: &str = "reconcile_admin";
/// The label that the cookie's HMAC signs (keyed by the token); changing it
/// signs every browser out.
const COOKIE_LABEL: &[u8] = b"reconcile admin cookie v1";
/// The path the cookie is sent for.
const COOKIE_PATH: &str = "/__admin";
/// The dry-run's path, as the router serves it.
const DRY_RUN_PATH: &str = "/__admin/migrate/dry-run";
/// The migrate endpoint's path, as the router serves it.
const MIGRATE_PATH: &str = "/__admin/migrate";
/// The largest JSON answer turned into a page (the answers are far smaller).
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// Whether a request's `Accept` ranks `text/html` above `application/json`
/// (RFC 9110 §12.5.1: the most specific range that matches a type gives its
/// q-value). No `Accept`, `*/*` (a tie) or an unreadable header: JSON.
pub fn prefers_html(headers: &HeaderMap) -> bool {
    let ranges: Vec<(String, f32)> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(media_range)
        .collect();
    let html = quality(&ranges, "text", "html");
    let json = quality(&ranges, "application", "json");
    html > 0.0 && html > json
}

/// One media range of `Accept`: `type/subtype` (lower case) and its q-value;
/// None when it is not a media range or its q is not a number in 0..=1.
fn media_range(item: &str) -> Option<(String, f32)> {
    let mut parts = item.split(';');
    let range = parts.next()?.trim().to_ascii_lowercase();
    if !range.contains('/') {
        return None;
    }
    let mut q = 1.0;
    for p in parts {
        if let Some((k, v)) = p.split_once('=') {
            if k.trim().eq_ignore_ascii_case("q") {
                q = v
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))?;
            }
        }
    }
    Some((range, q))
}

/// The q-value that `ranges` give `kind/sub`: that of the most specific
/// matching range (exact, then `kind/*`, then `*/*`); 0 when none matches.
fn quality(ranges: &[(String, f32)], kind: &str, sub: &str) -> f32 {
    let exact = format!("{kind}/{sub}");
    let any_sub = format!("{kind}/*");
    [exact.as_str(), any_sub.as_str(), "*/*"]
        .iter()
        .find_map(|want| {
            ranges
                .iter()
                .filter(|(r, _)| r == want)
                .map(|(_, q)| *q)
                .reduce(f32::max)
        })
        .unwrap_or(0.0)
}

/// HMAC-SHA256 (RFC 2104) of `msg` keyed by `key`, with the `sha2` already
/// used for the plan hash.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let inner = Sha256::new()
        .chain_update(k.map(|b| b ^ 0x36))
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(k.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// The cookie's value for `token`: the HMAC-SHA256 of a fixed label keyed by
/// the token, in lower-case hex. It proves the token without being it, and a
/// new token makes every old cookie worthless.
pub fn cookie_value(token: &str) -> String {
    hmac_sha256(token.as_bytes(), COOKIE_LABEL).iter().fold(
        String::with_capacity(64),
        |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        },
    )
}

/// Whether the request carries the `reconcile_admin` cookie of `token`
/// (compared in constant time), sent by the browser from the same origin: a
/// request that the browser marks cross-site (`Sec-Fetch-Site`) is not
/// taken on its cookie.
pub fn cookie_accepted(headers: &HeaderMap, token: &str) -> bool {
    if from_another_site(headers) {
        return false;
    }
    let expected = cookie_value(token);
    let mut accepted = false;
    for v in headers.get_all(header::COOKIE) {
        for pair in v.as_bytes().split(|&b| b == b';') {
            let pair = pair.trim_ascii();
            if let Some(value) = pair
                .strip_prefix(COOKIE_NAME.as_bytes())
                .and_then(|rest| rest.strip_prefix(b"="))
            {
                accepted |= super::constant_time_eq(value.trim_ascii(), expected.as_bytes());
            }
        }
    }
    accepted
}

/// Whether the browser says (`Sec-Fetch-Site`) that another site, or another
/// origin of this site, started the request; a request without the header
/// (not a browser, or an old one) is not.
fn from_another_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !matches!(v.trim(), "same-origin" | "none"))
}

/// The page that continues to `location` (relative) from this origin: a
/// refresh at once, and a link for a browser that does not follow it.
fn continue_page(location: &str) -> Response {
    let href = escape(location);
    page_with_head(
        StatusCode::OK,
        "Signed in",
        &format!("<meta http-equiv=\"refresh\" content=\"0;url={href}\">"),
        &format!(
            "<p>The token is kept as a cookie for this site. \
             <a id=\"continue\" href=\"{href}\">Continue to the dry-run</a></p>"
        ),
    )
}

/// The query string without its `token` parameters (the others as they came).
fn without_token(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or("");
            !pair.is_empty() && super::form_decode(key.as_bytes()) != b"token"
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// For an authenticated dry-run that prefers HTML and carries `?token=`:
/// `303 See Other` to the same page without the token (the other parameters
/// kept), setting the cookie of `token` (`Secure` when the request came over
/// https, as `X-Forwarded-Proto` says). None when the query has no token.
pub fn leave_token_url(headers: &HeaderMap, uri: &Uri, token: &str) -> Option<Response> {
    let query = uri.query()?;
    if super::query_values(query, "token").is_empty() {
        return None;
    }
    let rest = without_token(query);
    let path = uri.path();
    let mut location = last_segment(path).to_string();
    if !rest.is_empty() {
        location.push('?');
        location.push_str(&rest);
    }
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    let cookie = format!(
        "{COOKIE_NAME}={}; HttpOnly; SameSite=Strict; Path={COOKIE_PATH}{}",
        cookie_value(token),
        if secure { "; Secure" } else { "" }
    );
    // A navigation that another site started (a link in a chat or a mail)
    // would not send a SameSite=Strict cookie on the redirect that follows:
    // such a request gets a page that continues from this origin instead.
    let mut r = if from_another_site(headers) {
        continue_page(&location)
    } else {
        see_other(&location)
    };
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Some(r)
}

/// The last segment of a path (`dry-run` of `/__admin/migrate/dry-run`).
fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or("")
}

/// A reference to `to` relative to the page at `from` (both absolute paths),
/// such that a prefix in front of `from` in the browser's URL is kept.
fn relative(from: &str, to: &str) -> String {
    let from_dirs: Vec<&str> = from.split('/').collect();
    let from_dirs = &from_dirs[..from_dirs.len().saturating_sub(1)];
    let to_parts: Vec<&str> = to.split('/').collect();
    let (to_dirs, to_last) = to_parts.split_at(to_parts.len().saturating_sub(1));
    let common = from_dirs
        .iter()
        .zip(to_dirs)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = "../".repeat(from_dirs.len() - common);
    for d in &to_dirs[common..] {
        out.push_str(d);
        out.push('/');
    }
    let last = to_last.first().copied().unwrap_or("");
    if out.is_empty() && last.is_empty() {
        return "./".into();
    }
    out.push_str(last);
    out
}

/// `303 See Other` to `location` (a relative reference), with the headers of a page.
fn see_other(location: &str) -> Response {
    let mut r = page(
        StatusCode::SEE_OTHER,
        "See other",
        &format!("<p><a href=\"{0}\">{0}</a></p>", escape(location)),
    );
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// `s` safe in HTML text and in a quoted attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `s` as one component of a URL's query (every byte but the unreserved ones escaped).
fn query_component(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f;background:#fff}\
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}\
code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}\
pre{background:#f5f5f7;padding:.6rem .8rem;border-radius:4px;overflow-x:auto;white-space:pre-wrap}\
ol,ul{padding-left:1.4rem}li{margin:.6rem 0}\
.facts span{display:inline-block;margin-right:.8rem}.id{font-weight:600}\
.lock{color:#5a3d00}.hazard{color:#b3261e}.hazard.none{color:#555}.warning{color:#b3261e}\
.refusal{border-left:4px solid #b3261e;padding-left:.8rem}.rule{font-weight:600}\
.safe-path{background:#eef7ee;padding:.3rem .5rem}\
.ok{background:#eef7ee;padding:.6rem .8rem;border-radius:4px}\
.blocked,.error{background:#fdecea;padding:.6rem .8rem;border-radius:4px}\
button{font-size:1rem;padding:.5rem 1.2rem;background:#0b57d0;color:#fff;border:0;border-radius:4px;cursor:pointer}\
.muted{color:#555}";

/// A whole page: `title`, then `body` (already HTML), with the headers every
/// page carries (no caching, no referrer, no framing, no script).
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    page_with_head(status, title, "", body)
}

/// [`page`], with `head` (HTML) added to its head.
fn page_with_head(status: StatusCode, title: &str, head: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">{head}\
         <title>{} · reconcile</title><style>{STYLE}</style></head>\n<body>\n<h1>{}</h1>\n{body}\n</body></html>\n",
        escape(title),
        escape(title)
    );
    let mut r = (status, html).into_response();
    page_headers(r.headers_mut());
    r
}

/// The headers of every page: HTML in UTF-8, never cached, no referrer, no
/// framing, no script, forms only to this origin.
fn page_headers(h: &mut HeaderMap) {
    for (k, v) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::VARY, "Accept"),
    ] {
        h.insert(k, HeaderValue::from_static(v));
    }
}

/// The dry-run page of `outcome`, and the last applied plan when known.
pub fn dry_run(outcome: &PlanOutcome, last: Option<&Entry>) -> Response {
    let p = &outcome.plan;
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<p class=\"database\">Database: <code>{}</code></p>",
        escape(&outcome.target)
    );
    let _ = writeln!(
        b,
        "<p>Plan hash: <code id=\"plan-hash\">{}</code></p>",
        escape(&p.plan_hash)
    );
    if let Some(e) = last {
        let _ = writeln!(
            b,
            "<p class=\"muted\" id=\"last-applied\">Last applied: #{} at {}, {} statement{} ({}, plan <code>{}</code>)</p>",
            e.id,
            escape(&e.applied_at),
            e.statements.len(),
            if e.statements.len() == 1 { "" } else { "s" },
            escape(&e.via),
            escape(&e.plan_hash)
        );
    }
    if p.statements.is_empty() && p.refused.is_empty() {
        let _ = writeln!(
            b,
            "<p id=\"nothing-to-do\" class=\"ok\">Nothing to do: the database is in sync with the schema files ({} table{} in sync).</p>",
            p.in_sync.len(),
            if p.in_sync.len() == 1 { "" } else { "s" }
        );
    }
    if !p.refused.is_empty() {
        let _ = writeln!(
            b,
            "<p class=\"blocked\" id=\"blocked\">Blocked: {} change{} of the files {} refused, and nothing will be applied while any change is refused. Follow each safe path below, then reload this page.</p>",
            p.refused.len(),
            if p.refused.len() == 1 { "" } else { "s" },
            if p.refused.len() == 1 { "is" } else { "are" }
        );
    }
    if !p.statements.is_empty() {
        let _ = writeln!(
            b,
            "<h2>Would run ({} statement{})</h2>\n<ol class=\"statements\">",
            p.statements.len(),
            if p.statements.len() == 1 { "" } else { "s" }
        );
        for s in &p.statements {
            b.push_str(&statement_html(s));
        }
        b.push_str("</ol>\n");
    }
    if !p.busy_tables.is_empty() {
        b.push_str("<h2>Busy tables</h2>\n<p>Applied in one transaction, this plan stops writes to these tables until it commits; <code>RECONCILE_ONLINE=true</code> (or <code>?online=true</code> on the migrate call) keeps writes flowing.</p>\n<ul>");
        for t in &p.busy_tables {
            let _ = writeln!(
                b,
                "<li class=\"busy\"><code>{}</code>{}: {}{}</li>",
                escape(&t.table),
                size_text(t.rows, t.bytes).map_or(String::new(), |s| format!(" ({})", escape(&s))),
                escape(&t.steps.join(", ")),
                if t.online_avoids {
                    ""
                } else {
                    " — a table rewrite that the online mode cannot avoid"
                }
            );
        }
        b.push_str("</ul>\n");
    }
    if !p.refused.is_empty() {
        b.push_str(&refusals_html(&p.refused));
    }
    if !p.unmanaged.is_empty() {
        let _ = writeln!(
            b,
            "<h2>Unmanaged ({})</h2>\n<p>In the database, not in the files: kept, never dropped.</p>\n<ul class=\"unmanaged-list\">",
            p.unmanaged.len()
        );
        for u in &p.unmanaged {
            let _ = writeln!(
                b,
                "<li class=\"unmanaged\">{} <code>{}</code></li>",
                escape(&u.kind),
                escape(&u.name)
            );
        }
        b.push_str("</ul>\n");
    }
    if !p.statements.is_empty() && p.refused.is_empty() {
        let action = format!(
            "{}?expectPlan={}",
            relative(DRY_RUN_PATH, MIGRATE_PATH),
            query_component(&p.plan_hash)
        );
        let _ = writeln!(
            b,
            "<h2>Migrate</h2>\n<form id=\"migrate\" method=\"post\" action=\"{}\">\
             <p>Runs the {} statement{} above, only if the plan is still <code>{}</code>; otherwise nothing is applied.</p>\
             <button type=\"submit\">Migrate</button></form>",
            escape(&action),
            p.statements.len(),
            if p.statements.len() == 1 { "" } else { "s" },
            escape(&p.plan_hash)
        );
    }
    page(StatusCode::OK, "Migration dry-run", &b)
}

/// Estimated rows and size, as the text plan writes them.
fn size_text(rows: Option<i64>, bytes: Option<i64>) -> Option<String> {
    match (rows, bytes) {
        (Some(r), Some(b)) => Some(format!("~{r} rows, {}", human_bytes(b))),
        (Some(r), None) => Some(format!("~{r} rows")),
        (None, Some(b)) => Some(format!(
            "{}, rows not yet counted (never analyzed)",
            human_bytes(b)
        )),
        (None, None) => None,
    }
}

/// One statement: its id, its SQL, its lock, its hazard, the table's size,
/// a warning, whether it commits first, and its online form.
fn statement_html(s: &Statement) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<li class=\"statement\"><div class=\"id\">{}</div><pre class=\"sql\">{}</pre><p class=\"facts\">",
        escape(&s.id),
        escape(&s.sql)
    );
    let _ = write!(b, "<span class=\"lock\">lock: {}</span>", escape(s.lock));
    match &s.hazard {
        Some(h) => {
            let _ = write!(b, "<span class=\"hazard\">hazard: {}</span>", escape(h));
        }
        None => b.push_str("<span class=\"hazard none\">hazard: none</span>"),
    }
    if let Some(size) = size_text(s.table_rows, s.table_bytes) {
        let _ = write!(
            b,
            "<span class=\"size\">{}: {}</span>",
            escape(s.table.as_deref().unwrap_or("table")),
            escape(&size)
        );
    }
    b.push_str("</p>");
    if let Some(w) = &s.warning {
        let _ = write!(b, "<p class=\"warning\">{}</p>", escape(w));
    }
    if s.commit_first {
        b.push_str("<p class=\"muted\">Committed first, in a transaction of its own: the plan uses this value.</p>");
    }
    if !s.online.is_empty() {
        let phases: Vec<String> = s
            .online
            .iter()
            .map(|o| format!("phase {}: {}", o.phase, o.sql))
            .collect();
        let _ = write!(
            b,
            "<p class=\"muted\">Online mode: <code>{}</code></p>",
            escape(&phases.join("; "))
        );
    }
    b.push_str("</li>\n");
    b
}

/// The refusals: rule, object, where, what, the two definitions, the safe path.
fn refusals_html(refused: &[Finding]) -> String {
    let items: Vec<RefusalView> = refused
        .iter()
        .map(|f| RefusalView {
            rule: format!("{} {}", f.rule, f.rule.title()),
            object: f.object.clone(),
            message: f.message.clone(),
            safe_path: f.safe_path.clone(),
            live: f.live.clone(),
            desired: f.desired.clone(),
            origin: f.origin.as_ref().map(|o| match o.line {
                0 => o.file.to_string(),
                _ => o.to_string(),
            }),
        })
        .collect();
    refusal_list(&items)
}

/// What a refusal shows, from a plan's `Finding` or from a JSON answer's `refused`.
struct RefusalView {
    rule: String,
    object: String,
    message: String,
    safe_path: String,
    live: Option<String>,
    desired: Option<String>,
    origin: Option<String>,
}

fn refusal_list(items: &[RefusalView]) -> String {
    let mut b = format!(
        "<h2>Refused ({})</h2>\n<ul class=\"refusals\">\n",
        items.len()
    );
    for f in items {
        let _ = write!(
            b,
            "<li class=\"refusal\"><p><span class=\"rule\">{}</span>: <code class=\"object\">{}</code>{}</p><p class=\"message\">{}</p>",
            escape(&f.rule),
            escape(&f.object),
            f.origin
                .as_ref()
                .map_or(String::new(), |o| format!(
                    " <span class=\"origin muted\">({})</span>",
                    escape(o)
                )),
            escape(&f.message)
        );
        if let (Some(live), Some(desired)) = (&f.live, &f.desired) {
            let _ = write!(
                b,
                "<pre class=\"definitions\">--- database\n+++ files\n-{}\n+{}</pre>",
                escape(live),
                escape(desired)
            );
        }
        let _ = writeln!(
            b,
            "<p class=\"safe-path\">Safe path: {}</p></li>",
            escape(&f.safe_path)
        );
    }
    b.push_str("</ul>\n");
    b
}

/// Middleware for requests that prefer HTML: a failure's JSON answer becomes a
/// page with the same status and headers (and log reason); a migrate that
/// applied answers `303 See Other` to the dry-run page. Answers that are
/// already pages, and every answer to a JSON client, pass as they are.
pub async fn html_answers(req: Request, next: Next) -> Response {
    if !prefers_html(req.headers()) {
        return next.run(req).await;
    }
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let response = next.run(req).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return response;
    }
    let status = response.status();
    if status.is_success() {
        if method == Method::POST && path.ends_with(MIGRATE_PATH) {
            let mut r = see_other(&relative(MIGRATE_PATH, DRY_RUN_PATH));
            r.extensions_mut()
                .extend(response.into_parts().0.extensions);
            return r;
        }
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ANSWER_BYTES).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "answer too large").into_response();
    };
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let rendered = failure_page(status, &path, &method, &answer);
    let (new_parts, new_body) = rendered.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (k, v) in &new_parts.headers {
        parts.headers.insert(k, v.clone());
    }
    Response::from_parts(parts, Body::new(new_body))
}

/// The page of a failed call: what went wrong, what to do, and a link to the
/// dry-run; `answer` is the JSON the call answers a tool.
fn failure_page(status: StatusCode, path: &str, method: &Method, answer: &Value) -> Response {
    let message = answer["error"].as_str().unwrap_or("The request failed");
    let dry_run_of = |p: &str| -> String {
        let base = p.strip_suffix("/dry-run").unwrap_or(p);
        format!("{base}/dry-run")
    };
    let dry_run_link = if path == "/__admin/prune" || path == "/__admin/prune/dry-run" {
        relative(path, &dry_run_of("/__admin/prune"))
    } else {
        relative(path, DRY_RUN_PATH)
    };
    let mut b = String::new();
    let title;
    if status == StatusCode::UNAUTHORIZED {
        title = "Sign-in needed";
        let _ = writeln!(
            b,
            "<p class=\"error\" id=\"unauthorized\">{}.</p>\n<p>Open the dry-run with the admin token once: \
             <code>https://&lt;your-app&gt;{DRY_RUN_PATH}?token=&lt;ADMIN_TOKEN&gt;</code>. \
             The page then takes the token out of the address and keeps a cookie for this site instead \
             (until the browser closes, or the token changes).</p>\n\
             <p>Opened it with the token from a link on another site? \
             <a id=\"dry-run-link\" href=\"{}\">Continue to the dry-run</a>.</p>",
            escape(message),
            escape(&dry_run_link)
        );
    } else if status == StatusCode::METHOD_NOT_ALLOWED
        && path == MIGRATE_PATH
        && method == Method::GET
    {
        title = "Migrate is a POST";
        let _ = writeln!(
            b,
            "<p>Migrating changes the database, so it is not a link. \
             <a id=\"dry-run-link\" href=\"{}\">Open the dry-run</a> to review and migrate.</p>",
            escape(&dry_run_link)
        );
    } else if status == StatusCode::CONFLICT && answer.get("expectedPlanHash").is_some() {
        title = "The plan changed";
        let _ = writeln!(
            b,
            "<p class=\"error\" id=\"stale\">The plan changed since the page was drawn \
             (it showed <code>{}</code>, it is now <code>{}</code>): nothing was applied.</p>\n\
             <p><a href=\"{}\">Reload the dry-run</a> to review the new plan.</p>",
            escape(answer["expectedPlanHash"].as_str().unwrap_or("")),
            escape(answer["planHash"].as_str().unwrap_or("")),
            escape(&dry_run_link)
        );
    } else if let Some(refused) = answer["refused"].as_array().filter(|r| !r.is_empty()) {
        title = "Refused";
        let _ = writeln!(
            b,
            "<p class=\"error\" id=\"refused\">{}.</p>",
            escape(message)
        );
        let items: Vec<RefusalView> = refused.iter().map(refusal_of_json).collect();
        b.push_str(&refusal_list(&items));
        let _ = writeln!(
            b,
            "<p><a href=\"{}\">Back to the dry-run</a></p>",
            escape(&dry_run_link)
        );
    } else {
        title = "Failed";
        let _ = writeln!(
            b,
            "<p class=\"error\" id=\"error\">{}</p>\n<p><a href=\"{}\">Back to the dry-run</a></p>",
            escape(message),
            escape(&dry_run_link)
        );
    }
    if answer.as_object().is_some_and(|o| o.len() > 2) {
        let _ = writeln!(
            b,
            "<details><summary>Details (as the JSON answer gives them)</summary><pre>{}</pre></details>",
            escape(&serde_json::to_string_pretty(answer).unwrap_or_default())
        );
    }
    page(status, title, &b)
}

/// A refusal of a JSON answer (`refused[i]`), for [`refusal_list`].
fn refusal_of_json(v: &Value) -> RefusalView {
    let text = |k: &str| v[k].as_str().map(str::to_string);
    let rule = text("rule").unwrap_or_default();
    let title = rule
        .parse::<crate::plan::rules::RuleId>()
        .map(|r| r.title().to_string())
        .unwrap_or_default();
    RefusalView {
        rule: format!("{rule} {title}").trim().to_string(),
        object: text("object").unwrap_or_default(),
        message: text("message").unwrap_or_default(),
        safe_path: text("safePath").unwrap_or_default(),
        live: text("live"),
        desired: text("desired"),
        origin: v.get("origin").filter(|o| !o.is_null()).map(|o| {
            match (o["file"].as_str(), o["line"].as_u64(), o["column"].as_u64()) {
                (Some(f), Some(l), Some(c)) if l > 0 => format!("{f}:{l}:{c}"),
                (Some(f), _, _) => f.to_string(),
                _ => o.to_string(),
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, v.parse().unwrap());
        h
    }

    #[test]
    fn browsers_get_html_and_tools_json() {
        // Chrome's and Firefox's navigation Accept.
        assert!(prefers_html(&accept("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")));
        assert!(prefers_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(prefers_html(&accept("text/html")));
        assert!(prefers_html(&accept("application/json;q=0.5, text/*")));
        assert!(!prefers_html(&HeaderMap::new()));
        assert!(!prefers_html(&accept("*/*")));
        assert!(!prefers_html(&accept("application/json")));
        assert!(!prefers_html(&accept("text/html;q=0.5, application/json")));
        assert!(!prefers_html(&accept("text/html, application/json")));
        assert!(!prefers_html(&accept("text/html;q=0")));
        assert!(!prefers_html(&accept("text/html;q=abc")));
        assert!(!prefers_html(&accept("nonsense")));
    }

    /// RFC 4231 test cases 2 and 6.
    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        let hex = |b: [u8; 32]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn the_cookie_is_checked_and_is_not_the_token() {
        let token = "0123456789abcdef0123456789abcdef";
        let value = cookie_value(token);
        assert_eq!(value.len(), 64);
        assert!(!value.contains(token));
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            format!("a=b; {COOKIE_NAME}={value}; c=d").parse().unwrap(),
        );
        assert!(cookie_accepted(&h, token));
        assert!(!cookie_accepted(&h, "another-token-another-token-xxxxx"));
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!cookie_accepted(&h, token));
        h.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(cookie_accepted(&h, token));
        let mut wrong = HeaderMap::new();
        wrong.insert(header::COOKIE, format!("{COOKIE_NAME}=00").parse().unwrap());
        assert!(!cookie_accepted(&wrong, token));
        // The token itself is not the cookie.
        wrong.insert(
            header::COOKIE,
            format!("{COOKIE_NAME}={token}").parse().unwrap(),
        );
        assert!(!cookie_accepted(&wrong, token));
    }

    #[test]
    fn relative_references_keep_a_mount_prefix() {
        assert_eq!(relative(DRY_RUN_PATH, MIGRATE_PATH), "../migrate");
        assert_eq!(relative(MIGRATE_PATH, DRY_RUN_PATH), "migrate/dry-run");
        assert_eq!(relative(DRY_RUN_PATH, DRY_RUN_PATH), "dry-run");
        assert_eq!(
            relative("/__admin/prune", "/__admin/prune/dry-run"),
            "prune/dry-run"
        );
        assert_eq!(relative("/__admin/health", DRY_RUN_PATH), "migrate/dry-run");
        assert_eq!(relative("/a/b/c", "/a/"), "../");
    }

    #[test]
    fn the_token_is_taken_out_of_the_query() {
        assert_eq!(without_token("token=x&online=1"), "online=1");
        assert_eq!(without_token("a=1&token=x&t%6Fken=y&b=2"), "a=1&b=2");
        assert_eq!(without_token("token=x"), "");
        let uri: Uri = "/__admin/migrate/dry-run?token=secret&x=1".parse().unwrap();
        let r = leave_token_url(
            &HeaderMap::new(),
            &uri,
            "secret-secret-secret-secret-secret",
        )
        .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[header::LOCATION], "dry-run?x=1");
        let cookie = r.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert!(cookie.contains("Path=/__admin") && !cookie.contains("Secure"));
        let mut https = HeaderMap::new();
        https.insert("x-forwarded-proto", "https".parse().unwrap());
        let r = leave_token_url(&https, &uri, "secret-secret-secret-secret-secret").unwrap();
        assert!(r.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .ends_with("; Secure"));
        // Started by another site: a page that continues from this origin.
        let mut linked = HeaderMap::new();
        linked.insert("sec-fetch-site", "cross-site".parse().unwrap());
        let r = leave_token_url(&linked, &uri, "secret-secret-secret-secret-secret").unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers().contains_key(header::SET_COOKIE));
        assert!(!r.headers().contains_key(header::LOCATION));
        let plain: Uri = "/__admin/migrate/dry-run?x=1".parse().unwrap();
        assert!(leave_token_url(&HeaderMap::new(), &plain, "t").is_none());
    }

    #[test]
    fn escaping() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
