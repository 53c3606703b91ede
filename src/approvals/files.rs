//! Approval files: reviews and sign-offs that survive squash merges.
//!
//! With `[approvals] record = "file"`, `debrief review`/`approve` write
//! `.debrief/approvals/<id>/<digest-prefix>-<handle>.sig`: a short statement followed by an
//! SSH signature over it in the `debrief-approval` namespace (so a git commit signature can
//! never be replayed as an approval, or the reverse). The statement, not the file name, is
//! what counts; the signature decides who made it, against the trusted allowed signers.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, FixedOffset, Utc};

use super::signers::{self, SigProblem};
use super::trailers::Kind;
use super::{Approval, Origin, SignatureStatus, Trust};

pub const DIR: &str = ".debrief/approvals";
pub const NAMESPACE: &str = "debrief-approval";
const HEADER: &str = "debrief-approval v1";
const MAX_BYTES: u64 = 64 * 1024;

/// What an approval file asserts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub kind: Kind,
    pub postmortem: String,
    pub digest: String,
    pub signer: String,
    pub date: DateTime<FixedOffset>,
}

impl Statement {
    /// The exact signed text.
    pub fn text(&self) -> String {
        let role = match self.kind {
            Kind::Review => "review",
            Kind::Signoff => "signoff",
        };
        format!(
            "{HEADER}\npostmortem: {}\ndigest: {}\nrole: {role}\nsigner: {}\ndate: {}\n",
            self.postmortem,
            self.digest,
            self.signer,
            self.date.to_rfc3339()
        )
    }

    /// Where the file lives, relative to the repository root.
    pub fn path(&self) -> String {
        let hex = self.digest.strip_prefix("sha256:").unwrap_or(&self.digest);
        let role = match self.kind {
            Kind::Review => "review",
            Kind::Signoff => "signoff",
        };
        format!(
            "{DIR}/{}/{}-{}-{role}.sig",
            self.postmortem,
            &hex[..hex.len().min(12)],
            self.signer
        )
    }
}

/// Splits a file into its statement and signature armour; `None` if it is not one.
pub fn parse(text: &str) -> Option<(Statement, String, String)> {
    let armor_at = text.find("-----BEGIN SSH SIGNATURE-----")?;
    let (statement_text, armor) = text.split_at(armor_at);
    let mut lines = statement_text.lines();
    if lines.next()? != HEADER {
        return None;
    }
    let mut field = |name: &str| {
        let line = lines.next()?;
        line.strip_prefix(name)?
            .strip_prefix(": ")
            .map(str::to_owned)
    };
    let postmortem = field("postmortem")?;
    let digest = field("digest")?;
    let kind = match field("role")?.as_str() {
        "review" => Kind::Review,
        "signoff" => Kind::Signoff,
        _ => return None,
    };
    let signer = field("signer")?;
    let date = DateTime::parse_from_rfc3339(&field("date")?).ok()?;
    if lines.next().is_some() {
        return None;
    }
    let statement = Statement {
        kind,
        postmortem,
        digest,
        signer,
        date,
    };
    (statement.text() == statement_text)
        .then(|| (statement, statement_text.to_owned(), armor.to_owned()))
}

/// Reads and verifies every approval file under the repository root.
pub fn scan(root: &Path, trust: &Trust) -> Result<Vec<Approval>> {
    let dir = root.join(DIR);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(&dir).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let path = entry.path();
        if entry.path_is_symlink()
            || !entry.file_type().is_file()
            || path.extension().is_none_or(|e| e != "sig")
        {
            continue;
        }
        if entry.metadata().map(|m| m.len()).unwrap_or(0) > MAX_BYTES {
            continue;
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let rel = crate::content::relative_name(root, path);
        let Some((statement, signed, armor)) = parse(&text) else {
            continue;
        };
        let signature = match signers::verify(
            &armor,
            signed.as_bytes(),
            NAMESPACE,
            statement.date.with_timezone(&Utc),
            &trust.signers,
        ) {
            Ok(principals) => SignatureStatus::Verified { principals },
            Err(problem) => SignatureStatus::Rejected(problem),
        };
        // The signature says who; the statement's `signer` must agree with it.
        let person = match &signature {
            SignatureStatus::Verified { principals } => principals
                .iter()
                .find_map(|p| trust.person_by_email(p))
                .filter(|handle| *handle == statement.signer)
                .map(str::to_owned),
            _ => None,
        };
        found.push(Approval {
            kind: statement.kind,
            postmortem: statement.postmortem,
            digest: statement.digest,
            origin: Origin::File(rel),
            time: statement.date,
            author_name: statement.signer.clone(),
            author_email: statement.signer,
            signature,
            person,
        });
    }
    Ok(found)
}

/// Signs `statement` with `ssh-keygen -Y sign` and the caller's key (`user.signingkey`).
pub fn sign(key: &str, statement: &str) -> Result<String> {
    let mut child = Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-n", NAMESPACE, "-f", key])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run ssh-keygen (install OpenSSH 8.2 or later)")?;
    if let Some(mut stdin) = child.stdin.take() {
        std::io::Write::write_all(&mut stdin, statement.as_bytes())
            .context("cannot pass the statement to ssh-keygen")?;
    }
    let output = child.wait_with_output().context("ssh-keygen failed")?;
    if !output.status.success() {
        bail!(
            "ssh-keygen could not sign with {key}:\n{}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let armor = String::from_utf8(output.stdout)
        .context("ssh-keygen printed a signature that is not text")?;
    if !armor.contains("-----BEGIN SSH SIGNATURE-----") {
        bail!("ssh-keygen printed no SSH signature");
    }
    Ok(armor)
}

/// A problem with a file approval, for messages.
pub fn describe(problem: &SigProblem) -> String {
    problem
        .to_string()
        .replace("namespace `git`", &format!("namespace `{NAMESPACE}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement() -> Statement {
        Statement {
            kind: Kind::Signoff,
            postmortem: "2026-01-12-x".into(),
            digest: format!("sha256:{}", "ab".repeat(32)),
            signer: "alice".into(),
            date: DateTime::parse_from_rfc3339("2026-01-20T10:00:00+01:00").unwrap_or_default(),
        }
    }

    #[test]
    fn statements_round_trip_and_name_their_file() {
        let s = statement();
        let file = format!(
            "{}-----BEGIN SSH SIGNATURE-----\nxx\n-----END SSH SIGNATURE-----\n",
            s.text()
        );
        let parsed = parse(&file).map(|(st, _, _)| st);
        assert_eq!(parsed, Some(s.clone()));
        assert_eq!(
            s.path(),
            ".debrief/approvals/2026-01-12-x/abababababab-alice-signoff.sig"
        );
    }

    #[test]
    fn extra_or_reordered_lines_are_not_statements() {
        let s = statement()
            .text()
            .replace("role: signoff\n", "role: signoff\nnote: hi\n");
        assert!(parse(&format!("{s}-----BEGIN SSH SIGNATURE-----\n")).is_none());
    }
}
