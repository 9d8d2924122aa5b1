//! The admin dry-run as a page for a browser (SPEC §5): a real `reconcile
//! serve`, spoken to with a browser's `Accept` header and cookie.

use serde_json::Value;

use crate::harness::{schema_of, TestDb};
use crate::serve::{Server, TOKEN};

/// Chrome's `Accept` for a navigation (and a form post).
const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
const DRY_RUN: &str = "/__admin/migrate/dry-run";

const SCHEMA: &str = r#"
[tables.notes.columns]
id   = { type = "bigint", primary_key = true }
body = { type = "text" }

[tables.notes.indexes]
idx_notes_body = { columns = ["body"] }

[tables.tags.columns]
id   = { type = "bigint", primary_key = true }
name = { type = "text", not_null = true, comment = "shown as <b>\"name\"</b> & more" }
"#;

/// An answer as text: status, head (lower case), body.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    /// The value of the first header `name` (lower case), if any.
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.trim() == name)
                .map(|(_, v)| v.trim())
        })
    }

    /// The token appears nowhere in the answer, head or body.
    fn without_token(self) -> Answer {
        assert!(
            !self.head.contains(TOKEN) && !self.body.contains(TOKEN),
            "the token is in the answer: {}\n{}",
            self.head,
            self.body
        );
        self
    }

    fn assert_page(&self) {
        assert_eq!(
            self.header("content-type"),
            Some("text/html; charset=utf-8"),
            "{}",
            self.head
        );
        assert!(self.body.starts_with("<!doctype html>"), "{}", self.body);
        assert_eq!(self.header("cache-control"), Some("no-store"));
        assert_eq!(self.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(self.header("x-frame-options"), Some("deny"));
        let csp = self.header("content-security-policy").unwrap_or("");
        for part in [
            "default-src 'none'",
            "style-src 'unsafe-inline'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(part), "{csp}");
        }
        assert!(!self.body.contains("<script"), "{}", self.body);
    }
}

fn ask(s: &Server, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    let (status, head, body) = s.request_text(method, path, headers);
    Answer { status, head, body }.without_token()
}

/// The browser's cookie: the 303 of a dry-run opened with `?token=`.
fn sign_in(s: &Server) -> String {
    let r = ask(
        s,
        "GET",
        &format!("{DRY_RUN}?token={TOKEN}&online=false"),
        &[("Accept", BROWSER)],
    );
    assert_eq!(r.status, 303, "{}\n{}", r.head, r.body);
    assert_eq!(r.header("location"), Some("dry-run?online=false"));
    let cookie = r.header("set-cookie").expect("a cookie").to_string();
    for attr in ["httponly", "samesite=strict", "path=/__admin"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.contains("secure"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_string();
    let value = pair.strip_prefix("reconcile_admin=").expect(&cookie);
    assert_eq!(value.len(), 64, "{cookie}");
    pair
}

/// The plans applied so far (none before the history table exists).
fn applied(db: &TestDb) -> usize {
    if db.query("SELECT to_regclass('_reconcile.history') IS NULL") == ["t"] {
        return 0;
    }
    db.history_count()
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[test]
fn a_browser_reviews_the_dry_run_page_and_migrates() {
    let db = TestDb::new("page_migrate");
    db.sql("CREATE TABLE notes (id bigint PRIMARY KEY); CREATE TABLE legacy_stuff (id integer)");
    let dir = schema_of(SCHEMA);
    let s = Server::start_in(&db, dir.path(), &[("ADMIN_TOKEN", TOKEN)], None);
    let bearer = format!("Bearer {TOKEN}");

    // Tools: JSON as before, also with the cookie.
    let tool = ask(&s, "GET", DRY_RUN, &[("Authorization", &bearer)]);
    assert_eq!(tool.status, 200);
    let plan = json(&tool.body);
    let hash = plan["result"]["planHash"].as_str().unwrap().to_string();
    let steps = plan["result"]["totalSteps"].as_u64().unwrap() as usize;
    assert!(steps >= 3, "{plan}");
    let curl = ask(
        &s,
        "GET",
        &format!("{DRY_RUN}?token={TOKEN}"),
        &[("Accept", "*/*")],
    );
    assert_eq!(curl.status, 200);
    assert_eq!(json(&curl.body), plan);

    let cookie = sign_in(&s);
    let over_https = ask(
        &s,
        "GET",
        &format!("{DRY_RUN}?token={TOKEN}"),
        &[("Accept", BROWSER), ("X-Forwarded-Proto", "https")],
    );
    assert_eq!(over_https.status, 303);
    assert_eq!(over_https.header("location"), Some("dry-run"));
    assert!(over_https
        .header("set-cookie")
        .is_some_and(|c| c.ends_with("; secure")));
    // A link on another site: the cookie, and a page that continues from here.
    let linked = ask(
        &s,
        "GET",
        &format!("{DRY_RUN}?token={TOKEN}"),
        &[("Accept", BROWSER), ("Sec-Fetch-Site", "cross-site")],
    );
    assert_eq!(linked.status, 200, "{}", linked.body);
    linked.assert_page();
    assert!(linked.header("set-cookie").is_some(), "{}", linked.head);
    assert!(
        linked.body.contains("<a id=\"continue\" href=\"dry-run\">"),
        "{}",
        linked.body
    );
    let with_cookie = ask(&s, "GET", DRY_RUN, &[("Cookie", &cookie)]);
    assert_eq!(with_cookie.status, 200);
    assert_eq!(json(&with_cookie.body), plan);

    // The page.
    let page = ask(
        &s,
        "GET",
        &format!("{DRY_RUN}?online=false"),
        &[("Accept", BROWSER), ("Cookie", &cookie)],
    );
    assert_eq!(page.status, 200, "{}", page.body);
    page.assert_page();
    let b = &page.body;
    assert!(
        b.contains(&format!("<code id=\"plan-hash\">{hash}</code>")),
        "{b}"
    );
    assert_eq!(b.matches("<li class=\"statement\">").count(), steps, "{b}");
    assert_eq!(b.matches("class=\"lock\"").count(), steps, "{b}");
    assert!(b.contains("CREATE INDEX idx_notes_body"), "{b}");
    assert!(
        b.contains("<span class=\"hazard\">hazard: blocks writes while it builds</span>"),
        "{b}"
    );
    assert!(b.contains("lock: SHARE"), "{b}");
    assert!(b.contains("<li class=\"unmanaged\">table <code>"), "{b}");
    assert!(b.contains("legacy_stuff"), "{b}");
    // Escaped: the comment's markup is text.
    assert!(!b.contains("<b>"), "{b}");
    assert!(b.contains("&lt;b&gt;"), "{b}");
    assert!(b.contains("dbname="), "{b}");
    assert!(
        b.contains(&format!(
            "<form id=\"migrate\" method=\"post\" action=\"../migrate?expectPlan={hash}\">"
        )),
        "{b}"
    );
    assert!(
        b.contains("<button type=\"submit\">Migrate</button>"),
        "{b}"
    );
    assert!(!b.contains("id=\"nothing-to-do\""), "{b}");

    // Not signed in: a page that says how.
    for headers in [
        vec![("Accept", BROWSER)],
        vec![
            ("Accept", BROWSER),
            (
                "Cookie",
                "reconcile_admin=0000000000000000000000000000000000000000000000000000000000000000",
            ),
        ],
        vec![
            ("Accept", BROWSER),
            ("Cookie", &cookie),
            ("Sec-Fetch-Site", "cross-site"),
        ],
    ] {
        let r = ask(&s, "GET", DRY_RUN, &headers);
        assert_eq!(r.status, 401, "{headers:?}");
        r.assert_page();
        assert!(r.body.contains("?token="), "{}", r.body);
    }
    let wrong = ask(
        &s,
        "GET",
        &format!("{DRY_RUN}?token=nope"),
        &[("Accept", BROWSER)],
    );
    assert_eq!(wrong.status, 401);
    assert!(wrong.header("set-cookie").is_none());
    let r = ask(
        &s,
        "POST",
        &format!("/__admin/migrate?expectPlan={hash}"),
        &[("Accept", BROWSER)],
    );
    assert_eq!(r.status, 401);
    r.assert_page();
    assert_eq!(applied(&db), 0);

    // GET on migrate: 405 and a link to the dry-run.
    let r = ask(
        &s,
        "GET",
        "/__admin/migrate",
        &[("Accept", BROWSER), ("Cookie", &cookie)],
    );
    assert_eq!(r.status, 405);
    r.assert_page();
    assert_eq!(r.header("allow"), Some("post"));
    assert!(r.body.contains("href=\"migrate/dry-run\""), "{}", r.body);

    // A stale page: 409, nothing applied.
    let stale = ask(
        &s,
        "POST",
        "/__admin/migrate?expectPlan=0123456789abcdef",
        &[("Accept", BROWSER), ("Cookie", &cookie)],
    );
    assert_eq!(stale.status, 409, "{}", stale.body);
    stale.assert_page();
    assert!(stale.body.contains("id=\"stale\""), "{}", stale.body);
    assert!(
        stale.body.contains("href=\"migrate/dry-run\""),
        "{}",
        stale.body
    );
    assert_eq!(applied(&db), 0);
    assert_eq!(db.query("SELECT to_regclass('public.tags') IS NULL"), ["t"]);

    // The button: applied, and back to the dry-run.
    let done = ask(
        &s,
        "POST",
        &format!("/__admin/migrate?expectPlan={hash}"),
        &[
            ("Accept", BROWSER),
            ("Cookie", &cookie),
            ("Sec-Fetch-Site", "same-origin"),
        ],
    );
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.header("location"), Some("migrate/dry-run"));
    assert_eq!(applied(&db), 1);
    assert_eq!(
        db.query("SELECT to_regclass('public.tags') IS NOT NULL"),
        ["t"]
    );

    let after = ask(
        &s,
        "GET",
        DRY_RUN,
        &[("Accept", BROWSER), ("Cookie", &cookie)],
    );
    assert_eq!(after.status, 200);
    after.assert_page();
    assert!(
        after.body.contains("id=\"nothing-to-do\""),
        "{}",
        after.body
    );
    assert!(after.body.contains("id=\"last-applied\""), "{}", after.body);
    assert!(after.body.contains(&hash), "{}", after.body);
    assert!(!after.body.contains("<form"), "{}", after.body);

    let value = cookie.split_once('=').unwrap().1.to_string();
    let logs = s.stop();
    assert!(
        !logs.iter().any(|l| l.contains(&value)),
        "the cookie reached the log: {logs:?}"
    );
}

#[test]
fn a_refused_plan_shows_its_safe_path_and_no_button() {
    let db = TestDb::new("page_refused");
    db.sql("CREATE TABLE notes (id bigint PRIMARY KEY, body integer)");
    let before = db.schema_snapshot();
    let dir = schema_of(SCHEMA);
    let s = Server::start_in(&db, dir.path(), &[("ADMIN_TOKEN", TOKEN)], None);
    let cookie = sign_in(&s);
    let page = ask(
        &s,
        "GET",
        DRY_RUN,
        &[("Accept", BROWSER), ("Cookie", &cookie)],
    );
    assert_eq!(page.status, 200);
    page.assert_page();
    let b = &page.body;
    assert!(b.contains("<li class=\"refusal\">"), "{b}");
    assert!(
        b.contains("<span class=\"rule\">R003 type change</span>"),
        "{b}"
    );
    assert!(b.contains("<p class=\"safe-path\">Safe path: "), "{b}");
    assert!(b.contains("id=\"blocked\""), "{b}");
    assert!(!b.contains("<form"), "{b}");
    let hash = b
        .split("<code id=\"plan-hash\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_string();

    let r = ask(
        &s,
        "POST",
        &format!("/__admin/migrate?expectPlan={hash}"),
        &[("Accept", BROWSER), ("Cookie", &cookie)],
    );
    assert_eq!(r.status, 409, "{}", r.body);
    r.assert_page();
    assert!(r.body.contains("id=\"refused\""), "{}", r.body);
    assert!(r.body.contains("<li class=\"refusal\">"), "{}", r.body);
    assert!(r.body.contains("class=\"safe-path\""), "{}", r.body);
    assert_eq!(db.schema_snapshot(), before);
    s.stop();
}
