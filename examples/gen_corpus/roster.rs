//! The people of the corpus and the `debrief.toml` that declares them.

use std::fmt::Write as _;

use super::pools;

pub struct Person {
    pub handle: String,
    pub name: String,
    pub emails: Vec<String>,
    pub roles: Vec<&'static str>,
}

pub struct Roster {
    pub people: Vec<Person>,
    /// Indexes of the people with the `tech-lead` role.
    pub tech_leads: Vec<usize>,
}

/// `Wójcik` → `wojcik`: handles and e-mail local parts are ASCII.
fn ascii(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            'á' | 'à' | 'ä' | 'å' => Some('a'),
            'é' | 'è' | 'ë' | 'ě' => Some('e'),
            'í' | 'ı' => Some('i'),
            'ó' | 'ö' | 'ø' => Some('o'),
            'ú' | 'ü' | 'ů' => Some('u'),
            'ř' => Some('r'),
            'č' => Some('c'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// About fifty people; every sixth is a tech lead.
pub fn roster(size: usize) -> Roster {
    let mut people = Vec::new();
    let mut tech_leads = Vec::new();
    for (i, (first, last)) in pools::NAMES.iter().take(size).enumerate() {
        let handle = ascii(first);
        let mut emails = vec![format!("{handle}@hopline.example")];
        if i % 7 == 3 {
            emails.push(format!("{}.{}@hopline.example", &handle[..1], ascii(last)));
        }
        let roles = if i % 6 == 1 || i == 2 || i == 3 {
            tech_leads.push(i);
            vec!["tech-lead"]
        } else if i % 3 == 0 {
            vec!["sre"]
        } else if i % 11 == 7 {
            vec!["engineer", "support-liaison"]
        } else {
            vec!["engineer"]
        };
        people.push(Person {
            handle,
            name: format!("{first} {last}"),
            emails,
            roles,
        });
    }
    Roster { people, tech_leads }
}

impl Roster {
    /// The repository's `debrief.toml`.
    pub fn config(&self) -> String {
        let mut out = String::from(
            r#"# debrief configuration of a generated benchmark corpus (fictional company: Hopline).
# Made by `cargo run --release --example gen-corpus`; see docs/performance.md.

[site]
title = "Hopline incident reviews"
base_url = "/"
content = "content"
timezone = "Europe/Berlin"

[workflow]
severities = ["SEV1", "SEV2", "SEV3", "SEV4"]
declare_within = "30m"
min_whys = 5
factor_categories = ["process", "tooling", "communication", "monitoring", "testing", "capacity"]

[workflow.severity.SEV1]
declare_within = "15m"

[fields.customer_impact]
type = "text"
label = "Customer impact"
required_from = "review"
"#,
        );
        for p in &self.people {
            let emails: Vec<String> = p.emails.iter().map(|e| format!("\"{e}\"")).collect();
            let roles: Vec<String> = p.roles.iter().map(|r| format!("\"{r}\"")).collect();
            let _ = write!(
                out,
                "\n[people.{}]\nname = \"{}\"\nemails = [{}]\nroles = [{}]\n",
                p.handle,
                p.name,
                emails.join(", "),
                roles.join(", ")
            );
        }
        out.push_str("\n[rules]\n");
        out
    }
}
