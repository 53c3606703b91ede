//! Finding postmortem files, reading them safely and splitting front-matter from the body.
//!
//! Nothing here knows the workflow: a file becomes a [`SourceFile`] (raw front-matter tree +
//! body) or a [`LoadProblem`] that names the file and line.

pub mod yaml;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use walkdir::WalkDir;

use crate::tree::{Node, Pos};

/// Postmortems are a few kilobytes; anything far larger is a mistake or an attack, and
/// must not be read into memory.
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// A file under the content folder, named relative to the repository root with `/`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ContentPath {
    pub rel: String,
    pub abs: PathBuf,
}

impl ContentPath {
    /// The file name without `.md`: the default postmortem id.
    pub fn stem(&self) -> &str {
        let name = self.rel.rsplit('/').next().unwrap_or(&self.rel);
        name.strip_suffix(".md").unwrap_or(name)
    }
}

/// What discovery found: the Markdown files to load, and links it refused to follow.
#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<ContentPath>,
    pub skipped_links: Vec<(ContentPath, String)>,
}

/// Lists `*.md` under `content_dir`, sorted. Symlinks are followed only when they resolve
/// inside the repository, so a checkout cannot publish `/etc/passwd` through a link.
pub fn discover(root: &Path, content_dir: &Path) -> Result<Discovery> {
    let mut found = Discovery::default();
    let canonical_root = root
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", root.display()))?;
    if let Ok(real) = content_dir.canonicalize() {
        if !real.starts_with(&canonical_root) {
            anyhow::bail!(
                "the content folder {} resolves to {}, outside the repository; not reading it",
                content_dir.display(),
                real.display()
            );
        }
    }
    if !content_dir.is_dir() {
        anyhow::bail!(
            "content folder {} does not exist (set `[site] content` in debrief.toml or create it)",
            content_dir.display()
        );
    }
    for entry in WalkDir::new(content_dir).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot list {}", content_dir.display()))?;
        let path = entry.path();
        let is_markdown = path.extension().is_some_and(|e| e == "md");
        let rel = relative_name(root, path);
        let content_path = ContentPath {
            rel,
            abs: path.to_path_buf(),
        };
        if entry.path_is_symlink() {
            match path.canonicalize() {
                Ok(target) if target.starts_with(&canonical_root) => {
                    if target.is_file() && is_markdown {
                        found.files.push(content_path);
                    }
                }
                Ok(target) => found.skipped_links.push((
                    content_path,
                    format!("points outside the repository, to {}", target.display()),
                )),
                Err(_) if is_markdown => found
                    .skipped_links
                    .push((content_path, "is a broken symbolic link".into())),
                Err(_) => {}
            }
            continue;
        }
        if entry.file_type().is_file() && is_markdown {
            found.files.push(content_path);
        }
    }
    Ok(found)
}

pub fn relative_name(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// A postmortem file split into its parts.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: ContentPath,
    /// The whole text, BOM removed and CRLF turned into LF (line numbers are unchanged).
    pub text: String,
    pub front_matter: Node,
    /// Markdown after the closing `---`.
    pub body: String,
    /// 1-based file line where the body starts.
    pub body_line: u32,
    /// The git object id of the bytes as read from the work tree (empty for versions read
    /// from history): a historical version with the same id is this very file.
    pub blob_id: String,
}

/// Why a file could not be turned into a [`SourceFile`].
#[derive(Clone, Debug, PartialEq)]
pub struct LoadProblem {
    pub pos: Option<Pos>,
    pub message: String,
    pub help: String,
}

/// Reads and splits one file. I/O failures are problems of that file, not of the run:
/// the rest of the repository is still checked.
pub fn load(path: &ContentPath) -> Result<SourceFile, LoadProblem> {
    let bytes = read_bounded(&path.abs)?;
    let blob_id = crate::git::blob_id(&bytes);
    let mut source = parse_bytes(path.clone(), bytes)?;
    source.blob_id = blob_id;
    Ok(source)
}

/// Decodes and splits file contents that were read elsewhere (e.g. from git history).
pub fn parse_bytes(path: ContentPath, bytes: Vec<u8>) -> Result<SourceFile, LoadProblem> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadProblem {
            pos: None,
            message: "the file is larger than the postmortem size limit".into(),
            help: "move logs and large attachments out of the postmortem".into(),
        });
    }
    split(path, decode(bytes)?)
}

impl SourceFile {
    /// The postmortem id: the `id:` field when it is a string, else the file stem.
    pub fn id(&self) -> String {
        match self.front_matter.get("id").map(|n| &n.value) {
            Some(crate::tree::Value::Str(id)) if !id.trim().is_empty() => id.clone(),
            _ => self.path.stem().to_owned(),
        }
    }
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, LoadProblem> {
    let io_problem = |e: std::io::Error| LoadProblem {
        pos: None,
        message: format!("cannot read the file: {e}"),
        help: "check the file's permissions".into(),
    };
    let file = fs::File::open(path).map_err(io_problem)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_problem)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        let size = fs::metadata(path)
            .map(|m| m.len())
            .unwrap_or(bytes.len() as u64);
        return Err(LoadProblem {
            pos: None,
            message: format!(
                "the file is {:.1} MiB; postmortems are limited to {} MiB",
                size as f64 / (1024.0 * 1024.0),
                MAX_FILE_BYTES / 1024 / 1024
            ),
            help: "move logs and large attachments out of the postmortem and link to them".into(),
        });
    }
    Ok(bytes)
}

fn decode(bytes: Vec<u8>) -> Result<String, LoadProblem> {
    let mut text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let col = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1;
        LoadProblem {
            pos: Some(Pos::new(line, col)),
            message: "the file is not valid UTF-8".into(),
            help: "save the file as UTF-8 (most editors offer this under 'encoding')".into(),
        }
    })?;
    if let Some(stripped) = text.strip_prefix('\u{feff}') {
        text = stripped.to_owned();
    }
    if text.contains('\r') {
        text = text.replace("\r\n", "\n");
    }
    Ok(text)
}

/// Splits `---\n<yaml>\n---\n<body>`.
pub fn split(path: ContentPath, text: String) -> Result<SourceFile, LoadProblem> {
    if text.trim().is_empty() {
        return Err(LoadProblem {
            pos: Some(Pos::START),
            message: "the file is empty".into(),
            help: "start from `debrief new \"Title\"`, which writes a scaffolded postmortem".into(),
        });
    }
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "---" {
        return Err(LoadProblem {
            pos: Some(Pos::START),
            message: "no front-matter: a postmortem starts with a `---` line".into(),
            help: "add the YAML fields between two `---` lines at the top of the file".into(),
        });
    }
    let yaml_start = first.len();
    let mut offset = yaml_start;
    let mut line_no = 1usize;
    for line in lines {
        line_no += 1;
        if line.trim_end() == "---" {
            let yaml = &text[yaml_start..offset];
            let body = text[offset + line.len()..].to_owned();
            let front_matter = yaml::parse(yaml, 1).map_err(|e| LoadProblem {
                pos: Some(e.pos),
                message: e.message,
                help: e
                    .help
                    .unwrap_or_else(|| "fix the YAML syntax at this position".into()),
            })?;
            if !matches!(
                front_matter.value,
                crate::tree::Value::Map(_) | crate::tree::Value::Null
            ) {
                return Err(LoadProblem {
                    pos: Some(front_matter.pos),
                    message: format!(
                        "the front-matter is {}, not a mapping of fields",
                        front_matter.kind()
                    ),
                    help: "write one `field: value` per line between the `---` lines".into(),
                });
            }
            return Ok(SourceFile {
                path,
                front_matter,
                body,
                body_line: u32::try_from(line_no + 1).unwrap_or(u32::MAX),
                text,
                blob_id: String::new(),
            });
        }
        offset += line.len();
    }
    Err(LoadProblem {
        pos: Some(Pos::START),
        message: "the front-matter opened at line 1 is never closed".into(),
        help: "add a line with only `---` after the last field".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> ContentPath {
        ContentPath {
            rel: "content/a.md".into(),
            abs: PathBuf::from("content/a.md"),
        }
    }

    #[test]
    fn splits_and_numbers_body_lines() {
        let file = split(path(), "---\ntitle: x\n---\n# Body\n".into());
        let file = file.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(file.body, "# Body\n");
        assert_eq!(file.body_line, 4);
        assert_eq!(file.front_matter.get("title").map(|n| n.pos.line), Some(2));
    }

    #[test]
    fn unterminated_and_missing_front_matter_are_problems() {
        assert!(split(path(), "---\ntitle: x\n".into()).is_err());
        assert!(split(path(), "# just prose\n".into()).is_err());
        assert!(split(path(), "\n\n".into()).is_err());
    }

    #[test]
    fn non_utf8_names_line_and_column() {
        let err = decode(b"---\ntitle: caf\xe9\n".to_vec()).err();
        assert_eq!(err.and_then(|e| e.pos), Some(Pos { line: 2, col: 11 }));
    }

    #[test]
    fn bom_and_crlf_are_accepted() {
        let text = decode(b"\xef\xbb\xbf---\r\ntitle: x\r\n---\r\nbody\r\n".to_vec());
        let text = text.unwrap_or_default();
        let file = split(path(), text).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(file.body, "body\n");
    }
}
