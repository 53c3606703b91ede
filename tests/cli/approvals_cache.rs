//! The history cache (`.git/debrief/history-cache.json`) must never change a result: every
//! answer with the cache equals the answer without it, whatever happened to history.

use super::*;
use crate::git_harness::TODAY;

/// `check --format json` with and without the cache, as parsed JSON (same run inputs).
fn both(repo: &GitRepo) -> (String, String) {
    let args = ["check", "--format", "json", "--today", TODAY];
    let cached = repo.debrief_env(&[], &args).stdout;
    let uncached = repo.debrief_env(&[("DEBRIEF_NO_CACHE", "1")], &args).stdout;
    (cached, uncached)
}

fn cache_file(repo: &GitRepo) -> std::path::PathBuf {
    repo.path().join(".git/debrief/history-cache.json")
}

#[test]
fn cached_and_uncached_answers_agree_as_history_moves_and_is_rewritten() {
    let repo = GitRepo::new();
    repo.review(&bob(), PM_ID);
    repo.approve(&alice(), PM_ID);
    let (cached, uncached) = both(&repo);
    assert_eq!(cached, uncached);
    assert!(
        cache_file(&repo).is_file(),
        "the first run writes the cache"
    );
    // Warm: HEAD unchanged.
    let (cached, uncached) = both(&repo);
    assert_eq!(cached, uncached);
    assert!(!cached.contains("signoff-missing"), "{cached}");

    // History moves forward: an edit makes the sign-off stale; only new commits are read.
    repo.edit(PM_FILE, "item for three hours.", "item for four hours.");
    repo.commit_all("Edit the impact");
    let (cached, uncached) = both(&repo);
    assert_eq!(cached, uncached);
    assert!(cached.contains("signoff-stale"), "{cached}");

    // History is rewritten: the edit disappears, the cached HEAD is no longer an ancestor.
    repo.git(&["reset", "--hard", "HEAD~1"]);
    let (cached, uncached) = both(&repo);
    assert_eq!(cached, uncached);
    assert!(!cached.contains("signoff-stale"), "{cached}");

    // Rewritten again, further: without the sign-off commit the postmortem is in review.
    repo.git(&["reset", "--hard", "HEAD~1"]);
    repo.publish_by_hand(PM_FILE);
    let (cached, uncached) = both(&repo);
    assert_eq!(cached, uncached);
    assert!(cached.contains("signoff-missing"), "{cached}");
}

#[test]
fn a_corrupt_cache_is_ignored() {
    let repo = GitRepo::new();
    repo.review(&bob(), PM_ID);
    repo.approve(&alice(), PM_ID);
    let (first, _) = both(&repo);
    std::fs::write(cache_file(&repo), "{not json").unwrap();
    let (cached, uncached) = both(&repo);
    assert_eq!(cached, uncached);
    assert_eq!(cached, first);
}
