//! The only code that writes DDL: allowed changes in, statements out, in
//! dependency order (schemas, extensions, enums, tables, columns, constraints,
//! foreign keys after their targets, indexes). Identifiers go through `quote_ident`.

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;

use crate::model::names::{quote_ident, quote_literal};
use crate::model::{
    Column, Domain, ForeignKey, Index, Origin, QualName, Sequence, Table, TableStats,
};
use crate::plan::diff::{Change, CommentTarget, Constraint};

pub mod code;
mod grants;
mod partition;
mod policy;
mod tsconfig;
pub(crate) mod types;

/// One statement of a plan, with what it costs a busy table.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Statement {
    /// Step id: `create-table:appointments`, `add-column:appointments.notes`, ...
    pub id: String,
    pub sql: String,
    /// The table it belongs to, for grouping (`appointments`, `auth.users`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// The strongest table lock it takes.
    pub lock: &'static str,
    /// What it does to a busy table, when it does something.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hazard: Option<String>,
    /// A warning for a person (a constraint that may fail on existing rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// Estimated rows and size of the table it touches, when the table exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_rows: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_bytes: Option<i64>,
    /// How `apply --online` runs it, when not as it is in its first phase:
    /// `[{phase: 2, sql: "CREATE INDEX CONCURRENTLY ..."}]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub online: Vec<OnlineStep>,
    /// An enum value that another statement of the plan uses: added and
    /// committed in a transaction of its own first (PostgreSQL refuses a value
    /// added in the same transaction, SQLSTATE 55P04).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub commit_first: bool,
    /// On a partitioned table: no online forms (see `TableStats::partitioned`).
    #[serde(skip)]
    pub partitioned: bool,
    /// Where the files wrote the object it comes from (file, line, column),
    /// when it comes from one: apply names it when the statement fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// One statement of the online form of a planned statement.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OnlineStep {
    /// 1: in the quick transaction; 2: outside a transaction (CONCURRENTLY);
    /// 3: in a transaction of its own (validation).
    pub phase: u8,
    pub id: String,
    pub sql: String,
    pub lock: &'static str,
    /// The index a `CREATE INDEX CONCURRENTLY` builds: a build that fails
    /// leaves it invalid, and a retry drops it first.
    #[serde(skip)]
    pub builds_index: Option<QualName>,
}

impl Statement {
    fn new(id: String, sql: String, table: Option<&QualName>, lock: &'static str) -> Self {
        Statement {
            id,
            sql,
            table: table.map(|t| t.to_string()),
            lock,
            hazard: None,
            warning: None,
            table_rows: None,
            table_bytes: None,
            online: Vec::new(),
            commit_first: false,
            partitioned: false,
            origin: None,
        }
    }
    /// The object of the files it comes from.
    fn from(mut self, origin: &Option<Origin>) -> Self {
        self.origin.clone_from(origin);
        self
    }
    fn online(mut self, phase: u8, id: String, sql: String, lock: &'static str) -> Self {
        if self.partitioned {
            return self;
        }
        self.online.push(OnlineStep {
            phase,
            id,
            sql,
            lock,
            builds_index: None,
        });
        self
    }
    /// Marks the last online step as building `index` (schema-qualified).
    fn building(mut self, table: &QualName, index: &str) -> Self {
        if let Some(o) = self.online.last_mut() {
            o.builds_index = Some(QualName::new(table.schema.clone(), index));
        }
        self
    }
    fn hazard(mut self, h: Option<&str>) -> Self {
        self.hazard = h.map(str::to_string);
        self
    }
    fn warning(mut self, w: &str) -> Self {
        self.warning = Some(w.to_string());
        self
    }
    fn stats(mut self, s: &Option<TableStats>) -> Self {
        if let Some(s) = s {
            self.partitioned = s.partitioned;
            self.table_rows = (s.rows >= 0.0).then_some(s.rows as i64);
            self.table_bytes = (s.bytes >= 0).then_some(s.bytes);
        }
        self
    }
}

pub const MAY_FAIL: &str = "may fail on existing rows";
/// Adding an exclusion constraint to an existing table: no NOT VALID form,
/// no concurrent build.
pub const EXCLUSION_HAZARD: &str =
    "blocks reads and writes while it builds its index and checks every row (no online form)";

/// Render the allowed changes, in dependency order.
pub fn render(changes: &[&Change]) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut late_fks = Vec::new();
    // Comments on constraints: last, when every constraint exists (online,
    // after phase 3, where a unique constraint is attached).
    let mut late_comments = Vec::new();
    // The literals of enum values added to existing types, as statements quote them.
    let mut added_values = Vec::new();

    for c in changes {
        if let Change::CreateSchema { name } = c {
            out.push(Statement::new(
                format!("create-schema:{name}"),
                format!("CREATE SCHEMA {}", quote_ident(name)),
                None,
                "none",
            ));
        }
    }
    for c in changes {
        if let Change::CreateExtension { name, schema } = c {
            out.push(Statement::new(
                format!("create-extension:{name}"),
                format!(
                    "CREATE EXTENSION IF NOT EXISTS {}{}",
                    quote_ident(name),
                    schema
                        .as_ref()
                        .map(|s| format!(" WITH SCHEMA {}", quote_ident(s)))
                        .unwrap_or_default()
                ),
                None,
                "none",
            ));
        }
    }
    for c in changes {
        match c {
            Change::CreateEnum { en } => {
                let values: Vec<String> = en.values.iter().map(|v| quote_literal(v)).collect();
                out.push(
                    Statement::new(
                        format!("create-enum:{}", en.name),
                        format!(
                            "CREATE TYPE {} AS ENUM ({})",
                            en.name.sql(),
                            values.join(", ")
                        ),
                        None,
                        "none",
                    )
                    .from(&en.origin),
                );
                if let Some(cm) = &en.comment {
                    out.push(comment_stmt(&CommentTarget::Enum(en.name.clone()), cm));
                }
            }
            Change::AddEnumValue {
                name,
                value,
                after,
                before,
            } => {
                let pos = match (after, before) {
                    (Some(a), _) => format!(" AFTER {}", quote_literal(a)),
                    (None, Some(b)) => format!(" BEFORE {}", quote_literal(b)),
                    _ => String::new(),
                };
                added_values.push(quote_literal(value));
                out.push(Statement::new(
                    format!("add-enum-value:{name}.{value}"),
                    format!(
                        "ALTER TYPE {} ADD VALUE {}{pos}",
                        name.sql(),
                        quote_literal(value)
                    ),
                    None,
                    "none",
                ));
            }
            _ => {}
        }
    }

    // Domains, composite and range types, each after the types it uses.
    types::render_types(changes, &mut out, false);
    for c in changes {
        if let Change::CreateSequence { sequence } = c {
            out.push(
                Statement::new(
                    format!("create-sequence:{}", sequence.name),
                    create_sequence(sequence),
                    None,
                    "none",
                )
                .from(&sequence.origin),
            );
            if let Some(cm) = &sequence.comment {
                out.push(comment_stmt(
                    &CommentTarget::Sequence(sequence.name.clone()),
                    cm,
                ));
            }
        }
    }

    // Routines before the tables, whose defaults, checks and indexes may call them.
    code::render_routines(changes, &mut out, false);
    // Ranges whose canonical or subtype_diff function the plan creates.
    types::render_types(changes, &mut out, true);
    // New tables, each after the tables its foreign keys point to.
    let new_tables: Vec<&Table> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateTable { table } => Some(table),
            _ => None,
        })
        .collect();
    let new_names: HashSet<&QualName> = new_tables.iter().map(|t| &t.name).collect();
    let mut created: BTreeSet<QualName> = BTreeSet::new();
    for t in order_by_references(&new_tables) {
        let (stmt, deferred, apart) = create_table(t, &new_names, &created);
        out.push(stmt.from(&t.origin));
        for c in apart {
            let mut sql = add_constraint_sql(&t.name, &c);
            if !c.validated() {
                sql.push_str(" NOT VALID");
            }
            out.push(
                Statement::new(
                    format!("add-constraint:{}.{}", t.name, c.name()),
                    sql,
                    Some(&t.name),
                    "ACCESS EXCLUSIVE",
                )
                .from(&c.origin().cloned()),
            );
        }
        out.extend(row_security(
            &t.name,
            t.row_level_security.filter(|e| *e),
            t.force_row_level_security.filter(|f| *f),
        ));
        created.insert(t.name.clone());
        late_fks.extend(deferred.into_iter().map(|fk| (t.name.clone(), fk, None)));
        for i in &t.indexes {
            out.push(create_index(&t.name, i, &None, false).from(&i.origin));
            if let Some(cm) = &i.comment {
                out.push(comment_stmt(
                    &CommentTarget::Index(t.name.clone(), i.name.clone()),
                    cm,
                ));
            }
        }
        if let Some(cm) = &t.comment {
            out.push(comment_stmt(&CommentTarget::Table(t.name.clone()), cm));
        }
        for col in &t.columns {
            if let Some(cm) = &col.comment {
                out.push(comment_stmt(
                    &CommentTarget::Column(t.name.clone(), col.name.clone()),
                    cm,
                ));
            }
        }
        // Once every constraint of the table exists (some come last).
        late_comments.extend(t.constraint_comments.iter().map(|(name, cm)| {
            comment_stmt(&CommentTarget::Constraint(t.name.clone(), name.clone()), cm)
        }));
    }

    // Partitions, once their parents exist.
    partition::render_partitions(changes, &mut out);

    // Existing tables: columns, defaults, nullability, constraints, indexes, comments.
    for c in changes {
        match c {
            Change::AddColumn {
                table,
                column,
                stats,
            } => {
                let hazard = add_column_hazard(column);
                out.push(
                    Statement::new(
                        format!("add-column:{table}.{}", column.name),
                        format!(
                            "ALTER TABLE {} ADD COLUMN {}",
                            table.sql(),
                            column_def(column)
                        ),
                        Some(table),
                        "ACCESS EXCLUSIVE",
                    )
                    .hazard(hazard)
                    .stats(stats)
                    .from(&column.origin),
                );
                if let Some(cm) = &column.comment {
                    out.push(comment_stmt(
                        &CommentTarget::Column(table.clone(), column.name.clone()),
                        cm,
                    ));
                }
            }
            Change::SetDefault { table, column, .. } => {
                let d = column.default.as_ref().expect("SetDefault has a default");
                out.push(
                    Statement::new(
                        format!("set-default:{table}.{}", column.name),
                        format!(
                            "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}",
                            table.sql(),
                            quote_ident(&column.name),
                            d.sql
                        ),
                        Some(table),
                        "ACCESS EXCLUSIVE",
                    )
                    .from(&column.origin),
                );
            }
            Change::MakeSerial { table, column } => {
                let seq = &column
                    .serial
                    .as_ref()
                    .expect("MakeSerial is serial")
                    .sequence;
                let col = quote_ident(&column.name);
                out.push(Statement::new(
                    format!("create-sequence:{seq}"),
                    format!(
                        "CREATE SEQUENCE {} AS {} OWNED BY {}.{col}",
                        seq.sql(),
                        column.ty,
                        table.sql()
                    ),
                    None,
                    "none",
                ));
                out.push(Statement::new(
                    format!("set-default:{table}.{}", column.name),
                    format!(
                        "ALTER TABLE {} ALTER COLUMN {col} SET DEFAULT {}",
                        table.sql(),
                        crate::model::Serial::default_sql(seq)
                    ),
                    Some(table),
                    "ACCESS EXCLUSIVE",
                ));
                // Past the largest value already there (the table is locked
                // by the statement above until the end of the transaction).
                out.push(Statement::new(
                    format!("sequence-setval:{seq}"),
                    format!(
                        "SELECT pg_catalog.setval({}, greatest(coalesce(max({col}), 0) + 1, 1), false) FROM {}",
                        quote_literal(&seq.sql()),
                        table.sql()
                    ),
                    Some(table),
                    "ACCESS SHARE",
                ));
            }
            Change::DropNotNull { table, column } => out.push(
                Statement::new(
                    format!("drop-not-null:{table}.{}", column.name),
                    format!(
                        "ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL",
                        table.sql(),
                        quote_ident(&column.name)
                    ),
                    Some(table),
                    "ACCESS EXCLUSIVE",
                )
                .from(&column.origin),
            ),
            _ => {}
        }
    }
    // Indexes left invalid by a failed concurrent build go before they are built again.
    for c in changes {
        if let Change::DropInvalidIndex { table, name, stats } = c {
            let index = QualName::new(table.schema.clone(), name.clone());
            out.push(
                Statement::new(
                    format!("drop-invalid-index:{}", index_id(table, name)),
                    format!("DROP INDEX {}", index.sql()),
                    Some(table),
                    "ACCESS EXCLUSIVE",
                )
                .stats(stats)
                .online(
                    2,
                    format!("drop-invalid-index:{}", index_id(table, name)),
                    format!("DROP INDEX CONCURRENTLY IF EXISTS {}", index.sql()),
                    "SHARE UPDATE EXCLUSIVE",
                ),
            );
        }
    }
    for c in changes {
        if let Change::AttachUniqueIndex { table, key } = c {
            out.push(
                Statement::new(
                    format!("add-constraint:{table}.{}", key.name),
                    attach_unique_sql(table, key),
                    Some(table),
                    "ACCESS EXCLUSIVE",
                )
                .from(&key.origin),
            );
        }
    }
    for c in changes {
        match c {
            Change::AddConstraint {
                table,
                constraint: Constraint::ForeignKey(fk),
                stats,
            } => {
                late_fks.push((table.clone(), fk.clone(), Some(stats.clone())));
            }
            Change::AddConstraint {
                table,
                constraint,
                stats,
            } => {
                let id = format!("add-constraint:{table}.{}", constraint.name());
                let sql = add_constraint_sql(table, constraint);
                let s = match constraint {
                    // The files want it to check new rows only.
                    _ if !constraint.validated() => {
                        out.push(
                            Statement::new(
                                id,
                                format!("{sql} NOT VALID"),
                                Some(table),
                                "ACCESS EXCLUSIVE",
                            )
                            .stats(stats)
                            .from(&constraint.origin().cloned()),
                        );
                        continue;
                    }
                    // Online: the index is built concurrently, then attached.
                    Constraint::Unique(k) => {
                        Statement::new(id.clone(), sql, Some(table), "ACCESS EXCLUSIVE")
                            .hazard(Some("blocks writes while it builds"))
                            .stats(stats)
                            .online(
                                2,
                                format!("create-index:{}", index_id(table, &k.name)),
                                unique_index_sql(table, k),
                                "SHARE UPDATE EXCLUSIVE",
                            )
                            .building(table, &k.name)
                            .online(3, id, attach_unique_sql(table, k), "ACCESS EXCLUSIVE")
                    }
                    // Its index is built and every row checked under ACCESS
                    // EXCLUSIVE; PostgreSQL has no NOT VALID form, so online
                    // it is the same statement, in phase 1 (lock timeout).
                    Constraint::Exclusion(_) => {
                        Statement::new(id, sql, Some(table), "ACCESS EXCLUSIVE")
                            .hazard(Some(EXCLUSION_HAZARD))
                            .stats(stats)
                    }
                    // Online: added NOT VALID (new rows are checked), then validated.
                    _ => not_valid_then_validate(
                        Statement::new(id, sql.clone(), Some(table), "ACCESS EXCLUSIVE")
                            .hazard(Some("scans the table to validate"))
                            .stats(stats),
                        table,
                        constraint.name(),
                        &sql,
                    ),
                };
                out.push(s.warning(MAY_FAIL).from(&constraint.origin().cloned()));
            }
            _ => {}
        }
    }
    for (table, fk, stats) in late_fks {
        let sql = add_constraint_sql(&table, &Constraint::ForeignKey(fk.clone()));
        let mut s = Statement::new(
            format!("add-foreign-key:{table}.{}", fk.name),
            sql.clone(),
            Some(&table),
            "SHARE ROW EXCLUSIVE",
        )
        .from(&fk.origin);
        if !fk.validated {
            s.sql.push_str(" NOT VALID");
        } else if let Some(stats) = stats {
            // On an existing table: its rows are checked; online, after the fact.
            s = not_valid_then_validate(
                s.hazard(Some("scans the table to validate"))
                    .stats(&stats)
                    .warning(MAY_FAIL),
                &table,
                &fk.name,
                &sql,
            );
        }
        out.push(s);
    }
    for c in changes {
        if let Change::ValidateConstraint { table, name, stats } = c {
            let sql = validate_sql(table, name);
            out.push(
                Statement::new(
                    format!("validate-constraint:{table}.{name}"),
                    sql.clone(),
                    Some(table),
                    "SHARE UPDATE EXCLUSIVE",
                )
                .hazard(Some("scans the table to validate"))
                .warning(MAY_FAIL)
                .stats(stats)
                .online(
                    3,
                    format!("validate-constraint:{table}.{name}"),
                    sql,
                    "SHARE UPDATE EXCLUSIVE",
                ),
            );
        }
    }
    for c in changes {
        match c {
            Change::CreateIndex {
                table,
                index,
                stats,
            } => {
                out.push(create_index(table, index, stats, true).from(&index.origin));
                if let Some(cm) = &index.comment {
                    // Online, the index exists once phase 2 built it.
                    let c =
                        comment_stmt(&CommentTarget::Index(table.clone(), index.name.clone()), cm)
                            .stats(stats);
                    let (id, sql, lock) = (c.id.clone(), c.sql.clone(), c.lock);
                    out.push(c.online(2, id, sql, lock));
                }
            }
            Change::SetRowSecurity {
                table,
                enable,
                force,
            } => out.extend(row_security(table, *enable, *force)),
            Change::SetIdentityOptions { table, column, .. } => {
                let ty = column.ty.as_str();
                let options = column
                    .identity_options
                    .as_deref()
                    .cloned()
                    .unwrap_or_default();
                let sets: Vec<String> = options
                    .alter_clauses(ty)
                    .into_iter()
                    .map(|c| format!("SET {c}"))
                    .collect();
                out.push(
                    Statement::new(
                        format!("set-identity-options:{table}.{}", column.name),
                        format!(
                            "ALTER TABLE {} ALTER COLUMN {} {}",
                            table.sql(),
                            quote_ident(&column.name),
                            sets.join(" ")
                        ),
                        Some(table),
                        "ACCESS EXCLUSIVE",
                    )
                    .from(&column.origin),
                );
            }
            Change::SetComment {
                target: target @ CommentTarget::Constraint(..),
                comment,
            } => {
                let c = comment_stmt(target, comment);
                let (id, sql, lock) = (c.id.clone(), c.sql.clone(), c.lock);
                late_comments.push(c.online(3, id, sql, lock));
            }
            Change::SetComment { target, comment } => out.push(comment_stmt(target, comment)),
            _ => {}
        }
    }
    // A sequence owned by a column: once the column exists.
    for c in changes {
        if let Change::AlterSequence { desired, live } = c {
            out.push(alter_sequence(desired, live));
        }
        if let Change::CreateSequence { sequence } = c {
            if let Some((table, column)) = &sequence.owned_by {
                out.push(Statement::new(
                    format!("sequence-owned-by:{}", sequence.name),
                    format!(
                        "ALTER SEQUENCE {} OWNED BY {}.{}",
                        sequence.name.sql(),
                        table.sql(),
                        quote_ident(column)
                    ),
                    None,
                    "none",
                ));
            }
        }
    }
    // Routines whose signature names a new table; views after the tables
    // and columns they select from, with the routines whose signature names
    // a new view; then triggers.
    code::render_routines(changes, &mut out, true);
    code::render_views(changes, &mut out);
    code::render_triggers(changes, &mut out);
    policy::render_policies(changes, &mut out);
    grants::render_grants(changes, &mut out);
    out.extend(late_comments);
    mark_enum_values_used(&mut out, &added_values);
    out
}

/// `ALTER TABLE t ADD CONSTRAINT ... NOT VALID` in phase 1, validated in phase 3.
fn not_valid_then_validate(s: Statement, table: &QualName, name: &str, sql: &str) -> Statement {
    let id = s.id.clone();
    let lock = s.lock;
    s.online(1, id, format!("{sql} NOT VALID"), lock).online(
        3,
        format!("validate-constraint:{table}.{name}"),
        validate_sql(table, name),
        "SHARE UPDATE EXCLUSIVE",
    )
}

fn validate_sql(table: &QualName, name: &str) -> String {
    format!(
        "ALTER TABLE {} VALIDATE CONSTRAINT {}",
        table.sql(),
        quote_ident(name)
    )
}

/// `ALTER TABLE t ADD CONSTRAINT k UNIQUE USING INDEX k`: a unique constraint
/// from the index of its name, without building anything.
fn attach_unique_sql(table: &QualName, k: &crate::model::Key) -> String {
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {}{}",
        table.sql(),
        quote_ident(&k.name),
        quote_ident(&k.name),
        deferrable_sql(k.deferrable, k.initially_deferred)
    )
}

fn deferrable_sql(deferrable: bool, initially_deferred: bool) -> &'static str {
    match (deferrable, initially_deferred) {
        (true, true) => " DEFERRABLE INITIALLY DEFERRED",
        (true, false) => " DEFERRABLE",
        _ => "",
    }
}

/// The index a unique constraint is built from online.
fn unique_index_sql(table: &QualName, k: &crate::model::Key) -> String {
    format!(
        "CREATE UNIQUE INDEX CONCURRENTLY {} ON {} ({}){}{}",
        quote_ident(&k.name),
        table.sql(),
        crate::model::names::quote_list(&k.columns),
        crate::model::include_sql(&k.include),
        if k.nulls_not_distinct {
            " NULLS NOT DISTINCT"
        } else {
            ""
        }
    )
}

/// When another statement of the plan uses a value an `ALTER TYPE ... ADD VALUE`
/// adds (a default, a check), the values are added and committed first.
fn mark_enum_values_used(out: &mut [Statement], added: &[String]) {
    let is_value = |s: &Statement| s.id.starts_with("add-enum-value:");
    let uses = |sql: &str| added.iter().any(|v| sql.contains(v.as_str()));
    let used = out
        .iter()
        .filter(|s| !is_value(s))
        .any(|s| uses(&s.sql) || s.online.iter().any(|o| uses(&o.sql)));
    if used {
        for s in out.iter_mut().filter(|s| is_value(s)) {
            s.commit_first = true;
        }
    }
}

/// `CREATE DOMAIN name AS type [DEFAULT expr] [NOT NULL] [CONSTRAINT c CHECK (expr)]...`
pub(crate) fn create_domain(d: &Domain) -> String {
    let mut sql = format!("CREATE DOMAIN {} AS {}", d.name.sql(), d.ty);
    if let Some(c) = &d.collation {
        sql.push_str(" COLLATE ");
        sql.push_str(&c.sql());
    }
    if let Some(def) = &d.default {
        sql.push_str(" DEFAULT ");
        sql.push_str(&default_sql(def));
    }
    if d.not_null {
        sql.push_str(" NOT NULL");
    }
    for c in &d.checks {
        sql.push_str(&format!(
            " CONSTRAINT {} CHECK ({})",
            quote_ident(&c.name),
            c.expr.sql
        ));
    }
    sql
}

/// `ALTER TABLE ... ENABLE/DISABLE ROW LEVEL SECURITY` and `... [NO] FORCE
/// ROW LEVEL SECURITY`, for the switches given.
fn row_security(table: &QualName, enable: Option<bool>, force: Option<bool>) -> Vec<Statement> {
    // (Each id spelled out: tests/it/quoting.rs reads the kinds from here.)
    [
        (
            enable,
            format!("row-level-security:{table}"),
            "ENABLE",
            "DISABLE",
        ),
        (
            force,
            format!("force-row-level-security:{table}"),
            "FORCE",
            "NO FORCE",
        ),
    ]
    .into_iter()
    .filter_map(|(switch, id, on, off)| {
        switch.map(|s| {
            Statement::new(
                id,
                format!(
                    "ALTER TABLE {} {} ROW LEVEL SECURITY",
                    table.sql(),
                    if s { on } else { off }
                ),
                Some(table),
                "ACCESS EXCLUSIVE",
            )
        })
    })
    .collect()
}

/// `ALTER SEQUENCE`: every option as the files say (the current value
/// stays), its type and owner when they differ.
fn alter_sequence(desired: &Sequence, live: &Sequence) -> Statement {
    let ty = desired.ty.as_deref().unwrap_or("bigint");
    let mut sql = format!("ALTER SEQUENCE {}", desired.name.sql());
    if desired.ty != live.ty {
        sql.push_str(&format!(" AS {ty}"));
    }
    for clause in desired.options.alter_clauses(ty) {
        sql.push(' ');
        sql.push_str(&clause);
    }
    if desired.owned_by != live.owned_by {
        sql.push_str(" OWNED BY ");
        sql.push_str(&match &desired.owned_by {
            Some((t, c)) => format!("{}.{}", t.sql(), quote_ident(c)),
            None => "NONE".into(),
        });
    }
    Statement::new(
        format!("alter-sequence:{}", desired.name),
        sql,
        None,
        "SHARE ROW EXCLUSIVE",
    )
}

/// `CREATE SEQUENCE name [AS type] [options]` (its owner is set apart).
pub(crate) fn create_sequence(s: &Sequence) -> String {
    let mut sql = format!("CREATE SEQUENCE {}", s.name.sql());
    if let Some(t) = &s.ty {
        sql.push_str(&format!(" AS {t}"));
    }
    sql.push_str(&s.options.create_sql());
    sql
}

/// Tables ordered so that each comes after the new tables it references (cycles keep file order).
fn order_by_references<'a>(tables: &[&'a Table]) -> Vec<&'a Table> {
    let names: HashSet<&QualName> = tables.iter().map(|t| &t.name).collect();
    let mut done: HashSet<&QualName> = HashSet::new();
    let mut out = Vec::new();
    fn visit<'a>(
        t: &'a Table,
        all: &[&'a Table],
        names: &HashSet<&QualName>,
        done: &mut HashSet<&'a QualName>,
        stack: &mut Vec<&'a QualName>,
        out: &mut Vec<&'a Table>,
    ) {
        if done.contains(&t.name) || stack.contains(&&t.name) {
            return;
        }
        stack.push(&t.name);
        for fk in &t.foreign_keys {
            if fk.ref_table != t.name && names.contains(&fk.ref_table) {
                if let Some(target) = all.iter().find(|x| x.name == fk.ref_table) {
                    visit(target, all, names, done, stack, out);
                }
            }
        }
        stack.pop();
        if done.insert(&t.name) {
            out.push(t);
        }
    }
    let mut stack = Vec::new();
    for t in tables {
        visit(t, tables, &names, &mut done, &mut stack, &mut out);
    }
    out
}

/// `CREATE TABLE` with its columns and constraints; the foreign keys to add
/// after it (to new tables not created yet, or NOT VALID); and the other
/// constraints to add after it, apart: unique constraints (see below) and
/// checks that are NOT VALID, which CREATE TABLE would make valid.
fn create_table(
    t: &Table,
    new_tables: &HashSet<&QualName>,
    created: &BTreeSet<QualName>,
) -> (Statement, Vec<ForeignKey>, Vec<Constraint>) {
    let mut lines: Vec<String> = t.columns.iter().map(column_def).collect();
    // Inside one CREATE TABLE, PostgreSQL keeps a single index for a primary
    // key and unique constraints on the same columns (the first, renamed to
    // a later one's name): the catalog would never match the files. Such a
    // unique constraint is added after the table, with its own index.
    let mut inline_columns: HashSet<&[String]> = HashSet::new();
    if let Some(pk) = &t.primary_key {
        lines.push(format!(
            "CONSTRAINT {} PRIMARY KEY {}",
            quote_ident(&pk.name),
            pk.body()
        ));
        inline_columns.insert(&pk.columns);
    }
    let mut apart = Vec::new();
    for u in &t.uniques {
        if inline_columns.insert(&u.columns) {
            lines.push(constraint_sql(&Constraint::Unique(u.clone())));
        } else {
            apart.push(Constraint::Unique(u.clone()));
        }
    }
    for c in &t.checks {
        if c.validated {
            lines.push(constraint_sql(&Constraint::Check(c.clone())));
        } else {
            apart.push(Constraint::Check(c.clone()));
        }
    }
    for x in &t.exclusions {
        lines.push(constraint_sql(&Constraint::Exclusion(x.clone())));
    }
    let mut deferred = Vec::new();
    for fk in &t.foreign_keys {
        let target_ready = fk.validated
            && (fk.ref_table == t.name
                || !new_tables.contains(&fk.ref_table)
                || created.contains(&fk.ref_table));
        if target_ready {
            lines.push(constraint_sql(&Constraint::ForeignKey(fk.clone())));
        } else {
            deferred.push(fk.clone());
        }
    }
    let mut sql = format!(
        "CREATE {}TABLE {} (\n    {}\n)",
        if t.unlogged == Some(true) {
            "UNLOGGED "
        } else {
            ""
        },
        t.name.sql(),
        lines.join(",\n    ")
    );
    if let Some(p) = &t.partition_by {
        sql.push_str(" PARTITION BY ");
        sql.push_str(&p.sql);
    }
    (
        Statement::new(
            format!("create-table:{}", t.name),
            sql,
            Some(&t.name),
            "ACCESS EXCLUSIVE",
        ),
        deferred,
        apart,
    )
}

/// `name type [GENERATED ...] [DEFAULT expr] [NOT NULL]`
pub fn column_def(c: &Column) -> String {
    let mut s = quote_ident(&c.name);
    s.push(' ');
    match &c.serial {
        Some(serial) => s.push_str(serial.keyword),
        None => s.push_str(&c.type_sql()),
    }
    if let Some(i) = c.identity {
        s.push(' ');
        s.push_str(i.sql());
        if let Some(o) = &c.identity_options {
            s.push_str(&format!(" ({})", o.create_sql().trim_start()));
        }
    }
    if let Some(g) = &c.generated {
        s.push_str(&format!(" GENERATED ALWAYS AS ({}) STORED", g.sql));
    }
    if c.serial.is_none() {
        if let Some(d) = &c.default {
            s.push_str(" DEFAULT ");
            s.push_str(&default_sql(d));
        }
    }
    if c.not_null && c.identity.is_none() && c.serial.is_none() {
        s.push_str(" NOT NULL");
    }
    s
}

/// A default as CREATE TABLE and ADD COLUMN accept it: an expression that is
/// more than a literal, a name, a function call or a cast goes in parentheses
/// (`DEFAULT (now() AT TIME ZONE 'utc')`).
pub(crate) fn default_sql(d: &crate::model::Expr) -> String {
    use sqlparser::ast::Expr as Ast;
    match crate::desired::expr::parse_one(&d.sql) {
        Ok(
            Ast::Value(_)
            | Ast::Function(_)
            | Ast::Cast { .. }
            | Ast::Identifier(_)
            | Ast::Array(_)
            | Ast::TypedString { .. }
            | Ast::Nested(_),
        ) => d.sql.clone(),
        _ => format!("({})", d.sql),
    }
}

/// `ALTER TABLE <table> ADD <constraint>`.
fn add_constraint_sql(table: &QualName, c: &Constraint) -> String {
    format!("ALTER TABLE {} ADD {}", table.sql(), constraint_sql(c))
}

pub fn constraint_sql(c: &Constraint) -> String {
    format!("CONSTRAINT {} {}", quote_ident(c.name()), c.definition())
}

pub(super) fn create_index(
    table: &QualName,
    i: &Index,
    stats: &Option<TableStats>,
    existing: bool,
) -> Statement {
    let sql = index_sql(&quote_ident(&i.name), &table.sql(), i);
    let s = Statement::new(
        format!("create-index:{}", index_id(table, &i.name)),
        sql,
        Some(table),
        "SHARE",
    );
    if existing {
        if let Some(st) = stats
            .as_ref()
            .filter(|st| st.partitioned && !st.partitions.is_empty())
        {
            let s = s.hazard(Some("blocks writes while it builds")).stats(stats);
            let s = partition::online_index(s, table, i, &st.partitions);
            return if i.unique { s.warning(MAY_FAIL) } else { s };
        }
        let s = s
            .hazard(Some("blocks writes while it builds"))
            .stats(stats)
            .online(
                2,
                format!("create-index:{}", index_id(table, &i.name)),
                index_sql_concurrently(&quote_ident(&i.name), &table.sql(), i),
                "SHARE UPDATE EXCLUSIVE",
            )
            .building(table, &i.name);
        if i.unique {
            s.warning(MAY_FAIL)
        } else {
            s
        }
    } else {
        s
    }
}

/// `CREATE [UNIQUE] INDEX name ON table [USING m] (keys) [INCLUDE (...)] [WHERE ...]`
pub fn index_sql(name_sql: &str, table_sql: &str, i: &Index) -> String {
    index_sql_with(name_sql, table_sql, i, "")
}

/// `CREATE [UNIQUE] INDEX CONCURRENTLY ...`: writes continue while it builds.
fn index_sql_concurrently(name_sql: &str, table_sql: &str, i: &Index) -> String {
    index_sql_with(name_sql, table_sql, i, "CONCURRENTLY ")
}

fn index_sql_with(name_sql: &str, table_sql: &str, i: &Index, concurrently: &str) -> String {
    let mut sql = format!(
        "CREATE {}INDEX {concurrently}{name_sql} ON {table_sql}",
        if i.unique { "UNIQUE " } else { "" }
    );
    if i.method != "btree" {
        sql.push_str(&format!(" USING {}", i.method));
    }
    sql.push(' ');
    sql.push_str(&i.body(false));
    sql
}

/// What `prune` drops: an object that an applied version of the files
/// marked `deprecated` and that the files no longer have (SPEC §4, `prune`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prunable {
    Table(QualName),
    Column {
        table: QualName,
        column: String,
    },
    /// An index of `table` (indexes live in their table's schema).
    Index {
        table: QualName,
        name: String,
    },
    Trigger {
        table: QualName,
        name: String,
    },
    /// A row-level security policy of `table`.
    Policy {
        table: QualName,
        name: String,
    },
    /// A view, or a materialized view (true).
    View(QualName, bool),
    /// A function, or a procedure (true).
    Routine(crate::model::RoutineId, bool),
}

/// The statement that drops `p`, never with CASCADE: what depends on it
/// (a view, a foreign key of another table) makes it fail instead. An index
/// is dropped CONCURRENTLY (outside a transaction, holding only SHARE UPDATE
/// EXCLUSIVE on its table), and IF EXISTS, since dropping a column drops its
/// indexes.
pub fn drop_prunable(p: &Prunable) -> Statement {
    const GONE: &str = "drops it and its data for good";
    match p {
        Prunable::Table(t) => Statement::new(
            format!("drop-table:{t}"),
            format!("DROP TABLE {}", t.sql()),
            Some(t),
            "ACCESS EXCLUSIVE",
        )
        .warning(GONE),
        Prunable::Column { table, column } => Statement::new(
            format!("drop-column:{table}.{column}"),
            format!(
                "ALTER TABLE {} DROP COLUMN {}",
                table.sql(),
                quote_ident(column)
            ),
            Some(table),
            "ACCESS EXCLUSIVE",
        )
        .warning(GONE),
        Prunable::Index { table, name } => Statement::new(
            format!("drop-index:{}", index_id(table, name)),
            format!(
                "DROP INDEX CONCURRENTLY IF EXISTS {}",
                QualName::new(table.schema.clone(), name).sql()
            ),
            Some(table),
            "SHARE UPDATE EXCLUSIVE",
        ),
        Prunable::Trigger { table, name } => Statement::new(
            format!("drop-trigger:{table}.{name}"),
            format!("DROP TRIGGER {} ON {}", quote_ident(name), table.sql()),
            Some(table),
            "ACCESS EXCLUSIVE",
        ),
        Prunable::Policy { table, name } => Statement::new(
            format!("drop-policy:{table}.{name}"),
            format!("DROP POLICY {} ON {}", quote_ident(name), table.sql()),
            Some(table),
            "ACCESS EXCLUSIVE",
        )
        .warning("the rows it let roles see or write follow the other policies from then on"),
        Prunable::View(v, materialized) => Statement::new(
            format!("drop-view:{v}"),
            format!(
                "DROP {}VIEW {}",
                if *materialized { "MATERIALIZED " } else { "" },
                v.sql()
            ),
            None,
            "ACCESS EXCLUSIVE",
        )
        .warning(if *materialized {
            GONE
        } else {
            "queries that use it fail from then on"
        }),
        Prunable::Routine(id, procedure) => Statement::new(
            if *procedure {
                format!("drop-procedure:{id}")
            } else {
                format!("drop-function:{id}")
            },
            format!(
                "DROP {} {}",
                if *procedure { "PROCEDURE" } else { "FUNCTION" },
                id.sql()
            ),
            None,
            "none",
        )
        .warning("calls to it fail from then on"),
    }
}

/// Index ids name the index; in another schema, qualified.
fn index_id(table: &QualName, name: &str) -> String {
    QualName::new(table.schema.clone(), name).to_string()
}

fn comment_stmt(target: &CommentTarget, comment: &str) -> Statement {
    match target {
        CommentTarget::Table(t) => Statement::new(
            format!("comment:{t}"),
            format!("COMMENT ON TABLE {} IS {}", t.sql(), quote_literal(comment)),
            Some(t),
            "SHARE UPDATE EXCLUSIVE",
        ),
        CommentTarget::Column(t, c) => Statement::new(
            format!("comment:{t}.{c}"),
            format!(
                "COMMENT ON COLUMN {}.{} IS {}",
                t.sql(),
                quote_ident(c),
                quote_literal(comment)
            ),
            Some(t),
            "SHARE UPDATE EXCLUSIVE",
        ),
        CommentTarget::Index(t, i) => {
            let name = QualName::new(t.schema.clone(), i.clone());
            Statement::new(
                format!("comment:{name}"),
                format!(
                    "COMMENT ON INDEX {} IS {}",
                    name.sql(),
                    quote_literal(comment)
                ),
                Some(t),
                "SHARE UPDATE EXCLUSIVE",
            )
        }
        CommentTarget::Constraint(t, c) => Statement::new(
            format!("constraint-comment:{t}.{c}"),
            format!(
                "COMMENT ON CONSTRAINT {} ON {} IS {}",
                quote_ident(c),
                t.sql(),
                quote_literal(comment)
            ),
            Some(t),
            "SHARE UPDATE EXCLUSIVE",
        ),
        CommentTarget::Sequence(q) => Statement::new(
            format!("comment:{q}"),
            format!(
                "COMMENT ON SEQUENCE {} IS {}",
                q.sql(),
                quote_literal(comment)
            ),
            None,
            "none",
        ),
        CommentTarget::Collation(c) => Statement::new(
            format!("comment:{c}"),
            format!(
                "COMMENT ON COLLATION {} IS {}",
                c.sql(),
                quote_literal(comment)
            ),
            None,
            "none",
        ),
        CommentTarget::TsConfig(c) => Statement::new(
            format!("comment:{c}"),
            format!(
                "COMMENT ON TEXT SEARCH CONFIGURATION {} IS {}",
                c.sql(),
                quote_literal(comment)
            ),
            None,
            "none",
        ),
        CommentTarget::Enum(e) => Statement::new(
            format!("comment:{e}"),
            format!("COMMENT ON TYPE {} IS {}", e.sql(), quote_literal(comment)),
            None,
            "none",
        ),
        CommentTarget::Routine(id, procedure) => Statement::new(
            format!("comment:{id}"),
            format!(
                "COMMENT ON {} {} IS {}",
                if *procedure { "PROCEDURE" } else { "FUNCTION" },
                id.sql(),
                quote_literal(comment)
            ),
            None,
            "none",
        ),
        CommentTarget::View(v, materialized) => Statement::new(
            format!("comment:{v}"),
            format!(
                "COMMENT ON {} {} IS {}",
                if *materialized {
                    "MATERIALIZED VIEW"
                } else {
                    "VIEW"
                },
                v.sql(),
                quote_literal(comment)
            ),
            None,
            "none",
        ),
        CommentTarget::Trigger(t, name) => Statement::new(
            format!("comment:{t}.{name}"),
            format!(
                "COMMENT ON TRIGGER {} ON {} IS {}",
                quote_ident(name),
                t.sql(),
                quote_literal(comment)
            ),
            Some(t),
            "none",
        ),
        CommentTarget::Policy(t, name) => Statement::new(
            format!("comment-policy:{t}.{name}"),
            format!(
                "COMMENT ON POLICY {} ON {} IS {}",
                quote_ident(name),
                t.sql(),
                quote_literal(comment)
            ),
            Some(t),
            "none",
        ),
    }
}

/// Functions whose value changes per row: a default calling one rewrites the table.
const VOLATILE: &[&str] = &[
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "txid_current",
    "gen_random_bytes",
];

fn add_column_hazard(c: &Column) -> Option<&'static str> {
    if c.generated.is_some() || c.identity.is_some() || c.serial.is_some() {
        return Some("rewrites the table");
    }
    let d = c.default.as_ref()?;
    let lower = d.key.to_lowercase();
    if VOLATILE.iter().any(|f| lower.contains(&format!("{f}("))) {
        Some("rewrites the table")
    } else {
        None
    }
}
