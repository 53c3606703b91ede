//! `.debrief/allowed_signers` (git's allowed-signers format) and in-process verification of
//! SSH commit signatures against it, so no `ssh-keygen` is needed at check time.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use ssh_key::{PublicKey, SshSig};

pub const PATH: &str = ".debrief/allowed_signers";

/// One line of the allowed-signers file.
#[derive(Clone, Debug)]
pub struct AllowedSigner {
    pub line: usize,
    /// Usually email addresses; matched to `[people.*].emails`.
    pub principals: Vec<String>,
    /// `namespaces="git,…"`; `None` allows every namespace.
    pub namespaces: Option<Vec<String>>,
    pub valid_after: Option<DateTime<Utc>>,
    pub valid_before: Option<DateTime<Utc>>,
    pub key: PublicKey,
}

/// A line that could not be used, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineProblem {
    pub line: usize,
    pub message: String,
}

/// Parses the file; unusable lines are reported and skipped, never silently trusted.
pub fn parse(text: &str) -> (Vec<AllowedSigner>, Vec<LineProblem>) {
    let mut signers = Vec::new();
    let mut problems = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match parse_line(trimmed, line) {
            Ok(signer) => signers.push(signer),
            Err(message) => problems.push(LineProblem { line, message }),
        }
    }
    (signers, problems)
}

fn parse_line(text: &str, line: usize) -> Result<AllowedSigner, String> {
    let tokens = tokenize(text)?;
    let mut tokens = tokens.into_iter();
    let principals_token = tokens.next().ok_or("empty line")?;
    let principals: Vec<String> = principals_token
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    if principals.is_empty() {
        return Err("no principal before the key".into());
    }
    let mut next = tokens.next().ok_or("no key after the principals")?;
    let (mut namespaces, mut valid_after, mut valid_before) = (None, None, None);
    if !is_key_type(&next) {
        for option in split_options(&next)? {
            let (name, value) = match option.split_once('=') {
                Some((n, v)) => (n.to_ascii_lowercase(), Some(v.trim_matches('"').to_owned())),
                None => (option.to_ascii_lowercase(), None),
            };
            match (name.as_str(), value) {
                ("namespaces", Some(v)) => {
                    namespaces = Some(v.split(',').map(|s| s.trim().to_owned()).collect());
                }
                ("valid-after", Some(v)) => valid_after = Some(parse_time(&v)?),
                ("valid-before", Some(v)) => valid_before = Some(parse_time(&v)?),
                ("cert-authority", None) => {
                    return Err("`cert-authority` entries (SSH certificates) are not supported; list the user keys instead".into())
                }
                (other, _) => return Err(format!("unknown option `{other}`")),
            }
        }
        next = tokens.next().ok_or("no key after the options")?;
    }
    let base64 = tokens.next().ok_or("the key has no base64 data")?;
    let key = PublicKey::from_openssh(&format!("{next} {base64}"))
        .map_err(|e| format!("cannot read the `{next}` key: {e}"))?;
    Ok(AllowedSigner {
        line,
        principals,
        namespaces,
        valid_after,
        valid_before,
        key,
    })
}

fn is_key_type(token: &str) -> bool {
    token.starts_with("ssh-") || token.starts_with("ecdsa-") || token.starts_with("sk-")
}

/// Splits at characters `is_separator` accepts, except inside double quotes (which are
/// kept); empty pieces are dropped.
fn split_quoted(text: &str, is_separator: impl Fn(char) -> bool) -> Result<Vec<String>, String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        if c == '"' {
            quoted = !quoted;
            current.push(c);
        } else if is_separator(c) && !quoted {
            pieces.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    if quoted {
        return Err("unbalanced double quote".into());
    }
    pieces.push(current);
    Ok(pieces.into_iter().filter(|p| !p.is_empty()).collect())
}

/// Whitespace-separated tokens; double quotes group (options may quote commas and spaces).
fn tokenize(text: &str) -> Result<Vec<String>, String> {
    let mut tokens = split_quoted(text, char::is_whitespace)?;
    // A quoted principals list keeps its quotes out of the names.
    if let Some(first) = tokens.first_mut() {
        *first = first.trim_matches('"').to_owned();
    }
    Ok(tokens)
}

/// `a,b="x,y",c` → [a, b="x,y", c]
fn split_options(text: &str) -> Result<Vec<String>, String> {
    split_quoted(text, |c| c == ',')
}

/// `YYYYMMDD[HHMM[SS]][Z]`. Without `Z` ssh-keygen uses the local time zone; debrief reads
/// every time as UTC so results do not depend on the machine (documented).
fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    let digits = text.strip_suffix('Z').unwrap_or(text);
    let bad = || format!("`{text}` is not a time (YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS)");
    let naive = match digits.len() {
        8 => NaiveDate::parse_from_str(digits, "%Y%m%d")
            .map_err(|_| bad())?
            .and_hms_opt(0, 0, 0)
            .ok_or_else(bad)?,
        12 => NaiveDateTime::parse_from_str(digits, "%Y%m%d%H%M").map_err(|_| bad())?,
        14 => NaiveDateTime::parse_from_str(digits, "%Y%m%d%H%M%S").map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    Ok(naive.and_utc())
}

/// Why a signature does not establish an identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SigProblem {
    Missing,
    Unsupported(&'static str),
    Malformed(String),
    UnknownKey(String),
    WrongNamespace(String),
    NamespaceNotAllowed { line: usize },
    NotYetValid { line: usize, from: DateTime<Utc> },
    Expired { line: usize, until: DateTime<Utc> },
    Invalid,
}

impl fmt::Display for SigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SigProblem::Missing => f.write_str("the commit is not signed"),
            SigProblem::Unsupported(kind) => write!(
                f,
                "{kind} signatures are not supported; sign with SSH (`git config gpg.format ssh`)"
            ),
            SigProblem::Malformed(why) => write!(f, "the signature cannot be read: {why}"),
            SigProblem::UnknownKey(fp) => {
                write!(f, "signed by key {fp}, which is not in the trusted {PATH}")
            }
            SigProblem::WrongNamespace(ns) => {
                write!(f, "the signature is for namespace `{ns}`, not `git`")
            }
            SigProblem::NamespaceNotAllowed { line } => write!(
                f,
                "the key's entry ({PATH}:{line}) does not allow the `git` namespace"
            ),
            SigProblem::NotYetValid { line, from } => write!(
                f,
                "the key ({PATH}:{line}) is only valid from {}",
                from.format("%Y-%m-%d %H:%M UTC")
            ),
            SigProblem::Expired { line, until } => write!(
                f,
                "the key ({PATH}:{line}) expired at {}",
                until.format("%Y-%m-%d %H:%M UTC")
            ),
            SigProblem::Invalid => f.write_str(
                "the signature does not match the commit (altered, or made by another key)",
            ),
        }
    }
}

/// Verifies an armoured signature over `data` made at `time`; on success returns the
/// principals of the allowed-signers entry whose key made it.
pub fn verify(
    armor: &str,
    data: &[u8],
    namespace: &str,
    time: DateTime<Utc>,
    signers: &[AllowedSigner],
) -> Result<Vec<String>, SigProblem> {
    let armor = armor.trim();
    if armor.starts_with("-----BEGIN PGP SIGNATURE-----") {
        return Err(SigProblem::Unsupported("OpenPGP (GPG)"));
    }
    if armor.starts_with("-----BEGIN SIGNED MESSAGE-----") || armor.starts_with("-----BEGIN CMS") {
        return Err(SigProblem::Unsupported("X.509"));
    }
    let sig = SshSig::from_pem(armor).map_err(|e| SigProblem::Malformed(e.to_string()))?;
    if sig.namespace() != namespace {
        return Err(SigProblem::WrongNamespace(sig.namespace().to_owned()));
    }
    let candidates: Vec<&AllowedSigner> = signers
        .iter()
        .filter(|s| s.key.key_data() == sig.public_key())
        .collect();
    if candidates.is_empty() {
        let fingerprint =
            PublicKey::from(sig.public_key().clone()).fingerprint(ssh_key::HashAlg::Sha256);
        return Err(SigProblem::UnknownKey(fingerprint.to_string()));
    }
    let mut last_problem = SigProblem::Invalid;
    for signer in candidates {
        if signer
            .namespaces
            .as_ref()
            .is_some_and(|ns| !ns.iter().any(|n| n == namespace))
        {
            last_problem = SigProblem::NamespaceNotAllowed { line: signer.line };
            continue;
        }
        if let Some(from) = signer.valid_after.filter(|from| time < *from) {
            last_problem = SigProblem::NotYetValid {
                line: signer.line,
                from,
            };
            continue;
        }
        if let Some(until) = signer.valid_before.filter(|until| time > *until) {
            last_problem = SigProblem::Expired {
                line: signer.line,
                until,
            };
            continue;
        }
        return match signer.key.verify(namespace, data, &sig) {
            Ok(()) => Ok(signer.principals.clone()),
            Err(_) => Err(SigProblem::Invalid),
        };
    }
    Err(last_problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHmhvlEyeSk0B3sxNwlbIgiC8BvO4Jx1NZ3VsaWj8Dq4";

    #[test]
    fn parses_principals_options_and_keys() {
        let text = format!(
            "# comment\n\nalice@x.example {KEY} alice laptop\n\"bob@x.example,b@x.example\" namespaces=\"git,file\",valid-after=\"20240101\",valid-before=\"20250101Z\" {KEY}\n"
        );
        let (signers, problems) = parse(&text);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(signers.len(), 2);
        assert_eq!(signers[0].principals, vec!["alice@x.example"]);
        assert_eq!(signers[1].principals, vec!["bob@x.example", "b@x.example"]);
        assert_eq!(
            signers[1].namespaces,
            Some(vec!["git".to_owned(), "file".to_owned()])
        );
        assert_eq!(
            signers[1].valid_before.map(|t| t.to_rfc3339()),
            Some("2025-01-01T00:00:00+00:00".to_owned())
        );
        assert_eq!(signers[1].line, 4);
    }

    #[test]
    fn bad_lines_are_reported_not_trusted() {
        let (signers, problems) = parse(&format!(
            "a@x cert-authority {KEY}\nb@x valid-before=\"soon\" {KEY}\nc@x ssh-ed25519 !!!\n"
        ));
        assert!(signers.is_empty());
        let lines: Vec<_> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![1, 2, 3]);
    }

    #[test]
    fn gpg_signatures_are_unsupported() {
        let result = verify(
            "-----BEGIN PGP SIGNATURE-----\nxx\n-----END PGP SIGNATURE-----",
            b"",
            "git",
            Utc::now(),
            &[],
        );
        assert_eq!(result, Err(SigProblem::Unsupported("OpenPGP (GPG)")));
    }
}
