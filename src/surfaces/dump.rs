//! `dump`: the live schema written as schema files (SPEC §2), one file per
//! table, so that an existing database can be adopted. Pure: a catalog in,
//! file texts out; `write` puts them on disk.

use std::collections::{BTreeMap, HashMap, HashSet};
mod code;
pub mod editors;
mod exclusion;
mod grants;
mod partition;
mod policy;
mod tsconfig;
mod types;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::model::grants::Target;
use crate::model::names;
use crate::model::{
    Catalog, Column, Domain, EnumType, FkAction, Index, IndexKey, IndexKeyPart, Key, ObjName,
    QualName, SeqOptions, Sequence, Table, UnmanagedObject,
};

/// One file to write: its path under the output directory, and its text.
#[derive(Clone, Debug)]
pub struct File {
    pub path: PathBuf,
    pub text: String,
}

/// The files that describe `cat`, restricted to `schemas` when it is not empty,
/// with `cat.exclude` (the patterns the dump applied) as the `exclude` key.
/// Tables of `public` go to `<table>.toml`, of another schema to
/// `<schema>/<table>.toml`; extensions, enums, domains, composite and range
/// types and sequences to `_schema.toml`.
pub fn files(cat: &Catalog, schemas: &[String]) -> Vec<File> {
    let keep = |s: &str| in_schemas(schemas, s);
    let types = TypeNames::new(cat);
    let grants = grants::Grants::new(cat);
    let mut out = Vec::new();

    let mut head = String::new();
    // An extension outside public says where it is (CREATE EXTENSION puts
    // it in public otherwise).
    let exts: Vec<String> = cat
        .extensions
        .values()
        .map(|e| match e.schema.as_deref() {
            Some(s) if s != "public" => {
                inline_table(&[("name", string(&e.name)), ("schema", string(s))])
            }
            _ => string(&e.name),
        })
        .collect();
    if !exts.is_empty() {
        let _ = writeln!(head, "extensions = [{}]", exts.join(", "));
    }
    // Schemas that no object written here lives in (empty, or holding only
    // what the format does not manage): declared, so that they are created.
    let implied: HashSet<&str> = cat
        .tables
        .keys()
        .chain(cat.views.keys())
        .chain(cat.routines.keys().map(|r| &r.name))
        .chain(cat.enums.keys())
        .chain(cat.domains.keys())
        .chain(cat.composite_types.keys())
        .chain(cat.range_types.keys())
        .chain(cat.collations.keys())
        .chain(cat.ts_configs.keys())
        .chain(cat.sequences.keys())
        .map(|n| n.schema.as_str())
        .chain(cat.extensions.values().filter_map(|e| e.schema.as_deref()))
        .collect();
    let bare: Vec<String> = cat
        .schemas
        .iter()
        .filter(|s| keep(s) && *s != "public" && !implied.contains(s.as_str()))
        .map(|s| string(s))
        .collect();
    if !bare.is_empty() {
        let _ = writeln!(head, "schemas = [{}]", bare.join(", "));
    }
    // The patterns the dump left out, so that the files keep leaving them out.
    if !cat.exclude.is_empty() {
        let patterns: Vec<String> = cat.exclude.iter().map(|p| string(&p.text)).collect();
        let _ = writeln!(head, "exclude = [{}]", patterns.join(", "));
    }
    for e in cat.enums.values().filter(|e| keep(&e.name.schema)) {
        write_enum(&mut head, e);
        let h = header("enums", &e.name, Some("grants"));
        grants.section(&mut head, &h, &Target::Type(e.name.clone()));
    }
    for d in cat.domains.values().filter(|d| keep(&d.name.schema)) {
        write_domain(&mut head, d, &types);
        let h = header("domains", &d.name, Some("grants"));
        grants.section(&mut head, &h, &Target::Type(d.name.clone()));
    }
    for c in cat.collations.values().filter(|c| keep(&c.name.schema)) {
        types::write_collation(&mut head, c);
    }
    for c in cat.ts_configs.values().filter(|c| keep(&c.name.schema)) {
        tsconfig::write_ts_config(&mut head, c);
    }
    for c in cat
        .composite_types
        .values()
        .filter(|c| keep(&c.name.schema))
    {
        types::write_composite(&mut head, c, &types);
    }
    for r in cat.range_types.values().filter(|r| keep(&r.name.schema)) {
        types::write_range(&mut head, r, &types);
    }
    for s in cat.sequences.values().filter(|s| keep(&s.name.schema)) {
        write_sequence(&mut head, s);
        let h = header("sequences", &s.name, Some("grants"));
        grants.section(&mut head, &h, &Target::Sequence(s.name.clone()));
    }
    let public = "public".to_string();
    let with_public = (!cat.schemas.contains(&public)).then_some(&public);
    for s in cat.schemas.iter().chain(with_public) {
        if keep(s) {
            let h = format!("[schema_grants.{}]", key(s));
            grants.section(&mut head, &h, &Target::Schema(s.clone()));
        }
    }
    let mut used: HashSet<String> = HashSet::new();
    let nothing = head.is_empty() && !cat.tables.values().any(|t| keep(&t.name.schema));
    if nothing {
        // A schema with nothing in it is still a schema, which a file says.
        head.push_str(
            "# The database had nothing for the files to declare: a schema with nothing in it.\n",
        );
    }
    if !head.is_empty() {
        out.push(File {
            path: unique_path(&mut used, None, "_schema"),
            text: head,
        });
    }
    for t in cat.tables.values().filter(|t| keep(&t.name.schema)) {
        let dir = (t.name.schema != "public").then_some(t.name.schema.as_str());
        out.push(File {
            path: unique_path(&mut used, dir, &t.name.name),
            text: table_text(t, &types, &grants),
        });
    }
    // Functions and views, one file of each per schema.
    let mut by_schema: std::collections::BTreeMap<&str, (String, String)> = Default::default();
    for r in cat.routines.values().filter(|r| keep(&r.id.name.schema)) {
        let overloaded = cat
            .routines
            .keys()
            .filter(|id| id.name == r.id.name)
            .nth(1)
            .is_some();
        let entry = by_schema.entry(r.id.name.schema.as_str()).or_default();
        code::write_routine(&mut entry.0, r, overloaded);
        let h = header(
            if r.procedure {
                "procedures"
            } else {
                "functions"
            },
            &r.id.name,
            Some("grants"),
        );
        grants.section(&mut entry.0, &h, &Target::Routine(r.id.clone()));
    }
    for v in cat.views.values().filter(|v| keep(&v.name.schema)) {
        let entry = by_schema.entry(v.name.schema.as_str()).or_default();
        code::write_view(&mut entry.1, v);
        let section = if v.materialized {
            "materialized_views"
        } else {
            "views"
        };
        let h = header(section, &v.name, Some("grants"));
        grants.section(&mut entry.1, &h, &Target::Relation(v.name.clone()));
    }
    for (schema, (routines, views)) in by_schema {
        let dir = (schema != "public").then_some(schema);
        for (name, text) in [("_functions", routines), ("_views", views)] {
            if !text.is_empty() {
                out.push(File {
                    path: unique_path(&mut used, dir, name),
                    text: text.trim_start().to_string(),
                });
            }
        }
    }
    out
}

/// Whether `--db-schema` keeps `schema` (none given: every schema).
pub fn in_schemas(schemas: &[String], schema: &str) -> bool {
    schemas.is_empty() || schemas.iter().any(|x| x == schema)
}

/// Write the files under `dir`. Unless `force`, no file is written when any exists.
pub fn write(dir: &Path, files: &[File], force: bool) -> Result<(), crate::Error> {
    if !force {
        let existing: Vec<String> = files
            .iter()
            .map(|f| dir.join(&f.path))
            .filter(|p| p.exists())
            .map(|p| p.display().to_string())
            .collect();
        if let Some(first) = existing.first() {
            return Err(crate::Error::Usage(format!(
                "{first} already exists ({} of the files to write exist); nothing was written. Use --force to overwrite them",
                existing.len()
            )));
        }
    }
    for f in files {
        let path = dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                crate::Error::Other(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        std::fs::write(&path, &f.text)
            .map_err(|e| crate::Error::Other(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

/// The unmanaged objects, grouped by kind (kinds in first-seen order).
pub fn unmanaged_by_kind(objects: &[UnmanagedObject]) -> Vec<(&str, Vec<&str>)> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for o in objects {
        match groups.iter_mut().find(|(k, _)| *k == o.kind) {
            Some((_, names)) => names.push(&o.name),
            None => groups.push((&o.kind, vec![&o.name])),
        }
    }
    groups
}

/// A file name for a table: its name with path-unsafe characters replaced,
/// made unique (case-insensitively, for file systems that ignore case).
fn unique_path(used: &mut HashSet<String>, dir: Option<&str>, name: &str) -> PathBuf {
    let clean = |s: &str| -> String {
        let c: String = s
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if c.is_empty() {
            "_".into()
        } else {
            c
        }
    };
    let dir = dir.map(clean);
    let base = clean(name);
    let mut n = 1;
    loop {
        let stem = if n == 1 {
            base.clone()
        } else {
            format!("{base}_{n}")
        };
        let rel = match &dir {
            Some(d) => PathBuf::from(d).join(format!("{stem}.toml")),
            None => PathBuf::from(format!("{stem}.toml")),
        };
        if used.insert(rel.display().to_string().to_lowercase()) {
            return rel;
        }
        n += 1;
    }
}

/// How the files spell the types of the catalog: enums, domains, composite
/// and range types (and multiranges) by their
/// exact name, built-in types in their shortest usual spelling.
struct TypeNames {
    user: HashMap<String, String>,
}

impl TypeNames {
    fn new(cat: &Catalog) -> Self {
        let user = cat
            .enums
            .keys()
            .chain(cat.domains.keys())
            .chain(cat.composite_types.keys())
            .chain(cat.range_types.keys())
            .cloned()
            .chain(cat.range_types.values().map(|r| r.multirange()))
            .map(|n| (n.printed(), n.key()))
            .collect();
        TypeNames { user }
    }

    fn spell(&self, canonical: &str) -> String {
        let (base, dims) = match canonical.find("[]") {
            Some(i) => (&canonical[..i], &canonical[i..]),
            None => (canonical, ""),
        };
        if let Some(u) = self.user.get(base) {
            return format!("{u}{dims}");
        }
        let short = short_type(base);
        // Only a spelling that reads back as the same type.
        match crate::desired::types::parse_type(&format!("{short}{dims}")) {
            Ok(p) if p.canonical == canonical => format!("{short}{dims}"),
            _ => canonical.to_string(),
        }
    }
}

/// `character varying(20)` → `varchar(20)`, `timestamp(3) with time zone` → `timestamptz(3)`.
fn short_type(t: &str) -> String {
    let (name, mods, rest) = match (t.find('('), t.find(')')) {
        (Some(o), Some(c)) if o < c => (&t[..o], &t[o..=c], t[c + 1..].trim()),
        _ => (t, "", ""),
    };
    let name = name.trim();
    let full = if rest.is_empty() {
        name.to_string()
    } else {
        format!("{name} {rest}")
    };
    let short = match full.as_str() {
        "character varying" => "varchar",
        "character" => "char",
        "bit varying" => "varbit",
        "timestamp with time zone" => "timestamptz",
        "timestamp without time zone" => "timestamp",
        "time with time zone" => "timetz",
        "time without time zone" => "time",
        _ => return t.to_string(),
    };
    format!("{short}{mods}")
}

// ---- TOML writing ----

/// A key: bare when TOML allows it, else a quoted string.
fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        string(k)
    }
}

/// A TOML basic string.
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn list<S: AsRef<str>>(items: &[S]) -> String {
    let parts: Vec<String> = items.iter().map(|s| string(s.as_ref())).collect();
    format!("[{}]", parts.join(", "))
}

/// `{ a = 1, b = "x" }`
fn inline_table(fields: &[(&str, String)]) -> String {
    let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    format!("{{ {} }}", parts.join(", "))
}

/// `[section.name]` with a qualified name as one key.
fn header(section: &str, name: &QualName, sub: Option<&str>) -> String {
    match sub {
        Some(s) => format!("[{section}.{}.{s}]", key(&name.key())),
        None => format!("[{section}.{}]", key(&name.key())),
    }
}

/// A default as the files write it: TOML integers and booleans as such, else the SQL text.
fn default_value(sql: &str) -> String {
    let digits = sql.strip_prefix('-').unwrap_or(sql);
    let plain_int = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && sql.parse::<i64>().is_ok();
    if plain_int || sql == "true" || sql == "false" {
        sql.to_string()
    } else {
        string(sql)
    }
}

fn write_enum(out: &mut String, e: &EnumType) {
    let _ = writeln!(out, "\n{}", header("enums", &e.name, None));
    let _ = writeln!(out, "values = {}", list(&e.values));
    if let Some(c) = &e.comment {
        let _ = writeln!(out, "comment = {}", string(c));
    }
}

fn write_domain(out: &mut String, d: &Domain, types: &TypeNames) {
    let _ = writeln!(out, "\n{}", header("domains", &d.name, None));
    let _ = writeln!(out, "type = {}", string(&types.spell(&d.ty)));
    if let Some(c) = &d.collation {
        let _ = writeln!(out, "collation = {}", string(&c.to_string()));
    }
    if d.not_null {
        let _ = writeln!(out, "not_null = true");
    }
    if let Some(def) = &d.default {
        let _ = writeln!(out, "default = {}", default_value(&def.sql));
    }
    let implicit = names::check_name(&d.name.name, None);
    match d.checks.as_slice() {
        [] => {}
        [c] if c.name == implicit => {
            let _ = writeln!(out, "check = {}", string(&c.expr.sql));
        }
        checks => {
            let fields: Vec<(String, String)> = checks
                .iter()
                .map(|c| (key(&c.name), string(&c.expr.sql)))
                .collect();
            let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            let _ = writeln!(out, "checks = {{ {} }}", parts.join(", "));
        }
    }
    if let Some(c) = &d.comment {
        let _ = writeln!(out, "comment = {}", string(c));
    }
}

fn write_sequence(out: &mut String, s: &Sequence) {
    let _ = writeln!(out, "\n{}", header("sequences", &s.name, None));
    if let Some(t) = &s.ty {
        let _ = writeln!(out, "type = {}", string(t));
    }
    for (k, v) in seq_option_fields(&s.options) {
        let _ = writeln!(out, "{k} = {v}");
    }
    if let Some((t, c)) = &s.owned_by {
        let _ = writeln!(
            out,
            "owned_by = {}",
            string(&format!("{}.{}", t.key(), crate::model::key_part(c)))
        );
    }
    if let Some(c) = &s.comment {
        let _ = writeln!(out, "comment = {}", string(c));
    }
}

/// A primary key's or unique constraint's full form: its `columns`, then
/// each option it has (`include`, `deferrable`, ...).
fn key_fields(k: &Key) -> Vec<(&'static str, String)> {
    let mut f = vec![("columns", list(&k.columns))];
    if !k.include.is_empty() {
        f.push(("include", list(&k.include)));
    }
    for (set, name) in [
        (k.deferrable, "deferrable"),
        (k.initially_deferred, "initially_deferred"),
        (k.nulls_not_distinct, "nulls_not_distinct"),
    ] {
        if set {
            f.push((name, "true".into()));
        }
    }
    f
}

/// The keys of sequence options that are not the default (`start = 1000`, `cycle = true`).
fn seq_option_fields(o: &SeqOptions) -> Vec<(&'static str, String)> {
    let mut f: Vec<(&str, String)> = [
        ("start", o.start),
        ("increment", o.increment),
        ("min_value", o.min_value),
        ("max_value", o.max_value),
        ("cache", o.cache),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v.to_string())))
    .collect();
    if o.cycle {
        f.push(("cycle", "true".into()));
    }
    f
}

fn action(a: FkAction) -> &'static str {
    match a {
        FkAction::NoAction => "no action",
        FkAction::Restrict => "restrict",
        FkAction::Cascade => "cascade",
        FkAction::SetNull => "set null",
        FkAction::SetDefault => "set default",
    }
}

/// `table(col, ...)`, qualified outside public.
fn reference(t: &QualName, cols: &[String]) -> String {
    format!("{}({})", t.key(), cols.join(", "))
}

/// What a column says of itself beyond its type (keys, check, reference).
#[derive(Default)]
struct Inline {
    primary_key: bool,
    unique: bool,
    check: Option<String>,
    references: Option<(String, FkAction, FkAction)>,
}

fn table_text(t: &Table, types: &TypeNames, grants: &grants::Grants) -> String {
    let tname = &t.name.name;
    let mut inline: HashMap<&str, Inline> = HashMap::new();
    let mut out = String::new();
    let _ = writeln!(out, "{}", header("tables", &t.name, None));
    if let Some(c) = &t.comment {
        let _ = writeln!(out, "comment = {}", string(c));
    }
    if let Some(p) = &t.partition_by {
        let _ = writeln!(out, "partition_by = {}", string(&p.sql));
    }
    if t.row_level_security == Some(true) {
        let _ = writeln!(out, "row_level_security = true");
    }
    if t.force_row_level_security == Some(true) {
        let _ = writeln!(out, "force_row_level_security = true");
    }
    if t.unlogged == Some(true) {
        let _ = writeln!(out, "unlogged = true");
    }

    // Constraints with PostgreSQL's own names go on their column, as people write them.
    if let Some(pk) = &t.primary_key {
        let implicit = pk.name == names::pkey_name(tname);
        let plain = pk.include.is_empty() && !pk.deferrable;
        match pk.columns.as_slice() {
            [c] if implicit && plain => inline.entry(c).or_default().primary_key = true,
            cols if implicit && plain => {
                let _ = writeln!(out, "primary_key = {}", list(cols));
            }
            _ => {
                let mut f = Vec::new();
                if !implicit {
                    f.push(("name", string(&pk.name)));
                }
                f.extend(key_fields(pk));
                let _ = writeln!(out, "primary_key = {}", inline_table(&f));
            }
        }
    }
    let mut uniques = Vec::new();
    for u in &t.uniques {
        let plain = !u.deferrable && !u.nulls_not_distinct && u.include.is_empty();
        match u.columns.as_slice() {
            [c] if plain
                && u.name == names::unique_name(tname, std::slice::from_ref(c))
                && !inline.get(c.as_str()).is_some_and(|i| i.unique) =>
            {
                inline.entry(c).or_default().unique = true
            }
            _ => uniques.push(u),
        }
    }
    let mut checks = Vec::new();
    for c in &t.checks {
        // A check that is not valid keeps the table-level form, which says so.
        let col = t
            .columns
            .iter()
            .filter(|_| c.validated && !c.no_inherit)
            .find(|col| {
                c.name == names::check_name(tname, Some(&col.name))
                    && inline
                        .get(col.name.as_str())
                        .is_none_or(|i| i.check.is_none())
            });
        match col {
            Some(col) => inline.entry(&col.name).or_default().check = Some(c.expr.sql.clone()),
            None => checks.push(c),
        }
    }
    let mut fks = Vec::new();
    for fk in &t.foreign_keys {
        match fk.columns.as_slice() {
            [c] if fk.name == names::fkey_name(tname, std::slice::from_ref(c))
                && !fk.deferrable
                && !fk.match_full
                && fk.on_delete_columns.is_empty()
                && fk.validated
                && inline
                    .get(c.as_str())
                    .is_none_or(|i| i.references.is_none()) =>
            {
                inline.entry(c).or_default().references = Some((
                    reference(&fk.ref_table, &fk.ref_columns),
                    fk.on_delete,
                    fk.on_update,
                ))
            }
            _ => fks.push(fk),
        }
    }

    let _ = writeln!(out, "\n{}", header("tables", &t.name, Some("columns")));
    for c in &t.columns {
        let _ = writeln!(
            out,
            "{} = {}",
            key(&c.name),
            column_fields(t, c, inline.get(c.name.as_str()), types, grants)
        );
    }
    if !t.indexes.is_empty() {
        let _ = writeln!(out, "\n{}", header("tables", &t.name, Some("indexes")));
        for i in &t.indexes {
            let _ = writeln!(out, "{} = {}", key(&i.name), index_fields(i));
        }
    }
    if !uniques.is_empty() {
        let _ = writeln!(out, "\n{}", header("tables", &t.name, Some("unique")));
        for u in uniques {
            let f = key_fields(u);
            let value = if f.len() == 1 {
                list(&u.columns)
            } else {
                inline_table(&f)
            };
            let _ = writeln!(out, "{} = {value}", key(&u.name));
        }
    }
    if !checks.is_empty() {
        let _ = writeln!(out, "\n{}", header("tables", &t.name, Some("checks")));
        for c in checks {
            let value = if c.validated && !c.no_inherit {
                string(&c.expr.sql)
            } else {
                let mut f = vec![("expr", string(&c.expr.sql))];
                if !c.validated {
                    f.push(("not_valid", "true".into()));
                }
                if c.no_inherit {
                    f.push(("no_inherit", "true".into()));
                }
                inline_table(&f)
            };
            let _ = writeln!(out, "{} = {value}", key(&c.name));
        }
    }
    if !fks.is_empty() {
        let _ = writeln!(out, "\n{}", header("tables", &t.name, Some("foreign_keys")));
        for fk in fks {
            let mut f = vec![
                ("columns", list(&fk.columns)),
                (
                    "references",
                    string(&reference(&fk.ref_table, &fk.ref_columns)),
                ),
            ];
            if fk.match_full {
                f.push(("match", string("full")));
            }
            if fk.on_delete != FkAction::NoAction {
                let mut a = action(fk.on_delete).to_string();
                if !fk.on_delete_columns.is_empty() {
                    a.push_str(&format!(" ({})", fk.on_delete_columns.join(", ")));
                }
                f.push(("on_delete", string(&a)));
            }
            if fk.on_update != FkAction::NoAction {
                f.push(("on_update", string(action(fk.on_update))));
            }
            if fk.deferrable {
                f.push(("deferrable", "true".into()));
            }
            if fk.initially_deferred {
                f.push(("initially_deferred", "true".into()));
            }
            if !fk.validated {
                f.push(("not_valid", "true".into()));
            }
            let _ = writeln!(out, "{} = {}", key(&fk.name), inline_table(&f));
        }
    }
    if !t.constraint_comments.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            header("tables", &t.name, Some("constraint_comments"))
        );
        for (name, c) in &t.constraint_comments {
            let _ = writeln!(out, "{} = {}", key(name), string(c));
        }
    }
    exclusion::write_exclusions(&mut out, t);
    code::write_triggers(&mut out, t);
    policy::write_policies(&mut out, t);
    let h = header("tables", &t.name, Some("grants"));
    grants.section(&mut out, &h, &Target::Relation(t.name.clone()));
    partition::write_partitions(&mut out, t);
    out
}

fn column_fields(
    t: &Table,
    c: &Column,
    i: Option<&Inline>,
    types: &TypeNames,
    grants: &grants::Grants,
) -> String {
    let mut f: Vec<(&str, String)> = Vec::new();
    // `serial` only when it is exactly what `serial` makes here.
    let serial = c.serial.as_ref().filter(|s| {
        c.not_null
            && s.sequence.schema == t.name.schema
            && s.sequence.name == names::sequence_name(&t.name.name, &c.name)
    });
    match serial {
        Some(s) => f.push(("type", string(s.keyword))),
        None => f.push(("type", string(&types.spell(&c.ty)))),
    }
    if let Some(coll) = &c.collation {
        f.push(("collation", string(&coll.to_string())));
    }
    let pk = i.is_some_and(|i| i.primary_key);
    if c.not_null && serial.is_none() && c.identity.is_none() && !pk {
        f.push(("not_null", "true".into()));
    }
    if serial.is_none() {
        if let Some(d) = &c.default {
            f.push(("default", default_value(&d.sql)));
        }
    }
    if let Some(id) = c.identity {
        match &c.identity_options {
            None => f.push(("identity", string(id.word()))),
            Some(o) => {
                let mut fields = vec![("generated", string(id.word()))];
                fields.extend(seq_option_fields(o));
                f.push(("identity", inline_table(&fields)));
            }
        }
    }
    if let Some(g) = &c.generated {
        f.push(("generated", string(&g.sql)));
    }
    if let Some(i) = i {
        if i.primary_key {
            f.push(("primary_key", "true".into()));
        }
        if i.unique {
            f.push(("unique", "true".into()));
        }
        if let Some((r, del, upd)) = &i.references {
            f.push(("references", string(r)));
            if *del != FkAction::NoAction {
                f.push(("on_delete", string(action(*del))));
            }
            if *upd != FkAction::NoAction {
                f.push(("on_update", string(action(*upd))));
            }
        }
        if let Some(chk) = &i.check {
            f.push(("check", string(chk)));
        }
    }
    if let Some(cm) = &c.comment {
        f.push(("comment", string(cm)));
    }
    if let Some(g) = grants.inline(&Target::Column(t.name.clone(), c.name.clone())) {
        f.push(("grants", g));
    }
    inline_table(&f)
}

fn index_fields(i: &Index) -> String {
    let mut f: Vec<(&str, String)> = Vec::new();
    let plain = |k: &IndexKey| k.collation.is_none() && k.opclass.is_none() && !k.desc;
    match i.keys.as_slice() {
        [k] if plain(k) && !k.nulls_first && matches!(k.part, IndexKeyPart::Expression(_)) => {
            if let IndexKeyPart::Expression(e) = &k.part {
                f.push(("expression", string(&e.sql)));
            }
        }
        keys => {
            let entries: Vec<String> = keys.iter().map(key_entry).collect();
            f.push(("columns", list(&entries)));
        }
    }
    if i.unique {
        f.push(("unique", "true".into()));
    }
    if i.method != "btree" {
        f.push(("using", string(&i.method)));
    }
    if !i.include.is_empty() {
        f.push(("include", list(&i.include)));
    }
    if i.nulls_not_distinct {
        f.push(("nulls_not_distinct", "true".into()));
    }
    if let Some(p) = &i.predicate {
        f.push(("where", string(&p.sql)));
    }
    if let Some(c) = &i.comment {
        f.push(("comment", string(c)));
    }
    inline_table(&f)
}

/// An entry of an index's `columns`: `name`, `"Odd Name"`, `(expr)`, then
/// `COLLATE c`, the operator class, `DESC`, `NULLS FIRST|LAST`.
fn key_entry(k: &IndexKey) -> String {
    let mut s = match &k.part {
        IndexKeyPart::Column(c) => {
            let simple =
                !c.is_empty() && !c.starts_with(['(', '"']) && !c.chars().any(char::is_whitespace);
            if simple {
                c.clone()
            } else {
                format!("\"{}\"", c.replace('"', "\"\""))
            }
        }
        IndexKeyPart::Expression(e) => format!("({})", e.sql),
    };
    s.push_str(&k.options(ObjName::to_string));
    s
}

/// Counts of what was written, for the summary line.
pub fn summary(cat: &Catalog, schemas: &[String]) -> BTreeMap<&'static str, usize> {
    let keep = |s: &str| in_schemas(schemas, s);
    let mut m = BTreeMap::new();
    m.insert(
        "tables",
        cat.tables.keys().filter(|n| keep(&n.schema)).count(),
    );
    m.insert(
        "enums",
        cat.enums.keys().filter(|n| keep(&n.schema)).count(),
    );
    m.insert(
        "domains",
        cat.domains.keys().filter(|n| keep(&n.schema)).count(),
    );
    m.insert(
        "composite types",
        cat.composite_types
            .keys()
            .filter(|n| keep(&n.schema))
            .count(),
    );
    m.insert(
        "collations",
        cat.collations.keys().filter(|n| keep(&n.schema)).count(),
    );
    m.insert(
        "text search configurations",
        cat.ts_configs.keys().filter(|n| keep(&n.schema)).count(),
    );
    m.insert(
        "range types",
        cat.range_types.keys().filter(|n| keep(&n.schema)).count(),
    );
    m.insert(
        "sequences",
        cat.sequences.keys().filter(|n| keep(&n.schema)).count(),
    );
    m.insert("extensions", cat.extensions.len());
    m.insert(
        "functions",
        cat.routines.keys().filter(|r| keep(&r.name.schema)).count(),
    );
    m.insert(
        "views",
        cat.views.keys().filter(|n| keep(&n.schema)).count(),
    );
    m.insert(
        "triggers",
        cat.tables
            .values()
            .filter(|t| keep(&t.name.schema))
            .map(|t| t.triggers.len())
            .sum(),
    );
    m.insert(
        "policies",
        cat.tables
            .values()
            .filter(|t| keep(&t.name.schema))
            .map(|t| t.policies.len())
            .sum(),
    );
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Catalog;

    #[test]
    fn types_read_back_as_the_same_type() {
        let t = TypeNames::new(&Catalog::default());
        assert_eq!(t.spell("character varying(20)"), "varchar(20)");
        assert_eq!(t.spell("timestamp(3) with time zone"), "timestamptz(3)");
        assert_eq!(t.spell("timestamp with time zone[]"), "timestamptz[]");
        assert_eq!(t.spell("integer"), "integer");
        assert_eq!(t.spell("numeric(12,2)"), "numeric(12,2)");
    }

    #[test]
    fn strings_and_keys_are_escaped() {
        assert_eq!(key("plain_key-1"), "plain_key-1");
        assert_eq!(key("auth.users"), "\"auth.users\"");
        assert_eq!(string("a \"b\"\n\\"), "\"a \\\"b\\\"\\n\\\\\"");
        assert_eq!(default_value("0"), "0");
        assert_eq!(default_value("-5"), "-5");
        assert_eq!(default_value("007"), "\"007\"");
        assert_eq!(default_value("now()"), "\"now()\"");
    }

    #[test]
    fn dumped_files_load_back_as_the_same_catalog() {
        let src = r#"
extensions = ["pgcrypto"]
[enums.status]
values = ["a", "b's"]
[domains.year]
type = "integer"
check = "VALUE >= 1901"
[sequences.counter]
start = 100
[tables."Odd Table"]
comment = "x"
[tables."Odd Table".columns]
id = { type = "bigserial", primary_key = true }
"Mixed Case" = { type = "varchar(20)", not_null = true, default = "'x'", unique = true }
born = { type = "year" }
st = { type = "status", default = "'a'" }
n = { type = "integer", default = "nextval('counter'::regclass)", check = "n > 0" }
[tables."Odd Table".indexes]
idx_odd_lower = { expression = "lower(\"Mixed Case\")" }
idx_odd_mixed = { columns = ["(lower(\"Mixed Case\")) DESC", "id text_pattern_ops NULLS FIRST"], where = "n > 1", comment = "mixed" }
[tables.child]
partition_by = "RANGE (id)"
primary_key = ["id", "k"]
[tables.child.columns]
id = { type = "integer", references = "Odd Table(id)", on_delete = "cascade" }
k = { type = "text", collation = "C" }
[tables.child.foreign_keys]
child_later_fk = { columns = ["id"], references = "Odd Table(id)", deferrable = true, initially_deferred = true }
child_id_fkey_unchecked = { columns = ["id"], references = "Odd Table(id)", not_valid = true }
[tables.child.checks]
child_k_short = { expr = "length(k) < 10", not_valid = true }
child_id_check = { expr = "id > 0", not_valid = true }
"#;
        let cat = crate::desired::load::load_sources(vec![("in.toml".into(), src.into())]).unwrap();
        let files = files(&cat, &[]);
        let again = crate::desired::load::load_sources(
            files
                .iter()
                .map(|f| (f.path.display().to_string(), f.text.clone()))
                .collect(),
        )
        .unwrap_or_else(|e| panic!("{e}\n{files:#?}"));
        let changes: Vec<_> = crate::plan::diff::diff(&again, &cat)
            .into_iter()
            .filter(|c| !matches!(c, crate::plan::diff::Change::Unmanaged { .. }))
            .collect();
        assert!(changes.is_empty(), "{changes:#?}\n{files:#?}");
        let t = &files
            .iter()
            .find(|f| f.path.ends_with("Odd_Table.toml"))
            .unwrap()
            .text;
        assert!(
            t.contains("id = { type = \"bigserial\", primary_key = true }"),
            "{t}"
        );
        let child = cat
            .tables
            .get(&crate::model::QualName::new("public", "child"))
            .unwrap();
        assert!(child.checks.iter().all(|c| !c.validated), "{child:#?}");
        assert!(
            child
                .foreign_keys
                .iter()
                .any(|f| f.name == "child_id_fkey_unchecked" && !f.validated),
            "{child:#?}"
        );
    }
}
