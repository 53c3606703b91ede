//! The same postmortems as a Hugo site, for comparing debrief with a general-purpose static
//! site generator on the same work: the files keep their front-matter (postmortems that
//! `debrief build` leaves out get `draft: true`, so Hugo reads them but does not render
//! them either), and the templates loop over the same structures debrief renders.
//!
//! Left out on purpose: Hugo's `.Related` (debrief's "related incidents" suggestions).
//! Its cost grows faster than the site (on the 1k corpus it already took longer than the
//! rest of the page template), so including it would flatter debrief. The explicit
//! `related:` list is rendered.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use super::postmortem::Postmortem;

const CONFIG: &str = r#"baseURL = "/"
title = "Hopline incident reviews"
languageCode = "en"
# debrief writes no sitemap or robots.txt, and has one feed for the site: keep Hugo's
# output to the same pages (postmortems, index, service and tag pages).
disableKinds = ["section", "RSS", "sitemap", "robotsTXT"]

[taxonomies]
service = "services"
tag = "tags"

# debrief does not highlight code; neither does this site.
[markup.highlight]
codeFences = false
"#;

const BASEOF: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ block "title" . }}{{ .Site.Title }}{{ end }}</title>
<link rel="stylesheet" href="{{ "style.css" | relURL }}">
</head>
<body>
<header class="site-header"><nav class="site-nav">
<a class="brand" href="{{ "/" | relURL }}">{{ .Site.Title }}</a>
<ul><li><a href="{{ "/" | relURL }}">Postmortems</a></li><li><a href="{{ "services/" | relURL }}">Services</a></li><li><a href="{{ "tags/" | relURL }}">Tags</a></li></ul>
</nav></header>
<main id="main">
{{ block "main" . }}{{ end }}
</main>
<footer class="site-footer"><p>Built by Hugo.</p></footer>
</body>
</html>
"#;

const CARD: &str = r#"<tr class="pm-row">
<td class="pm-date">{{ .Params.started_at }}</td>
<td class="pm-cell"><a class="pm-title" href="{{ .RelPermalink }}">{{ .Title }}</a>
{{ with .Params.summary }}<p class="pm-summary">{{ . | truncate 180 }}</p>{{ end }}</td>
<td>{{ .Params.severity }}</td>
<td><span class="status status-{{ .Params.status }}">{{ .Params.status }}</span></td>
<td class="pm-services">{{ range .GetTerms "services" }}<a class="chip" href="{{ .RelPermalink }}">{{ .LinkTitle }}</a> {{ end }}</td>
<td class="num">{{ len (where (.Params.action_items | default slice) "status" "ne" "done") }}</td>
</tr>
"#;

const TABLE_HEAD: &str = r#"<table class="pm-list"><thead><tr><th>Date</th><th>Postmortem</th><th>Severity</th><th>Status</th><th>Services</th><th>Open items</th></tr></thead><tbody>"#;

const SINGLE: &str = r#"{{ define "title" }}{{ .Title }} · {{ .Site.Title }}{{ end }}
{{ define "main" }}
<article class="postmortem">
<header class="pm-header">
<h1>{{ .Title }}</h1>
<p class="pm-meta"><span class="sev">{{ .Params.severity }}</span> <span class="status">{{ .Params.status }}</span> <time>{{ .Params.started_at }}</time></p>
<p class="pm-terms">{{ range .GetTerms "services" }}<a class="chip" href="{{ .RelPermalink }}">{{ .LinkTitle }}</a> {{ end }}{{ range .GetTerms "tags" }}<a class="chip chip-tag" href="{{ .RelPermalink }}">#{{ .LinkTitle }}</a> {{ end }}</p>
</header>
<section><h2>Summary</h2><p class="summary">{{ .Params.summary }}</p>{{ with .Params.customer_impact }}<dl><dt>Customer impact</dt><dd>{{ . }}</dd></dl>{{ end }}</section>
<section><h2>People and times</h2><dl>
<dt>Owner</dt><dd>{{ .Params.owner }}</dd>
<dt>Technical lead</dt><dd>{{ .Params.tech_lead }}</dd>
<dt>Response team</dt><dd>{{ delimit (.Params.responders | default slice) ", " }}</dd>
<dt>Started</dt><dd>{{ .Params.started_at }}</dd><dt>Detected</dt><dd>{{ .Params.detected_at }}</dd>
<dt>Declared</dt><dd>{{ .Params.declared_at }}</dd><dt>Mitigated</dt><dd>{{ .Params.mitigated_at }}</dd><dt>Resolved</dt><dd>{{ .Params.resolved_at }}</dd>
</dl></section>
<section><h2>Timeline</h2><ol class="timeline">
{{ range .Params.timeline }}<li class="t-entry"><p class="t-when"><time>{{ .at }}</time></p><p class="t-event">{{ .event }}</p><p class="t-who">{{ if reflect.IsSlice .who }}{{ delimit .who ", " }}{{ else }}{{ .who }}{{ end }}</p></li>
{{ end }}</ol></section>
<section><h2>Five whys</h2><ol class="whys">
{{ range .Params.whys }}<li><p class="why">{{ .why }}</p><p class="because">{{ .because }}</p></li>
{{ end }}</ol>
{{ with .Params.root_cause }}<div class="root-cause"><h3>Root cause</h3><p>{{ . }}</p></div>{{ end }}</section>
<section><h2>Contributing factors</h2><ul>
{{ range .Params.factors }}<li><strong>{{ .category }}</strong>: {{ .description }}</li>
{{ end }}</ul></section>
<section><h2>Action items</h2><table class="items"><thead><tr><th>Item</th><th>Owner</th><th>Due</th><th>Status</th><th>Ticket</th></tr></thead><tbody>
{{ range .Params.action_items }}<tr class="item item-{{ .status | default "open" }}"><th>{{ .id }} {{ .title }}{{ with .reason }}<span class="item-reason">Won't fix: {{ . }}</span>{{ end }}</th><td>{{ .owner }}</td><td>{{ .due }}</td><td>{{ .status | default "open" }}{{ with .closed_at }} on {{ . }}{{ end }}</td><td>{{ with .ticket }}<a href="{{ . }}">{{ path.Base . }}</a>{{ end }}</td></tr>
{{ end }}</tbody></table></section>
<section class="body prose">{{ .Content }}</section>
{{ with .Params.links }}<section><h2>Links</h2><ul class="links">{{ range . }}<li><a href="{{ .url }}">{{ .title }}</a></li>{{ end }}</ul></section>{{ end }}
<section><h2>Related incidents</h2><ul class="related">
{{ range .Params.related }}<li>{{ . }} — listed as related</li>{{ end }}
</ul></section>
</article>
{{ end }}
"#;

const HOME: &str = r#"{{ define "main" }}
<h1>{{ .Site.Title }}</h1>
{{ $pages := sort .Site.RegularPages "Params.started_at" "desc" }}
<p class="lede">{{ len $pages }} postmortems, newest first.</p>
<p>Services: {{ range .Site.Taxonomies.services.ByCount }}<a class="chip" href="{{ .Page.RelPermalink }}">{{ .Page.Title }} {{ .Count }}</a> {{ end }}</p>
<p>Tags: {{ range .Site.Taxonomies.tags.ByCount }}<a class="chip" href="{{ .Page.RelPermalink }}">{{ .Page.Title }} {{ .Count }}</a> {{ end }}</p>
TABLE_HEAD
{{ range $pages }}{{ partial "card.html" . }}{{ end }}
</tbody></table>
{{ end }}
"#;

const TERM: &str = r#"{{ define "title" }}{{ .Title }} · {{ .Site.Title }}{{ end }}
{{ define "main" }}
<h1>{{ .Data.Singular | title }}: {{ .Title }}</h1>
<p class="lede">{{ len .Pages }} postmortems.</p>
TABLE_HEAD
{{ range sort .Pages "Params.started_at" "desc" }}{{ partial "card.html" . }}{{ end }}
</tbody></table>
{{ end }}
"#;

const TAXONOMY: &str = r#"{{ define "title" }}{{ .Title }} · {{ .Site.Title }}{{ end }}
{{ define "main" }}
<h1>{{ .Title }}</h1>
<ul class="terms">
{{ range .Data.Terms.Alphabetical }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}</a> <span class="muted">{{ .Count }} postmortems</span></li>
{{ end }}</ul>
{{ end }}
"#;

/// Writes the Hugo site into `dir` (which must not hold anything else).
pub fn write(dir: &Path, postmortems: &[Postmortem]) -> Result<()> {
    let write = |rel: &str, text: &str| -> Result<()> {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    write("hugo.toml", CONFIG)?;
    write("layouts/_default/baseof.html", BASEOF)?;
    write("layouts/_default/single.html", SINGLE)?;
    write("layouts/partials/card.html", CARD)?;
    write(
        "layouts/index.html",
        &HOME.replace("TABLE_HEAD", TABLE_HEAD),
    )?;
    write(
        "layouts/_default/term.html",
        &TERM.replace("TABLE_HEAD", TABLE_HEAD),
    )?;
    write("layouts/_default/taxonomy.html", TAXONOMY)?;
    write(
        "static/style.css",
        "body { font-family: system-ui, sans-serif; }\n",
    )?;
    let content = dir.join("content").join("postmortems");
    fs::create_dir_all(&content).with_context(|| format!("cannot create {}", content.display()))?;
    for pm in postmortems {
        let path = content.join(format!("{}.md", pm.id));
        let text = if pm.status.approved() {
            pm.text.clone()
        } else {
            pm.text.replacen("---\n", "---\ndraft: true\n", 1)
        };
        fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
