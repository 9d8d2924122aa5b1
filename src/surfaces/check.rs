//! The CI guard: compare the schema files with an older version of them (a git
//! revision or another directory), or with a live database, and refuse what the
//! rules refuse. Comparing two versions of the files sees what a database cannot:
//! removals (R001, unless the old version marked the object `deprecated`) and
//! renames (R002).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::desired::load::{self, LoadError};
use crate::model::{Catalog, Origin, UnmanagedObject};
use crate::plan::diff::{constraints_of, diff, Change};
use crate::plan::render::{render, Statement};
use crate::plan::rules::removals::{Object, Removal};
use crate::plan::rules::{self, removals, Finding};
use crate::Error;

/// What the files are compared with.
#[derive(Clone, Debug)]
pub enum Base {
    /// The files at a git revision; `schema` is their directory there when it moved.
    Git {
        rev: String,
        schema: Option<PathBuf>,
    },
    /// Another directory of files.
    Dir(PathBuf),
    /// A live database (as `plan` sees it).
    Database(Option<String>),
}

/// A change that is allowed, listed for the summary.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Allowed {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// A warning: allowed, but worth a look (a constraint added to an existing table).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    pub id: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    /// What was compared: `git main`, `dir old/schema`, `database host=…`.
    pub base: String,
    pub refused: Vec<Finding>,
    pub warnings: Vec<Warning>,
    pub allowed: Vec<Allowed>,
    /// Only with a database: objects it has that the files do not.
    pub unmanaged: Vec<UnmanagedObject>,
    /// What the comparison could not verify; it does not fail the check.
    /// Without a database: each reference to a table outside the files
    /// (`plan` checks those against the catalog).
    pub notes: Vec<Note>,
    /// Generated files (`--drizzle`) that differ from what the files
    /// generate now; each fails the check as a refused change does.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub out_of_date: Vec<OutOfDate>,
    /// How the two sides are named in words (not in the JSON: `base` says it).
    #[serde(skip)]
    pub sides: Sides,
}

impl CheckReport {
    /// Whether the check passes: nothing refused, no generated file out of date.
    pub fn passed(&self) -> bool {
        self.refused.is_empty() && self.out_of_date.is_empty()
    }

    /// A report that compares the files with nothing (`check --drizzle`
    /// alone): only its generated files can fail it.
    pub fn files_only(schema_dir: &Path) -> CheckReport {
        CheckReport {
            base: "nothing (generated files only)".into(),
            refused: Vec::new(),
            warnings: Vec::new(),
            allowed: Vec::new(),
            unmanaged: Vec::new(),
            notes: Vec::new(),
            out_of_date: Vec::new(),
            sides: Sides {
                new: schema_dir.display().to_string(),
                ..Sides::default()
            },
        }
    }
}

/// A generated file (the Drizzle schema) that is not what the schema files
/// generate now: missing, or different from its first differing line on.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutOfDate {
    /// The file as given (`shared/schema.ts`).
    pub file: String,
    /// The first line that differs (1-based); 0 when the file does not exist.
    pub line: usize,
    /// `shared/schema.ts is out of date (...): run reconcile codegen drizzle ...`
    pub message: String,
    /// The command that brings it up to date.
    pub command: String,
}

/// The two sides the guard compares, as its words and locations name them.
#[derive(Clone, Debug, Default)]
pub struct Sides {
    /// The old side in words and diff headers: the git revision (`main`),
    /// the directory (`old/schema`), or `database`.
    pub old: String,
    /// The new side's directory, as locations name its files (`schema`).
    pub new: String,
    /// Whether the old side is a live database (then the rules' words stay).
    pub database: bool,
    /// How a location in the old files is written: `main:` before a
    /// repository path for a git revision, nothing for a directory.
    old_prefix: String,
    /// The directory the old files' locations start with.
    old_root: PathBuf,
}

impl Sides {
    /// The sides of a comparison of two versions of the files: `old` as the
    /// words name it, locations in the old files starting with `old_root`
    /// (written after `old_prefix`), and those in the new ones with `new`.
    pub fn files(old: &str, old_prefix: &str, old_root: &Path, new: &Path) -> Sides {
        Sides {
            old: old.to_string(),
            new: new.display().to_string(),
            database: false,
            old_prefix: old_prefix.to_string(),
            old_root: old_root.to_path_buf(),
        }
    }
}

/// Something the guard could not verify, with where the files say it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// A note for each reference of `files` to a table they do not define:
/// without a database, nothing says whether it exists.
fn unverified_references(files: &Catalog) -> Vec<Note> {
    load::outside_references(files)
        .into_iter()
        .map(|(t, fk)| Note {
            message: format!(
                "foreign key `{}` of table `{}` references table `{}`, which is not in the files: the files alone cannot verify it (`plan` checks it against the catalog)",
                fk.name, t.name, fk.ref_table
            ),
            origin: load::reference_origin(t, fk),
        })
        .collect()
}

/// Run the guard on the files of `schema_dir` against `base`, never
/// considering what `exclude` (`--exclude`) or the files' `exclude` key
/// match: such objects of the old files are left out of the comparison.
/// Errors: invalid files (among them an object of the new files that a
/// pattern excludes), git failures, and as `plan` against a database.
pub async fn check(
    schema_dir: &Path,
    base: &Base,
    exclude: &[crate::model::exclude::Pattern],
) -> Result<CheckReport, Error> {
    match base {
        Base::Database(url) => {
            let outcome = crate::pipeline::plan(&crate::pipeline::Target {
                schema_dir: schema_dir.to_path_buf(),
                database_url: url.clone(),
                exclude: exclude.to_vec(),
            })
            .await?;
            let p = outcome.plan;
            let (allowed, warnings) = summarize(&p.statements, None);
            Ok(CheckReport {
                base: format!("database {}", outcome.target),
                refused: p.refused,
                warnings,
                allowed,
                unmanaged: p.unmanaged,
                notes: Vec::new(),
                out_of_date: Vec::new(),
                sides: Sides {
                    old: "database".into(),
                    new: schema_dir.display().to_string(),
                    database: true,
                    ..Sides::default()
                },
            })
        }
        Base::Dir(dir) => {
            let mut new = load::load_dir(schema_dir)?;
            load::add_exclude(&mut new, exclude)?;
            let mut old = load::load_dir(dir)?;
            crate::model::exclude::apply(&new.exclude, &mut old);
            let old_name = dir.display().to_string();
            Ok(compare_files(
                &old,
                &new,
                format!("dir {old_name}"),
                Sides::files(&old_name, "", dir, schema_dir),
            ))
        }
        Base::Git { rev, schema } => {
            let repo = git_root(schema_dir)?;
            let rel_new = relative_to(&repo, schema_dir)?;
            let rel_old = match schema {
                Some(s) => relative_to(&repo, s).unwrap_or_else(|_| s.clone()),
                None => rel_new.clone(),
            };
            // The new files are named as the repository names them (the
            // paths of the pull request); the old ones `REV:path`, where
            // they are not in the working tree.
            let in_repo = |f: &str| repo_path(&repo, f);
            let mut new = load::load_dir(schema_dir).map_err(|e| rename_files(e, &in_repo))?;
            load::add_exclude(&mut new, exclude)?;
            let old_files = files_at(&repo, rev, &rel_old)?;
            let mut old = load::load_sources(old_files)
                .map_err(|e| rename_files(e, &|f: &str| format!("{rev}:{f}")))?;
            crate::model::exclude::apply(&new.exclude, &mut old);
            new.map_origins(&in_repo);
            Ok(compare_files(
                &old,
                &new,
                format!("git {rev}"),
                Sides::files(rev, &format!("{rev}:"), &rel_old, &rel_new),
            ))
        }
    }
}

/// `f` relative to the repository `root` when it is inside it (as GitHub
/// names a file of the pull request), else as it is.
fn repo_path(root: &Path, f: &str) -> String {
    std::fs::canonicalize(f)
        .ok()
        .and_then(|p| p.strip_prefix(root).ok().map(|r| r.display().to_string()))
        .unwrap_or_else(|| f.to_string())
}

/// The same errors with each file named by `name`.
fn rename_files(e: LoadError, name: &dyn Fn(&str) -> String) -> LoadError {
    LoadError(
        e.0.into_iter()
            .map(|mut d| {
                d.file = name(&d.file);
                d
            })
            .collect(),
    )
}

fn git(repo: &Path, args: &[&str]) -> Result<Vec<u8>, Error> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .map_err(|e| Error::Other(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        return Err(Error::Other(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

fn git_root(dir: &Path) -> Result<PathBuf, Error> {
    let start = if dir.exists() {
        dir.to_path_buf()
    } else {
        PathBuf::from(".")
    };
    let out = git(&start, &["rev-parse", "--show-toplevel"])?;
    let root = PathBuf::from(String::from_utf8_lossy(&out).trim());
    Ok(std::fs::canonicalize(&root).unwrap_or(root))
}

fn relative_to(root: &Path, dir: &Path) -> Result<PathBuf, Error> {
    let abs = std::fs::canonicalize(dir)
        .map_err(|e| Error::Usage(format!("schema directory {}: {e}", dir.display())))?;
    abs.strip_prefix(root).map(Path::to_path_buf).map_err(|_| {
        Error::Usage(format!(
            "{} is not inside the git repository {}",
            dir.display(),
            root.display()
        ))
    })
}

/// The `*.toml` files under `dir` at `rev`, read through git (no checkout).
/// A directory absent at that revision has no files: everything is new.
fn files_at(repo: &Path, rev: &str, dir: &Path) -> Result<Vec<(String, String)>, Error> {
    let commit = format!("{rev}^{{commit}}");
    if git(repo, &["rev-parse", "--verify", "--quiet", &commit]).is_err() {
        return Err(Error::Other(format!(
            "git revision `{rev}` does not exist in {}",
            repo.display()
        )));
    }
    let dir_s = dir.display().to_string();
    let listing = git(
        repo,
        &["ls-tree", "-r", "-z", "--name-only", rev, "--", &dir_s],
    )?;
    let mut names: Vec<String> = listing
        .split(|b| *b == 0)
        .filter(|n| !n.is_empty())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    let mut files = Vec::new();
    for n in names {
        let text = git(repo, &["show", &format!("{rev}:{n}")])?;
        files.push((n, String::from_utf8_lossy(&text).into_owned()));
    }
    Ok(files)
}

/// Compare two versions of the files (pure): `base` says what `old` is,
/// `sides` how the words and locations name the two. Every finding points
/// into the new files (see `head_origin`) and no word says "database".
pub fn compare_files(old: &Catalog, new: &Catalog, base: String, sides: Sides) -> CheckReport {
    let changes = diff(new, old);
    let mut refused = Vec::new();
    let mut allowed_changes: Vec<&Change> = Vec::new();
    for c in &changes {
        if matches!(c, Change::Unmanaged { .. }) {
            continue;
        }
        let r = rules::refusals(c);
        if r.is_empty() {
            allowed_changes.push(c);
        } else {
            refused.extend(r);
        }
    }
    for removal in removals::removals(old, new, &changes) {
        refused.retain(|f| !removal.supersedes(f));
        refused.push(in_head(&removal, new, &sides));
    }
    for f in &mut refused {
        f.message = reword(&f.message, &sides.old);
        f.safe_path = reword(&f.safe_path, &sides.old);
    }

    let statements = render(&allowed_changes);
    let (allowed, warnings) = summarize(&statements, Some(new));
    refused.sort_by_key(|f| f.rule);
    CheckReport {
        base,
        refused,
        warnings,
        allowed,
        unmanaged: Vec::new(),
        notes: unverified_references(new),
        out_of_date: Vec::new(),
        sides,
    }
}

/// The finding of a removal, placed in the new files: where the old files
/// had the object is a line of another version, which in the pull request
/// is some other line (or a file it deletes), so the message says it and
/// the location is `head_origin`'s.
fn in_head(removal: &Removal, new: &Catalog, sides: &Sides) -> Finding {
    let mut f = removal.finding();
    let was = &removal.removed.origin;
    if f.origin.is_none() || f.origin != *was {
        return f; // a rename, placed at the new name
    }
    if let Some(o) = was {
        f.message = format!("{}; it was at {}{o}", f.message, sides.old_prefix);
    }
    f.origin = head_origin(&removal.removed, new, sides);
    f
}

/// Where the new files show that `removed` is gone: the line of the table
/// (or enum) it lived in when they still have it; else the whole file that
/// had it (line 0) when they still have that file; else nowhere (`None`: a
/// file the change deletes takes no line).
fn head_origin(removed: &Object, new: &Catalog, sides: &Sides) -> Option<Origin> {
    let owner = match (&removed.table, removed.kind) {
        (Some(t), _) => new.tables.get(t).and_then(|t| t.origin.clone()),
        (None, "enum value") => removed
            .qual
            .as_ref()
            .and_then(|e| new.enums.get(e))
            .and_then(|e| e.origin.clone()),
        _ => None,
    };
    if owner.is_some() {
        return owner;
    }
    let old_file = removed.origin.as_ref()?.file.to_string();
    let rel = Path::new(&old_file).strip_prefix(&sides.old_root).ok()?;
    let still_there = new
        .sources
        .as_ref()
        .is_some_and(|s| s.files.iter().any(|(p, _)| Path::new(p) == rel));
    still_there.then(|| Origin {
        file: Path::new(&sides.new).join(rel).display().to_string().into(),
        line: 0,
        column: 0,
    })
}

/// A rule's words about the database, said of the old files named `old`.
fn reword(text: &str, old: &str) -> String {
    text.replace(
        "The database keeps it until `reconcile prune` drops it.",
        "Once applied, it stays until `reconcile prune` drops it.",
    )
    .replace("the database", &format!("`{old}`"))
    .replace("The database", &format!("`{old}`"))
}

/// The allowed statements, and the warnings among them (placed in `files` when given).
fn summarize(statements: &[Statement], files: Option<&Catalog>) -> (Vec<Allowed>, Vec<Warning>) {
    let allowed = statements
        .iter()
        .map(|s| Allowed {
            id: s.id.clone(),
            warning: s.warning.clone(),
        })
        .collect();
    let warnings = statements
        .iter()
        .filter_map(|s| {
            s.warning.as_ref().map(|w| Warning {
                id: s.id.clone(),
                message: w.clone(),
                origin: files.and_then(|f| origin_of(f, &s.id)),
            })
        })
        .collect();
    (allowed, warnings)
}

/// Where the new files define the object of a step id (for warnings).
fn origin_of(cat: &Catalog, id: &str) -> Option<Origin> {
    let (_, rest) = id.split_once(':')?;
    let (table, name) = rest.rsplit_once('.')?;
    let t = cat.tables.values().find(|t| t.name.to_string() == table)?;
    constraints_of(t)
        .iter()
        .find(|c| c.name() == name)
        .and_then(|c| c.origin().cloned())
        .or_else(|| {
            t.indexes
                .iter()
                .find(|i| i.name == name)
                .and_then(|i| i.origin.clone())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::rules::r001_drop;

    #[test]
    fn reworded_rules_name_the_old_files() {
        let safe = reword(r001_drop::SAFE_PATH, "main");
        assert!(!safe.to_lowercase().contains("database"), "{safe}");
        assert!(safe.contains("reconcile prune"), "{safe}");
        assert_eq!(
            reword(
                "`t.c` is `int` in the database; the database's differs",
                "main"
            ),
            "`t.c` is `int` in `main`; `main`'s differs"
        );
    }
}
