//! Markdown → safe HTML: pulldown-cmark with heading anchors, then ammonia.
//!
//! Postmortem bodies come from pull requests, so raw HTML in them is untrusted: ammonia
//! removes scripts, event handlers and `javascript:` links, while a narrow allow-list keeps
//! what Markdown legitimately produces (heading ids, footnotes, code language classes,
//! table alignment).

use std::collections::HashMap;
use std::sync::OnceLock;

use ammonia::Builder;
use pulldown_cmark::{html, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

fn sanitizer() -> &'static Builder<'static> {
    static BUILDER: OnceLock<Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let mut builder = Builder::default();
        builder
            .add_generic_attributes(["id"])
            .add_tag_attributes("code", ["class"])
            .add_tag_attributes("td", ["style"])
            .add_tag_attributes("th", ["style"])
            .add_tag_attributes("sup", ["class"])
            .add_tag_attributes("div", ["class"])
            .add_tag_attributes("li", ["class"])
            .add_tag_attributes("input", ["type", "checked", "disabled"])
            .add_tags(["input"])
            .url_schemes(["http", "https", "mailto"].into())
            .link_rel(Some("noopener noreferrer"))
            .attribute_filter(|element, attribute, value| match (element, attribute) {
                (_, "id") => safe_token(value).then_some(value.into()),
                ("code", "class") => {
                    let ok = value.strip_prefix("language-").is_some_and(safe_token);
                    ok.then_some(value.into())
                }
                ("td" | "th", "style") => {
                    let ok = matches!(
                        value,
                        "text-align: left" | "text-align: center" | "text-align: right"
                    );
                    ok.then_some(value.into())
                }
                ("sup" | "div" | "li", "class") => {
                    let ok = matches!(
                        value,
                        "footnote-reference" | "footnote-definition" | "task-list-item"
                    );
                    ok.then_some(value.into())
                }
                ("input", "type") => (value == "checkbox").then_some(value.into()),
                _ => Some(value.into()),
            });
        builder
    })
}

fn safe_token(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
}

/// A heading of the body, for a table of contents.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Heading {
    pub level: u8,
    pub id: String,
    pub text: String,
}

/// Renders a body; headings get stable, unique ids (`what-happened`, `what-happened-1`).
pub fn render(markdown: &str) -> (String, Vec<Heading>) {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS;
    let events: Vec<Event> = Parser::new_ext(markdown, options).collect();
    let mut headings = Vec::new();
    let mut used: HashMap<String, usize> = HashMap::new();
    let mut out_events = Vec::with_capacity(events.len());
    let mut index = 0;
    while index < events.len() {
        if let Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) = &events[index]
        {
            let end = events[index..]
                .iter()
                .position(|e| matches!(e, Event::End(TagEnd::Heading(_))))
                .map_or(events.len(), |p| index + p);
            let text: String = events[index + 1..end]
                .iter()
                .filter_map(|e| match e {
                    Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                    _ => None,
                })
                .collect();
            let base = id.as_ref().map_or_else(|| slugify(&text), |i| slugify(i));
            let count = used.entry(base.clone()).or_insert(0);
            let unique = if *count == 0 {
                base.clone()
            } else {
                format!("{base}-{count}")
            };
            *count += 1;
            headings.push(Heading {
                level: heading_number(*level),
                id: unique.clone(),
                text: text.clone(),
            });
            out_events.push(Event::Start(Tag::Heading {
                level: *level,
                id: Some(CowStr::from(unique)),
                classes: classes.clone(),
                attrs: attrs.clone(),
            }));
            index += 1;
            continue;
        }
        out_events.push(events[index].clone());
        index += 1;
    }
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, out_events.into_iter());
    (sanitizer().clean(&unsafe_html).to_string(), headings)
}

fn heading_number(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// `What went well?` → `what-went-well`
pub fn slugify(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.is_empty() {
        "section".into()
    } else {
        slug
    }
}

/// Plain text of a Markdown body, for search and feeds.
pub fn plain_text(markdown: &str) -> String {
    let mut text = String::new();
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Text(t) | Event::Code(t) => {
                text.push_str(&t);
                text.push(' ');
            }
            Event::SoftBreak | Event::HardBreak | Event::End(_) => text.push(' '),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_and_javascript_links_are_removed() {
        let (html, _) = render("<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) <a href=\"javascript:alert(2)\">y</a>\n\n<iframe src=\"https://x\"></iframe>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("<iframe"), "{html}");
    }

    #[test]
    fn markdown_features_survive_sanitising() {
        let (html, headings) = render("## What happened\n\n## What happened\n\n```sql\nselect 1;\n```\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\nNote[^1]\n\n[^1]: footnote\n");
        assert!(html.contains("<h2 id=\"what-happened\">"), "{html}");
        assert!(html.contains("<h2 id=\"what-happened-1\">"), "{html}");
        assert!(html.contains("class=\"language-sql\""), "{html}");
        assert!(html.contains("style=\"text-align: right\""), "{html}");
        assert!(html.contains("footnote-definition"), "{html}");
        assert_eq!(headings.len(), 2);
    }

    #[test]
    fn hostile_ids_and_classes_are_dropped() {
        let (html, _) =
            render("<p id=\"x\" class=\"evil\">a</p><code class=\"language-x onload=1\">b</code>");
        assert!(!html.contains("evil"), "{html}");
        assert!(!html.contains("onload"), "{html}");
    }
}
