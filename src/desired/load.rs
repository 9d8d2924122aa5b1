//! Load the desired schema: every `*.toml` under the schema directory, merged,
//! checked, and turned into the catalog model. Every error names file, line and column.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

mod code;
mod exclusion;
pub mod grants;
pub mod partition;
mod policy;
mod tsconfig;
mod user_types;

use crate::desired::expr;
use crate::desired::types;
use crate::model::grants::{Kind as GrantKind, Target};
use crate::model::names;
use crate::model::{
    Catalog, Check, Column, Domain, EnumType, Expr, Extension, FkAction, ForeignKey, Identity,
    Index, IndexKey, IndexKeyPart, Key, ObjName, Origin, QualName, SeqOptions, Sequence, Serial,
    Sources, Table,
};
use crate::par;

pub use crate::model::Diagnostic;

/// Every problem found in the schema files (at least one).
#[derive(Clone, Debug, thiserror::Error)]
pub struct LoadError(pub Vec<Diagnostic>);

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

// ---- the raw file format (SPEC §2) ----

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    extensions: Vec<Spanned<ShortOrFull<String, RawExtensionFull>>>,
    /// Schemas to exist even when no object of the files lives in them.
    #[serde(default)]
    schemas: Vec<Spanned<String>>,
    /// Patterns of what is never considered (see `exclude`).
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    enums: IndexMap<Spanned<String>, Spanned<RawEnum>>,
    #[serde(default)]
    domains: IndexMap<Spanned<String>, Spanned<RawDomain>>,
    #[serde(default)]
    composite_types: IndexMap<Spanned<String>, Spanned<user_types::RawComposite>>,
    #[serde(default)]
    range_types: IndexMap<Spanned<String>, Spanned<user_types::RawRange>>,
    #[serde(default)]
    collations: IndexMap<Spanned<String>, Spanned<user_types::RawCollation>>,
    #[serde(default)]
    text_search_configurations: IndexMap<Spanned<String>, Spanned<tsconfig::RawTsConfig>>,
    #[serde(default)]
    sequences: IndexMap<Spanned<String>, Spanned<RawSequence>>,
    #[serde(default)]
    tables: IndexMap<Spanned<String>, Spanned<RawTable>>,
    #[serde(default)]
    functions: IndexMap<Spanned<String>, Spanned<code::OneOrMany<code::RawRoutine>>>,
    #[serde(default)]
    procedures: IndexMap<Spanned<String>, Spanned<code::OneOrMany<code::RawRoutine>>>,
    #[serde(default)]
    views: IndexMap<Spanned<String>, Spanned<code::RawView>>,
    #[serde(default)]
    materialized_views: IndexMap<Spanned<String>, Spanned<code::RawView>>,
    /// Privileges on schemas: `[schema_grants.reporting]`.
    #[serde(default)]
    schema_grants: IndexMap<Spanned<String>, grants::RawGrants>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDomain {
    #[serde(rename = "type")]
    ty: Spanned<String>,
    collation: Option<Spanned<String>>,
    #[serde(default)]
    not_null: bool,
    default: Option<Spanned<RawDefault>>,
    check: Option<Spanned<String>>,
    #[serde(default)]
    checks: IndexMap<Spanned<String>, Spanned<String>>,
    comment: Option<String>,
    #[serde(default)]
    grants: grants::RawGrants,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSequence {
    #[serde(rename = "type")]
    ty: Option<Spanned<String>>,
    start: Option<i64>,
    increment: Option<i64>,
    min_value: Option<i64>,
    max_value: Option<i64>,
    cache: Option<i64>,
    #[serde(default)]
    cycle: bool,
    owned_by: Option<Spanned<String>>,
    comment: Option<String>,
    #[serde(default)]
    grants: grants::RawGrants,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnum {
    values: Vec<Spanned<String>>,
    comment: Option<String>,
    #[serde(default)]
    grants: grants::RawGrants,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    comment: Option<String>,
    deprecated: Option<String>,
    row_level_security: Option<bool>,
    force_row_level_security: Option<bool>,
    unlogged: Option<bool>,
    /// Comments on the table's constraints, by constraint name.
    #[serde(default)]
    constraint_comments: IndexMap<Spanned<String>, String>,
    partition_by: Option<Spanned<String>>,
    primary_key: Option<Spanned<ShortOrFull<Vec<String>, RawPrimaryKeyFull>>>,
    #[serde(default)]
    columns: IndexMap<Spanned<String>, Spanned<RawColumn>>,
    #[serde(default)]
    indexes: IndexMap<Spanned<String>, Spanned<RawIndex>>,
    #[serde(default)]
    unique: IndexMap<Spanned<String>, Spanned<ShortOrFull<Vec<String>, RawUniqueFull>>>,
    #[serde(default)]
    checks: IndexMap<Spanned<String>, Spanned<ShortOrFull<String, RawCheckFull>>>,
    #[serde(default)]
    foreign_keys: IndexMap<Spanned<String>, Spanned<RawForeignKey>>,
    #[serde(default)]
    exclusions: IndexMap<Spanned<String>, Spanned<exclusion::RawExclusion>>,
    #[serde(default)]
    triggers: IndexMap<Spanned<String>, Spanned<code::RawTrigger>>,
    #[serde(default)]
    policies: IndexMap<Spanned<String>, Spanned<policy::RawPolicy>>,
    #[serde(default)]
    grants: grants::RawGrants,
    #[serde(default)]
    partitions: IndexMap<Spanned<String>, Spanned<partition::RawPartition>>,
    other_partitions: Option<Spanned<String>>,
}

/// A value written short (a string or a list) or in full (an inline table),
/// told apart by its TOML kind. Unlike an untagged enum, an error inside the
/// full form (an unknown key) is reported as such, at its place.
enum ShortOrFull<S, F> {
    Short(S),
    Full(F),
}

/// What a full form's short form is, for the error on a value of neither kind.
trait FullForm {
    const EXPECTING: &'static str;
}

impl<'de, S: Deserialize<'de>, F: Deserialize<'de> + FullForm> Deserialize<'de>
    for ShortOrFull<S, F>
{
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer, StrDeserializer};
        struct Visitor<S, F>(std::marker::PhantomData<(S, F)>);
        impl<'de, S: Deserialize<'de>, F: Deserialize<'de> + FullForm> serde::de::Visitor<'de>
            for Visitor<S, F>
        {
            type Value = ShortOrFull<S, F>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(F::EXPECTING)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                S::deserialize(StrDeserializer::new(v)).map(ShortOrFull::Short)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                a: A,
            ) -> Result<Self::Value, A::Error> {
                S::deserialize(SeqAccessDeserializer::new(a)).map(ShortOrFull::Short)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                a: A,
            ) -> Result<Self::Value, A::Error> {
                F::deserialize(MapAccessDeserializer::new(a)).map(ShortOrFull::Full)
            }
        }
        d.deserialize_any(Visitor(std::marker::PhantomData))
    }
}

/// A named check in full: `{ expr = "...", not_valid = true }` for a
/// constraint that checks new rows only (added `NOT VALID`, never validated).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheckFull {
    expr: String,
    #[serde(default)]
    not_valid: bool,
    /// NO INHERIT: not passed on to inheriting tables.
    #[serde(default)]
    no_inherit: bool,
}

impl FullForm for RawCheckFull {
    const EXPECTING: &'static str =
        "a SQL expression in a string, or { expr = \"...\", not_valid = true, no_inherit = true }";
}

/// A named unique constraint in full (short: its columns).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUniqueFull {
    columns: Vec<String>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    deferrable: bool,
    #[serde(default)]
    initially_deferred: bool,
    #[serde(default)]
    nulls_not_distinct: bool,
}

impl FullForm for RawUniqueFull {
    const EXPECTING: &'static str = "a list of columns, or { columns = [...], include = [...], \
         deferrable = true, initially_deferred = true, nulls_not_distinct = true }";
}

/// An identity column in full, with the options of its sequence (short:
/// `"always"` or `"by default"`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentityFull {
    generated: String,
    start: Option<i64>,
    increment: Option<i64>,
    min_value: Option<i64>,
    max_value: Option<i64>,
    cache: Option<i64>,
    #[serde(default)]
    cycle: bool,
}

impl FullForm for RawIdentityFull {
    const EXPECTING: &'static str =
        "\"always\", \"by default\", or { generated = \"always\", start = 1, \
         increment = 1, min_value = 1, max_value = 1000, cache = 1, cycle = true }";
}

/// An extension in full: `{ name = "citext", schema = "extensions" }`, for one
/// installed in a schema of its own (short: its name, where CREATE EXTENSION
/// puts it by default).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExtensionFull {
    name: String,
    schema: Option<String>,
}

impl FullForm for RawExtensionFull {
    const EXPECTING: &'static str = "an extension's name, or { name = \"...\", schema = \"...\" }";
}

/// A table's primary key in full (short: its columns).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrimaryKeyFull {
    name: Option<String>,
    columns: Vec<String>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    deferrable: bool,
    #[serde(default)]
    initially_deferred: bool,
}

impl FullForm for RawPrimaryKeyFull {
    const EXPECTING: &'static str = "a list of columns, or { name = \"...\", columns = [...], \
         include = [...], deferrable = true, initially_deferred = true }";
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    #[serde(rename = "type")]
    ty: Spanned<String>,
    collation: Option<Spanned<String>>,
    #[serde(default)]
    not_null: bool,
    default: Option<Spanned<RawDefault>>,
    #[serde(default)]
    primary_key: bool,
    #[serde(default)]
    unique: bool,
    references: Option<Spanned<String>>,
    on_delete: Option<Spanned<String>>,
    on_update: Option<Spanned<String>>,
    check: Option<Spanned<String>>,
    identity: Option<Spanned<ShortOrFull<String, RawIdentityFull>>>,
    generated: Option<Spanned<String>>,
    comment: Option<String>,
    deprecated: Option<String>,
    /// Column privileges (select, insert, update, references).
    #[serde(default)]
    grants: grants::RawGrants,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawDefault {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndex {
    columns: Option<Spanned<Vec<String>>>,
    expression: Option<Spanned<String>>,
    #[serde(default)]
    unique: bool,
    #[serde(rename = "where")]
    predicate: Option<Spanned<String>>,
    using: Option<Spanned<String>>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    nulls_not_distinct: bool,
    comment: Option<String>,
    deprecated: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForeignKey {
    columns: Vec<String>,
    references: Spanned<String>,
    on_delete: Option<Spanned<String>>,
    on_update: Option<Spanned<String>>,
    /// `full` or `simple` (the default).
    #[serde(rename = "match")]
    match_type: Option<Spanned<String>>,
    #[serde(default)]
    deferrable: bool,
    #[serde(default)]
    initially_deferred: bool,
    /// Checks new rows only: added `NOT VALID`, never validated.
    #[serde(default)]
    not_valid: bool,
}

/// A file's text, for turning byte offsets into line and column.
struct Source {
    path: std::sync::Arc<str>,
    /// Shared with the catalog's `Sources`.
    text: std::sync::Arc<str>,
    /// Byte offset where each line starts, so that an origin costs a binary
    /// search, not a scan of the file (one file may hold thousands of tables).
    line_starts: Vec<usize>,
}

impl Source {
    fn new(path: String, text: std::sync::Arc<str>) -> Source {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source {
            path: path.into(),
            text,
            line_starts,
        }
    }

    fn origin(&self, span: std::ops::Range<usize>) -> Origin {
        let at = span.start.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= at);
        let start = self.line_starts[line - 1];
        let column = self.text.get(start..at).map_or(0, |l| l.chars().count()) + 1;
        Origin {
            file: self.path.clone(),
            line,
            column,
        }
    }
}

/// Collects diagnostics while loading.
#[derive(Default)]
struct Errors(Vec<Diagnostic>);

impl Errors {
    /// When `first` holds an earlier definition of `name`, report this one; whether it did.
    fn defined_twice(
        &mut self,
        o: &Origin,
        what: &str,
        name: &QualName,
        first: Option<&Origin>,
    ) -> bool {
        if let Some(prev) = first {
            self.at(
                o,
                format!("{what} `{name}` is defined twice: here and at {prev}"),
            );
        }
        first.is_some()
    }

    fn at(&mut self, o: &Origin, message: impl Into<String>) {
        self.0.push(Diagnostic {
            file: o.file.to_string(),
            line: o.line,
            column: o.column,
            message: message.into(),
        });
    }
}

/// The largest schema file read, in bytes (16 MiB): a file that says it is
/// smaller and is not (a device, a file growing while it is read) is still
/// read no further than one byte past this.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Load every `*.toml` under `dir` (recursively, in path order) and merge them.
/// Only regular files are read (a symbolic link to one is fine), each up to
/// [`MAX_FILE_BYTES`]; a FIFO, a device or a socket named `*.toml` is refused.
pub fn load_dir(dir: &Path) -> Result<Catalog, LoadError> {
    let mut files = Vec::new();
    let mut walked = std::collections::HashSet::new();
    if let Err(e) = collect_toml(dir, &mut files, &mut walked) {
        return Err(LoadError(vec![Diagnostic {
            file: dir.display().to_string(),
            line: 0,
            column: 0,
            message: match e.kind() {
std::io::ErrorKind::NotFound if !dir.exists() => "no such schema directory: the desired schema is \
                     the *.toml files of a directory (on the command line `--schema DIR`, default: ./schema, \
                     under the working directory)"
                    .to_string(),
                std::io::ErrorKind::NotADirectory if !dir.is_dir() => "not a directory: the desired schema is \
                     the *.toml files of a directory (on the command line `--schema DIR`, default: ./schema)"
                    .to_string(),
                _ => format!("cannot read the schema directory: {e}"),
            },
        }]));
    }
    files.sort();
    if files.is_empty() {
        return Err(LoadError(vec![Diagnostic {
            file: dir.display().to_string(),
            line: 0,
            column: 0,
            message: "no schema file (*.toml) here: a desired schema needs at least one; \
                      for a schema with nothing in it, write an empty file (`schema.toml`)"
                .into(),
        }]));
    }
    // Every file is read once, here: its text is kept for the history (the
    // version of the files an apply records), and its TOML is parsed when
    // its tables are built, so thousands of files are never all held parsed.
    let texts = par::map(&files, |f| {
        read_schema_file(f).map(std::sync::Arc::<str>::from)
    });
    let mut pending = Vec::with_capacity(files.len());
    let mut sources = Vec::with_capacity(files.len());
    let mut refused = Vec::new();
    for (f, text) in files.into_iter().zip(texts) {
        let shown = f.display().to_string();
        match text {
            Ok(text) => {
                let relative = f.strip_prefix(dir).unwrap_or(&f);
                sources.push((relative.display().to_string(), text.clone()));
                pending.push(Pending::Text(Source::new(shown, text)));
            }
            Err(why) => refused.push(cannot_read(shown, &why)),
        }
    }
    if !refused.is_empty() {
        return Err(LoadError(refused));
    }
    let mut catalog = load_pending(pending)?;
    sources.sort_by(|a, b| a.0.cmp(&b.0));
    catalog.sources = Some(Sources { files: sources });
    Ok(catalog)
}

fn cannot_read(file: String, why: &str) -> Diagnostic {
    Diagnostic {
        file,
        line: 0,
        column: 0,
        message: format!("cannot read this schema file: {why}"),
    }
}

/// The text of one schema file, or why it is refused: only a regular file
/// (after following symbolic links) of at most [`MAX_FILE_BYTES`] bytes of UTF-8.
/// The file is opened without blocking (a FIFO would wait for a writer) and
/// its type is checked on the opened handle, so that it cannot be swapped
/// between the check and the read.
fn read_schema_file(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err(format!(
            "it is {}, not a regular file; expected a regular TOML file",
            file_kind(&meta)
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "it is not UTF-8 (invalid byte at offset {}); expected a UTF-8 TOML file",
            e.utf8_error().valid_up_to()
        )
    })
}

fn too_big(len: u64) -> String {
    format!(
        "it is larger than the limit of {MAX_FILE_BYTES} bytes (16 MiB) per schema file (at least {len} bytes); split it into several files"
    )
}

/// What a file that is not a regular file is, in words.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// Every `*.toml` under `dir`, recursively. A symbolic link to a directory is
/// followed, but each directory is walked once (`walked`: device and inode),
/// so a link to a parent is no loop.
fn collect_toml(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    walked: &mut std::collections::HashSet<(u64, u64)>,
) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(dir)?;
        if !walked.insert((meta.dev(), meta.ino())) {
            return Ok(());
        }
    }
    #[cfg(not(unix))]
    let _ = &walked;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let ty = entry.file_type()?;
        // A link is a directory when what it points to is one (a dangling
        // link is not: named `*.toml`, it is reported when it is read).
        let is_dir =
            ty.is_dir() || (ty.is_symlink() && std::fs::metadata(&path).is_ok_and(|m| m.is_dir()));
        if is_dir {
            collect_toml(&path, out, walked)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Load from in-memory files: `(path shown in errors, TOML text)`, merged in the given order.
/// The catalog's `sources` are these files, in path order.
pub fn load_sources(files: Vec<(String, String)>) -> Result<Catalog, LoadError> {
    let mut sources: Vec<(String, std::sync::Arc<str>)> = files
        .into_iter()
        .map(|(path, text)| (path, text.into()))
        .collect();
    let mut catalog = load_pending(
        sources
            .iter()
            .map(|(path, text)| Pending::Text(Source::new(path.clone(), text.clone())))
            .collect(),
    )?;
    sources.sort_by(|a, b| a.0.cmp(&b.0));
    catalog.sources = Some(Sources { files: sources });
    Ok(catalog)
}

/// A schema file on its way to tables.
enum Pending {
    /// Parsed (it may define more than tables).
    Parsed(Source, Result<Box<RawFile>, Diagnostic>),
    /// Its text, parsed when its tables are built.
    Text(Source),
}

fn load_pending(mut files: Vec<Pending>) -> Result<Catalog, LoadError> {
    // The files that may define more than tables are parsed first: tables need
    // their types. Every other file is parsed when its tables are built, and
    // freed as soon as they are (a schema of thousands of files is never held
    // as TOML all at once).
    let early: Vec<usize> = (0..files.len())
        .filter(
            |&i| matches!(&files[i], Pending::Text(src) if may_define_more_than_tables(&src.text)),
        )
        .collect();
    let parsed = par::map(&early, |&i| match &files[i] {
        Pending::Text(src) => Some(parse_file(src)),
        _ => None,
    });
    for (&i, raw) in early.iter().zip(parsed) {
        let placeholder = Pending::Text(Source::new(String::new(), "".into()));
        files[i] = match (std::mem::replace(&mut files[i], placeholder), raw) {
            (Pending::Text(src), Some(raw)) => Pending::Parsed(src, raw.map(Box::new)),
            (other, _) => other,
        };
    }
    let mut errors = Errors::default();
    let catalog = build(files, &mut errors);
    // This thread's parsed expressions (the others' went with their threads).
    PARSED.with(|c| c.take());
    match catalog {
        Ok(catalog) if errors.0.is_empty() => Ok(catalog),
        Ok(_) => Err(LoadError(errors.0)),
        Err(unparsed) => Err(LoadError(unparsed)),
    }
}

/// Whether a file's text may define something other than tables (extensions,
/// enums, domains, sequences): their keys spelled out, or escapes in it (a
/// quoted key may spell a name with escapes).
fn may_define_more_than_tables(text: &str) -> bool {
    [
        "extensions",
        "schemas",
        "exclude",
        "enums",
        "domains",
        "composite_types",
        "range_types",
        "collations",
        "text_search_configurations",
        "sequences",
        "functions",
        "procedures",
        "views",
        "\\",
    ]
    .iter()
    .any(|k| text.contains(k))
}

fn parse_file(src: &Source) -> Result<RawFile, Diagnostic> {
    let at = |span: std::ops::Range<usize>, message: String| {
        let o = src.origin(span);
        Diagnostic {
            file: o.file.to_string(),
            line: o.line,
            column: o.column,
            message,
        }
    };
    let doc = toml::de::DeTable::parse(&src.text)
        .map_err(|e| at(e.span().unwrap_or(0..0), toml_message(&e)))?;
    if let Some(span) = first_nul(&doc) {
        return Err(at(
            span,
            "this string holds a NUL character (\\u0000), which PostgreSQL cannot store in any name, value or text; expected a string without it".into(),
        ));
    }
    RawFile::deserialize(toml::de::Deserializer::from(doc))
        .map_err(|e| at(e.span().unwrap_or(0..0), toml_message(&e)))
}

/// The span of the first key or string of the document that holds a NUL
/// character (only an escape can write one). Every string of the files
/// reaches PostgreSQL (as a name, a value, SQL or the recorded files), and its
/// protocol cannot carry a NUL. Walked with a stack: nesting is not recursion.
fn first_nul(doc: &Spanned<toml::de::DeTable<'_>>) -> Option<std::ops::Range<usize>> {
    use toml::de::DeValue;
    let mut stack: Vec<&Spanned<DeValue<'_>>> = Vec::new();
    let mut tables = vec![doc.get_ref()];
    loop {
        for table in tables.drain(..) {
            for (k, v) in table.iter() {
                if k.get_ref().contains('\0') {
                    return Some(k.span());
                }
                stack.push(v);
            }
        }
        let v = stack.pop()?;
        match v.get_ref() {
            DeValue::String(s) if s.contains('\0') => return Some(v.span()),
            DeValue::Array(a) => stack.extend(a.iter()),
            DeValue::Table(t) => tables.push(t),
            _ => {}
        }
    }
}

fn toml_message(e: &toml::de::Error) -> String {
    let m = e.message().trim().to_string();
    let m = m
        .replace("unknown field", "unknown key")
        .replace("missing field", "missing key");
    if m.contains("did not match any variant of untagged enum RawDefault") {
        return "bad default: expected a SQL expression in a string, or a number or boolean".into();
    }
    m
}

/// The parts of a dotted name of the files, in exact case: a part in double
/// quotes is taken as written (`""` for a quote) and may hold dots.
fn name_parts(s: &str) -> Result<Vec<String>, String> {
    types::ident_parts(s, false)
}

/// The name of one part (`name`, public) or two (`schema.name`), none empty.
fn name_of_parts(parts: &[String]) -> Option<QualName> {
    if parts.iter().any(String::is_empty) {
        return None;
    }
    match parts {
        [name] => Some(QualName::new("public", name.clone())),
        [schema, name] => Some(QualName::new(schema.clone(), name.clone())),
        _ => None,
    }
}

/// `name`, `schema.name`, or with a part that holds a dot in double quotes:
/// `"v1.events"`, `"my.schema".t` (exact case; default schema public).
fn qualified(s: &str) -> Result<QualName, String> {
    let parts = name_parts(s)?;
    name_of_parts(&parts).ok_or_else(|| {
        if parts.iter().any(String::is_empty) {
            format!("empty name in `{s}`: expected `name` or `schema.name`")
        } else {
            format!(
                "`{s}` has more than one dot outside quotes: expected `name` or `schema.name`; \
                 write a name that holds a dot in double quotes, as in `\"v1.events\"` or `public.\"v1.events\"`"
            )
        }
    })
}

/// `qualified`, its error reported at `o` (then `None`).
fn qualified_at(errors: &mut Errors, o: &Origin, s: &str) -> Option<QualName> {
    qualified(s).map_err(|m| errors.at(o, m)).ok()
}

/// `table.column` or `schema.table.column` (quote-aware, see `name_parts`).
fn owned_by(s: &str) -> Option<(QualName, String)> {
    let mut parts = name_parts(s).ok()?;
    let column = parts.pop().filter(|c| !c.is_empty())?;
    Some((name_of_parts(&parts)?, column))
}

/// `table(col, ...)` or `schema.table(col, ...)`.
fn parse_reference(s: &str) -> Result<(QualName, Vec<String>), String> {
    let s = s.trim();
    let open = s
        .find('(')
        .ok_or_else(|| format!("bad reference `{s}`: expected `table(column)`"))?;
    let close = s
        .strip_suffix(')')
        .ok_or_else(|| format!("bad reference `{s}`: expected `table(column)`"))?;
    let table = s[..open].trim();
    let cols: Vec<String> = close[open + 1..]
        .split(',')
        .map(|c| c.trim().to_string())
        .collect();
    if table.is_empty() || cols.iter().any(|c| c.is_empty()) {
        return Err(format!("bad reference `{s}`: expected `table(column)`"));
    }
    Ok((qualified(table)?, cols))
}

/// `on_delete` / `on_update`: the action, without the column list of
/// `set null (col, ...)` (see `fk_action_columns`).
fn fk_action(errors: &mut Errors, src: &Source, v: &Option<Spanned<String>>) -> FkAction {
    match v {
        None => FkAction::NoAction,
        Some(s) => {
            let action = s.get_ref().split('(').next().unwrap_or_default();
            FkAction::parse(action).unwrap_or_else(|| {
                errors.at(
                    &src.origin(s.span()),
                    format!(
                        "unknown action `{}`: expected cascade, restrict, set null, set default or no action",
                        s.get_ref()
                    ),
                );
                FkAction::NoAction
            })
        }
    }
}

/// `on_update`: an action, which takes no column list (PostgreSQL has none for ON UPDATE).
fn fk_update_action(errors: &mut Errors, src: &Source, v: &Option<Spanned<String>>) -> FkAction {
    if let Some(s) = v.as_ref().filter(|s| s.get_ref().contains('(')) {
        errors.at(
            &src.origin(s.span()),
            format!(
                "bad on_update `{}`: a column list is for on_delete only (ON DELETE SET NULL (column, ...))",
                s.get_ref()
            ),
        );
        return FkAction::NoAction;
    }
    fk_action(errors, src, v)
}

/// The columns of `set null (col, ...)` / `set default (col, ...)` in an
/// `on_delete` (PostgreSQL 15): each one of the foreign key's own columns.
/// An `on_update` has no column list, which `fk_action` reports.
fn fk_action_columns(
    errors: &mut Errors,
    src: &Source,
    v: &Option<Spanned<String>>,
    fk_columns: &[String],
) -> Vec<String> {
    let Some(s) = v else {
        return Vec::new();
    };
    let Some((action, rest)) = s.get_ref().split_once('(') else {
        return Vec::new();
    };
    let at = src.origin(s.span());
    if !matches!(
        FkAction::parse(action),
        Some(FkAction::SetNull | FkAction::SetDefault)
    ) {
        errors.at(
            &at,
            format!(
                "bad action `{}`: only set null and set default take a column list",
                s.get_ref()
            ),
        );
        return Vec::new();
    }
    let Some(list) = rest.trim_end().strip_suffix(')') else {
        errors.at(
            &at,
            format!(
                "bad action `{}`: expected `set null (column, ...)`",
                s.get_ref()
            ),
        );
        return Vec::new();
    };
    let columns: Vec<String> = list.split(',').map(|c| c.trim().to_string()).collect();
    for c in &columns {
        if !fk_columns.contains(c) {
            errors.at(
                &at,
                format!(
                    "column `{c}` of `{}` is not a column of the foreign key ({})",
                    s.get_ref(),
                    fk_columns.join(", ")
                ),
            );
        }
    }
    columns
}

/// `match = "full"` or `"simple"` (PostgreSQL does not implement MATCH PARTIAL).
fn fk_match_full(errors: &mut Errors, src: &Source, v: &Option<Spanned<String>>) -> bool {
    let Some(s) = v else {
        return false;
    };
    match s.get_ref().trim().to_ascii_lowercase().as_str() {
        "full" => true,
        "simple" => false,
        _ => {
            errors.at(
                &src.origin(s.span()),
                format!("unknown match `{}`: expected full or simple", s.get_ref()),
            );
            false
        }
    }
}

/// An expression of the files, parsed: what `expr::from_files` makes, and
/// whether it is a bare word or NULL (for defaults).
#[derive(Clone)]
struct ParsedExpr {
    expr: Expr,
    bare_word: bool,
    null: bool,
}

std::thread_local! {
    /// Expressions of the files by text, each parsed once per thread while
    /// loading: thousands of tables share `now()`, `0` or the same check.
    static PARSED: std::cell::RefCell<HashMap<String, Result<ParsedExpr, String>>> =
        std::cell::RefCell::new(HashMap::new());
}

/// `sql` parsed (see `PARSED`).
fn parse_cached(sql: &str) -> Result<ParsedExpr, String> {
    if let Some(p) = PARSED.with(|c| c.borrow().get(sql).cloned()) {
        return p;
    }
    let parsed = expr::parse_one(sql).map(|ast| ParsedExpr {
        bare_word: expr::is_bare_word(&ast),
        null: matches!(&ast, sqlparser::ast::Expr::Value(v) if v.value == sqlparser::ast::Value::Null),
        expr: Expr {
            sql: ast.to_string(),
            key: expr::normalize_ast(ast),
        },
    });
    PARSED.with(|c| c.borrow_mut().insert(sql.to_string(), parsed.clone()));
    parsed
}

fn parse_expr_at(
    errors: &mut Errors,
    src: &Source,
    s: &Spanned<String>,
    what: &str,
) -> Option<Expr> {
    match parse_cached(s.get_ref()).map(|p| p.expr) {
        Ok(e) => Some(e),
        Err(msg) => {
            errors.at(
                &src.origin(s.span()),
                format!("bad {what} `{}`: {msg}", s.get_ref()),
            );
            None
        }
    }
}

/// An index column entry: `name`, `name DESC`, `name NULLS FIRST`, ...
/// An entry of an index's `columns`:
/// `column|(expression) [COLLATE collation] [opclass] [ASC|DESC] [NULLS FIRST|NULLS LAST]`.
/// A column name with spaces or capitals can be written in double quotes.
fn parse_index_key(entry: &str) -> Result<IndexKey, String> {
    let expected = || {
        format!("bad index column `{entry}`: expected `column [COLLATE collation] [opclass] [ASC|DESC] [NULLS FIRST|NULLS LAST]`, or an expression in parentheses")
    };
    let t = entry.trim();
    let (part, rest) = if t.starts_with('(') {
        let close = closing_paren(t).ok_or_else(expected)?;
        let ast = expr::parse_one(&t[1..close])
            .map_err(|m| format!("bad index expression `{}`: {m}", &t[1..close]))?;
        (key_part(ast), &t[close + 1..])
    } else if let Some(quoted) = t.strip_prefix('"') {
        let (name, rest) = split_quoted(quoted).ok_or_else(expected)?;
        (IndexKeyPart::Column(name), rest)
    } else {
        let end = t.find(char::is_whitespace).unwrap_or(t.len());
        if end == 0 {
            return Err("empty column name".into());
        }
        (IndexKeyPart::Column(t[..end].to_string()), &t[end..])
    };
    let words: Vec<&str> = rest.split_whitespace().collect();
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let mut i = 0;
    let mut key = IndexKey::new(part);
    if upper.get(i).map(String::as_str) == Some("COLLATE") {
        let name = words.get(i + 1).ok_or_else(expected)?;
        key.collation = Some(Box::new(ObjName::parse(name.trim_matches('"'))));
        i += 2;
    }
    if let Some(w) = upper.get(i) {
        if !matches!(w.as_str(), "ASC" | "DESC" | "NULLS") {
            key.opclass = Some(Box::new(ObjName::parse(words[i])));
            i += 1;
        }
    }
    match upper.get(i).map(String::as_str) {
        Some("DESC") => {
            key.desc = true;
            i += 1;
        }
        Some("ASC") => i += 1,
        _ => {}
    }
    let tail: Vec<&str> = upper[i..].iter().map(String::as_str).collect();
    key.nulls_first = match tail.as_slice() {
        [] => key.desc,
        ["NULLS", "FIRST"] => true,
        ["NULLS", "LAST"] => false,
        _ => return Err(expected()),
    };
    Ok(key)
}

/// An index element as an exclusion constraint writes it and PostgreSQL
/// prints it: an index's `columns` entry, or a function call without
/// parentheses around it (`lower(name) text_ops`), read as `(lower(name))`.
pub(crate) fn parse_index_element(entry: &str) -> Result<IndexKey, String> {
    let t = entry.trim();
    let word_end = t.find(char::is_whitespace).unwrap_or(t.len());
    match t[..word_end].find('(') {
        Some(open) if open > 0 && !t.starts_with('"') => {
            let close = closing_paren(&t[open..])
                .ok_or_else(|| format!("bad index element `{entry}`: a `(` is never closed"))?
                + open;
            parse_index_key(&format!("({}){}", &t[..=close], &t[close + 1..]))
        }
        _ => parse_index_key(t),
    }
}

/// A bare column name in an expression list is a column key, as PostgreSQL stores it.
fn key_part(ast: sqlparser::ast::Expr) -> IndexKeyPart {
    match ast {
        sqlparser::ast::Expr::Identifier(id) => IndexKeyPart::Column(if id.quote_style.is_some() {
            id.value
        } else {
            id.value.to_lowercase()
        }),
        sqlparser::ast::Expr::Nested(inner) => key_part(*inner),
        ast => IndexKeyPart::Expression(Expr {
            sql: ast.to_string(),
            key: expr::normalize_ast(ast),
        }),
    }
}

/// The byte index of the parenthesis that closes the one `s` starts with
/// (quotes respected).
fn closing_paren(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `name"rest` (after an opening quote; `""` is a quote inside the name) -> (name, rest).
fn split_quoted(s: &str) -> Option<(String, &str)> {
    let mut name = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '"' {
            if let Some((_, '"')) = chars.peek() {
                name.push('"');
                chars.next();
            } else {
                return Some((name, &s[i + 1..]));
            }
        } else {
            name.push(c);
        }
    }
    None
}

const INDEX_METHODS: &[&str] = &["btree", "hash", "gist", "spgist", "gin", "brin"];

/// The catalog of the files; or, when some file cannot be read or is not
/// valid TOML, what is wrong with each such file (and nothing else).
fn build(files: Vec<Pending>, errors: &mut Errors) -> Result<Catalog, Vec<Diagnostic>> {
    let mut cat = Catalog::default();
    let work = files;
    // Only the files parsed first can define anything but tables.
    let files: Vec<(&Source, &RawFile)> = work
        .iter()
        .filter_map(|f| match f {
            Pending::Parsed(src, Ok(raw)) => Some((src, &**raw)),
            _ => None,
        })
        .collect();
    // name -> origin of its first definition, for "defined twice" errors.
    let mut enum_origin: HashMap<QualName, Origin> = HashMap::new();

    // Pass 1: extensions and enums, so that column types can refer to them.
    for &(src, raw) in &files {
        for ext in &raw.extensions {
            let o = src.origin(ext.span());
            let (name, schema) = match ext.get_ref() {
                ShortOrFull::Short(n) => (n.clone(), None),
                ShortOrFull::Full(f) => (f.name.clone(), f.schema.clone()),
            };
            // Listing an extension in two files is harmless.
            if cat.extensions.contains_key(&name) {
                continue;
            }
            cat.extensions.insert(
                name.clone(),
                Extension {
                    name,
                    schema,
                    origin: Some(o),
                },
            );
        }
        for schema in &raw.schemas {
            let name = schema.get_ref();
            if name.is_empty() || name.len() > names::MAX_IDENT_BYTES {
                errors.at(
                    &src.origin(schema.span()),
                    format!(
                        "bad schema name `{name}`: expected 1 to {} bytes",
                        names::MAX_IDENT_BYTES
                    ),
                );
            } else if name != "public" {
                cat.schemas.insert(name.clone());
            }
        }
        for (schema, g) in &raw.schema_grants {
            let name = schema.get_ref();
            if name != "public" {
                cat.schemas.insert(name.clone());
            }
            let target = Target::Schema(name.clone());
            cat.grants
                .extend(grants::build(src, &target, GrantKind::Schema, g, errors));
        }
        for pattern in &raw.exclude {
            let o = src.origin(pattern.span());
            match crate::model::exclude::Pattern::parse(pattern.get_ref()) {
                Ok(mut p) => {
                    p.origin = Some(o);
                    cat.exclude.push(p);
                }
                Err(m) => errors.at(&o, m),
            }
        }
        for (key, e) in &raw.enums {
            let o = src.origin(key.span());
            let Some(name) = qualified_at(errors, &o, key.get_ref()) else {
                continue;
            };
            if errors.defined_twice(&o, "enum", &name, enum_origin.get(&name)) {
                continue;
            }
            let e = e.get_ref();
            let mut values: Vec<String> = Vec::new();
            let mut seen = std::collections::HashSet::with_capacity(e.values.len());
            for v in &e.values {
                if v.get_ref().len() > names::MAX_IDENT_BYTES {
                    errors.at(
                        &src.origin(v.span()),
                        format!(
                            "enum `{name}`: the value `{}` is {} bytes long; PostgreSQL allows at most {} bytes in an enum label",
                            v.get_ref(),
                            v.get_ref().len(),
                            names::MAX_IDENT_BYTES
                        ),
                    );
                }
                if !seen.insert(v.get_ref().as_str()) {
                    errors.at(
                        &src.origin(v.span()),
                        format!("enum `{name}` lists the value `{}` twice", v.get_ref()),
                    );
                }
                values.push(v.get_ref().clone());
            }
            if values.is_empty() {
                errors.at(&o, format!("enum `{name}` has no values"));
            }
            enum_origin.insert(name.clone(), o.clone());
            cat.grants.extend(grants::build(
                src,
                &Target::Type(name.clone()),
                GrantKind::Type,
                &e.grants,
                errors,
            ));
            cat.enums.insert(
                name.clone(),
                EnumType {
                    name,
                    values,
                    comment: e.comment.clone(),
                    origin: Some(o),
                },
            );
        }
    }

    // Composite and range types, declared by name first: domains, columns
    // and each other may use them in any order (`user_types`).
    let mut user_type_origin: HashMap<QualName, Origin> = HashMap::new();
    for &(src, raw) in &files {
        for (key, c) in &raw.collations {
            let o = src.origin(key.span());
            let Some(name) = qualified_at(errors, &o, key.get_ref()) else {
                continue;
            };
            if let Some(first) = cat.collations.get(&name) {
                let first = first.origin.clone();
                errors.defined_twice(&o, "collation", &name, first.as_ref());
                continue;
            }
            if let Some(c) = user_types::build_collation(src, name.clone(), o, c.get_ref(), errors)
            {
                cat.collations.insert(name, c);
            }
        }
        for (key, c) in &raw.text_search_configurations {
            let o = src.origin(key.span());
            let Some(name) = qualified_at(errors, &o, key.get_ref()) else {
                continue;
            };
            if let Some(first) = cat.ts_configs.get(&name) {
                let first = first.origin.clone();
                errors.defined_twice(&o, "text search configuration", &name, first.as_ref());
                continue;
            }
            if let Some(c) = tsconfig::build_ts_config(src, name.clone(), o, c.get_ref(), errors) {
                cat.ts_configs.insert(name, c);
            }
        }
        for (key, c) in &raw.composite_types {
            let o = src.origin(key.span());
            let Some(name) = qualified_at(errors, &o, key.get_ref()) else {
                continue;
            };
            let first = user_type_origin
                .get(&name)
                .or_else(|| enum_origin.get(&name));
            if errors.defined_twice(&o, "type", &name, first) {
                continue;
            }
            user_type_origin.insert(name.clone(), o.clone());
            let c = user_types::declare_composite(name.clone(), o, c.get_ref());
            cat.composite_types.insert(name, c);
        }
        for (key, r) in &raw.range_types {
            let o = src.origin(key.span());
            let Some(name) = qualified_at(errors, &o, key.get_ref()) else {
                continue;
            };
            let first = user_type_origin
                .get(&name)
                .or_else(|| enum_origin.get(&name));
            if errors.defined_twice(&o, "type", &name, first) {
                continue;
            }
            let r = user_types::declare_range(src, name.clone(), o.clone(), r.get_ref(), errors);
            let multi = r.multirange();
            if let Some(first) = user_type_origin
                .get(&multi)
                .or_else(|| enum_origin.get(&multi))
            {
                errors.at(&o, format!("range type `{name}` comes with the multirange type `{multi}`, which is defined at {first} too; name the multirange with `multirange_type_name`"));
            }
            user_type_origin.insert(name.clone(), o.clone());
            user_type_origin.insert(multi, o);
            cat.range_types.insert(name, r);
        }
    }

    // Domains (over built-in types, enums, or earlier domains) and sequences.
    let mut domain_origin: HashMap<QualName, Origin> = HashMap::new();
    let mut sequence_origin: HashMap<QualName, Origin> = HashMap::new();
    for &(src, raw) in &files {
        for (key, d) in &raw.domains {
            let o = src.origin(key.span());
            let Some(name) = qualified_at(errors, &o, key.get_ref()) else {
                continue;
            };
            if errors.defined_twice(
                &o,
                "type",
                &name,
                domain_origin
                    .get(&name)
                    .or_else(|| enum_origin.get(&name))
                    .or_else(|| user_type_origin.get(&name)),
            ) {
                continue;
            }
            domain_origin.insert(name.clone(), o.clone());
            cat.grants.extend(grants::build(
                src,
                &Target::Type(name.clone()),
                GrantKind::Type,
                &d.get_ref().grants,
                errors,
            ));
            if let Some(domain) = build_domain(&cat, src, name.clone(), o, d.get_ref(), errors) {
                cat.domains.insert(name, domain);
            }
        }
        for (key, q) in &raw.sequences {
            let o = src.origin(key.span());
            let Some(name) = qualified_at(errors, &o, key.get_ref()) else {
                continue;
            };
            if errors.defined_twice(&o, "sequence", &name, sequence_origin.get(&name)) {
                continue;
            }
            sequence_origin.insert(name.clone(), o.clone());
            cat.grants.extend(grants::build(
                src,
                &Target::Sequence(name.clone()),
                GrantKind::Sequence,
                &q.get_ref().grants,
                errors,
            ));
            let seq = build_sequence(src, name.clone(), o, q.get_ref(), errors);
            cat.sequences.insert(name, seq);
        }
        for (section, procedure) in [(&raw.functions, false), (&raw.procedures, true)] {
            for (key, all) in section {
                let Some(name) = qualified_at(errors, &src.origin(key.span()), key.get_ref())
                else {
                    continue;
                };
                for (span, r) in all.get_ref().iter() {
                    let o = src.origin(span.unwrap_or_else(|| key.span()));
                    let Some(routine) =
                        code::build_routine(src, name.clone(), o.clone(), r, procedure, errors)
                    else {
                        continue;
                    };
                    if let Some(first) = cat.routines.get(&routine.id) {
                        errors.at(
                            &o,
                            format!(
                                "{} `{}` is defined twice: here and at {}",
                                routine.kind(),
                                routine.id,
                                first
                                    .origin
                                    .as_ref()
                                    .map_or(String::new(), |o| o.to_string())
                            ),
                        );
                        continue;
                    }
                    cat.grants.extend(grants::build(
                        src,
                        &Target::Routine(routine.id.clone()),
                        GrantKind::Routine,
                        &r.grants,
                        errors,
                    ));
                    cat.routines.insert(routine.id.clone(), routine);
                }
            }
        }
        for (section, materialized) in [(&raw.views, false), (&raw.materialized_views, true)] {
            for (key, v) in section {
                let o = src.origin(key.span());
                let Some(name) = qualified_at(errors, &o, key.get_ref()) else {
                    continue;
                };
                if let Some(first) = cat.views.get(&name) {
                    let first = first.origin.clone();
                    errors.defined_twice(&o, "view", &name, first.as_ref());
                    continue;
                }
                let kind = if materialized {
                    GrantKind::MaterializedView
                } else {
                    GrantKind::View
                };
                let target = Target::Relation(name.clone());
                cat.grants.extend(grants::build(
                    src,
                    &target,
                    kind,
                    &v.get_ref().grants,
                    errors,
                ));
                if let Some(view) =
                    code::build_view(src, name.clone(), o, v.get_ref(), materialized, errors)
                {
                    cat.views.insert(name, view);
                }
            }
        }
    }

    // The attribute types and subtypes, now that every type is known.
    for &(src, raw) in &files {
        for (key, c) in &raw.composite_types {
            let Ok(name) = qualified(key.get_ref()) else {
                continue;
            };
            if user_type_origin.get(&name) != Some(&src.origin(key.span())) {
                continue;
            }
            let attributes = user_types::build_composite(&cat, src, &name, c.get_ref(), errors);
            if let Some(c) = cat.composite_types.get_mut(&name) {
                c.attributes = attributes;
            }
        }
        for (key, r) in &raw.range_types {
            let Ok(name) = qualified(key.get_ref()) else {
                continue;
            };
            if user_type_origin.get(&name) != Some(&src.origin(key.span())) {
                continue;
            }
            match user_types::build_range(&cat, src, &name, r.get_ref(), errors) {
                Some(subtype) => {
                    if let Some(r) = cat.range_types.get_mut(&name) {
                        r.subtype = subtype;
                    }
                }
                None => {
                    cat.range_types.shift_remove(&name);
                }
            }
        }
    }

    drop(files);

    // Pass 2: tables, file by file on all cores (each needs only the types
    // above); each file's text and TOML are freed once its tables are built.
    let cat_ref = &cat;
    let built = par::map_owned(work, |file| {
        let (src, raw) = match file {
            Pending::Parsed(src, raw) => (src, *raw?),
            Pending::Text(src) => {
                let raw = parse_file(&src)?;
                (src, raw)
            }
        };
        let src = &src;
        let tables: Vec<_> = raw.tables.into_iter().collect();
        Ok(par::map_owned(tables, |(key, t)| {
            let o = src.origin(key.span());
            let mut found = Errors::default();
            // A bad name is reported; the table is still read for its own errors.
            let name = qualified(key.get_ref()).unwrap_or_else(|m| {
                found.at(&o, m);
                QualName::new("", key.get_ref().clone())
            });
            let table = build_table(
                cat_ref,
                src,
                name.clone(),
                o.clone(),
                t.get_ref(),
                &mut found,
            );
            let t = t.get_ref();
            let mut granted = grants::build(
                src,
                &Target::Relation(name.clone()),
                GrantKind::Table,
                &t.grants,
                &mut found,
            );
            for (column, c) in &t.columns {
                let target = Target::Column(name.clone(), column.get_ref().clone());
                granted.extend(grants::build(
                    src,
                    &target,
                    GrantKind::Column,
                    &c.get_ref().grants,
                    &mut found,
                ));
            }
            (name, o, table, found, granted)
        }))
    });
    let mut unparsed = Vec::new();
    let mut tables = Vec::new();
    for file in built {
        match file {
            Ok(t) => tables.push(t),
            Err(d) => unparsed.push(d),
        }
    }
    if !unparsed.is_empty() {
        return Err(unparsed);
    }
    // In file order: the first definition of a table is the one kept.
    let mut table_origin: HashMap<QualName, Origin> = HashMap::new();
    for (name, o, table, found, granted) in tables.into_iter().flatten() {
        if errors.defined_twice(&o, "table", &name, table_origin.get(&name)) {
            continue;
        }
        table_origin.insert(name.clone(), o);
        errors.0.extend(found.0);
        cat.grants.extend(granted);
        cat.tables.insert(name, table);
    }

    // Pass 3: what needs every table: references, and names unique per schema.
    check_references(&cat, errors);
    check_relation_names(&cat, errors);
    check_name_lengths(&cat, errors);
    errors
        .0
        .extend(crate::model::exclude::conflicts(&cat, &cat.exclude));

    for name in cat
        .tables
        .keys()
        .chain(cat.enums.keys())
        .chain(cat.domains.keys())
        .chain(cat.composite_types.keys())
        .chain(cat.range_types.keys())
        .chain(cat.collations.keys())
        .chain(cat.ts_configs.keys())
        .chain(cat.sequences.keys())
        .chain(cat.views.keys())
        .chain(cat.routines.keys().map(|r| &r.name))
    {
        if name.schema != "public" {
            cat.schemas.insert(name.schema.clone());
        }
    }
    let partition_schemas: Vec<String> = cat
        .tables
        .values()
        .flat_map(|t| crate::model::partition::walk(&t.name, &t.partitions))
        .map(|(_, p)| p.name.schema.clone())
        .filter(|s| s != "public")
        .collect();
    cat.schemas.extend(partition_schemas);
    for schema in cat.extensions.values().filter_map(|e| e.schema.as_ref()) {
        if schema != "public" && schema != "pg_catalog" {
            cat.schemas.insert(schema.clone());
        }
    }
    Ok(cat)
}

fn build_domain(
    cat: &Catalog,
    src: &Source,
    name: QualName,
    origin: Origin,
    raw: &RawDomain,
    errors: &mut Errors,
) -> Option<Domain> {
    let parsed = match resolve_type(cat, raw.ty.get_ref()) {
        Ok(p) if p.serial.is_none() => p,
        Ok(_) => {
            errors.at(
                &src.origin(raw.ty.span()),
                "a domain cannot be serial: use an integer type",
            );
            return None;
        }
        Err(msg) => {
            errors.at(&src.origin(raw.ty.span()), msg);
            return None;
        }
    };
    let mut checks = Vec::new();
    if let Some(c) = &raw.check {
        if let Some(e) = parse_expr_at(errors, src, c, "check") {
            checks.push(Check {
                name: names::check_name(&name.name, None),
                expr: e,
                validated: true,
                no_inherit: false,
                origin: Some(src.origin(c.span())),
            });
        }
    }
    for (k, c) in &raw.checks {
        if let Some(e) = parse_expr_at(errors, src, c, "check") {
            checks.push(Check {
                name: k.get_ref().clone(),
                expr: e,
                validated: true,
                no_inherit: false,
                origin: Some(src.origin(k.span())),
            });
        }
    }
    checks.sort_by(|a, b| a.name.cmp(&b.name));
    Some(Domain {
        name,
        ty: parsed.canonical,
        collation: raw.collation.as_ref().map(|c| ObjName::parse(c.get_ref())),
        not_null: raw.not_null,
        default: raw
            .default
            .as_ref()
            .and_then(|d| parse_default(errors, &src.origin(d.span()), d.get_ref())),
        checks,
        comment: raw.comment.clone(),
        origin: Some(origin),
    })
}

fn build_sequence(
    src: &Source,
    name: QualName,
    origin: Origin,
    raw: &RawSequence,
    errors: &mut Errors,
) -> Sequence {
    let ty =
        raw.ty.as_ref().and_then(
            |t| match types::parse_type(t.get_ref()).map(|p| p.canonical) {
                Ok(c) if matches!(c.as_str(), "smallint" | "integer" | "bigint") => {
                    (c != "bigint").then_some(c)
                }
                _ => {
                    errors.at(
                        &src.origin(t.span()),
                        format!(
                            "bad sequence type `{}`: expected smallint, integer or bigint",
                            t.get_ref()
                        ),
                    );
                    None
                }
            },
        );
    if raw.increment == Some(0) {
        errors.at(&origin, "a sequence's increment cannot be 0");
    }
    let owned_by = raw
        .owned_by
        .as_ref()
        .and_then(|o| match owned_by(o.get_ref()) {
            Some(pair) => Some(pair),
            None => {
                errors.at(
                    &src.origin(o.span()),
                    format!("bad owned_by `{}`: expected `table.column`", o.get_ref()),
                );
                None
            }
        });
    let options = SeqOptions {
        start: raw.start,
        increment: raw.increment,
        min_value: raw.min_value,
        max_value: raw.max_value,
        cache: raw.cache,
        cycle: raw.cycle,
    }
    .normalized(ty.as_deref().unwrap_or("bigint"));
    Sequence {
        name,
        ty,
        options,
        owned_by,
        comment: raw.comment.clone(),
        origin: Some(origin),
    }
}

fn build_table(
    cat: &Catalog,
    src: &Source,
    name: QualName,
    origin: Origin,
    raw: &RawTable,
    errors: &mut Errors,
) -> Table {
    let mut table = Table::new(name.clone());
    table.origin = Some(origin.clone());
    table.comment = raw.comment.clone();
    table.deprecated = raw.deprecated.clone();
    table.row_level_security = raw.row_level_security;
    table.force_row_level_security = raw.force_row_level_security;
    table.unlogged = raw.unlogged;
    // The columns the partition key names, checked once the columns are known.
    let mut partition_key_columns = Vec::new();
    if let Some(p) = &raw.partition_by {
        match expr::parse_partition_key_with_columns(p.get_ref()) {
            Ok((e, columns)) => {
                table.partition_by = Some(e);
                partition_key_columns = columns;
            }
            Err(m) => errors.at(&src.origin(p.span()), m),
        }
    }
    table.partitions = partition::build_partitions(
        src,
        &name,
        table.partition_by.as_ref(),
        &raw.partitions,
        errors,
    );
    table.other_partitions = partition::other_partitions(
        src,
        &raw.other_partitions,
        raw.partition_by.is_some(),
        errors,
    );
    let tname = name.name.clone();
    let mut pk_columns: Vec<(String, Origin)> = Vec::new();
    // The constraint names of the table, for choosing implicit ones as
    // PostgreSQL does (a taken name gets its label numbered: `_check1`).
    let mut used_names: std::collections::HashSet<String> = raw
        .checks
        .keys()
        .chain(raw.unique.keys())
        .chain(raw.foreign_keys.keys())
        .map(|k| k.get_ref().clone())
        .collect();
    table.columns.reserve_exact(raw.columns.len());
    table.indexes.reserve_exact(raw.indexes.len());
    let on_columns =
        |f: fn(&RawColumn) -> bool| raw.columns.values().filter(|c| f(c.get_ref())).count();
    table
        .uniques
        .reserve_exact(on_columns(|c| c.unique) + raw.unique.len());
    table
        .checks
        .reserve_exact(on_columns(|c| c.check.is_some()) + raw.checks.len());
    table
        .foreign_keys
        .reserve_exact(on_columns(|c| c.references.is_some()) + raw.foreign_keys.len());

    // Reported once, at the first column too many.
    if let Some((k, _)) = raw.columns.get_index(MAX_COLUMNS) {
        errors.at(
            &src.origin(k.span()),
            format!(
                "table `{name}` has {} columns; PostgreSQL allows at most {MAX_COLUMNS} in a table (this is column {})",
                raw.columns.len(),
                MAX_COLUMNS + 1
            ),
        );
    }
    // Each column's place in `table.columns`, by name: one lookup per use,
    // not a scan of every column (a table may have many).
    let mut columns = Columns {
        table: &name,
        at: HashMap::with_capacity(raw.columns.len()),
    };
    for (ckey, c) in &raw.columns {
        let co = src.origin(ckey.span());
        let cname = ckey.get_ref().clone();
        let rc = c.get_ref();
        if columns.at.contains_key(cname.as_str()) {
            errors.at(
                &co,
                format!("column `{cname}` is defined twice in table `{name}`"),
            );
            continue;
        }
        let ty_origin = src.origin(rc.ty.span());
        let parsed = match resolve_type(cat, rc.ty.get_ref()) {
            Ok(p) => p,
            Err(msg) => {
                errors.at(&ty_origin, msg);
                continue;
            }
        };
        let mut col = Column::new(cname.clone(), parsed.canonical.clone());
        col.collation = rc
            .collation
            .as_ref()
            .map(|c| Box::new(ObjName::parse(c.get_ref())));
        col.origin = Some(co.clone());
        col.not_null = rc.not_null;
        col.comment = rc.comment.clone();
        col.deprecated = rc.deprecated.as_deref().map(Box::from);
        if let Some(keyword) = parsed.serial {
            let seq = QualName::new(name.schema.clone(), names::sequence_name(&tname, &cname));
            col.default = Some(expr::from_catalog(&Serial::default_sql(&seq)));
            col.not_null = true;
            col.serial = Some(Box::new(Serial {
                keyword,
                sequence: seq,
            }));
        }
        if let Some(d) = &rc.default {
            let dorigin = src.origin(d.span());
            if col.serial.is_some() {
                errors.at(&dorigin, format!("column `{cname}` is {}: it has its own default (nextval); remove `default`", parsed.serial.unwrap()));
            }
            col.default = parse_default(errors, &dorigin, d.get_ref());
        }
        if let Some(i) = &rc.identity {
            let io = src.origin(i.span());
            let word = match i.get_ref() {
                ShortOrFull::Short(w) => w,
                ShortOrFull::Full(f) => {
                    if f.increment == Some(0) {
                        errors.at(&io, "an identity sequence's increment cannot be 0");
                    }
                    let options = SeqOptions {
                        start: f.start,
                        increment: f.increment,
                        min_value: f.min_value,
                        max_value: f.max_value,
                        cache: f.cache,
                        cycle: f.cycle,
                    }
                    .normalized(&col.ty);
                    col.identity_options =
                        (options != SeqOptions::default()).then(|| Box::new(options));
                    &f.generated
                }
            };
            col.identity = match word
                .to_ascii_lowercase()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .as_str()
            {
                "always" => Some(Identity::Always),
                "by default" => Some(Identity::ByDefault),
                other => {
                    errors.at(
                        &io,
                        format!("bad identity `{other}`: expected \"always\" or \"by default\""),
                    );
                    None
                }
            };
            if !matches!(col.ty.as_str(), "smallint" | "integer" | "bigint")
                || parsed.serial.is_some()
            {
                errors.at(
                    &io,
                    format!(
                        "identity column `{cname}` must be smallint, integer or bigint, not `{}`",
                        rc.ty.get_ref()
                    ),
                );
            }
            if rc.default.is_some() {
                errors.at(
                    &io,
                    format!("column `{cname}` cannot have both `identity` and `default`"),
                );
            }
            col.not_null = true;
        }
        if let Some(g) = &rc.generated {
            col.generated = parse_expr_at(errors, src, g, "generated expression").map(Box::new);
            if rc.default.is_some() || rc.identity.is_some() {
                errors.at(
                    &src.origin(g.span()),
                    format!("generated column `{cname}` cannot have a default or an identity"),
                );
            }
        }
        if rc.primary_key {
            pk_columns.push((cname.clone(), co.clone()));
        }
        if rc.unique {
            table.uniques.push(Key {
                origin: Some(co.clone()),
                ..Key::new(
                    names::choose(
                        &tname,
                        Some(&names::column_addition(std::slice::from_ref(&cname))),
                        "key",
                        &mut used_names,
                    ),
                    vec![cname.clone()],
                )
            });
        }
        if let Some(chk) = &rc.check {
            if let Some(e) = parse_expr_at(errors, src, chk, "check") {
                table.checks.push(Check {
                    name: names::choose(&tname, Some(&cname), "check", &mut used_names),
                    expr: e,
                    validated: true,
                    no_inherit: false,
                    origin: Some(src.origin(chk.span())),
                });
            }
        }
        if let Some(r) = &rc.references {
            let ro = src.origin(r.span());
            match parse_reference(r.get_ref()) {
                Ok((ref_table, ref_columns)) => table.foreign_keys.push(ForeignKey {
                    name: names::choose(
                        &tname,
                        Some(&names::column_addition(std::slice::from_ref(&cname))),
                        "fkey",
                        &mut used_names,
                    ),
                    columns: vec![cname.clone()],
                    ref_table,
                    ref_columns,
                    on_delete: fk_action(errors, src, &rc.on_delete),
                    on_delete_columns: fk_action_columns(
                        errors,
                        src,
                        &rc.on_delete,
                        std::slice::from_ref(&cname),
                    ),
                    on_update: fk_update_action(errors, src, &rc.on_update),
                    match_full: false,
                    deferrable: false,
                    initially_deferred: false,
                    validated: true,
                    origin: Some(ro),
                }),
                Err(msg) => errors.at(&ro, msg),
            }
        } else if let Some(a) = rc.on_delete.as_ref().or(rc.on_update.as_ref()) {
            errors.at(
                &src.origin(a.span()),
                format!("`on_delete` / `on_update` on column `{cname}` need `references`"),
            );
        }
        columns.at.insert(ckey.get_ref(), table.columns.len());
        table.columns.push(col);
    }

    // The partition key's columns (PostgreSQL would refuse the CREATE TABLE).
    if let Some(p) = &raw.partition_by {
        let at = src.origin(p.span());
        columns.check(&partition_key_columns, &at, "partition key", errors);
    }
    // Primary key: on the table, or `primary_key = true` on one column.
    let mut pk: Option<Key> = None;
    if let Some(p) = &raw.primary_key {
        let po = src.origin(p.span());
        let key = match p.get_ref() {
            ShortOrFull::Short(c) => Key::new(names::pkey_name(&tname), c.clone()),
            ShortOrFull::Full(f) => Key {
                include: f.include.clone(),
                deferrable: f.deferrable || f.initially_deferred,
                initially_deferred: f.initially_deferred,
                ..Key::new(
                    f.name.clone().unwrap_or_else(|| names::pkey_name(&tname)),
                    f.columns.clone(),
                )
            },
        };
        if !pk_columns.is_empty() {
            errors.at(&po, format!("table `{name}` declares its primary key twice: on the table and with `primary_key = true` on column `{}`", pk_columns[0].0));
        }
        columns.check(&key.columns, &po, "primary key", errors);
        columns.check(&key.include, &po, "primary key's INCLUDE", errors);
        pk = Some(Key {
            origin: Some(po),
            ..key
        });
    } else if pk_columns.len() > 1 {
        errors.at(&pk_columns[1].1, format!("more than one column of `{name}` says `primary_key = true`; for a composite key write `primary_key = [{}]` on the table", pk_columns.iter().map(|(c, _)| format!("\"{c}\"")).collect::<Vec<_>>().join(", ")));
    } else if let Some((c, o)) = pk_columns.pop() {
        pk = Some(Key {
            origin: Some(o),
            ..Key::new(names::pkey_name(&tname), vec![c])
        });
    }
    if let Some(k) = &pk {
        if let Some(o) = &k.origin {
            too_many_keys(
                k.columns.len(),
                o,
                || format!("primary key `{}`", k.name),
                errors,
            );
        }
        for c in &k.columns {
            if let Some(&i) = columns.at.get(c.as_str()) {
                table.columns[i].not_null = true;
            }
        }
    }
    table.primary_key = pk;

    for (ukey, u) in &raw.unique {
        let uo = src.origin(ukey.span());
        let mut key = match u.get_ref() {
            ShortOrFull::Short(cols) => Key::new(ukey.get_ref().clone(), cols.clone()),
            ShortOrFull::Full(f) => Key {
                deferrable: f.deferrable || f.initially_deferred,
                initially_deferred: f.initially_deferred,
                nulls_not_distinct: f.nulls_not_distinct,
                include: f.include.clone(),
                ..Key::new(ukey.get_ref().clone(), f.columns.clone())
            },
        };
        let co = src.origin(u.span());
        columns.check(&key.columns, &co, "unique constraint", errors);
        columns.check(&key.include, &co, "unique constraint's INCLUDE", errors);
        too_many_keys(
            key.columns.len(),
            &co,
            || format!("unique constraint `{}`", key.name),
            errors,
        );
        if key.columns.is_empty() {
            errors.at(&uo, "a unique constraint needs at least one column");
        }
        key.origin = Some(uo);
        table.uniques.push(key);
    }
    for (ckey, chk) in &raw.checks {
        let (expr, not_valid, no_inherit) = match chk.get_ref() {
            ShortOrFull::Short(e) => (e, false, false),
            ShortOrFull::Full(f) => (&f.expr, f.not_valid, f.no_inherit),
        };
        let expr = Spanned::new(chk.span(), expr.clone());
        if let Some(e) = parse_expr_at(errors, src, &expr, "check") {
            table.checks.push(Check {
                name: ckey.get_ref().clone(),
                expr: e,
                validated: !not_valid,
                no_inherit,
                origin: Some(src.origin(ckey.span())),
            });
        }
    }
    for (fkey, fk) in &raw.foreign_keys {
        let fo = src.origin(fkey.span());
        let f = fk.get_ref();
        columns.check(&f.columns, &fo, "foreign key", errors);
        too_many_keys(
            f.columns.len(),
            &fo,
            || format!("foreign key `{}`", fkey.get_ref()),
            errors,
        );
        match parse_reference(f.references.get_ref()) {
            Ok((ref_table, ref_columns)) => {
                if ref_columns.len() != f.columns.len() {
                    errors.at(
                        &src.origin(f.references.span()),
                        format!(
                            "foreign key `{}` has {} column(s) but references {}",
                            fkey.get_ref(),
                            f.columns.len(),
                            ref_columns.len()
                        ),
                    );
                }
                table.foreign_keys.push(ForeignKey {
                    name: fkey.get_ref().clone(),
                    columns: f.columns.clone(),
                    ref_table,
                    ref_columns,
                    on_delete: fk_action(errors, src, &f.on_delete),
                    on_delete_columns: fk_action_columns(errors, src, &f.on_delete, &f.columns),
                    on_update: fk_update_action(errors, src, &f.on_update),
                    match_full: fk_match_full(errors, src, &f.match_type),
                    deferrable: f.deferrable || f.initially_deferred,
                    initially_deferred: f.initially_deferred,
                    validated: !f.not_valid,
                    origin: Some(fo),
                })
            }
            Err(msg) => errors.at(&src.origin(f.references.span()), msg),
        }
    }
    for (xkey, x) in &raw.exclusions {
        let xo = src.origin(xkey.span());
        columns.check(
            x.get_ref().include(),
            &xo,
            "exclusion constraint's INCLUDE",
            errors,
        );
        let known = |c: &str| columns.at.contains_key(c);
        if let Some(e) = exclusion::build_exclusion(
            src,
            &name,
            xkey.get_ref().clone(),
            xo,
            x.get_ref(),
            &known,
            errors,
        ) {
            if let Some(c) = x.get_ref().comment() {
                table.constraint_comments.insert(e.name.clone(), c.clone());
            }
            table.exclusions.push(e);
        }
    }
    for (ikey, idx) in &raw.indexes {
        let index = build_index(src, ikey, idx, Some(&columns), errors);
        table.indexes.push(index);
    }
    // Comments on constraints: each names one of the table's constraints.
    for (name, comment) in &raw.constraint_comments {
        let n = name.get_ref();
        let known = table.primary_key.as_ref().is_some_and(|k| &k.name == n)
            || table.uniques.iter().any(|k| &k.name == n)
            || table.checks.iter().any(|c| &c.name == n)
            || table.foreign_keys.iter().any(|f| &f.name == n)
            || table.exclusions.iter().any(|x| &x.name == n);
        if known {
            table.constraint_comments.insert(n.clone(), comment.clone());
        } else {
            errors.at(
                &src.origin(name.span()),
                format!(
                    "`constraint_comments` names constraint `{n}`, which table `{}` does not have",
                    table.name
                ),
            );
        }
    }
    for (tkey, tr) in &raw.triggers {
        let to = src.origin(tkey.span());
        if let Some(t) = code::build_trigger(
            src,
            &name,
            tkey.get_ref().clone(),
            to.clone(),
            tr.get_ref(),
            errors,
        ) {
            columns.check(&t.columns, &to, "trigger", errors);
            table.triggers.push(t);
        }
    }
    for (pkey, p) in &raw.policies {
        if let Some(p) = policy::build_policy(
            src,
            &name,
            pkey.get_ref().clone(),
            src.origin(pkey.span()),
            p.get_ref(),
            errors,
        ) {
            table.policies.push(p);
        }
    }
    table
}

/// An index of the files (`[tables.t.indexes]`, `[materialized_views.v.indexes]`);
/// `columns`: the table's, to report a column it lacks (a materialized
/// view's are known only to PostgreSQL: `None`, nothing is checked).
fn build_index(
    src: &Source,
    ikey: &Spanned<String>,
    idx: &Spanned<RawIndex>,
    columns: Option<&Columns>,
    errors: &mut Errors,
) -> Index {
    let check_columns = |cols: &[String], o: &Origin, what: &str, errors: &mut Errors| {
        if let Some(c) = columns {
            c.check(cols, o, what, errors);
        }
    };
    let io = src.origin(ikey.span());
    let ri = idx.get_ref();
    let mut keys = Vec::new();
    match (&ri.columns, &ri.expression) {
        (Some(cols), None) => {
            let co = src.origin(cols.span());
            if cols.get_ref().is_empty() {
                errors.at(&co, "an index needs at least one column");
            }
            keys.reserve_exact(cols.get_ref().len());
            for entry in cols.get_ref() {
                match parse_index_key(entry) {
                    Ok(key) => {
                        if let IndexKeyPart::Column(c) = &key.part {
                            check_columns(
                                std::slice::from_ref(c),
                                &co,
                                &format!("index `{}`", ikey.get_ref()),
                                errors,
                            );
                        }
                        keys.push(key);
                    }
                    Err(m) => errors.at(&co, m),
                }
            }
        }
        (None, Some(e)) => match expr::parse_list(e.get_ref()) {
            Ok(list) => {
                keys.reserve_exact(list.len());
                for ast in list {
                    keys.push(IndexKey::new(key_part(ast)));
                }
            }
            Err(m) => errors.at(
                &src.origin(e.span()),
                format!("bad index expression `{}`: {m}", e.get_ref()),
            ),
        },
        (Some(_), Some(e)) => errors.at(
            &src.origin(e.span()),
            "an index has either `columns` or `expression`, not both",
        ),
        (None, None) => errors.at(
            &io,
            format!("index `{}` needs `columns` or `expression`", ikey.get_ref()),
        ),
    }
    let method = match &ri.using {
        None => "btree".to_string(),
        Some(u) => {
            let m = u.get_ref().to_ascii_lowercase();
            if !INDEX_METHODS.contains(&m.as_str()) {
                errors.at(
                    &src.origin(u.span()),
                    format!(
                        "unknown index method `{}`: expected one of {}",
                        u.get_ref(),
                        INDEX_METHODS.join(", ")
                    ),
                );
            }
            m
        }
    };
    too_many_keys(
        keys.len() + ri.include.len(),
        &io,
        || format!("index `{}` (keys and include)", ikey.get_ref()),
        errors,
    );
    check_columns(
        &ri.include,
        &io,
        &format!("index `{}` include", ikey.get_ref()),
        errors,
    );
    let predicate = ri
        .predicate
        .as_ref()
        .and_then(|p| parse_expr_at(errors, src, p, "index predicate"));
    Index {
        name: ikey.get_ref().clone(),
        unique: ri.unique,
        method,
        keys,
        include: ri.include.clone(),
        predicate,
        nulls_not_distinct: ri.nulls_not_distinct,
        comment: ri.comment.clone(),
        deprecated: ri.deprecated.clone(),
        valid: true,
        origin: Some(io),
    }
}

/// A default from the files: a SQL expression in a string, or a TOML literal.
fn parse_default(errors: &mut Errors, dorigin: &Origin, d: &RawDefault) -> Option<Expr> {
    match d {
        RawDefault::Int(i) => Some(parse_cached(&i.to_string()).expect("integer literal").expr),
        RawDefault::Float(f) => {
            if !f.is_finite() {
                errors.at(dorigin, "bad default: expected a finite number");
                None
            } else {
                Some(parse_cached(&format!("{f:?}")).expect("float literal").expr)
            }
        }
        RawDefault::Bool(b) => Some(
            parse_cached(if *b { "true" } else { "false" })
                .expect("bool literal")
                .expr,
        ),
        RawDefault::Text(s) => match parse_cached(s) {
            Ok(p) if p.bare_word => {
                errors.at(
                    dorigin,
                    format!(
                        "bad default `{s}`: a bare word is not an expression; for the text write `default = \"{}\"`",
                        names::printed_literal(s).replace('"', "\\\"")
                    ),
                );
                None
            }
            // PostgreSQL stores no default for DEFAULT NULL.
            Ok(p) if p.null => None,
            Ok(p) => Some(p.expr),
            Err(msg) => {
                errors.at(dorigin, format!("bad default `{s}`: {msg}"));
                None
            }
        },
    }
}

/// A type from the files: an enum of the files (exact name), a built-in type, or an extension's type.
fn resolve_type(cat: &Catalog, ty: &str) -> Result<types::ParsedType, String> {
    let base = ty.trim().trim_end_matches("[]").trim();
    let dims = if ty.trim().ends_with("[]") { "[]" } else { "" };
    let exact = qualified(base).unwrap_or_else(|_| QualName::new("", ""));
    if user_types::known(cat, &exact) {
        return Ok(types::ParsedType {
            canonical: format!("{}{dims}", exact.printed()),
            serial: None,
            user_type: Some((exact.schema, exact.name)),
        });
    }
    let parsed = types::parse_type(ty).map_err(|m| format!("bad type `{ty}`: {m}"))?;
    if let Some((schema, name)) = &parsed.user_type {
        let user = QualName::new(schema.clone(), name.clone());
        let known_enum = user_types::known(cat, &user);
        let ext = types::EXTENSION_TYPES.iter().find(|(t, _)| t == name);
        if !known_enum && ext.is_none() {
            return Err(format!(
                "unknown type `{ty}`: expected a PostgreSQL type (integer, bigint, text, varchar(n), numeric(p,s), timestamptz, uuid, jsonb, ...), an enum, domain, composite or range type of the files, or a type of a listed extension"
            ));
        }
    }
    Ok(parsed)
}

/// The most columns a table can have (PostgreSQL's MaxHeapAttributeNumber).
pub const MAX_COLUMNS: usize = 1600;
/// The most columns an index, a key or a foreign key can have (INDEX_MAX_KEYS).
pub const MAX_INDEX_KEYS: usize = 32;

/// The columns of a table being built, by name.
struct Columns<'a> {
    table: &'a QualName,
    at: HashMap<&'a str, usize>,
}

impl Columns<'_> {
    /// Report each of `cols` that the table does not have.
    fn check(&self, cols: &[String], o: &Origin, what: &str, errors: &mut Errors) {
        for c in cols {
            if !self.at.contains_key(c.as_str()) {
                errors.at(
                    o,
                    format!(
                        "{what} of table `{}` names column `{c}`, which the table does not have",
                        self.table
                    ),
                );
            }
        }
    }
}

/// PostgreSQL refuses an index or constraint on more than `MAX_INDEX_KEYS` columns.
/// More than PostgreSQL's INDEX_MAX_KEYS columns in a key or index: an error
/// at `o`, naming `what()` (only built when reported).
fn too_many_keys(n: usize, o: &Origin, what: impl FnOnce() -> String, errors: &mut Errors) {
    if n > MAX_INDEX_KEYS {
        errors.at(
            o,
            format!(
                "{} has {n} columns; PostgreSQL allows at most {MAX_INDEX_KEYS}",
                what()
            ),
        );
    }
}

fn check_references(cat: &Catalog, errors: &mut Errors) {
    for s in cat.sequences.values() {
        if let (Some((table, column)), Some(o)) = (&s.owned_by, &s.origin) {
            let found = cat
                .tables
                .get(table)
                .is_some_and(|t| t.column(column).is_some());
            if !found {
                errors.at(o, format!("sequence `{}` is owned by `{table}.{column}`, a column that no schema file defines", s.name));
            }
        }
    }
    for t in cat.tables.values() {
        for fk in &t.foreign_keys {
            let o = fk
                .origin
                .clone()
                .or_else(|| t.origin.clone())
                .expect("files have origins");
            // A table outside the files (`auth.users`) is checked against
            // the database when planning (`check_outside_references`).
            match cat.tables.get(&fk.ref_table) {
                None => {}
                Some(target) => {
                    for c in &fk.ref_columns {
                        if target.column(c).is_none() {
                            errors.at(&o, format!("foreign key `{}` of table `{}` references column `{}.{c}`, which does not exist", fk.name, t.name, fk.ref_table));
                        }
                    }
                }
            }
        }
    }
}

/// Add the `--exclude` patterns to the files' own (`cat.exclude`).
/// Errors: an object of the files that one of `patterns` excludes, at its
/// file, line and column (an input error, exit 2).
pub fn add_exclude(
    cat: &mut Catalog,
    patterns: &[crate::model::exclude::Pattern],
) -> Result<(), LoadError> {
    let found = crate::model::exclude::conflicts(cat, patterns);
    if !found.is_empty() {
        return Err(LoadError(found));
    }
    cat.exclude.extend(patterns.iter().cloned());
    Ok(())
}

/// The foreign keys of `cat` that reference a table `cat` does not define
/// (a table that exists in the database but not in the files, such as
/// Supabase's `auth.users`), with their table, in file order.
pub fn outside_references(cat: &Catalog) -> Vec<(&Table, &ForeignKey)> {
    cat.tables
        .values()
        .flat_map(|t| t.foreign_keys.iter().map(move |fk| (t, fk)))
        .filter(|(_, fk)| !cat.tables.contains_key(&fk.ref_table))
        .collect()
}

/// Where a foreign key of the files was written: its own origin, else its table's.
pub fn reference_origin(t: &Table, fk: &ForeignKey) -> Option<Origin> {
    fk.origin.clone().or_else(|| t.origin.clone())
}

/// Check the references of `desired` to tables outside the files against
/// the live catalog `live` (read before any `exclude` pattern is applied):
/// the referenced table must exist there and have the referenced columns.
/// Pure. Errors: one diagnostic per missing table or column, at the foreign
/// key's file, line and column (an input error, exit 2).
pub fn check_outside_references(desired: &Catalog, live: &Catalog) -> Result<(), LoadError> {
    let mut errors = Errors::default();
    for (t, fk) in outside_references(desired) {
        let Some(o) = reference_origin(t, fk) else {
            continue;
        };
        let reference = format!(
            "{}({})",
            fk.ref_table.key(),
            fk.ref_columns
                .iter()
                .map(|c| crate::model::key_part(c))
                .collect::<Vec<_>>()
                .join(", ")
        );
        match live.tables.get(&fk.ref_table) {
            None => errors.at(
                &o,
                format!(
                    "foreign key `{}` of table `{}` references `{reference}`, but table `{}` is neither defined in the schema files nor present in the database; expected a table of the files, or one the database has",
                    fk.name, t.name, fk.ref_table
                ),
            ),
            Some(target) => {
                for c in &fk.ref_columns {
                    if target.column(c).is_none() {
                        let has: Vec<&str> =
                            target.columns.iter().map(|c| c.name.as_str()).collect();
                        errors.at(
                            &o,
                            format!(
                                "foreign key `{}` of table `{}` references `{reference}`, but table `{}` in the database has no column `{c}` (it has: {})",
                                fk.name,
                                t.name,
                                fk.ref_table,
                                has.join(", ")
                            ),
                        );
                    }
                }
            }
        }
    }
    if errors.0.is_empty() {
        Ok(())
    } else {
        Err(LoadError(errors.0))
    }
}

/// PostgreSQL cuts longer names to 63 bytes, and then the files would never match.
fn check_name_lengths(cat: &Catalog, errors: &mut Errors) {
    let mut long = |name: &str, what: &str, o: &Option<Origin>| {
        if name.len() > names::MAX_IDENT_BYTES {
            if let Some(o) = o {
                errors.at(o, format!("{what} name `{name}` is {} bytes long; PostgreSQL allows at most {} (it would cut it)", name.len(), names::MAX_IDENT_BYTES));
            }
        }
    };
    for e in cat.extensions.values() {
        long(&e.name, "extension", &e.origin);
    }
    for e in cat.enums.values() {
        long(&e.name.name, "enum", &e.origin);
        long(&e.name.schema, "schema", &e.origin);
    }
    for d in cat.domains.values() {
        long(&d.name.name, "domain", &d.origin);
        long(&d.name.schema, "schema", &d.origin);
        for c in &d.checks {
            long(&c.name, "constraint", &c.origin);
        }
    }
    for c in cat.composite_types.values() {
        long(&c.name.name, "composite type", &c.origin);
        long(&c.name.schema, "schema", &c.origin);
    }
    for r in cat.range_types.values() {
        long(&r.name.name, "range type", &r.origin);
        long(&r.name.schema, "schema", &r.origin);
    }
    for c in cat.collations.values() {
        long(&c.name.name, "collation", &c.origin);
        long(&c.name.schema, "schema", &c.origin);
    }
    for c in cat.ts_configs.values() {
        long(&c.name.name, "text search configuration", &c.origin);
        long(&c.name.schema, "schema", &c.origin);
    }
    for q in cat.sequences.values() {
        long(&q.name.name, "sequence", &q.origin);
        long(&q.name.schema, "schema", &q.origin);
    }
    for t in cat.tables.values() {
        long(&t.name.name, "table", &t.origin);
        long(&t.name.schema, "schema", &t.origin);
        for c in &t.columns {
            long(&c.name, "column", &c.origin);
        }
        for k in t.primary_key.iter().chain(&t.uniques) {
            long(&k.name, "constraint", &k.origin);
        }
        for c in &t.checks {
            long(&c.name, "constraint", &c.origin);
        }
        for f in &t.foreign_keys {
            long(&f.name, "constraint", &f.origin);
        }
        for x in &t.exclusions {
            long(&x.name, "constraint", &x.origin);
        }
        for i in &t.indexes {
            long(&i.name, "index", &i.origin);
        }
    }
}

/// Tables, indexes and constraint-backed indexes share one namespace per schema;
/// constraint names must be unique per table.
fn check_relation_names(cat: &Catalog, errors: &mut Errors) {
    let mut seen: BTreeMap<(String, String), (String, Origin)> = BTreeMap::new();
    let mut claim = |schema: &str,
                     name: &str,
                     what: String,
                     o: Option<Origin>,
                     errors: &mut Errors| {
        let Some(o) = o else { return };
        let k = (schema.to_string(), name.to_string());
        if let Some((prev_what, prev)) = seen.get(&k) {
            errors.at(&o, format!("{what} is named `{name}`, like {prev_what} at {prev}; names of tables and indexes must be unique per schema"));
        } else {
            seen.insert(k, (what, o));
        }
    };
    for v in cat.views.values() {
        claim(
            &v.name.schema,
            &v.name.name,
            format!("{} `{}`", v.kind(), v.name),
            v.origin.clone(),
            errors,
        );
    }
    for t in cat.tables.values() {
        let s = &t.name.schema;
        claim(
            s,
            &t.name.name,
            format!("table `{}`", t.name),
            t.origin.clone(),
            errors,
        );
        for (_, p) in crate::model::partition::walk(&t.name, &t.partitions) {
            claim(
                &p.name.schema,
                &p.name.name,
                format!("partition `{}`", p.name),
                p.origin.clone(),
                errors,
            );
        }
        for k in t.primary_key.iter().chain(&t.uniques) {
            claim(
                s,
                &k.name,
                format!("the index of constraint `{}`", k.name),
                k.origin.clone(),
                errors,
            );
        }
        for x in &t.exclusions {
            claim(
                s,
                &x.name,
                format!("the index of constraint `{}`", x.name),
                x.origin.clone(),
                errors,
            );
        }
        for i in &t.indexes {
            claim(
                s,
                &i.name,
                format!("index `{}`", i.name),
                i.origin.clone(),
                errors,
            );
        }
        let mut cons: BTreeMap<&str, &Origin> = BTreeMap::new();
        let all = t
            .primary_key
            .iter()
            .chain(&t.uniques)
            .map(|k| (k.name.as_str(), k.origin.as_ref()))
            .chain(
                t.checks
                    .iter()
                    .map(|c| (c.name.as_str(), c.origin.as_ref())),
            )
            .chain(
                t.foreign_keys
                    .iter()
                    .map(|f| (f.name.as_str(), f.origin.as_ref())),
            )
            .chain(
                t.exclusions
                    .iter()
                    .map(|x| (x.name.as_str(), x.origin.as_ref())),
            );
        for (n, o) in all {
            let Some(o) = o else { continue };
            if let Some(prev) = cons.get(n) {
                errors.at(
                    o,
                    format!(
                        "constraint `{n}` of table `{}` is defined twice: here and at {prev}",
                        t.name
                    ),
                );
            } else {
                cons.insert(n, o);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(files: &[(&str, &str)]) -> Result<Catalog, LoadError> {
        load_sources(
            files
                .iter()
                .map(|(p, t)| (p.to_string(), t.to_string()))
                .collect(),
        )
    }

    fn err(files: &[(&str, &str)]) -> String {
        load(files).unwrap_err().to_string()
    }

    #[test]
    fn loads_the_spec_example_shape() {
        let cat = load(&[(
            "a.toml",
            r#"
extensions = ["pgcrypto"]
[enums.appointment_status]
values = ["scheduled", "confirmed"]
[tables.tenants.columns]
id = { type = "bigserial", primary_key = true }
[tables.appointments.columns]
id = { type = "bigserial", primary_key = true }
tenant_id = { type = "bigint", not_null = true, references = "tenants(id)", on_delete = "cascade" }
status = { type = "appointment_status", not_null = true, default = "'scheduled'" }
attempts = { type = "int4", default = 0, check = "attempts >= 0" }
[tables.appointments.indexes]
idx_appointments_phone = { columns = ["tenant_id DESC"], where = "status = 'scheduled'" }
"#,
        )])
        .unwrap();
        let t = &cat.tables[&QualName::new("public", "appointments")];
        assert_eq!(
            t.columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            ["id", "tenant_id", "status", "attempts"]
        );
        assert_eq!(t.columns[0].ty, "bigint");
        assert_eq!(
            t.columns[0].default.as_ref().unwrap().sql,
            "nextval('appointments_id_seq'::regclass)"
        );
        assert_eq!(t.columns[3].ty, "integer");
        assert_eq!(t.primary_key.as_ref().unwrap().name, "appointments_pkey");
        assert_eq!(t.foreign_keys[0].name, "appointments_tenant_id_fkey");
        assert_eq!(t.checks[0].name, "appointments_attempts_check");
        assert!(t.indexes[0].keys[0].desc);
    }

    #[test]
    fn names_with_a_dot_are_written_in_quotes() {
        let q = |s: &str| qualified(s).map(|n| (n.schema, n.name));
        assert_eq!(q("t"), Ok(("public".into(), "t".into())));
        assert_eq!(q("Sales.Order"), Ok(("Sales".into(), "Order".into())));
        assert_eq!(
            q("\"v1.events\""),
            Ok(("public".into(), "v1.events".into()))
        );
        assert_eq!(q("\"my.schema\".t"), Ok(("my.schema".into(), "t".into())));
        assert_eq!(q("s.\"a\"\"b\""), Ok(("s".into(), "a\"b".into())));
        assert!(q("a.b.c").is_err());
        assert!(q("\"open").is_err());
        assert!(q("a.").is_err());
        assert!(q("\"a\"b").is_err());
        assert_eq!(
            owned_by("\"my.schema\".t.n"),
            Some((QualName::new("my.schema", "t"), "n".into()))
        );
        // What dump writes reads back.
        for n in [
            QualName::new("public", "v1.events"),
            QualName::new("my.schema", "t.x"),
            QualName::new("s", "a\"b"),
            QualName::new("Sales", "Order"),
        ] {
            assert_eq!(qualified(&n.key()), Ok(n.clone()), "{}", n.key());
        }
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let e = err(&[(
            "s/t.toml",
            "[tables.t.columns]\nid = { type = \"int\", nul = true }\n",
        )]);
        assert!(e.starts_with("s/t.toml:2:"), "{e}");
        assert!(e.contains("unknown key `nul`"), "{e}");

        // In the full form of a short-or-full value, too, at the key.
        let cols = "[tables.t.columns]\nid = { type = \"int\" }\n";
        for (text, key) in [
            (
                "[tables.t]\nprimary_key = { columns = [\"id\"], inclde = [] }\n",
                "2:35: unknown key `inclde`",
            ),
            (
                "[tables.t.checks]\nc = { expr = \"id > 0\", not_vaild = true }\n",
                "2:24: unknown key `not_vaild`",
            ),
            (
                "[tables.t.unique]\nu = { columns = [\"id\"], nulls = true }\n",
                "2:25: unknown key `nulls`",
            ),
            (
                "[tables.t.unique]\nu = 5\n",
                "2:5: invalid type: integer `5`, expected a list of columns",
            ),
        ] {
            let e = err(&[("t.toml", &format!("{text}{cols}"))]);
            assert!(e.starts_with(&format!("t.toml:{key}")), "{e}");
        }

        let e = err(&[("t.toml", "[tables.t.columns]\nid = { type = \"integr\" }\n")]);
        assert!(e.starts_with("t.toml:2:15: unknown type `integr`"), "{e}");

        let e = err(&[(
            "t.toml",
            "[tables.t.columns]\ns = { type = \"text\", default = \"pending\" }\n",
        )]);
        assert!(e.contains("t.toml:2:") && e.contains("'pending'"), "{e}");

        let e = err(&[
            ("a.toml", "[tables.t.columns]\nid = { type = \"int\" }\n"),
            ("b.toml", "\n[tables.t.columns]\nid = { type = \"int\" }\n"),
        ]);
        assert!(
            e.starts_with("b.toml:2:9: table `t` is defined twice") && e.contains("a.toml:1:9"),
            "{e}"
        );

        let e = err(&[("t.toml", "[tables.t.columns]\nx = { type = \"int\" }\n[tables.t.indexes]\ni = { columns = [\"y\"] }\n")]);
        assert!(e.contains("t.toml:4:") && e.contains("column `y`"), "{e}");

        let e = err(&[("t.toml", "[tables.t\n")]);
        assert!(e.starts_with("t.toml:1:"), "{e}");
    }

    #[test]
    fn references_outside_the_files_load_and_are_checked_against_the_database() {
        let desired = load(&[(
            "t.toml",
            "[tables.t.columns]\nid = { type = \"int\", primary_key = true }\n\
             a = { type = \"uuid\", references = \"auth.users(id)\" }\n\
             b = { type = \"uuid\", references = \"auth.users(uid)\" }\n\
             c = { type = \"int\", references = \"nope(id)\" }\n\
             d = { type = \"int\", references = \"t(id)\" }\n",
        )])
        .unwrap();
        let outside: Vec<String> = outside_references(&desired)
            .iter()
            .map(|(_, fk)| fk.name.clone())
            .collect();
        assert_eq!(outside, ["t_a_fkey", "t_b_fkey", "t_c_fkey"]);
        let mut live = Catalog::default();
        let mut users = Table::new(QualName::new("auth", "users"));
        users.columns.push(Column::new("id", "uuid"));
        users.columns.push(Column::new("email", "text"));
        live.tables.insert(users.name.clone(), users);
        let e = check_outside_references(&desired, &live)
            .unwrap_err()
            .to_string();
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(lines.len(), 2, "{e}");
        assert!(
            lines[0].starts_with("t.toml:4:")
                && lines[0].contains("`auth.users(uid)`")
                && lines[0].contains("no column `uid` (it has: id, email)"),
            "{e}"
        );
        assert!(
            lines[1].starts_with("t.toml:5:")
                && lines[1].contains("table `nope` is neither defined in the schema files nor present in the database"),
            "{e}"
        );
        // Only the reference to the files' own table, and to a table the database has.
        let ok = load(&[(
            "t.toml",
            "[tables.t.columns]\nid = { type = \"int\", primary_key = true }\n\
             a = { type = \"uuid\", references = \"auth.users(id)\" }\n",
        )])
        .unwrap();
        assert!(check_outside_references(&ok, &live).is_ok());
        // A reference to a table of the files is still checked when loading.
        let e = err(&[(
            "t.toml",
            "[tables.t.columns]\nid = { type = \"int\", primary_key = true }\n\
             x = { type = \"int\", references = \"t(nope)\" }\n",
        )]);
        assert!(e.contains("t.toml:3:") && e.contains("`t.nope`"), "{e}");
    }

    #[test]
    fn exclude_patterns_load_with_their_place_and_may_not_match_the_files() {
        let cat = load(&[(
            "a.toml",
            "exclude = [\"drizzle.*\", 'public.\"v1.x\"']\n[tables.t.columns]\nid = { type = \"int\" }\n",
        )])
        .unwrap();
        let shown: Vec<String> = cat.exclude.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            shown,
            [
                "`drizzle.*` (at a.toml:1:12)",
                "`public.\"v1.x\"` (at a.toml:1:25)"
            ]
        );
        let e = err(&[("a.toml", "exclude = [\"a.b.c\"]\n")]);
        assert!(
            e.starts_with("a.toml:1:12: bad exclude pattern `a.b.c`: more than one dot"),
            "{e}"
        );
        // Another file's table, enum, domain or sequence that a pattern matches.
        let e = err(&[
            ("a.toml", "exclude = [\"drizzle.*\", \"schema_migrations\"]\n"),
            (
                "b.toml",
                "[enums.\"drizzle.kind\"]\nvalues = [\"a\"]\n[tables.schema_migrations.columns]\nv = { type = \"text\" }\n",
            ),
        ]);
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(lines.len(), 2, "{e}");
        assert!(
            e.contains("b.toml:3:9: table `schema_migrations` is defined in the schema files but excluded by `schema_migrations` (at a.toml:1:25)"),
            "{e}"
        );
        assert!(
            e.contains("b.toml:1:8: enum `drizzle.kind` is defined in the schema files but excluded by `drizzle.*` (at a.toml:1:12)"),
            "{e}"
        );
        // Patterns of --exclude: the same check, at the object's place.
        let mut cat = cat;
        let e = add_exclude(
            &mut cat,
            &[crate::model::exclude::Pattern::parse("t").unwrap()],
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("a.toml:2:9: table `t` is defined in the schema files but excluded by `t` (--exclude)"),
            "{e}"
        );
        add_exclude(
            &mut cat,
            &[crate::model::exclude::Pattern::parse("u*").unwrap()],
        )
        .unwrap();
        assert_eq!(cat.exclude.len(), 3);
    }

    #[test]
    fn tables_see_the_types_of_every_file_and_bad_toml_is_all_that_is_reported() {
        // The enum comes in a later file than the table that uses it.
        let cat = load(&[
            ("a.toml", "[tables.t.columns]\ns = { type = \"mood\" }\n"),
            ("b.toml", "[enums.mood]\nvalues = [\"ok\"]\n"),
            // A type named with an escape in a quoted key.
            ("c.toml", "[enums.\"m\\u006F\"]\nvalues = [\"x\"]\n"),
            ("d.toml", "[tables.u.columns]\nm = { type = \"mo\" }\n"),
        ])
        .unwrap();
        assert_eq!(cat.tables[&qualified("t").unwrap()].columns[0].ty, "mood");
        assert_eq!(cat.tables[&qualified("u").unwrap()].columns[0].ty, "mo");
        // Files that are not TOML: each is reported, in file order, and nothing else.
        let e = err(&[
            ("a.toml", "[tables.t.columns]\ns = { type = \"nope\" }\n"),
            ("b.toml", "[enums.mood\n"),
            ("c.toml", "[tables.u\n"),
        ]);
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(lines.len(), 2, "{e}");
        assert!(
            lines[0].starts_with("b.toml:1:") && lines[1].starts_with("c.toml:1:"),
            "{e}"
        );
    }

    #[test]
    fn a_directory_loads_with_its_types_from_any_file() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("a.toml", "[tables.t.columns]\ns = { type = \"mood\" }\n");
        write("b.toml", "[enums.mood]\nvalues = [\"ok\"]\n");
        write("c.toml", "[tables.u.columns]\nid = { type = \"int\" }\n");
        let cat = load_dir(dir.path()).unwrap();
        assert_eq!(cat.tables[&qualified("t").unwrap()].columns[0].ty, "mood");
        assert_eq!(cat.tables.len(), 2);
        write("d.toml", "[tables.v\n");
        let e = load_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("d.toml:1:"), "{e}");
    }
    #[cfg(unix)]
    #[test]
    fn only_regular_files_are_read_and_no_more_than_the_limit() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let base = "[tables.t.columns]\nid = { type = \"int\" }\n";
        std::fs::write(dir.path().join("base.toml"), base).unwrap();
        // A FIFO named *.toml: refused at once (no writer ever comes).
        let fifo = dir.path().join("x.toml");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let (tx, rx) = std::sync::mpsc::channel();
        let d = dir.path().to_path_buf();
        std::thread::spawn(move || tx.send(load_dir(&d).map(|_| ()).unwrap_err().to_string()));
        let e = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("a FIFO does not block the loader");
        assert!(e.contains("x.toml: ") && e.contains("FIFO"), "{e}");
        std::fs::remove_file(&fifo).unwrap();
        // A link to /dev/zero: refused, not read.
        symlink("/dev/zero", dir.path().join("z.toml")).unwrap();
        let e = load_dir(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("z.toml: ") && e.contains("character device"),
            "{e}"
        );
        std::fs::remove_file(dir.path().join("z.toml")).unwrap();
        // A link to a regular file is read.
        let other = tempfile::tempdir().unwrap();
        std::fs::write(
            other.path().join("u.toml"),
            "[tables.u.columns]\nid = { type = \"int\" }\n",
        )
        .unwrap();
        symlink(other.path().join("u.toml"), dir.path().join("u.toml")).unwrap();
        // A link to a parent directory is walked once, not in a loop.
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        symlink(dir.path(), dir.path().join("sub/loop")).unwrap();
        let cat = load_dir(dir.path()).unwrap();
        assert_eq!(cat.tables.len(), 2);
        // A file over the limit: refused with its size, not read whole.
        let big = std::fs::File::create(dir.path().join("big.toml")).unwrap();
        big.set_len(MAX_FILE_BYTES + 1).unwrap();
        let e = load_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("big.toml: ") && e.contains("16 MiB"), "{e}");
        std::fs::remove_file(dir.path().join("big.toml")).unwrap();
        // Not UTF-8.
        std::fs::write(dir.path().join("bin.toml"), b"a = \"\xff\"\n").unwrap();
        let e = load_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("bin.toml: ") && e.contains("not UTF-8"), "{e}");
    }
    #[test]
    fn what_postgresql_cannot_accept_is_refused_with_file_line_and_column() {
        let cols = |n: usize| {
            (0..n)
                .map(|i| format!("\"c{i}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let table = |n: usize| {
            let mut t = String::from("[tables.t.columns]\n");
            for i in 0..n {
                t.push_str(&format!("c{i} = {{ type = \"int\" }}\n"));
            }
            t
        };
        let t33 = table(33);
        let line = t33.lines().count() + 2;
        for (extra, what) in [
            (
                format!("[tables.t]\nprimary_key = [{}]\n", cols(33)),
                "primary key `t_pkey` has 33 columns",
            ),
            (
                format!("[tables.t.unique]\nu = [{}]\n", cols(33)),
                "unique constraint `u` has 33 columns",
            ),
            (
                format!(
                    "[tables.t.foreign_keys]\nf = {{ columns = [{}], references = \"t({})\" }}\n",
                    cols(33),
                    (0..33)
                        .map(|i| format!("c{i}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "foreign key `f` has 33 columns",
            ),
            (
                format!(
                    "[tables.t.indexes]\ni = {{ columns = [{}], include = [\"c0\"] }}\n",
                    cols(32)
                ),
                "index `i` (keys and include) has 33 columns",
            ),
        ] {
            let e = err(&[("t.toml", &format!("{t33}{extra}"))]);
            assert!(
                e.contains(&format!("t.toml:{line}:"))
                    && e.contains(what)
                    && e.contains("at most 32"),
                "{e}"
            );
        }
        // 32 is fine.
        load(&[(
            "t.toml",
            &format!(
                "{}[tables.t.indexes]\ni = {{ columns = [{}] }}\n",
                table(32),
                cols(32)
            ),
        )])
        .unwrap();
        // 1,600 columns are fine; more are one error, at the first column too many.
        load(&[("t.toml", &table(MAX_COLUMNS))]).unwrap();
        let e = err(&[("t.toml", &table(5000))]);
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(
            e.starts_with("t.toml:1602:1: table `t` has 5000 columns"),
            "{e}"
        );
        // Names PostgreSQL would cut.
        let long = "x".repeat(64);
        for (text, what) in [
            (format!("extensions = [\"{long}\"]\n"), "extension name"),
            (format!("[domains.{long}]\ntype = \"int\"\n"), "domain name"),
            (
                format!("[domains.d]\ntype = \"int\"\nchecks = {{ {long} = \"VALUE > 0\" }}\n"),
                "constraint name",
            ),
            (format!("[sequences.{long}]\n"), "sequence name"),
        ] {
            let e = err(&[("t.toml", &text)]);
            assert!(e.contains(what) && e.contains("64 bytes"), "{e}");
        }
        // Enum labels: up to 63 bytes (the empty label is one PostgreSQL takes).
        let e = err(&[(
            "t.toml",
            &format!(
                "[enums.e]\nvalues = [\"\", \"{}\", \"{long}\"]\n",
                "v".repeat(63)
            ),
        )]);
        assert!(
            e.starts_with("t.toml:2:") && e.contains("64 bytes long") && e.lines().count() == 1,
            "{e}"
        );
        // NUL, wherever it is (keys, values, arrays, nested tables).
        for text in [
            "[enums.e]\nvalues = [\"a\", \"b\\u0000\"]\n",
            "[tables.t.columns]\n\"i\\u0000d\" = { type = \"int\" }\n",
            "[tables.t.columns]\nid = { type = \"int\", check = \"id <> 0\\U00000000\" }\n",
            "extensions = [\"\\u0000\"]\n",
        ] {
            let e = err(&[("t.toml", text)]);
            assert!(
                e.starts_with("t.toml:2:") || e.starts_with("t.toml:1:"),
                "{e}"
            );
            assert!(e.contains("NUL"), "{e}");
        }
        // Dollar quotes as PostgreSQL reads them; parameters never.
        for ok in ["$$x$$", "$a1$x$a1$", "$_$x$_$", "$é$x$é$"] {
            load(&[(
                "t.toml",
                &format!("[tables.t.columns]\ns = {{ type = \"text\", default = \"{ok}\" }}\n"),
            )])
            .unwrap();
        }
        for (bad, what) in [
            ("$1$x$1$", "dollar-quote tag `$1$`"),
            ("$1", "`$1` is a parameter"),
            ("length($2)", "`$2` is a parameter"),
        ] {
            let e = err(&[(
                "t.toml",
                &format!("[tables.t.columns]\ns = {{ type = \"text\", default = \"{bad}\" }}\n"),
            )]);
            assert!(e.starts_with("t.toml:2:") && e.contains(what), "{e}");
        }
    }
}
