//! Let PostgreSQL judge the files' expressions, types and enum literals while
//! planning, so that a plan that exits 0 applies (issue 18).
//!
//! Every desired table with something new or changed gets a temporary probe
//! table of its desired columns (created from the column types, never copied
//! from the live table: no lock at all is taken on an existing table), and each
//! new or changed default, generated column, check, exclusion constraint, index (expressions and
//! `WHERE`) is added to it. New schemas, extensions, enums, enum values,
//! sequences and domains are created first, so that what the same plan creates
//! resolves. All of it runs in one `DO` block inside a savepoint that is rolled
//! back, inside the plan's transaction: each probe in a block of its own that
//! records PostgreSQL's error, and each table's probes in a subtransaction that
//! is rolled back when they are done (its locks and subtransaction ids go with
//! it). A fixed number of round trips whatever the schema size, and none when
//! nothing is new.
//!
//! What PostgreSQL rejects is reported as an invalid schema file
//! ([`crate::Error::Load`], exit 2), at the file, line and column of the
//! object. Errors that are not the files' fault are not reported: a value added
//! to an existing enum by the same plan cannot be used in the transaction that
//! adds it (SQLSTATE 55P04; apply commits it first), and missing privileges,
//! resources or a cancelled statement leave the judgement to apply.

use crate::connect::db::Db;
use crate::desired::load::{Diagnostic, LoadError};
use crate::model::names::{dollar_quote, quote_ident, quote_literal};
use crate::model::{Catalog, Column, Origin, QualName, Table, UserType};
use crate::plan::render::code::{after_relations, query_words, routine_sql, view_sql};
use crate::plan::render::types::{in_order, NewType};
use crate::plan::render::{create_domain, create_sequence, default_sql, index_sql};
use crate::Error;

/// One thing PostgreSQL is asked to accept, and where the files wrote it.
struct Probe {
    origin: Option<Origin>,
    /// What it is, for a person: `the default of column t.status (`abc + 1`)`.
    what: String,
    /// A default's SQL, to suggest quotes when it is a bare identifier.
    default: Option<String>,
    /// An object of the plan that the probes use (an extension, a schema, an
    /// enum, a sequence): an extension the server cannot find (its control
    /// file missing, SQLSTATE 58P01) is the files' fault too.
    setup: bool,
}

/// The `DO` block being written, and the probes it records failures for.
struct Script {
    body: String,
    probes: Vec<Probe>,
}

/// The SQLSTATE a table's block raises to roll its probes back.
const DONE: &str = "RV000";
/// The setting the probes' failures are returned in (a JSON array of text,
/// four items per failure: probe, SQLSTATE, message, hint).
const FAILURES: &str = "reconcile.validate_failures";

impl Script {
    /// Record the probe `k`'s error (inside an exception handler).
    fn record(k: usize) -> String {
        format!(
            "GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT; f := f || ARRAY['{k}', SQLSTATE, SQLERRM, h];"
        )
    }

    fn add_probe(&mut self, probe: Probe) -> usize {
        self.probes.push(probe);
        self.probes.len() - 1
    }

    /// `EXECUTE` of each statement, as a string literal.
    fn executes(statements: &[String]) -> String {
        statements
            .iter()
            .map(|s| format!("EXECUTE {};", quote_literal(s)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The statements in a block of their own; their error is recorded for `probe`.
    fn try_statements(&mut self, statements: &[String], probe: Probe) {
        let k = self.add_probe(probe);
        self.body.push_str(&format!(
            "  BEGIN {} EXCEPTION WHEN OTHERS THEN {} END;\n",
            Self::executes(statements),
            Self::record(k)
        ));
    }
}

/// Ask PostgreSQL to accept every new or changed expression, type and enum
/// literal of `desired` (against `live`), inside the caller's transaction,
/// changing nothing (see the module's documentation).
///
/// Errors: [`Error::Load`] with one diagnostic per rejected object (file, line
/// and column, the object, PostgreSQL's message); [`Error::Sql`] when the
/// savepoint cannot be rolled back. When the probes cannot run at all (no
/// TEMP privilege, a read-only replica, an object of the plan that cannot be
/// created here), nothing is checked and `Ok` is returned, as
/// [`crate::plan::canon::canonicalize`] does.
pub async fn validate(db: &Db, desired: &Catalog, live: &Catalog) -> Result<(), Error> {
    let t = std::time::Instant::now();
    let result = judge(db, desired, live).await;
    crate::trace::trace("validate", t);
    result
}

async fn judge(db: &Db, desired: &Catalog, live: &Catalog) -> Result<(), Error> {
    let mut s = Script {
        body: String::new(),
        probes: Vec::new(),
    };
    let new = new_names(desired, live);
    setup(&mut s, desired, live, &new);
    for t in desired.tables.values() {
        probe_table(&mut s, t, live.tables.get(&t.name), &new);
    }
    probe_views(&mut s, desired, live, &new);
    if s.probes.is_empty() {
        return Ok(());
    }
    // The failures leave the block in a setting local to the transaction
    // (rolled back with the savepoint), not in a temporary table: a temporary
    // table made before the block makes each probe's subtransaction abort
    // several times slower (3.3x at 1,000 tables).
    let script = format!(
        "SAVEPOINT reconcile_validate;\nDO {};",
        dollar_quote(
            &format!(
                "\nDECLARE\n  f text[] := '{{}}';\n  h text;\nBEGIN\n{}\
                 PERFORM pg_catalog.set_config('{FAILURES}', pg_catalog.array_to_json(f)::text, true);\nEND\n",
                s.body
            ),
            "reconcile_validate"
        )
    );
    let rollback = "ROLLBACK TO SAVEPOINT reconcile_validate; RELEASE SAVEPOINT reconcile_validate";
    let read = format!(
        "SELECT (x.f ->> i)::int AS probe, x.f ->> (i + 1), x.f ->> (i + 2), x.f ->> (i + 3) \
         FROM (SELECT pg_catalog.current_setting('{FAILURES}', true)::json AS f) x, \
              pg_catalog.generate_series(0, pg_catalog.json_array_length(x.f) - 1, 4) AS i ORDER BY 1"
    );
    // The probes, the read and the rollback in one round trip (requests
    // issued together are pipelined); when the probes could not be made, the
    // read fails too (25P02) and the rollback undoes both.
    let (made, rows, undone) =
        futures_util::future::join3(db.execute(&script), db.simple(&read), db.execute(rollback))
            .await;
    undone?;
    if made.is_err() {
        // No temporary tables here, or an object of the plan cannot be
        // created in this session: apply judges.
        return Ok(());
    }
    let rows = rows?;
    let mut diagnostics = Vec::new();
    for row in rows {
        let [Some(k), Some(code), Some(message), hint] = row.as_slice() else {
            continue;
        };
        let Some(probe) = k.parse::<usize>().ok().and_then(|k| s.probes.get(k)) else {
            continue;
        };
        let missing_extension = probe.setup && code == "58P01";
        // Another session made it after this plan's snapshot (two deploys at
        // once): it exists, which is all the probes need.
        let made_meanwhile =
            probe.setup && ["23505", "42710", "42P06", "42P07"].contains(&code.as_str());
        if made_meanwhile || !(is_the_files_fault(code) || missing_extension) {
            continue;
        }
        diagnostics.push(diagnostic(probe, code, message, hint.as_deref()));
    }
    if diagnostics.is_empty() {
        Ok(())
    } else {
        Err(Error::Load(LoadError(diagnostics)))
    }
}

/// Whether an error of a probe says the files are wrong. Not: a value added to
/// an existing enum by the plan, used in the same transaction (55P04: apply
/// commits it first); a lock not available or an object in use (55P03, 55006);
/// missing privileges (42501: the planning role may not be the applying one);
/// a serialization failure or deadlock (class 40); resources, cancellation,
/// the system (classes 53, 57, 58, XX).
fn is_the_files_fault(code: &str) -> bool {
    !(["55P04", "55P03", "55006", "42501"].contains(&code)
        || ["40", "53", "57", "58", "XX"]
            .iter()
            .any(|c| code.starts_with(c)))
}

fn diagnostic(probe: &Probe, code: &str, message: &str, hint: Option<&str>) -> Diagnostic {
    let mut text = format!(
        "{}: PostgreSQL rejects it: {message} (SQLSTATE {code})",
        probe.what
    );
    if let Some(h) = hint.filter(|h| !h.is_empty()) {
        text.push_str(&format!("; hint: {h}"));
    }
    if let Some(d) = &probe.default {
        if let Ok(sqlparser::ast::Expr::Identifier(id)) = crate::desired::expr::parse_one(d) {
            text.push_str(&format!(
                "; `{d}` is a name, not a string: a string takes single quotes, `{}`",
                crate::model::names::printed_literal(&id.value)
            ));
        }
    }
    match &probe.origin {
        Some(o) => Diagnostic {
            file: o.file.to_string(),
            line: o.line,
            column: o.column,
            message: text,
        },
        None => Diagnostic {
            file: "(schema files)".into(),
            line: 0,
            column: 0,
            message: text,
        },
    }
}

/// The objects of the plan that the probes may use: new schemas, extensions,
/// enums, enum values, sequences and domains, each in a block of its own, so
/// that one the server rejects (an extension it does not have) is reported
/// where the files declare it while the others are still made. A domain's
/// default and checks are probes: when PostgreSQL rejects them, the bare
/// domain is created so that its columns still resolve.
fn setup(
    s: &mut Script,
    desired: &Catalog,
    live: &Catalog,
    new_names: &std::collections::HashSet<String>,
) {
    let mut plain = Vec::new();
    for schema in desired.schemas.difference(&live.schemas) {
        plain.push((
            format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema)),
            None,
            format!("schema {schema}"),
        ));
    }
    for e in desired.extensions.values() {
        if !live.extensions.contains_key(&e.name) {
            plain.push((
                format!(
                    "CREATE EXTENSION IF NOT EXISTS {}{}",
                    quote_ident(&e.name),
                    e.schema
                        .as_ref()
                        .map(|s| format!(" WITH SCHEMA {}", quote_ident(s)))
                        .unwrap_or_default()
                ),
                e.origin.clone(),
                format!("extension {}", e.name),
            ));
        }
    }
    for en in desired.enums.values() {
        match live.enums.get(&en.name) {
            None => {
                let values: Vec<String> = en.values.iter().map(|v| quote_literal(v)).collect();
                plain.push((
                    format!(
                        "CREATE TYPE {} AS ENUM ({})",
                        en.name.sql(),
                        values.join(", ")
                    ),
                    en.origin.clone(),
                    format!("enum {}", en.name),
                ));
            }
            Some(l) => {
                for v in en.values.iter().filter(|v| !l.values.contains(v)) {
                    plain.push((
                        format!(
                            "ALTER TYPE {} ADD VALUE IF NOT EXISTS {}",
                            en.name.sql(),
                            quote_literal(v)
                        ),
                        en.origin.clone(),
                        format!("value `{v}` of enum {}", en.name),
                    ));
                }
            }
        }
    }
    for q in desired.sequences.values() {
        if !live.sequences.contains_key(&q.name) {
            plain.push((
                create_sequence(q),
                q.origin.clone(),
                format!("sequence {}", q.name),
            ));
        }
    }
    // Each in a block of its own: one that fails is reported where the files
    // declare it, and the others are still made for the probes.
    for (sql, origin, what) in plain {
        s.try_statements(
            &[sql],
            Probe {
                origin,
                what,
                default: None,
                setup: true,
            },
        );
    }
    // Collations and text search configurations, domains, composite and range types, each after the types it uses. A
    // range is made without the canonical or subtype_diff function that the
    // plan creates (apply creates the function first), so that its columns
    // resolve.
    let new_routine = |f: &Option<crate::model::ObjName>| {
        f.as_ref().is_some_and(|f| {
            let name = crate::model::QualName::new(
                f.schema.as_deref().unwrap_or("public"),
                f.name.clone(),
            );
            !live.routines.keys().any(|id| id.name == name)
        })
    };
    let user: Vec<UserType> = desired
        .collations
        .values()
        .filter(|c| !live.collations.contains_key(&c.name))
        .map(|c| UserType::Collation(Box::new(c.clone())))
        .chain(
            desired
                .ts_configs
                .values()
                .filter(|c| !live.ts_configs.contains_key(&c.name))
                .map(|c| UserType::TsConfig(Box::new(c.clone()))),
        )
        .chain(
            desired
                .composite_types
                .values()
                .filter(|c| !live.composite_types.contains_key(&c.name))
                .map(|c| UserType::Composite(c.clone())),
        )
        .chain(
            desired
                .range_types
                .values()
                .filter(|r| !live.range_types.contains_key(&r.name))
                .map(|r| {
                    let mut r = r.clone();
                    if new_routine(&r.canonical) {
                        r.canonical = None;
                    }
                    if new_routine(&r.subtype_diff) {
                        r.subtype_diff = None;
                    }
                    UserType::Range(Box::new(r))
                }),
        )
        .collect();
    // Collations first: domains, attributes and ranges use them.
    let (collations, types): (Vec<&UserType>, Vec<&UserType>) = user
        .iter()
        .partition(|u| matches!(u, UserType::Collation(_) | UserType::TsConfig(_)));
    let pending: Vec<NewType> = collations
        .into_iter()
        .map(NewType::User)
        .chain(
            desired
                .domains
                .values()
                .filter(|d| !live.domains.contains_key(&d.name))
                .map(NewType::Domain),
        )
        .chain(types.into_iter().map(NewType::User))
        .collect();
    for t in in_order(pending) {
        let d = match t {
            NewType::Domain(d) => d,
            NewType::User(u) => {
                s.try_statements(
                    &u.create_statements(true),
                    Probe {
                        origin: u.origin().clone(),
                        what: format!("{} {}", u.kind(), u.name()),
                        default: None,
                        setup: false,
                    },
                );
                continue;
            }
        };
        let k = s.add_probe(Probe {
            origin: d.origin.clone(),
            what: format!("domain {}", d.name),
            default: None,
            setup: false,
        });
        let bare = format!("CREATE DOMAIN {} AS {}", d.name.sql(), d.ty);
        s.body.push_str(&format!(
            "  BEGIN {} EXCEPTION WHEN OTHERS THEN {} BEGIN {} EXCEPTION WHEN OTHERS THEN NULL; END; END;\n",
            Script::executes(&[create_domain(d)]),
            Script::record(k),
            Script::executes(&[bare])
        ));
    }
    // Attributes added to existing composite types (rolled back with the rest).
    for c in desired.composite_types.values() {
        let Some(l) = live.composite_types.get(&c.name) else {
            continue;
        };
        let n = l.attributes.len();
        if c.attributes.len() > n && c.attributes[..n] == l.attributes[..] {
            s.try_statements(
                &[c.add_attributes_sql(&c.attributes[n..])],
                Probe {
                    origin: c.origin.clone(),
                    what: format!("the attributes added to composite type {}", c.name),
                    default: None,
                    setup: false,
                },
            );
        }
    }
    // New and replaced routines, under their own names (the savepoint takes
    // them back), so that the expressions below may call them. A routine whose
    // signature changes is refused (R007), not probed.
    // (One whose signature names a table or view of the plan, as a row type,
    // is left to apply, which creates it after them.)
    let new_relations: std::collections::HashSet<String> = desired
        .tables
        .keys()
        .filter(|n| !live.tables.contains_key(*n))
        .chain(
            desired
                .views
                .keys()
                .filter(|n| !live.views.contains_key(*n)),
        )
        .map(|n| n.name.clone())
        .collect();
    for r in desired.routines.values() {
        let body_names_new = query_words(&r.body).iter().any(|w| new_names.contains(w));
        if live
            .routines
            .get(&r.id)
            .is_some_and(|l| l.signature() != r.signature() || l.definition() == r.definition())
            || after_relations(r, &new_relations)
            // A SQL-standard body is resolved as it is created: one that names
            // anything the plan creates is left to apply.
            || (r.sql_body && body_names_new)
        {
            continue;
        }
        // The body is checked too (its syntax; for SQL, the names it uses)
        // unless it names something this plan creates.
        let check = matches!(r.language.as_str(), "sql" | "plpgsql") && !body_names_new;
        let mut statements = vec![routine_sql(r, &r.id.name.sql(), true)];
        if check {
            statements.insert(0, "SET LOCAL check_function_bodies = on".into());
            statements.push("SET LOCAL check_function_bodies = off".into());
        }
        s.try_statements(
            &statements,
            Probe {
                origin: r.origin.clone(),
                what: format!("{} {}", r.kind(), r.id),
                default: None,
                setup: false,
            },
        );
    }
}

/// The probes of one table, in a block rolled back at its end; nothing when
/// the table exists and nothing of it is new or changed.
fn probe_table(
    s: &mut Script,
    t: &Table,
    live: Option<&Table>,
    new: &std::collections::HashSet<String>,
) {
    let table = &t.name;
    let probe_table = format!("pg_temp.{}", quote_ident(&table.name));
    let mut probes: Vec<(Vec<String>, Probe)> = Vec::new();
    let mut new_column = false;
    let at = |o: &Option<Origin>| o.clone().or_else(|| t.origin.clone());
    for c in &t.columns {
        let lc = live.and_then(|l| l.column(&c.name));
        new_column |= live.is_some() && lc.is_none();
        if let Some(g) = &c.generated {
            if lc.is_none_or(|lc| lc.generated.as_ref().is_none_or(|lg| lg.key != g.key)) {
                probes.push((
                    vec![
                        format!(
                            "ALTER TABLE {probe_table} DROP COLUMN {}",
                            quote_ident(&c.name)
                        ),
                        format!(
                            "ALTER TABLE {probe_table} ADD COLUMN {} {} GENERATED ALWAYS AS ({}) STORED",
                            quote_ident(&c.name),
                            c.type_sql(),
                            g.sql
                        ),
                    ],
                    Probe {
                        origin: at(&c.origin),
                        what: format!(
                            "the generated column {table}.{} (`{}`)",
                            c.name, g.sql
                        ),
                        default: None,
                        setup: false,
                    },
                ));
            }
        }
    }
    for c in &t.columns {
        let Some(d) = &c.default else { continue };
        if c.generated.is_some() || c.identity.is_some() || c.serial.is_some() {
            continue;
        }
        let lc = live.and_then(|l| l.column(&c.name));
        if lc.is_some_and(|lc| lc.default.as_ref().is_some_and(|ld| ld.key == d.key)) {
            continue;
        }
        probes.push((
            vec![format!(
                "ALTER TABLE {probe_table} ALTER COLUMN {} SET DEFAULT {}",
                quote_ident(&c.name),
                default_sql(d)
            )],
            Probe {
                origin: at(&c.origin),
                what: format!("the default of column {table}.{} (`{}`)", c.name, d.sql),
                default: Some(d.sql.clone()),
                setup: false,
            },
        ));
    }
    for c in &t.checks {
        let same = live
            .and_then(|l| l.checks.iter().find(|x| x.name == c.name))
            .is_some_and(|l| l.expr.key == c.expr.key);
        if same {
            continue;
        }
        let k = probes.len();
        probes.push((
            vec![format!(
                "ALTER TABLE {probe_table} ADD CONSTRAINT reconcile_validate_chk_{k} {}",
                c.definition(false)
            )],
            Probe {
                origin: at(&c.origin),
                what: format!("the check {} of {table} (`{}`)", c.name, c.expr.sql),
                default: None,
                setup: false,
            },
        ));
    }
    for x in &t.exclusions {
        let same = live
            .and_then(|l| l.exclusions.iter().find(|lx| lx.name == x.name))
            .is_some_and(|l| l.key == x.key);
        if same {
            continue;
        }
        let k = probes.len();
        probes.push((
            vec![format!(
                "ALTER TABLE {probe_table} ADD CONSTRAINT reconcile_validate_excl_{k} {}",
                x.definition()
            )],
            Probe {
                origin: at(&x.origin),
                what: format!(
                    "the exclusion constraint {} of {table} (`{}`)",
                    x.name,
                    x.definition()
                ),
                default: None,
                setup: false,
            },
        ));
    }
    for i in &t.indexes {
        let same = live
            .and_then(|l| l.indexes.iter().find(|x| x.name == i.name))
            .is_some_and(|l| l.compare_key() == i.compare_key());
        if same {
            continue;
        }
        let k = probes.len();
        probes.push((
            vec![index_sql(
                &format!("reconcile_validate_idx_{k}"),
                &probe_table,
                i,
            )],
            Probe {
                origin: at(&i.origin),
                what: format!("the index {} of {table} (`{}`)", i.name, i.body(false)),
                default: None,
                setup: false,
            },
        ));
    }
    // New and changed policies, on the probe table: a role that does not
    // exist, a column or function their expressions name that does not, is
    // the files' fault. One that names anything the plan creates is left to
    // apply (the other tables of the plan are not here).
    for p in &t.policies {
        let same = live
            .and_then(|l| l.policies.iter().find(|x| x.name == p.name))
            .is_some_and(|l| l.same_rule(p));
        let names_new = [&p.using, &p.with_check]
            .into_iter()
            .flatten()
            .any(|e| query_words(&e.sql).iter().any(|w| new.contains(w)));
        if same || names_new {
            continue;
        }
        probes.push((
            vec![p.create_sql(&QualName::new("pg_temp", table.name.clone()), false)],
            Probe {
                origin: at(&p.origin),
                what: format!("the policy {} of {table}", p.name),
                default: None,
                setup: false,
            },
        ));
    }
    if probes.is_empty() && !new_column && live.is_some() {
        return;
    }
    let columns = |c: &Column| format!("{} {}", quote_ident(&c.name), c.type_sql());
    // Columns of the live table that the files do not have stay (kept,
    // unmanaged): the files' expressions may use them.
    let kept: Vec<&Column> = live.map_or(Vec::new(), |l| {
        l.columns
            .iter()
            .filter(|lc| t.column(&lc.name).is_none())
            .collect()
    });
    let all: Vec<String> = t
        .columns
        .iter()
        .chain(kept.iter().copied())
        .map(columns)
        .collect();
    let table_probe = s.add_probe(Probe {
        origin: t.origin.clone(),
        what: format!("table {table}"),
        default: None,
        setup: false,
    });
    s.body.push_str(&format!(
        "  BEGIN\n  BEGIN {} EXCEPTION WHEN OTHERS THEN {}\n",
        Script::executes(&[format!(
            "CREATE TEMP TABLE {} ({})",
            quote_ident(&table.name),
            all.join(", ")
        )]),
        Script::executes(&[format!("CREATE TEMP TABLE {} ()", quote_ident(&table.name))]),
    ));
    // Column by column, to name the column whose type PostgreSQL rejects.
    for c in &t.columns {
        s.try_statements(
            &[format!(
                "ALTER TABLE {probe_table} ADD COLUMN {}",
                columns(c)
            )],
            Probe {
                origin: at(&c.origin),
                what: format!("the type of column {table}.{} (`{}`)", c.name, c.type_sql()),
                default: None,
                setup: false,
            },
        );
    }
    for c in &kept {
        s.body.push_str(&format!(
            "  BEGIN {} EXCEPTION WHEN OTHERS THEN NULL; END;\n",
            Script::executes(&[format!(
                "ALTER TABLE {probe_table} ADD COLUMN {}",
                columns(c)
            )])
        ));
    }
    s.body.push_str("  END;\n");
    for (statements, probe) in probes {
        s.try_statements(&statements, probe);
    }
    s.body.push_str(&format!(
        "  RAISE SQLSTATE '{DONE}';\n  EXCEPTION WHEN SQLSTATE '{DONE}' THEN NULL; WHEN OTHERS THEN {}\n  END;\n",
        Script::record(table_probe)
    ));
}

/// The names of what the plan creates: tables, views and routines, and
/// columns of existing tables. SQL of the files that names one of them (by a
/// word of it) cannot be judged before apply creates it.
fn new_names(desired: &Catalog, live: &Catalog) -> std::collections::HashSet<String> {
    let mut new: std::collections::HashSet<String> = std::collections::HashSet::new();
    for (n, t) in &desired.tables {
        match live.tables.get(n) {
            None => {
                new.insert(n.name.clone());
            }
            Some(l) => {
                for c in t.columns.iter().filter(|c| l.column(&c.name).is_none()) {
                    new.insert(c.name.clone());
                }
            }
        }
    }
    for n in desired
        .views
        .keys()
        .filter(|n| !live.views.contains_key(*n))
    {
        new.insert(n.name.clone());
    }
    for id in desired
        .routines
        .keys()
        .filter(|id| !live.routines.contains_key(*id))
    {
        new.insert(id.name.name.clone());
    }
    new
}

/// New and changed views' queries, each on a temporary view of its own (a
/// materialized view's too: the query is what is judged), so that a query
/// PostgreSQL rejects is the files' fault at plan time. A query that names
/// anything this plan creates (a table, a view, a function, a column), by a
/// word of it, is left to apply: the objects it needs do not exist here.
fn probe_views(
    s: &mut Script,
    desired: &Catalog,
    live: &Catalog,
    new: &std::collections::HashSet<String>,
) {
    for (k, v) in desired.views.values().enumerate() {
        if live
            .views
            .get(&v.name)
            .is_some_and(|l| l.definition_key() == v.definition_key())
        {
            continue;
        }
        if query_words(&v.query).iter().any(|w| new.contains(w)) {
            continue;
        }
        s.try_statements(
            &[view_sql(
                &v.as_probe(),
                &format!("pg_temp.reconcile_validate_view_{k}"),
                false,
            )],
            Probe {
                origin: v.origin.clone(),
                what: format!("the query of {} {}", v.kind(), v.name),
                default: None,
                setup: false,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_errors_about_the_files_are_reported() {
        for code in ["42703", "0A000", "22P02", "42P17", "42883", "42704"] {
            assert!(is_the_files_fault(code), "{code}");
        }
        for code in [
            "55P04", "55P03", "42501", "40001", "40P01", "53200", "57014", "XX000",
        ] {
            assert!(!is_the_files_fault(code), "{code}");
        }
    }

    #[test]
    fn a_quoted_name_as_a_default_suggests_a_string() {
        let probe = Probe {
            origin: None,
            what: "the default of column t.s (`\"pending\"`)".into(),
            default: Some("\"pending\"".into()),
            setup: false,
        };
        let d = diagnostic(
            &probe,
            "0A000",
            "cannot use column reference in DEFAULT expression",
            None,
        );
        assert_eq!(d.line, 0);
        assert!(
            d.message
                .ends_with("a string takes single quotes, `'pending'`"),
            "{}",
            d.message
        );
    }
}
