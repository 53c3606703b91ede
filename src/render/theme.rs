//! The theme: tera templates and static assets. The default theme is compiled into the
//! binary; a repository overrides any single file by placing one with the same path in
//! `themes/<[site] theme>/`, and `debrief theme eject` copies the default out to start from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use tera::Tera;

macro_rules! theme_files {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../themes/default/", $path)))),*]
    };
}

/// The default theme, relative path → content.
pub const DEFAULT: &[(&str, &str)] = theme_files![
    "templates/base.html",
    "templates/macros.html",
    "templates/card-row.html",
    "templates/index.html",
    "templates/list.html",
    "templates/terms.html",
    "templates/person.html",
    "templates/postmortem.html",
    "templates/actions.html",
    "templates/trends.html",
    "templates/404.html",
    "static/style.css",
    "static/site.js",
];

/// A resolved theme: templates ready to render, and the static files to publish.
pub struct Theme {
    pub tera: Tera,
    /// Path under `static/` → bytes.
    pub assets: BTreeMap<String, Vec<u8>>,
}

impl Theme {
    /// The default theme with the repository's overrides applied.
    pub fn load(root: &Path, name: Option<&str>) -> Result<Theme> {
        let mut files: BTreeMap<String, Vec<u8>> = DEFAULT
            .iter()
            .map(|(path, text)| ((*path).to_owned(), text.as_bytes().to_vec()))
            .collect();
        if let Some(name) = name {
            let dir = root.join("themes").join(name);
            if !dir.is_dir() {
                bail!("theme `{name}` not found: {} does not exist\nhelp: `debrief theme eject {}` creates it from the default theme", dir.display(), dir.display());
            }
            let canonical_root = root
                .canonicalize()
                .with_context(|| format!("cannot resolve {}", root.display()))?;
            for entry in walkdir::WalkDir::new(&dir).sort_by_file_name() {
                let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
                if !entry.file_type().is_file() && !entry.path_is_symlink() {
                    continue;
                }
                // A theme file reached through a link out of the repository is never published.
                let real = entry
                    .path()
                    .canonicalize()
                    .with_context(|| format!("cannot resolve {}", entry.path().display()))?;
                if !real.starts_with(&canonical_root) || !real.is_file() {
                    continue;
                }
                let rel = crate::content::relative_name(&dir, entry.path());
                if !(rel.starts_with("templates/") || rel.starts_with("static/")) {
                    continue;
                }
                let bytes = std::fs::read(entry.path())
                    .with_context(|| format!("cannot read {}", entry.path().display()))?;
                files.insert(rel, bytes);
            }
        }
        let mut tera = Tera::default();
        let mut templates = Vec::new();
        let mut assets = BTreeMap::new();
        for (path, bytes) in files {
            if let Some(name) = path.strip_prefix("templates/") {
                let text = String::from_utf8(bytes)
                    .with_context(|| format!("theme template {path} is not UTF-8"))?;
                templates.push((name.to_owned(), text));
            } else if let Some(name) = path.strip_prefix("static/") {
                assets.insert(name.to_owned(), bytes);
            }
        }
        tera.add_raw_templates(templates)
            .map_err(|e| anyhow::anyhow!("theme template error: {}", tera_error(&e)))?;
        tera.autoescape_on(vec![".html", ".xml"]);
        tera.set_escape_fn(escape_html);
        Ok(Theme { tera, assets })
    }
}

/// Escapes what can end a quoted attribute or start markup. tera's default also encodes
/// `/`, which is safe but turns every relative link into `..&#x2F;..&#x2F;`.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// tera nests the useful part of an error in its sources.
pub fn tera_error(error: &tera::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// Writes the default theme to `dir`, refusing to overwrite anything.
pub fn eject(dir: &Path) -> Result<Vec<PathBuf>> {
    let existing: Vec<String> = DEFAULT
        .iter()
        .map(|(rel, _)| dir.join(rel))
        .filter(|p| p.exists())
        .map(|p| format!("  {}", p.display()))
        .collect();
    if !existing.is_empty() {
        bail!(
            "not ejecting: these files already exist:\n{}",
            existing.join("\n")
        );
    }
    let mut written = Vec::new();
    for (rel, text) in DEFAULT {
        let path = dir.join(rel);
        crate::output::write_new(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}
