//! The one normalized catalog model, filled by `load` (from TOML) and by
//! `introspect` (from pg_catalog), so that the differ compares like with like.
//! No I/O here.

pub mod code;
pub mod exclude;
pub mod exclusion;
pub mod grants;
pub mod names;
pub mod partition;
pub mod policy;
pub mod tsconfig;
pub mod types;

pub use code::{CheckOption, Routine, RoutineId, Timing, Trigger, View};
pub use partition::{OtherPartitions, Partition};
pub use policy::Policy;
pub use tsconfig::TsConfig;
pub use types::{Attribute, Collation, CompositeType, RangeType, UserType};

use std::collections::BTreeSet;
use std::fmt;

use indexmap::IndexMap;
use serde::Serialize;

use crate::model::names::quote_ident;

/// A schema-qualified name. The default schema is `public`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct QualName {
    pub schema: String,
    pub name: String,
}

impl QualName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        QualName {
            schema: schema.into(),
            name: name.into(),
        }
    }

    /// `"schema"."name"` quoted as SQL needs it; public tables are qualified too,
    /// so statements do not depend on the session's search_path.
    pub fn sql(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.name))
    }

    /// As PostgreSQL prints it with `search_path = public` (`format_type`,
    /// `regclass`): unqualified in public, else `schema.name`, quoted where needed.
    pub fn printed(&self) -> String {
        if self.schema == "public" {
            quote_ident(&self.name)
        } else {
            self.sql()
        }
    }
}

/// How a person reads it: `appointments`, `auth.users`.
/// A part of a name as the files write it: in double quotes (`""` for a
/// quote) when it holds a dot or a double quote, or is empty; else as is.
pub fn key_part(part: &str) -> String {
    if part.is_empty() || part.contains(['.', '"']) {
        format!("\"{}\"", part.replace('"', "\"\""))
    } else {
        part.to_string()
    }
}

impl QualName {
    /// As the files write it in a key or a reference: `name` in public, else
    /// `schema.name`, each part as `key_part` writes it (`"v1.events"`,
    /// `"my.schema".t`), so that it reads back as this name.
    pub fn key(&self) -> String {
        if self.schema == "public" {
            key_part(&self.name)
        } else {
            format!("{}.{}", key_part(&self.schema), key_part(&self.name))
        }
    }
}

impl fmt::Display for QualName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.schema == "public" {
            write!(f, "{}", self.name)
        } else {
            write!(f, "{}.{}", self.schema, self.name)
        }
    }
}

/// Where a desired object was written: file, line and column (1-based).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// Shared by every origin in the same file.
    pub file: std::sync::Arc<str>,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

impl Catalog {
    /// Rewrite every origin's file name (e.g. to make it relative to a repository).
    pub fn map_origins(&mut self, f: &dyn Fn(&str) -> String) {
        let fix = |o: &mut Option<Origin>| {
            if let Some(o) = o {
                o.file = f(&o.file).into();
            }
        };
        for e in self.extensions.values_mut() {
            fix(&mut e.origin);
        }
        for e in self.enums.values_mut() {
            fix(&mut e.origin);
        }
        for t in self.tables.values_mut() {
            fix(&mut t.origin);
            for c in &mut t.columns {
                fix(&mut c.origin);
            }
            for k in t.primary_key.iter_mut().chain(t.uniques.iter_mut()) {
                fix(&mut k.origin);
            }
            for c in &mut t.checks {
                fix(&mut c.origin);
            }
            for fk in &mut t.foreign_keys {
                fix(&mut fk.origin);
            }
            for i in &mut t.indexes {
                fix(&mut i.origin);
            }
            for tr in &mut t.triggers {
                fix(&mut tr.origin);
            }
            for p in &mut t.policies {
                fix(&mut p.origin);
            }
        }
        for r in self.routines.values_mut() {
            fix(&mut r.origin);
        }
        for v in self.views.values_mut() {
            fix(&mut v.origin);
        }
        for g in &mut self.grants {
            fix(&mut g.origin);
        }
        for c in self.composite_types.values_mut() {
            fix(&mut c.origin);
        }
        for r in self.range_types.values_mut() {
            fix(&mut r.origin);
        }
        for c in self.collations.values_mut() {
            fix(&mut c.origin);
        }
        for c in self.ts_configs.values_mut() {
            fix(&mut c.origin);
        }
    }
}

/// A SQL expression: `sql` is the text to render (parsed and printed by sqlparser
/// for the files, as PostgreSQL prints it for the catalog); `key` is its normalized
/// form, the one compared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Expr {
    pub sql: String,
    pub key: String,
}

#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub schemas: BTreeSet<String>,
    pub extensions: IndexMap<String, Extension>,
    pub enums: IndexMap<QualName, EnumType>,
    pub domains: IndexMap<QualName, Domain>,
    /// Composite types (`model::types`).
    pub composite_types: IndexMap<QualName, CompositeType>,
    /// Range types (`model::types`); their multirange types come with them.
    pub range_types: IndexMap<QualName, RangeType>,
    /// Collations (`model::types`).
    pub collations: IndexMap<QualName, Collation>,
    /// Text search configurations (`model::tsconfig`).
    pub ts_configs: IndexMap<QualName, TsConfig>,
    pub sequences: IndexMap<QualName, Sequence>,
    pub tables: IndexMap<QualName, Table>,
    /// Functions and procedures, by name and argument types.
    pub routines: IndexMap<RoutineId, Routine>,
    /// Views and materialized views (one namespace with tables).
    pub views: IndexMap<QualName, View>,
    /// Objects of the live database that the format does not manage (views,
    /// functions, triggers, sequences that no column owns, ...). Empty for files.
    pub unmanaged: Vec<UnmanagedObject>,
    /// Privileges (`model::grants`): from the files, those they list; from
    /// the database, every one but the owner's own.
    pub grants: Vec<grants::Grant>,
    /// The roles of the cluster (pg_roles), for the check that a grant names
    /// a role that exists. Empty for the files.
    pub roles: BTreeSet<String>,
    /// The files' `exclude` patterns and those of `--exclude`: what is
    /// never considered (`exclude::apply`). Empty for the catalog.
    pub exclude: Vec<crate::model::exclude::Pattern>,
    /// The files this catalog was loaded from (`None` for the database).
    pub sources: Option<Sources>,
}

/// The schema files a desired catalog was loaded from, as they were read:
/// what `apply` records in the history, so that a later plan compares three
/// sides (the files now, the files last applied, the database).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sources {
    /// `(path, text)`, sorted by path. Loaded from a directory, a path is
    /// relative to it, so the same files give the same version wherever they sit.
    pub files: Vec<(String, std::sync::Arc<str>)>,
}

impl Sources {
    /// The version of the files: 16 hex digits of SHA-256 over each path and text.
    pub fn hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for (path, text) in &self.files {
            for part in [path.as_bytes(), text.as_bytes()] {
                h.update((part.len() as u64).to_le_bytes());
                h.update(part);
            }
        }
        h.finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[derive(Clone, Debug)]
pub struct Extension {
    pub name: String,
    pub schema: Option<String>,
    pub origin: Option<Origin>,
}

#[derive(Clone, Debug)]
pub struct EnumType {
    pub name: QualName,
    pub values: Vec<String>,
    pub comment: Option<String>,
    pub origin: Option<Origin>,
}

/// A name that may be schema-qualified and is printed unqualified when it lives
/// in `pg_catalog` or `public` (collations, operator classes).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ObjName {
    pub schema: Option<String>,
    pub name: String,
}

impl ObjName {
    /// From the catalog: the schema is dropped for `pg_catalog` and `public`.
    pub fn from_catalog(schema: &str, name: &str) -> ObjName {
        ObjName {
            schema: (schema != "pg_catalog" && schema != "public").then(|| schema.to_string()),
            name: name.to_string(),
        }
    }
    /// From the files: `name` or `schema.name`, exact case.
    pub fn parse(s: &str) -> ObjName {
        match s.split_once('.') {
            Some((schema, name)) => ObjName::from_catalog(schema, name),
            None => ObjName {
                schema: None,
                name: s.to_string(),
            },
        }
    }
    pub fn sql(&self) -> String {
        match &self.schema {
            Some(s) => format!("{}.{}", quote_ident(s), quote_ident(&self.name)),
            None => quote_ident(&self.name),
        }
    }
}

/// As the files write it: `C`, `musicbrainz.musicbrainz`.
impl fmt::Display for ObjName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{s}.{}", self.name),
            None => write!(f, "{}", self.name),
        }
    }
}

/// `CREATE DOMAIN name AS type [DEFAULT expr] [NOT NULL] [CONSTRAINT c CHECK (expr)]...`
#[derive(Clone, Debug)]
pub struct Domain {
    pub name: QualName,
    /// Canonical base type.
    pub ty: String,
    /// A collation other than the base type's (`COLLATE "C"`).
    pub collation: Option<ObjName>,
    pub not_null: bool,
    pub default: Option<Expr>,
    pub checks: Vec<Check>,
    pub comment: Option<String>,
    pub origin: Option<Origin>,
}

impl Domain {
    /// The definition as compared and shown in a diff.
    pub fn definition(&self, key: bool) -> String {
        let mut s = self.ty.clone();
        if let Some(c) = &self.collation {
            s.push_str(" COLLATE ");
            s.push_str(&c.sql());
        }
        if let Some(d) = &self.default {
            s.push_str(" DEFAULT ");
            s.push_str(if key { &d.key } else { &d.sql });
        }
        if self.not_null {
            s.push_str(" NOT NULL");
        }
        for c in &self.checks {
            s.push_str(&format!(
                " CONSTRAINT {} CHECK ({})",
                quote_ident(&c.name),
                if key { &c.expr.key } else { &c.expr.sql }
            ));
        }
        s
    }
}

/// The options of a sequence (CREATE SEQUENCE's), each `None` (or false)
/// where it is PostgreSQL's default for the sequence's type and direction,
/// once `normalized`: equal options then mean equal sequences.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeqOptions {
    pub start: Option<i64>,
    pub increment: Option<i64>,
    pub min_value: Option<i64>,
    pub max_value: Option<i64>,
    pub cache: Option<i64>,
    pub cycle: bool,
}

impl SeqOptions {
    /// The bounds of a sequence type (`smallint`, `integer`, else `bigint`).
    fn type_bounds(ty: &str) -> (i64, i64) {
        match ty {
            "smallint" => (i16::MIN as i64, i16::MAX as i64),
            "integer" => (i32::MIN as i64, i32::MAX as i64),
            _ => (i64::MIN, i64::MAX),
        }
    }

    /// Every option as PostgreSQL fills it in for a sequence of type `ty`
    /// (CREATE SEQUENCE: MINVALUE 1 and the type's maximum ascending, the
    /// type's minimum and -1 descending; START at MINVALUE, or MAXVALUE
    /// descending; CACHE 1).
    pub fn effective(&self, ty: &str) -> (i64, i64, i64, i64, i64) {
        let increment = self.increment.unwrap_or(1);
        let (type_min, type_max) = Self::type_bounds(ty);
        let min = self
            .min_value
            .unwrap_or(if increment > 0 { 1 } else { type_min });
        let max = self
            .max_value
            .unwrap_or(if increment > 0 { type_max } else { -1 });
        let start = self.start.unwrap_or(if increment > 0 { min } else { max });
        (start, increment, min, max, self.cache.unwrap_or(1))
    }

    /// The same options with every value that is the default for `ty` left out.
    pub fn normalized(&self, ty: &str) -> SeqOptions {
        let (start, increment, min, max, cache) = self.effective(ty);
        let (type_min, type_max) = Self::type_bounds(ty);
        let (min_default, max_default) = if increment > 0 {
            (1, type_max)
        } else {
            (type_min, -1)
        };
        SeqOptions {
            start: (start != if increment > 0 { min } else { max }).then_some(start),
            increment: (increment != 1).then_some(increment),
            min_value: (min != min_default).then_some(min),
            max_value: (max != max_default).then_some(max),
            cache: (cache != 1).then_some(cache),
            cycle: self.cycle,
        }
    }

    /// ` INCREMENT BY 10 START WITH 1000 ...`: what CREATE SEQUENCE (or an
    /// identity column's `( ... )`) needs beyond the defaults.
    pub fn create_sql(&self) -> String {
        let mut sql = String::new();
        let opts = [
            ("INCREMENT BY", self.increment),
            ("MINVALUE", self.min_value),
            ("MAXVALUE", self.max_value),
            ("START WITH", self.start),
            ("CACHE", self.cache),
        ];
        for (word, v) in opts {
            if let Some(v) = v {
                sql.push_str(&format!(" {word} {v}"));
            }
        }
        if self.cycle {
            sql.push_str(" CYCLE");
        }
        sql
    }

    /// Every option spelled out, defaults included (`NO MINVALUE`), for
    /// ALTER SEQUENCE or an identity column's `SET ...`: the result is these
    /// options whatever the sequence had. START WITH changes what a RESTART
    /// goes back to, never the current value.
    pub fn alter_clauses(&self, ty: &str) -> Vec<String> {
        let (start, increment, _, _, cache) = self.effective(ty);
        vec![
            format!("INCREMENT BY {increment}"),
            self.min_value
                .map_or("NO MINVALUE".into(), |v| format!("MINVALUE {v}")),
            self.max_value
                .map_or("NO MAXVALUE".into(), |v| format!("MAXVALUE {v}")),
            format!("START WITH {start}"),
            format!("CACHE {cache}"),
            if self.cycle { "CYCLE" } else { "NO CYCLE" }.into(),
        ]
    }
}

/// A sequence that no `serial` column stands for: one a default calls by name.
#[derive(Clone, Debug)]
pub struct Sequence {
    pub name: QualName,
    /// `smallint`, `integer` or `bigint` (the default).
    pub ty: Option<String>,
    /// Normalized for the type.
    pub options: SeqOptions,
    /// `table.column` (or `schema.table.column`) that owns it.
    pub owned_by: Option<(QualName, String)>,
    pub comment: Option<String>,
    pub origin: Option<Origin>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TableStats {
    /// pg_class.reltuples (-1 when never vacuumed or analyzed)
    pub rows: f64,
    /// The table's own size as the catalog estimates it (relpages × block size);
    /// -1 when never vacuumed or analyzed (measuring it would cost a file-system
    /// call per table on every plan).
    pub bytes: i64,
    /// A partitioned table: PostgreSQL builds no index on it CONCURRENTLY and
    /// adds no foreign key to it NOT VALID, so it has no online forms (but an
    /// index built partition by partition, `plan::render::partition`).
    pub partitioned: bool,
    /// A partitioned table's partitions, depth first: (the table it is a
    /// partition of, the partition, whether it is partitioned in turn).
    #[serde(skip)]
    pub partitions: Vec<(QualName, QualName, bool)>,
}

#[derive(Clone, Debug)]
pub struct Table {
    pub name: QualName,
    pub columns: Vec<Column>,
    pub primary_key: Option<Key>,
    pub uniques: Vec<Key>,
    pub checks: Vec<Check>,
    pub foreign_keys: Vec<ForeignKey>,
    /// Its exclusion constraints (`model::exclusion`).
    pub exclusions: Vec<exclusion::Exclusion>,
    pub indexes: Vec<Index>,
    /// Its triggers (not constraint triggers).
    pub triggers: Vec<Trigger>,
    /// Its row-level security policies.
    pub policies: Vec<Policy>,
    /// `RANGE (payment_date)`: a partitioned table.
    pub partition_by: Option<Expr>,
    /// Its partitions (`model::partition`), and what becomes of others.
    pub partitions: Vec<Partition>,
    pub other_partitions: OtherPartitions,
    pub comment: Option<String>,
    pub deprecated: Option<String>,
    /// `ALTER TABLE ... ENABLE ROW LEVEL SECURITY` (pg_class.relrowsecurity);
    /// from the files, `None` when they do not say (the database's stays).
    pub row_level_security: Option<bool>,
    /// `FORCE ROW LEVEL SECURITY` (relforcerowsecurity): the owner too.
    pub force_row_level_security: Option<bool>,
    /// `CREATE UNLOGGED TABLE` (relpersistence `u`): not written to the WAL,
    /// emptied after a crash, not replicated. From the files, `None` when
    /// they do not say (the database's stays, listed when unlogged).
    pub unlogged: Option<bool>,
    /// Comments on the table's constraints (primary key, unique, check,
    /// foreign key), by constraint name.
    pub constraint_comments: std::collections::BTreeMap<String, String>,
    pub origin: Option<Origin>,
    pub stats: Option<TableStats>,
}

impl Table {
    pub fn new(name: QualName) -> Self {
        Table {
            name,
            columns: Vec::new(),
            primary_key: None,
            uniques: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            exclusions: Vec::new(),
            indexes: Vec::new(),
            triggers: Vec::new(),
            policies: Vec::new(),
            partition_by: None,
            partitions: Vec::new(),
            other_partitions: OtherPartitions::Report,
            comment: None,
            deprecated: None,
            row_level_security: None,
            force_row_level_security: None,
            unlogged: None,
            constraint_comments: std::collections::BTreeMap::new(),
            origin: None,
            stats: None,
        }
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Identity {
    Always,
    ByDefault,
}

impl Identity {
    pub fn sql(self) -> &'static str {
        match self {
            Identity::Always => "GENERATED ALWAYS AS IDENTITY",
            Identity::ByDefault => "GENERATED BY DEFAULT AS IDENTITY",
        }
    }
    pub fn word(self) -> &'static str {
        match self {
            Identity::Always => "always",
            Identity::ByDefault => "by default",
        }
    }
}

/// `serial`, `bigserial`, `smallserial`: the integer type, an owned sequence and its nextval default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Serial {
    /// `serial`, `bigserial` or `smallserial`
    pub keyword: &'static str,
    pub sequence: QualName,
}

impl Serial {
    /// The default of a serial column, as PostgreSQL prints it:
    /// `nextval('appointments_id_seq'::regclass)`.
    pub fn default_sql(sequence: &QualName) -> String {
        format!(
            "nextval({}::regclass)",
            crate::model::names::printed_literal(&sequence.printed())
        )
    }
}

/// A column. The rare parts are boxed: a schema has tens of thousands of
/// columns, and each would otherwise carry their room inline.
#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    /// Canonical type, as `format_type` prints it with search_path = public.
    pub ty: String,
    /// A collation other than the type's own.
    pub collation: Option<Box<ObjName>>,
    pub not_null: bool,
    pub default: Option<Expr>,
    pub identity: Option<Identity>,
    /// The options of an identity column's sequence, normalized for the
    /// column's type (`None`: all default).
    pub identity_options: Option<Box<SeqOptions>>,
    pub generated: Option<Box<Expr>>,
    pub serial: Option<Box<Serial>>,
    pub comment: Option<String>,
    pub deprecated: Option<Box<str>>,
    pub origin: Option<Origin>,
}

impl Column {
    pub fn new(name: impl Into<String>, ty: impl Into<String>) -> Self {
        Column {
            name: name.into(),
            ty: ty.into(),
            collation: None,
            not_null: false,
            default: None,
            identity: None,
            identity_options: None,
            generated: None,
            serial: None,
            comment: None,
            deprecated: None,
            origin: None,
        }
    }
}

impl Column {
    /// The type as a column definition writes it, with its collation: `text COLLATE "C"`.
    pub fn type_sql(&self) -> String {
        match &self.collation {
            Some(c) => format!("{} COLLATE {}", self.ty, c.sql()),
            None => self.ty.clone(),
        }
    }
}

impl Key {
    pub fn new(name: impl Into<String>, columns: Vec<String>) -> Key {
        Key {
            name: name.into(),
            columns,
            deferrable: false,
            initially_deferred: false,
            nulls_not_distinct: false,
            include: Vec::new(),
            origin: None,
        }
    }

    /// `[NULLS NOT DISTINCT ](cols)[ INCLUDE (cols)][ DEFERRABLE[ INITIALLY DEFERRED]]`,
    /// after UNIQUE or PRIMARY KEY (CREATE TABLE's `table_constraint`).
    pub fn body(&self) -> String {
        let mut s = format!(
            "{}({})",
            if self.nulls_not_distinct {
                "NULLS NOT DISTINCT "
            } else {
                ""
            },
            crate::model::names::quote_list(&self.columns)
        );
        s.push_str(&include_sql(&self.include));
        if self.deferrable {
            s.push_str(" DEFERRABLE");
            if self.initially_deferred {
                s.push_str(" INITIALLY DEFERRED");
            }
        }
        s
    }
}

/// ` INCLUDE (a, b)` of an index or a key's index; empty for no columns.
pub fn include_sql(columns: &[String]) -> String {
    if columns.is_empty() {
        String::new()
    } else {
        format!(" INCLUDE ({})", crate::model::names::quote_list(columns))
    }
}

/// A primary key or unique constraint.
#[derive(Clone, Debug)]
pub struct Key {
    pub name: String,
    pub columns: Vec<String>,
    pub deferrable: bool,
    pub initially_deferred: bool,
    /// `UNIQUE NULLS NOT DISTINCT` (PostgreSQL 15).
    pub nulls_not_distinct: bool,
    /// Columns stored in the constraint's index but not part of the key
    /// (`INCLUDE (...)`, PostgreSQL 11; pg_index.indkey past indnkeyatts).
    pub include: Vec<String>,
    pub origin: Option<Origin>,
}

#[derive(Clone, Debug)]
pub struct Check {
    pub name: String,
    pub expr: Expr,
    pub validated: bool,
    /// `NO INHERIT`: not passed on to the tables that inherit (pg_constraint.connoinherit).
    pub no_inherit: bool,
    pub origin: Option<Origin>,
}

impl Check {
    /// `CHECK (expr)[ NO INHERIT]`: with `key`, the normalized expression (to
    /// compare); without, the SQL to run.
    pub fn definition(&self, key: bool) -> String {
        format!(
            "CHECK ({}){}",
            if key { &self.expr.key } else { &self.expr.sql },
            if self.no_inherit { " NO INHERIT" } else { "" }
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum FkAction {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl FkAction {
    /// `cascade`, `set null`, ... in any case and spacing.
    pub fn parse(s: &str) -> Option<FkAction> {
        let norm: Vec<String> = s.split_whitespace().map(|w| w.to_lowercase()).collect();
        match norm.join(" ").as_str() {
            "no action" => Some(FkAction::NoAction),
            "restrict" => Some(FkAction::Restrict),
            "cascade" => Some(FkAction::Cascade),
            "set null" => Some(FkAction::SetNull),
            "set default" => Some(FkAction::SetDefault),
            _ => None,
        }
    }
    /// pg_constraint.confdeltype / confupdtype
    pub fn from_catalog(c: &str) -> FkAction {
        match c {
            "r" => FkAction::Restrict,
            "c" => FkAction::Cascade,
            "n" => FkAction::SetNull,
            "d" => FkAction::SetDefault,
            _ => FkAction::NoAction,
        }
    }
    pub fn sql(self) -> &'static str {
        match self {
            FkAction::NoAction => "NO ACTION",
            FkAction::Restrict => "RESTRICT",
            FkAction::Cascade => "CASCADE",
            FkAction::SetNull => "SET NULL",
            FkAction::SetDefault => "SET DEFAULT",
        }
    }
}

#[derive(Clone, Debug)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_table: QualName,
    pub ref_columns: Vec<String>,
    pub on_delete: FkAction,
    /// The columns `ON DELETE SET NULL (...)` / `SET DEFAULT (...)` sets
    /// (PostgreSQL 15, pg_constraint.confdelsetcols); empty: all of them.
    pub on_delete_columns: Vec<String>,
    pub on_update: FkAction,
    /// `MATCH FULL` (pg_constraint.confmatchtype `f`); otherwise MATCH SIMPLE,
    /// the default (PostgreSQL does not implement MATCH PARTIAL).
    pub match_full: bool,
    pub deferrable: bool,
    pub initially_deferred: bool,
    pub validated: bool,
    pub origin: Option<Origin>,
}

impl ForeignKey {
    /// The definition, as compared and as shown in a diff.
    pub fn definition(&self) -> String {
        let mut s = format!(
            "FOREIGN KEY ({}) REFERENCES {}({})",
            crate::model::names::quote_list(&self.columns),
            self.ref_table.sql(),
            crate::model::names::quote_list(&self.ref_columns)
        );
        if self.match_full {
            s.push_str(" MATCH FULL");
        }
        if self.on_update != FkAction::NoAction {
            s.push_str(" ON UPDATE ");
            s.push_str(self.on_update.sql());
        }
        if self.on_delete != FkAction::NoAction {
            s.push_str(" ON DELETE ");
            s.push_str(self.on_delete.sql());
            if !self.on_delete_columns.is_empty() {
                s.push_str(&format!(
                    " ({})",
                    crate::model::names::quote_list(&self.on_delete_columns)
                ));
            }
        }
        if self.deferrable {
            s.push_str(" DEFERRABLE");
            if self.initially_deferred {
                s.push_str(" INITIALLY DEFERRED");
            }
        }
        s
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum IndexKeyPart {
    Column(String),
    Expression(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub struct IndexKey {
    pub part: IndexKeyPart,
    /// A collation other than the column's own (boxed, as it is rare).
    pub collation: Option<Box<ObjName>>,
    /// An operator class other than the type's default (boxed, as it is rare).
    pub opclass: Option<Box<ObjName>>,
    pub desc: bool,
    pub nulls_first: bool,
}

#[derive(Clone, Debug)]
pub struct Index {
    pub name: String,
    pub unique: bool,
    pub method: String,
    pub keys: Vec<IndexKey>,
    pub include: Vec<String>,
    pub predicate: Option<Expr>,
    /// `NULLS NOT DISTINCT` (PostgreSQL 15): NULLs count as equal in a unique index.
    pub nulls_not_distinct: bool,
    pub comment: Option<String>,
    pub deprecated: Option<String>,
    /// pg_index.indisvalid; always true for the files.
    pub valid: bool,
    pub origin: Option<Origin>,
}

impl Index {
    /// The definition as compared: method, keys, include, predicate (normalized keys).
    pub fn compare_key(&self) -> String {
        format!(
            "{}{} {}",
            if self.unique { "UNIQUE " } else { "" },
            self.method,
            self.body(true)
        )
    }

    /// `(keys) [INCLUDE (...)] [NULLS NOT DISTINCT] [WHERE ...]`: with `key`, the
    /// normalized expressions (to compare); without, the SQL to run.
    pub fn body(&self, key: bool) -> String {
        let keys: Vec<String> = self.keys.iter().map(|k| k.sql(key)).collect();
        let mut s = format!("({})", keys.join(", "));
        s.push_str(&include_sql(&self.include));
        if self.nulls_not_distinct {
            s.push_str(" NULLS NOT DISTINCT");
        }
        if let Some(p) = &self.predicate {
            s.push_str(" WHERE ");
            s.push_str(if key { &p.key } else { &p.sql });
        }
        s
    }
}

impl IndexKey {
    /// A key in ascending order, with the default collation and operator class.
    pub fn new(part: IndexKeyPart) -> IndexKey {
        IndexKey {
            part,
            collation: None,
            opclass: None,
            desc: false,
            nulls_first: false,
        }
    }

    /// `col [COLLATE c] [opclass] [DESC] [NULLS FIRST|LAST]`, an expression in parentheses.
    pub fn sql(&self, key: bool) -> String {
        let part = match &self.part {
            IndexKeyPart::Column(c) => quote_ident(c),
            IndexKeyPart::Expression(e) => format!("({})", if key { &e.key } else { &e.sql }),
        };
        part + &self.options(ObjName::sql)
    }

    /// What follows the key: ` COLLATE c opclass DESC NULLS FIRST`, names
    /// spelled by `spell` (as SQL, or as the files write them).
    pub fn options(&self, spell: impl Fn(&ObjName) -> String) -> String {
        let mut s = String::new();
        if let Some(c) = &self.collation {
            s.push_str(" COLLATE ");
            s.push_str(&spell(c));
        }
        if let Some(o) = &self.opclass {
            s.push(' ');
            s.push_str(&spell(o));
        }
        if self.desc {
            s.push_str(" DESC");
        }
        if self.nulls_first != self.desc {
            s.push_str(if self.nulls_first {
                " NULLS FIRST"
            } else {
                " NULLS LAST"
            });
        }
        s
    }
}

/// An object of the live database outside the files: listed, never touched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UnmanagedObject {
    /// `table`, `column`, `index`, `constraint`, `enum value`, `view`, `function`, ...
    pub kind: String,
    pub name: String,
    /// What it belongs to, for `exclude` (not shown): `None` when nothing
    /// excludes it (an extension's version), or when it comes from the diff
    /// (whose input is already filtered).
    #[serde(skip)]
    pub belongs_to: Option<BelongsTo>,
}

/// What an unmanaged object belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BelongsTo {
    /// A schema as a whole (its comment).
    Schema(String),
    /// A named object of a schema: a table (for its triggers, policies,
    /// settings, partitions, indexes), a view, a function, a type.
    Object(QualName),
}

/// One problem in the schema files.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Line 0: about the whole file (it cannot be read).
        if self.line == 0 {
            return write!(f, "{}: {}", self.file, self.message);
        }
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}
