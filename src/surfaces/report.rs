//! Printers of a plan: text for people, JSON for tools, SQL for psql. Pure functions.

use std::fmt::Write;

use crate::plan::rules::Finding;
use crate::plan::Plan;

/// The plan as a person reads it: grouped per table, refusals with their safe
/// path, unmanaged objects, a summary line and the plan hash.
pub fn text(plan: &Plan, target: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Plan against {target}");
    if let Some(a) = &plan.applied_files {
        match &a.unreadable {
            Some(why) => {
                let _ = writeln!(
                    out,
                    "  note: the files last applied (history #{}) are not compared: {why}; removals from them are not checked",
                    a.history_id
                );
            }
            None if plan.files_changed() => {
                let _ = writeln!(
                    out,
                    "  Compared with the files last applied (history #{}, version {})",
                    a.history_id, a.files_hash
                );
            }
            None => {}
        }
    }
    if plan.statements.is_empty() {
        let _ = writeln!(out, "\n  {}", headline_of_empty(plan));
    }
    let mut group: Option<String> = None;
    for s in &plan.statements {
        let g = s
            .table
            .as_ref()
            .map_or("schema objects".to_string(), |t| format!("table {t}"));
        if group.as_ref() != Some(&g) {
            let _ = writeln!(out, "\n  {g}");
            group = Some(g);
        }
        let mut lines = s.sql.lines();
        let _ = writeln!(out, "    + {}", lines.next().unwrap_or(""));
        for l in lines {
            let _ = writeln!(out, "      {l}");
        }
        let mut notes = Vec::new();
        if s.lock != "none" {
            notes.push(format!("lock {}", s.lock));
        }
        if let Some(h) = &s.hazard {
            notes.push(h.clone());
        }
        match (s.table_rows, s.table_bytes) {
            (Some(rows), Some(bytes)) => {
                notes.push(format!("~{} rows, {}", rows, human_bytes(bytes)))
            }
            (None, Some(bytes)) => notes.push(format!(
                "{}, rows not yet counted (never analyzed)",
                human_bytes(bytes)
            )),
            _ => {}
        }
        if (s.hazard.is_some() || s.warning.is_some()) && !notes.is_empty() {
            let _ = writeln!(out, "      [{}]", notes.join("; "));
        }
        if let Some(w) = &s.warning {
            let _ = writeln!(out, "      ! {w}");
        }
        if s.commit_first {
            let _ = writeln!(
                out,
                "      committed first, in a transaction of its own: the plan uses this value"
            );
        }
        if !s.online.is_empty() {
            let how: Vec<String> = s.online.iter().map(online_step_text).collect();
            let _ = writeln!(out, "      with --online: {}", how.join(", then "));
        }
    }
    if !plan.busy_tables.is_empty() {
        let _ = writeln!(
            out,
            "\nBusy tables: applied in one transaction, this plan stops writes to them until COMMIT"
        );
        for b in &plan.busy_tables {
            let size = match (b.rows, b.bytes) {
                (Some(r), Some(bytes)) => format!("~{r} rows, {}", human_bytes(bytes)),
                (Some(r), None) => format!("~{r} rows"),
                (None, Some(bytes)) => human_bytes(bytes),
                (None, None) => String::new(),
            };
            let _ = writeln!(out, "  {} ({size}): {}", b.table, b.steps.join(", "));
            if !b.online_avoids {
                let _ = writeln!(
                    out,
                    "    a table rewrite: --online cannot avoid it; consider a nullable column without a volatile default, backfilled in batches"
                );
            }
        }
        let _ = writeln!(
            out,
            "  advice: apply with --online to keep writes flowing (indexes built CONCURRENTLY, constraints added NOT VALID then validated)"
        );
    }
    if !plan.refused.is_empty() {
        let _ = writeln!(
            out,
            "\nRefused ({}): nothing will be applied while any change is refused",
            plan.refused.len()
        );
        for f in &plan.refused {
            out.push_str(&finding_text(f));
        }
    }
    out.push_str(&unmanaged_text(&plan.unmanaged));
    let _ = writeln!(
        out,
        "\nSummary: {} statement{} to run, {} refused, {} unmanaged, {} table{} in sync",
        plan.statements.len(),
        if plan.statements.len() == 1 { "" } else { "s" },
        plan.refused.len(),
        plan.unmanaged.len(),
        plan.in_sync.len(),
        if plan.in_sync.len() == 1 { "" } else { "s" },
    );
    let _ = writeln!(out, "Plan hash: {}", plan.plan_hash);
    out
}

/// One step of a statement's online form, for a person.
fn online_step_text(o: &crate::plan::render::OnlineStep) -> String {
    let what = if o.sql.ends_with(" NOT VALID") {
        "added NOT VALID"
    } else if o.sql.contains(" VALIDATE CONSTRAINT ") {
        "validated"
    } else if o.sql.contains(" USING INDEX ") {
        "attached to its index"
    } else if o.sql.starts_with("DROP INDEX CONCURRENTLY") {
        "dropped CONCURRENTLY"
    } else if o.sql.contains(" CONCURRENTLY ") {
        "index built CONCURRENTLY"
    } else {
        "run"
    };
    format!("{what} in phase {}", o.phase)
}

/// One refusal: rule, object, where, what, the diff of the definitions, the safe path.
pub fn finding_text(f: &Finding) -> String {
    finding_against(f, "database")
}

/// A finding, its `---` side named `old` (`database`, or the files the CI
/// guard compares with). A location of a whole file (line 0) is its name.
fn finding_against(f: &Finding, old: &str) -> String {
    let mut out = String::new();
    let at = f
        .origin
        .as_ref()
        .map(|o| match o.line {
            0 => format!(" ({})", o.file),
            _ => format!(" ({o})"),
        })
        .unwrap_or_default();
    let _ = writeln!(out, "  {} {}: {}{at}", f.rule, f.rule.title(), f.object);
    let _ = writeln!(out, "    {}", f.message);
    if let (Some(live), Some(desired)) = (&f.live, &f.desired) {
        let _ = writeln!(out, "    --- {old}");
        let _ = writeln!(out, "    +++ files");
        let _ = writeln!(out, "    -{live}");
        let _ = writeln!(out, "    +{desired}");
        if live.len() > 60 || desired.len() > 60 {
            // Long definitions: point at where they part.
            let at = live
                .chars()
                .zip(desired.chars())
                .take_while(|(a, b)| a == b)
                .count();
            let _ = writeln!(out, "     {}^ differs here", " ".repeat(at));
        }
    }
    let _ = writeln!(out, "    safe path: {}", f.safe_path);
    let _ = writeln!(out, "    see {}", f.rule.docs());
    out
}

/// Only the statements, ready for psql; first the session settings they were
/// written for (`db::PINNED_SETTINGS`), which reconcile pins for its own
/// sessions, so that the script means the same whatever the database sets.
pub fn sql(plan: &Plan) -> String {
    let mut out = String::new();
    if !plan.statements.is_empty() {
        let _ = writeln!(
            out,
            "-- the session settings these statements are written for"
        );
        for (name, value) in crate::connect::db::PINNED_SETTINGS {
            let _ = writeln!(out, "SET {name} = '{value}';");
        }
        out.push('\n');
    }
    for s in &plan.statements {
        let _ = writeln!(out, "-- {}\n{};\n", s.id, s.sql);
    }
    out
}

pub fn json(plan: &Plan) -> String {
    serde_json::to_string_pretty(&json_value(plan)).expect("json")
}

/// The plan as `plan --format json` prints it: the plan's fields and a `summary` of counts.
pub fn json_value(plan: &Plan) -> serde_json::Value {
    let summary = serde_json::json!({
        "statements": plan.statements.len(),
        "refused": plan.refused.len(),
        "unmanaged": plan.unmanaged.len(),
        "inSync": plan.in_sync.len(),
    });
    let mut v = serde_json::to_value(plan).expect("plan serializes");
    v["summary"] = summary;
    v
}

pub fn human_bytes(b: i64) -> String {
    let b = b.max(0) as f64;
    if b >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} GB", b / 1024.0 / 1024.0 / 1024.0)
    } else if b >= 1024.0 * 1024.0 {
        format!("{:.1} MB", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.0} kB", b / 1024.0)
    } else {
        format!("{b} bytes")
    }
}

/// Why an apply stopped, with everything a person needs to act.
pub fn apply_error(e: &crate::apply::ApplyError) -> String {
    use crate::apply::ApplyError;
    let mut out = String::new();
    let _ = writeln!(out, "\nerror: {e}");
    match e {
        ApplyError::Refused { plan } => {
            for f in &plan.refused {
                out.push_str(&finding_text(f));
            }
        }
        ApplyError::PlanChanged { plan, .. } => {
            let _ = writeln!(out, "The plan under the lock:");
            out.push_str(&text(plan, "the database"));
            let _ = writeln!(
                out,
                "Run `reconcile plan` again, review it, and apply with its hash."
            );
        }
        ApplyError::LockTimeout {
            our_pid,
            blockers,
            table,
            error,
            ..
        } => {
            let _ = writeln!(out, "  our session: pid {our_pid}");
            let _ = writeln!(out, "  PostgreSQL: {}", error.message);
            // (With no blocker left, the advice says that the holder has finished.)
            for b in blockers {
                let holds = if b.lock_mode.is_empty() {
                    "waits ahead of us for a lock".to_string()
                } else {
                    format!("holds {}", b.lock_mode)
                };
                let _ = writeln!(
                    out,
                    "  blocked by pid {} (application {:?}, {}, transaction open {:.1}s, {holds}): {}",
                    b.pid,
                    b.application_name,
                    b.state,
                    b.transaction_seconds,
                    b.query.trim()
                );
            }
            let _ = writeln!(
                out,
                "  advice: {}.",
                crate::apply::watch::advice(table, blockers)
            );
        }
        ApplyError::Statement {
            id, origin, error, ..
        } => {
            let _ = writeln!(out, "  step: {id}");
            if let Some(o) = origin {
                let _ = writeln!(out, "  written at: {o}");
            }
            if let Some(sql) = &error.statement {
                let _ = writeln!(out, "  statement: {sql}");
            }
            if let Some(code) = &error.code {
                let _ = writeln!(out, "  sqlstate: {code}");
            }
            if let Some(d) = &error.detail {
                let _ = writeln!(out, "  detail: {d}");
            }
            if let Some(h) = &error.hint {
                let _ = writeln!(out, "  hint: {h}");
            }
            if error.statement.as_deref().is_some_and(|s| {
                s.starts_with("CREATE UNIQUE INDEX CONCURRENTLY")
                    || s.starts_with("CREATE INDEX CONCURRENTLY")
            }) {
                let _ = writeln!(
                    out,
                    "  note: PostgreSQL leaves the index of a failed concurrent build in place, marked invalid: \
                     queries do not use it, writes still maintain it (a unique one already rejects new duplicates). \
                     Fix the cause (for a unique index, the duplicate rows), then run apply --online again: \
                     it drops the invalid index concurrently and builds it again."
                );
            }
        }
        ApplyError::Verification { plan, .. } => {
            out.push_str(&text(plan, "the database (after applying)"));
        }
        ApplyError::Pooled { .. }
        | ApplyError::Stopped { .. }
        | ApplyError::Busy { .. }
        | ApplyError::OnlineUnfinished { .. }
        | ApplyError::TransactionEnded { .. }
        | ApplyError::Other(_) => {}
    }
    out
}

/// The history, newest first: one line per entry (who, which surface, the
/// plan, the files), then its statements, each by its first line or, with
/// `verbose`, whole.
pub fn history(entries: &[crate::catalog::history::Entry], verbose: bool) -> String {
    let mut out = String::new();
    if entries.is_empty() {
        let _ = writeln!(out, "No applied plans recorded yet.");
    }
    for e in entries {
        let _ = writeln!(
            out,
            "#{} {} by {} · plan {} · {} statement(s) · {}ms · {}{} · reconcile {}{} · via {}{}",
            e.id,
            e.applied_at,
            e.applied_by,
            e.plan_hash,
            e.statements.len(),
            e.duration_ms,
            e.mode,
            e.phase.map(|p| format!(" phase {p}")).unwrap_or_default(),
            e.tool_version,
            e.files_hash
                .as_ref()
                .map(|h| format!(" · files {h}"))
                .unwrap_or_default(),
            e.via,
            e.client
                .as_ref()
                .map(|c| format!(" on {c}"))
                .unwrap_or_default()
        );
        for s in &e.statements {
            if verbose {
                // Whole, each ended by `;`.
                let whole = s.trim_end();
                let end = if whole.ends_with(';') { "" } else { ";" };
                for line in format!("{whole}{end}").lines() {
                    let _ = writeln!(out, "    {line}");
                }
            } else {
                let _ = writeln!(out, "    {}", s.lines().next().unwrap_or(""));
            }
        }
    }
    out
}

/// The first line of a plan with no statement: it says what is refused and
/// what is unmanaged, never "matches" above a list of refusals.
fn headline_of_empty(plan: &Plan) -> String {
    match (plan.refused.len(), plan.unmanaged.len()) {
        (0, 0) => "No changes: the database matches the files.".into(),
        (0, u) => format!(
            "No changes to run: the database matches the files, and has {u} object(s) they do not manage (listed below, kept)."
        ),
        (r, _) => format!(
            "Nothing will run: {r} change(s) of the files are refused (listed below)."
        ),
    }
}

/// The prune plan for people: each drop with its lock, and the plan hash.
pub fn prune_text(plan: &Plan, target: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Prune plan against {target}");
    if plan.statements.is_empty() {
        let _ = writeln!(
            out,
            "\n  Nothing to prune: no object that an applied version of the files marked `deprecated`, \
             and that the files no longer have, is left in the database."
        );
        return out;
    }
    let _ = writeln!(out);
    for s in &plan.statements {
        let _ = writeln!(out, "    - {}", s.sql);
        let mut notes = vec![format!("lock {}", s.lock)];
        if s.sql.contains(" CONCURRENTLY ") {
            notes.push("outside a transaction".into());
        }
        let _ = writeln!(out, "      [{}]", notes.join("; "));
        if let Some(w) = &s.warning {
            let _ = writeln!(out, "      ! {w}");
        }
    }
    let _ = writeln!(
        out,
        "\nSummary: {} object(s) to drop\nPlan hash: {}",
        plan.statements.len(),
        plan.plan_hash
    );
    out
}

/// The guard's findings for people.
pub fn check_text(r: &crate::surfaces::check::CheckReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Schema check against {}", r.base);
    if !r.refused.is_empty() {
        let _ = writeln!(out, "\nRefused ({}):", r.refused.len());
        for f in &r.refused {
            out.push_str(&finding_against(f, &r.sides.old));
        }
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(out, "\nWarnings ({}):", r.warnings.len());
        for w in &r.warnings {
            let at = w
                .origin
                .as_ref()
                .map(|o| format!(" ({o})"))
                .unwrap_or_default();
            let _ = writeln!(out, "  {}: {}{at}", w.id, w.message);
        }
    }
    if !r.allowed.is_empty() {
        let _ = writeln!(out, "\nAllowed ({}):", r.allowed.len());
        for a in &r.allowed {
            let _ = writeln!(out, "  + {}", a.id);
        }
    }
    out.push_str(&unmanaged_text(&r.unmanaged));
    if !r.notes.is_empty() {
        let _ = writeln!(out, "\nNotes ({}):", r.notes.len());
        for n in &r.notes {
            let at = n
                .origin
                .as_ref()
                .map(|o| format!("{o}: "))
                .unwrap_or_default();
            let _ = writeln!(out, "  note: {at}{}", n.message);
        }
    }
    if !r.out_of_date.is_empty() {
        let _ = writeln!(out, "\nOut of date ({}):", r.out_of_date.len());
        for o in &r.out_of_date {
            let _ = writeln!(out, "  {}", o.message);
        }
    }
    let _ = writeln!(
        out,
        "\nSummary: {} refused, {} warning(s), {} allowed change(s){}{}",
        r.refused.len(),
        r.warnings.len(),
        r.allowed.len(),
        if r.out_of_date.is_empty() {
            String::new()
        } else {
            format!(", {} generated file(s) out of date", r.out_of_date.len())
        },
        if r.refused.is_empty() {
            ""
        } else {
            ": this change would break running code"
        }
    );
    out
}

/// The guard's findings for tools (stable field names).
pub fn check_json(r: &crate::surfaces::check::CheckReport) -> String {
    let mut v = serde_json::to_value(r).expect("report serializes");
    v["ok"] = serde_json::Value::Bool(r.passed());
    serde_json::to_string_pretty(&v).expect("json")
}

/// GitHub workflow commands, so findings show on the pull request's diff.
pub fn check_github(r: &crate::surfaces::check::CheckReport) -> String {
    let mut out = String::new();
    for f in &r.refused {
        let mut props = gh_location(f.origin.as_ref(), true);
        props.push(format!(
            "title={}",
            gh_property(&format!("{} {}", f.rule, f.rule.title()))
        ));
        let _ = writeln!(
            out,
            "::error {}::{}",
            props.join(","),
            gh_data(&format!("{} Safe path: {}", f.message, f.safe_path))
        );
    }
    for w in &r.warnings {
        let mut props = gh_location(w.origin.as_ref(), false);
        props.push("title=may fail on existing rows".to_string());
        let _ = writeln!(
            out,
            "::warning {}::{}",
            props.join(","),
            gh_data(&format!("{}: {}", w.id, w.message))
        );
    }
    for n in &r.notes {
        let mut props = gh_location(n.origin.as_ref(), false);
        props.push("title=not verified".to_string());
        let _ = writeln!(out, "::notice {}::{}", props.join(","), gh_data(&n.message));
    }
    for o in &r.out_of_date {
        let mut props = vec![format!("file={}", gh_property(&o.file))];
        if o.line > 0 {
            props.push(format!("line={}", o.line));
        }
        props.push("title=generated file out of date".to_string());
        let _ = writeln!(out, "::error {}::{}", props.join(","), gh_data(&o.message));
    }
    let _ = writeln!(
        out,
        "reconcile check: {} refused, {} warning(s), {} allowed change(s){} against {}",
        r.refused.len(),
        r.warnings.len(),
        r.allowed.len(),
        if r.out_of_date.is_empty() {
            String::new()
        } else {
            format!(", {} generated file(s) out of date", r.out_of_date.len())
        },
        r.base
    );
    out
}

/// A workflow command's `file`, `line` (and with `col`, `col`) properties
/// for a location: only `file` for a whole file (line 0), none without one.
pub(crate) fn gh_location(o: Option<&crate::model::Origin>, col: bool) -> Vec<String> {
    let mut props = Vec::new();
    if let Some(o) = o {
        props.push(format!("file={}", gh_property(&o.file)));
        if o.line > 0 {
            props.push(format!("line={}", o.line));
            if col {
                props.push(format!("col={}", o.column));
            }
        }
    }
    props
}

/// Escape a workflow command's message.
pub(crate) fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a workflow command's property value.
pub(crate) fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The objects of the database that the files leave out.
fn unmanaged_text(list: &[crate::model::UnmanagedObject]) -> String {
    let mut out = String::new();
    if !list.is_empty() {
        let _ = writeln!(
            out,
            "\nUnmanaged ({}): in the database, not in the files; kept, never dropped",
            list.len()
        );
        for u in list {
            let _ = writeln!(out, "    {} {}", u.kind, u.name);
        }
    }
    out
}

/// What `dump` wrote, for stdout.
pub fn dump_text(d: &crate::pipeline::Dumped, out: &std::path::Path) -> String {
    let counts: Vec<String> = d
        .counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    format!(
        "Dumped {} to {} ({} files): {}\n",
        d.target,
        out.display(),
        d.files.len(),
        if counts.is_empty() {
            "nothing to declare (a file that says so)".to_string()
        } else {
            counts.join(", ")
        }
    )
}

/// What the format does not express, with a count per kind, for stderr.
pub fn dump_unmanaged(objects: &[crate::model::UnmanagedObject]) -> String {
    if objects.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "Not managed ({}): the format does not express these; they stay in the database and are not in the files\n",
        objects.len()
    );
    for (kind, names) in crate::surfaces::dump::unmanaged_by_kind(objects) {
        const SHOWN: usize = 10;
        let mut line = names
            .iter()
            .take(SHOWN)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        if names.len() > SHOWN {
            line.push_str(&format!(", and {} more", names.len() - SHOWN));
        }
        s.push_str(&format!("  {kind}: {} ({line})\n", names.len()));
    }
    s
}
