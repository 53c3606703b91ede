//! Action-item exports shared by the site and `debrief actions`: CSV for trackers and
//! iCalendar for calendars. Both are deterministic: same items and day, same bytes.

use std::fmt::Write as _;

use chrono::NaiveDate;

use crate::model::ItemStatus;
use crate::render::view::ItemView;

pub const CSV_COLUMNS: &str = "postmortem,id,title,owner,due,status,closed_at,ticket,overdue_days";

/// RFC 4180 CSV. Cells that a spreadsheet would run as a formula are prefixed with `'`.
pub fn csv(items: &[ItemView]) -> String {
    let mut out = String::from(CSV_COLUMNS);
    out.push_str("\r\n");
    for item in items {
        let cells = [
            item.postmortem_id.clone(),
            item.id.clone(),
            item.title.clone(),
            item.owner
                .as_ref()
                .map(|o| o.handle.clone())
                .unwrap_or_default(),
            item.due.clone().unwrap_or_default(),
            item.status.as_str().to_owned(),
            item.closed_at.clone().unwrap_or_default(),
            item.ticket.clone().unwrap_or_default(),
            item.overdue_days.map(|d| d.to_string()).unwrap_or_default(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// An iCalendar feed: one all-day event per open item on its due date, with a UID that
/// stays the same across builds so calendars update instead of duplicating.
pub fn ics(items: &[ItemView], calendar: &str, today: NaiveDate) -> String {
    let mut out = String::new();
    let mut line = |text: String| fold(&mut out, &text);
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//debrief//action items//EN".into());
    line("CALSCALE:GREGORIAN".into());
    line("METHOD:PUBLISH".into());
    line(format!("X-WR-CALNAME:{}", ics_text(calendar)));
    let stamp = format!("{}T000000Z", today.format("%Y%m%d"));
    for item in items.iter().filter(|i| i.status == ItemStatus::Open) {
        let Some(due) = item
            .due
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        else {
            continue;
        };
        let next = due.succ_opt().unwrap_or(due);
        line("BEGIN:VEVENT".into());
        line(format!("UID:{}/{}@debrief", item.postmortem_id, item.id));
        line(format!("DTSTAMP:{stamp}"));
        line(format!("DTSTART;VALUE=DATE:{}", due.format("%Y%m%d")));
        line(format!("DTEND;VALUE=DATE:{}", next.format("%Y%m%d")));
        line(format!(
            "SUMMARY:{}",
            ics_text(&format!("{}: {}", item.id, item.title))
        ));
        let mut description = format!(
            "Postmortem: {} ({})",
            item.postmortem_title, item.postmortem_id
        );
        if let Some(owner) = &item.owner {
            let _ = write!(description, "\nOwner: {} ({})", owner.name, owner.handle);
        }
        if let Some(days) = item.overdue_days {
            let _ = write!(description, "\nOverdue by {days} day(s)");
        }
        line(format!("DESCRIPTION:{}", ics_text(&description)));
        if let Some(ticket) = &item.ticket {
            line(format!("URL:{}", ics_text(ticket)));
        }
        line("END:VEVENT".into());
    }
    line("END:VCALENDAR".into());
    out
}

fn ics_text(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace("\r\n", "\\n")
        .replace('\n', "\\n")
}

/// Content lines are at most 75 octets; continuations start with a space (RFC 5545 3.1).
fn fold(out: &mut String, line: &str) {
    let mut count = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if count + len > 75 {
            out.push_str("\r\n ");
            count = 1;
        }
        out.push(c);
        count += len;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }

    #[test]
    fn ics_lines_fold_at_75_octets_on_char_boundaries() {
        let mut out = String::new();
        fold(&mut out, &format!("SUMMARY:{}", "ü".repeat(60)));
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{line}");
        }
        assert_eq!(ics_text("a,b;c\nd"), "a\\,b\\;c\\nd");
    }
}
