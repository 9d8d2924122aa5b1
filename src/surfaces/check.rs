//! The CI guard: compare the schema files with an older version of them (a git
//! revision or another directory), or with a live database, and refuse what the
//! rules refuse. Comparing two versions of the files sees what a database cannot:
//! removals (R001, unless the old version marked the object `deprecated`) and
//! renames (R002).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::desired::load;
use crate::model::{Catalog, Origin, UnmanagedObject};
use crate::plan::diff::{constraints_of, diff, Change};
use crate::plan::render::{render, Statement};
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
                "foreign key `{}` of table `{}` references table `{}`, which is not in the files: it cannot be verified without a database (`plan` checks it against the catalog)",
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
            })
        }
        Base::Dir(dir) => {
            let mut new = load::load_dir(schema_dir)?;
            load::add_exclude(&mut new, exclude)?;
            let mut old = load::load_dir(dir)?;
            crate::model::exclude::apply(&new.exclude, &mut old);
            Ok(compare_files(&old, &new, format!("dir {}", dir.display())))
        }
        Base::Git { rev, schema } => {
            let repo = git_root(schema_dir)?;
            let rel_new = relative_to(&repo, schema_dir)?;
            let rel_old = match schema {
                Some(s) => relative_to(&repo, s).unwrap_or_else(|_| s.clone()),
                None => rel_new.clone(),
            };
            let old_files = files_at(&repo, rev, &rel_old)?;
            let mut old = load::load_sources(old_files)?;
            let mut new = load::load_dir(schema_dir)?;
            load::add_exclude(&mut new, exclude)?;
            crate::model::exclude::apply(&new.exclude, &mut old);
            // Name the new files as the repository does, like the old ones.
            let root = repo.clone();
            new.map_origins(&|f| {
                std::fs::canonicalize(f)
                    .ok()
                    .and_then(|p| p.strip_prefix(&root).ok().map(|r| r.display().to_string()))
                    .unwrap_or_else(|| f.to_string())
            });
            Ok(compare_files(&old, &new, format!("git {rev}")))
        }
    }
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

/// Compare two versions of the files (pure).
pub fn compare_files(old: &Catalog, new: &Catalog, base: String) -> CheckReport {
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
        refused.push(removal.finding());
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
    }
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
