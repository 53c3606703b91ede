//! Theme overrides and `debrief theme eject` (test 9).

use super::*;

const MARKER: &str = "custom-404-marker-7f3a";

fn repo_with_theme(name: &str) -> Repo {
    let repo = Repo::new();
    repo.config(&standard_config().replace(
        "timezone = \"UTC\"\n",
        &format!("timezone = \"UTC\"\ntheme = \"{name}\"\n"),
    ));
    repo.write("content/a.md", Pm::published());
    repo
}

#[test]
fn an_override_replaces_one_template_and_keeps_the_rest() {
    let repo = repo_with_theme("mine");
    repo.write(
        "themes/mine/templates/404.html",
        format!(
            "{{% extends \"base.html\" %}}{{% block main %}}<p>{MARKER}</p>{{% endblock main %}}"
        ),
    );
    build_ok(&repo, &[]);
    let not_found = page(&repo, "404.html");
    assert!(not_found.contains(MARKER), "{not_found}");
    assert!(!not_found.contains("Page not found"), "{not_found}");
    // It still extends the default base, and every other page is the default theme.
    assert!(
        not_found.contains("<meta name=\"generator\" content=\"debrief\">"),
        "{not_found}"
    );
    let index = page(&repo, "index.html");
    assert!(index.contains("newest first"), "{index}");
    assert!(!index.contains(MARKER), "{index}");
    let pm = page(&repo, "postmortems/a/index.html");
    assert!(pm.contains("<h2 id=\"timeline-h\">Timeline</h2>"), "{pm}");
    let broken = broken_links(&tree(&repo.path().join("public")));
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn an_override_of_a_static_file_is_published() {
    let repo = repo_with_theme("mine");
    repo.write("themes/mine/static/style.css", format!("/* {MARKER} */\n"));
    repo.write(
        "themes/mine/static/logo.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    );
    build_ok(&repo, &[]);
    assert!(page(&repo, "static/style.css").starts_with(&format!("/* {MARKER} */\n")));
    assert!(repo.exists("public/static/logo.svg"));
}

#[test]
fn a_missing_theme_folder_is_an_error() {
    let repo = repo_with_theme("nowhere");
    let out = build(&repo, &[]);
    out.assert_code(2);
    assert!(out.stderr.contains("theme `nowhere` not found"), "{out}");
    assert!(!repo.exists("public"), "nothing was written");
}

#[test]
fn a_broken_override_template_fails_the_build_naming_it() {
    let repo = repo_with_theme("mine");
    repo.write("themes/mine/templates/404.html", "<p>{% if %}</p>");
    let out = build(&repo, &[]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("404.html"),
        "the template is named\n{out}"
    );
    assert!(!repo.exists("public"), "nothing was written");
    assert!(
        leftovers(&repo).is_empty(),
        "left behind: {:?}",
        leftovers(&repo)
    );
}

#[test]
fn a_template_that_fails_while_rendering_leaves_the_previous_site() {
    let repo = repo_with_theme("mine");
    repo.write("themes/mine/static/extra.css", "p { margin: 0 }\n");
    build_ok(&repo, &[]);
    let before = tree(&repo.path().join("public"));
    repo.write(
        "themes/mine/templates/404.html",
        "{% extends \"base.html\" %}{% block main %}{{ no_such_variable.field }}{% endblock main %}",
    );
    let out = build(&repo, &[]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("404.html"),
        "the template is named\n{out}"
    );
    assert!(
        tree(&repo.path().join("public")) == before,
        "the previous site changed"
    );
    assert!(
        leftovers(&repo).is_empty(),
        "left behind: {:?}",
        leftovers(&repo)
    );
}

#[test]
fn eject_writes_the_default_theme_and_refuses_to_overwrite_it() {
    let repo = Repo::new();
    let out = repo.run(&["theme", "eject", "themes/x"]);
    out.assert_code(0);
    let written = tree(&repo.path().join("themes/x"));
    let expected: BTreeMap<String, Vec<u8>> = debrief::render::theme::DEFAULT
        .iter()
        .map(|(path, text)| ((*path).to_owned(), text.as_bytes().to_vec()))
        .collect();
    assert_eq!(
        written.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &expected {
        assert!(
            written[path] == *bytes,
            "ejected {path} differs from the embedded theme"
        );
    }
    assert!(expected.contains_key("templates/postmortem.html"));
    assert!(expected.contains_key("static/site.js"));

    // The user edits one file; a second eject refuses and changes nothing.
    repo.write("themes/x/templates/404.html", MARKER);
    let before = repo.snapshot();
    let again = repo.run(&["theme", "eject", "themes/x"]);
    again.assert_code(2);
    assert!(again.stderr.contains("already exist"), "{again}");
    assert_eq!(repo.snapshot(), before, "a refused eject changed files");
}

#[test]
fn an_ejected_theme_builds_the_same_site_as_the_default() {
    let repo = Repo::new();
    repo.write("content/a.md", Pm::published());
    repo.run(&["theme", "eject", "themes/x"]).assert_code(0);
    build_ok(&repo, &["--output", "default"]);
    repo.config(&standard_config().replace(
        "timezone = \"UTC\"\n",
        "timezone = \"UTC\"\ntheme = \"x\"\n",
    ));
    build_ok(&repo, &["--output", "ejected"]);
    let default = tree(&repo.path().join("default"));
    let ejected = tree(&repo.path().join("ejected"));
    assert_eq!(
        default.keys().collect::<Vec<_>>(),
        ejected.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &default {
        assert!(
            bytes == &ejected[path],
            "{path} differs with the ejected theme"
        );
    }
}
