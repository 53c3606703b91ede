//! `[approvals] require_signature = true`: identity comes from an SSH signature checked
//! against the trusted `.debrief/allowed_signers`, never from the author field.

use std::fs;

use crate::git_harness::{
    alice, bob, signed_config, signer_line, GitRepo, Key, Report, CONFIG, PM_FILE, PM_ID,
    POSTMORTEM, SIGNERS,
};

/// Real key pairs for everyone.
struct Keys {
    alice: Key,
    bob: Key,
    carol: Key,
    mallory: Key,
}

/// Signed mode; allowed signers: bob (line 1), alice as `alice_line` makes her (line 2),
/// mallory as herself (line 3). Bob's signed review is committed.
fn signed_repo(alice_line: impl Fn(&Key) -> String) -> (GitRepo, Keys) {
    let repo = GitRepo::empty();
    let keys = Keys {
        alice: repo.key("alice"),
        bob: repo.key("bob"),
        carol: repo.key("carol"),
        mallory: repo.key("mallory"),
    };
    repo.write("debrief.toml", signed_config());
    repo.write(PM_FILE, POSTMORTEM);
    repo.write(
        SIGNERS,
        signer_line("bob@example.com", "namespaces=\"git\"", &keys.bob)
            + &alice_line(&keys.alice)
            + &signer_line("mallory@example.com", "namespaces=\"git\"", &keys.mallory),
    );
    repo.commit_all("Add postmortems and signers");
    repo.review(&bob().signing_with(&keys.bob), PM_ID);
    assert!(is_signed(&repo, "HEAD"), "bob's review is not signed");
    (repo, keys)
}

/// Alice's entry as it should be.
fn alice_trusted(key: &Key) -> String {
    signer_line(
        "alice@example.com",
        "namespaces=\"git\",valid-after=\"20200101\"",
        key,
    )
}

fn is_signed(repo: &GitRepo, rev: &str) -> bool {
    repo.git(&["cat-file", "commit", rev])
        .contains("\ngpgsig -----BEGIN SSH SIGNATURE-----")
}

/// Alice's sign-off does not count because of its signature: `signoff-unsigned` with
/// `problem`, and so her review is missing too.
fn assert_unsigned(report: &Report, problem: &str) {
    assert_eq!(report.code(), 1, "{report}");
    let finding = report.expect("signoff-unsigned", PM_ID);
    assert!(
        finding
            .message
            .contains("(author alice@example.com) does not count: ")
            && finding.message.contains(problem),
        "expected `{problem}` in:\n{report}"
    );
    assert_eq!(
        report.rules_for(PM_ID),
        vec!["review-missing", "signoff-unsigned"],
        "{report}"
    );
}

#[test]
fn a_signoff_signed_with_the_tech_leads_trusted_key_counts() {
    let (repo, keys) = signed_repo(alice_trusted);
    repo.approve(&alice().signing_with(&keys.alice), PM_ID);
    assert!(is_signed(&repo, "HEAD"));
    repo.check_json(&[]).assert_clean(true);
    repo.check_json(&["--trust-ref", "main"])
        .assert_clean(false);

    let approvals = repo.approvals_json();
    let signatures: Vec<&str> = approvals["postmortems"][0]["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["signature"].as_str().expect("signature"))
        .collect();
    assert_eq!(signatures, vec!["verified", "verified"]);
}

#[test]
fn the_author_field_is_not_identity_a_signature_by_another_key_is_not_the_tech_lead() {
    // Alice's name and email on the commit, mallory's (trusted, as mallory) key on it.
    let (repo, keys) = signed_repo(alice_trusted);
    let commit = repo.approve(&alice().signing_with(&keys.mallory), PM_ID);
    assert!(is_signed(&repo, "HEAD"));
    assert_eq!(
        repo.git(&["log", "-1", "--format=%ae"]).trim(),
        "alice@example.com"
    );
    let report = repo.check_json(&[]);
    assert_eq!(report.code(), 1, "{report}");
    assert_eq!(
        report.expect("signoff-not-tech-lead", PM_ID).message,
        format!(
            "signed off by mallory in commit {}, but the tech lead is alice",
            &commit[..10]
        ),
        "{report}"
    );
    report.assert_no("signoff-missing");
}

#[test]
fn an_unsigned_signoff_does_not_count() {
    let (repo, _) = signed_repo(alice_trusted);
    repo.publish_by_hand(PM_FILE);
    let digest = repo.digest(PM_ID);
    repo.commit_message(
        &alice(),
        &format!("Sign off {PM_ID}\n\nPostmortem-Signoff: {PM_ID} {digest}\n"),
    );
    assert!(!is_signed(&repo, "HEAD"));
    assert_unsigned(&repo.check_json(&[]), "the commit is not signed");
}

#[test]
fn a_key_missing_from_the_allowed_signers_is_not_trusted() {
    let (repo, keys) = signed_repo(alice_trusted);
    repo.approve(&alice().signing_with(&keys.carol), PM_ID);
    assert!(is_signed(&repo, "HEAD"));
    assert_unsigned(
        &repo.check_json(&[]),
        &format!(
            "signed by key {}, which is not in the trusted .debrief/allowed_signers",
            keys.carol.fingerprint()
        ),
    );
}

#[test]
fn a_key_past_its_valid_before_date_is_expired() {
    let (repo, keys) = signed_repo(|key| {
        signer_line(
            "alice@example.com",
            "namespaces=\"git\",valid-after=\"20200101\",valid-before=\"20210101\"",
            key,
        )
    });
    repo.approve(&alice().signing_with(&keys.alice), PM_ID);
    assert_unsigned(
        &repo.check_json(&[]),
        "the key (.debrief/allowed_signers:2) expired at 2021-01-01 00:00 UTC",
    );
}

#[test]
fn a_key_before_its_valid_after_date_is_not_yet_valid() {
    let (repo, keys) = signed_repo(|key| {
        signer_line(
            "alice@example.com",
            "namespaces=\"git\",valid-after=\"20270101\"",
            key,
        )
    });
    repo.approve(&alice().signing_with(&keys.alice), PM_ID);
    assert_unsigned(
        &repo.check_json(&[]),
        "the key (.debrief/allowed_signers:2) is only valid from 2027-01-01 00:00 UTC",
    );
}

#[test]
fn a_key_allowed_only_for_the_file_namespace_cannot_sign_commits() {
    let (repo, keys) =
        signed_repo(|key| signer_line("alice@example.com", "namespaces=\"file\"", key));
    repo.approve(&alice().signing_with(&keys.alice), PM_ID);
    assert_unsigned(
        &repo.check_json(&[]),
        "the key's entry (.debrief/allowed_signers:2) does not allow the `git` namespace",
    );
}

#[test]
fn an_unusable_allowed_signers_line_is_reported_and_its_key_not_trusted() {
    let (repo, keys) = signed_repo(|key| signer_line("alice@example.com", "cert-authority", key));
    repo.approve(&alice().signing_with(&keys.alice), PM_ID);
    let report = repo.check_json(&[]);
    let invalid: Vec<_> = report
        .findings()
        .into_iter()
        .filter(|d| d.rule == "allowed-signers-invalid")
        .collect();
    assert_eq!(invalid.len(), 1, "{report}");
    assert_eq!(
        (
            invalid[0].file.as_str(),
            invalid[0].line,
            invalid[0].level.as_str()
        ),
        (SIGNERS, Some(2), "warning"),
        "{report}"
    );
    assert_eq!(report.code(), 1, "{report}");
    let unsigned = report.expect("signoff-unsigned", PM_ID);
    assert!(
        unsigned.message.contains("which is not in the trusted"),
        "{report}"
    );
}

#[test]
fn an_openpgp_signature_is_not_accepted() {
    let (repo, _) = signed_repo(alice_trusted);
    repo.publish_by_hand(PM_FILE);
    let digest = repo.digest(PM_ID);
    // A commit object with a PGP-armoured gpgsig header, written by hand.
    let tree = repo.git(&["rev-parse", "HEAD^{tree}"]);
    let parent = repo.head();
    let object = format!(
        "tree {}\nparent {parent}\nauthor Alice Lead <alice@example.com> 1772380000 +0000\ncommitter Alice Lead <alice@example.com> 1772380000 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEEAAAAAAAAAAAAAAAAAAAAAAAAAAAFAmeAAAAACgkQAAAAAAAAAAAA\n =AAAA\n -----END PGP SIGNATURE-----\n\nSign off {PM_ID}\n\nPostmortem-Signoff: {PM_ID} {digest}\n",
        tree.trim()
    );
    let path = repo.sibling("commit-object");
    fs::write(&path, object).expect("write the commit object");
    let id = repo.git(&[
        "hash-object",
        "-t",
        "commit",
        "-w",
        path.to_str().expect("UTF-8"),
    ]);
    repo.git(&["update-ref", "refs/heads/main", id.trim()]);
    assert!(repo
        .git(&["cat-file", "commit", "HEAD"])
        .contains("\ngpgsig -----BEGIN PGP SIGNATURE-----"));
    assert_unsigned(
        &repo.check_json(&[]),
        "OpenPGP (GPG) signatures are not supported",
    );
}

#[test]
fn a_pull_request_cannot_trust_its_own_key_past_the_trust_ref() {
    let (repo, _) = signed_repo(alice_trusted);
    repo.git(&["checkout", "--quiet", "-b", "pr"]);
    // The pull request lists a key of its author's as alice's, and signs alice's sign-off
    // with it.
    let intruder = repo.key("intruder");
    let signers =
        repo.read(SIGNERS) + &signer_line("alice@example.com", "namespaces=\"git\"", &intruder);
    repo.write(SIGNERS, signers);
    repo.commit_all("Add a signing key");
    repo.approve(&alice().signing_with(&intruder), PM_ID);

    repo.check_json(&[]).assert_clean(true);
    let report = repo.check_json(&["--trust-ref", "main"]);
    assert_eq!(
        report.expect("signoff-unsigned", PM_ID).message,
        format!(
            "sign-off in commit {} (author alice@example.com) does not count: signed by key {}, which is not in the trusted .debrief/allowed_signers",
            &repo.head()[..10],
            intruder.fingerprint()
        ),
        "{report}"
    );
    assert_eq!(report.code(), 1, "{report}");
}

#[test]
fn a_pull_request_cannot_switch_signatures_off_past_the_trust_ref() {
    let (repo, _) = signed_repo(alice_trusted);
    repo.git(&["checkout", "--quiet", "-b", "pr"]);
    repo.write("debrief.toml", CONFIG);
    repo.commit_all("Signatures are a hassle");
    // Unsigned, with alice's name on it: fine once signatures are off.
    repo.approve(&alice(), PM_ID);
    assert!(!is_signed(&repo, "HEAD"));

    repo.check_json(&[]).assert_clean(true);
    assert_unsigned(
        &repo.check_json(&["--trust-ref", "main"]),
        "the commit is not signed",
    );
}

#[test]
fn a_failed_signing_leaves_the_file_and_history_as_they_were() {
    let (repo, _) = signed_repo(alice_trusted);
    let start = repo.head();
    let before = repo.read(PM_FILE);
    let mut unusable = alice();
    unusable.key = Some(repo.sibling("no-such-key"));
    let out = repo.debrief_as(&unusable, &["approve", PM_ID]);
    out.assert_code(2).assert_stderr_has("git commit failed");
    assert_eq!(repo.head(), start);
    assert_eq!(
        repo.read(PM_FILE),
        before,
        "the status change was not undone"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}
