//! Inline SVG charts for the trend pages, plus the CSS that colours them.
//!
//! Every chart is one complete `<svg>` element with a `viewBox` (CSS scales it to the width of
//! its container), `role="img"` and a `<title>`/`<desc>` pair named by `aria-labelledby`; each
//! mark carries a `<title>` tooltip. Colours come only from CSS classes styled by [`css`]: the
//! site's Content-Security-Policy blocks inline `style`, and no `<script>` is ever emitted. No
//! series relies on colour alone: stacked segments also differ by hatch pattern, line series
//! by dash and marker shape, and every multi-series chart has a text legend. All text passes
//! through [`escape`]. Coordinates are printed with one fixed decimal, so output is
//! byte-for-byte reproducible.

use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Width of every chart's coordinate system; CSS scales the chart to its container.
pub const WIDTH: f64 = 640.0;
/// Approximate advance of one glyph at the chart font size (11px sans-serif), for layout.
const CHAR_W: f64 = 6.4;
/// Left margin of full-width plots: room for the y tick labels and the rotated axis title.
const LEFT: f64 = 60.0;
const RIGHT: f64 = 16.0;
/// Number of distinct hatch patterns (index 0 is solid, no hatch).
pub const HATCHES: usize = 8;

/// `write!` into a `String`, which cannot fail.
macro_rules! w {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

/// Escapes text for XML/HTML text and attribute values: `& < > " '`. Control characters that
/// XML forbids are replaced by U+FFFD, so user input can never break the markup.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with one fixed decimal, trailing `.0` dropped, never `-0` or `NaN`.
fn num(v: f64) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    let text = format!("{v:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    if text == "-0" {
        "0".into()
    } else {
        text.to_string()
    }
}

/// Estimated rendered width of `text` at the chart font size.
fn text_w(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR_W
}

/// Shortens `text` to at most `max` characters, ending with `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The accessible name and description of one chart; `id` must be unique on the page
/// (it prefixes the ids of the title, the description and the hatch patterns).
#[derive(Clone, Copy, Debug)]
pub struct Chart<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub desc: &'a str,
}

/// A value axis from 0 to `max`, with labelled gridlines at `ticks`.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub max: f64,
    pub ticks: Vec<(f64, String)>,
}

/// A count axis with "nice" steps (1, 2, 5 × 10ⁿ) and at most five of them above zero.
pub fn count_axis(max: u64) -> Axis {
    let mut step = 1u64;
    'search: for exp in 0..19u32 {
        let base = 10u64.pow(exp);
        for m in [1u64, 2, 5] {
            let candidate = base.saturating_mul(m);
            if max.div_ceil(candidate) <= 5 {
                step = candidate;
                break 'search;
            }
        }
    }
    let steps = max.div_ceil(step).max(1);
    Axis {
        max: (steps * step) as f64,
        ticks: (0..=steps)
            .map(|k| ((k * step) as f64, (k * step).to_string()))
            .collect(),
    }
}

/// A 0–100 % axis in steps of 25.
pub fn percent_axis() -> Axis {
    Axis {
        max: 100.0,
        ticks: (0..=4u32)
            .map(|k| (f64::from(k * 25), format!("{}%", k * 25)))
            .collect(),
    }
}

/// One series of a stacked chart: its legend name, CSS classes (e.g. `sev sev-1`) and hatch
/// pattern (0 = solid, see [`hatch_for`]).
#[derive(Clone, Debug)]
pub struct Series {
    pub name: String,
    pub class: String,
    pub hatch: usize,
}

/// The hatch pattern for the series at `index`, so neighbours never share one.
pub fn hatch_for(index: usize) -> usize {
    index % HATCHES
}

/// Marker shape of a line series: with the dash style, this tells series apart without colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Square,
}

/// One line of a small-multiple panel. `values` and `tooltips` have one entry per x label;
/// `None` leaves a gap.
#[derive(Clone, Debug)]
pub struct Line {
    pub name: String,
    /// e.g. `series-median`; the path gets `line <class>`, the markers `marker <class>`.
    pub class: String,
    pub marker: Marker,
    pub values: Vec<Option<f64>>,
    pub tooltips: Vec<String>,
}

/// One panel of [`small_multiples`], with its own value axis.
#[derive(Clone, Debug)]
pub struct Panel {
    pub title: String,
    pub x_labels: Vec<String>,
    pub lines: Vec<Line>,
    pub axis: Axis,
}

/// One bar of [`bars`]: `text` is printed above it, `tooltip` on hover; `None` draws nothing.
#[derive(Clone, Debug)]
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
    pub text: String,
    pub tooltip: String,
}

/// One row of [`hbars`]; the label links to `href` when given.
#[derive(Clone, Debug)]
pub struct HBar {
    pub label: String,
    pub href: Option<String>,
    pub value: u64,
    pub tooltip: String,
}

/// What a stacked bar chart shows: `values[x][s]` is series `s` in column `x`.
#[derive(Clone, Copy, Debug)]
pub struct StackedBars<'a> {
    pub chart: Chart<'a>,
    pub x_labels: &'a [String],
    pub series: &'a [Series],
    pub values: &'a [Vec<u64>],
    pub x_label: &'a str,
    pub y_label: &'a str,
}

/// What a single-series vertical bar chart shows.
#[derive(Clone, Copy, Debug)]
pub struct Bars<'a> {
    pub chart: Chart<'a>,
    pub bars: &'a [Bar],
    pub axis: &'a Axis,
    /// CSS classes of every bar, e.g. `bar bar-declared`.
    pub class: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
}

fn open(out: &mut String, chart: &Chart, kind: &str, height: f64) {
    let id = escape(chart.id);
    w!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" viewBox="0 0 {} {}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="sans-serif" font-size="11"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        num(WIDTH),
        num(height),
        escape(chart.title),
        escape(chart.desc),
    );
}

fn close(out: &mut String) {
    out.push_str("</svg>");
}

/// `<defs>` with the hatch patterns in `used` (pattern 0, solid, needs none).
fn defs(out: &mut String, id: &str, used: &BTreeSet<usize>) {
    if used.iter().all(|&h| h == 0) {
        return;
    }
    out.push_str("<defs>");
    for &hatch in used.iter().filter(|&&h| h != 0) {
        w!(
            out,
            r#"<pattern id="{}-h{hatch}" width="6" height="6" patternUnits="userSpaceOnUse">"#,
            escape(id)
        );
        match hatch {
            2 => out.push_str(r#"<circle class="hatch-mark" cx="3" cy="3" r="1.2"/>"#),
            _ => {
                let d = match hatch {
                    1 => "M-1 1L1 -1M0 6L6 0M5 7L7 5",
                    3 => "M0 3H6",
                    4 => "M3 0V6",
                    5 => "M0 0L6 6M6 0L0 6",
                    6 => "M-1 5L1 7M0 0L6 6M5 -1L7 1",
                    _ => "M0 3H6M3 0V6",
                };
                w!(out, r#"<path class="hatch-mark" d="{d}"/>"#);
            }
        }
        out.push_str("</pattern>");
    }
    out.push_str("</defs>");
}

/// A filled rectangle in `class`, overlaid with its hatch pattern.
fn swatch(out: &mut String, id: &str, class: &str, hatch: usize, rect: [f64; 4]) {
    let [x, y, width, height] = rect.map(num);
    w!(
        out,
        r#"<rect class="{}" x="{x}" y="{y}" width="{width}" height="{height}"/>"#,
        escape(class)
    );
    if hatch != 0 {
        w!(
            out,
            r#"<rect class="hatch" x="{x}" y="{y}" width="{width}" height="{height}" fill="url(#{}-h{hatch})"/>"#,
            escape(id)
        );
    }
}

fn marker(out: &mut String, kind: Marker, class: &str, x: f64, y: f64, tooltip: &str) {
    let class = escape(class);
    let tooltip = escape(tooltip);
    match kind {
        Marker::Circle => w!(
            out,
            r#"<circle class="marker {class}" cx="{}" cy="{}" r="3.5"><title>{tooltip}</title></circle>"#,
            num(x),
            num(y)
        ),
        Marker::Square => w!(
            out,
            r#"<rect class="marker {class}" x="{}" y="{}" width="8" height="8"><title>{tooltip}</title></rect>"#,
            num(x - 4.0),
            num(y - 4.0)
        ),
    }
}

/// How a legend entry is drawn.
#[derive(Clone, Copy)]
enum Mark {
    Box(usize),
    Line(Marker),
}

struct Entry<'a> {
    name: &'a str,
    class: &'a str,
    mark: Mark,
}

const LEGEND_ROW: f64 = 18.0;

/// Positions of the legend entries, wrapped to the chart width: `(x, row)` each.
fn legend_layout(entries: &[Entry]) -> (Vec<(f64, usize)>, usize) {
    let mut places = Vec::with_capacity(entries.len());
    let (mut x, mut row) = (LEFT, 0usize);
    for entry in entries {
        let mark_w = match entry.mark {
            Mark::Box(_) => 12.0,
            Mark::Line(_) => 24.0,
        };
        let width = mark_w + 5.0 + text_w(&truncate(entry.name, 32)) + 16.0;
        if x + width > WIDTH - RIGHT && x > LEFT {
            x = LEFT;
            row += 1;
        }
        places.push((x, row));
        x += width;
    }
    let rows = if entries.is_empty() { 0 } else { row + 1 };
    (places, rows)
}

fn legend(out: &mut String, id: &str, entries: &[Entry], top: f64) -> f64 {
    let (places, rows) = legend_layout(entries);
    if rows == 0 {
        return 0.0;
    }
    out.push_str(r#"<g class="legend">"#);
    for (entry, &(x, row)) in entries.iter().zip(&places) {
        let y = top + row as f64 * LEGEND_ROW;
        let text_x = match entry.mark {
            Mark::Box(hatch) => {
                swatch(out, id, entry.class, hatch, [x, y, 12.0, 12.0]);
                x + 17.0
            }
            Mark::Line(kind) => {
                w!(
                    out,
                    r#"<path class="line {}" fill="none" d="M{} {}H{}"/>"#,
                    escape(entry.class),
                    num(x),
                    num(y + 6.0),
                    num(x + 24.0)
                );
                marker(out, kind, entry.class, x + 12.0, y + 6.0, entry.name);
                x + 29.0
            }
        };
        w!(
            out,
            r#"<text class="legend-label" x="{}" y="{}" dominant-baseline="middle">{}</text>"#,
            num(text_x),
            num(y + 6.5),
            escape(&truncate(entry.name, 32))
        );
    }
    out.push_str("</g>");
    rows as f64 * LEGEND_ROW
}

/// Height taken by a legend of `entries`, without drawing it.
fn legend_height(entries: &[Entry]) -> f64 {
    legend_layout(entries).1 as f64 * LEGEND_ROW
}

/// Gridlines and tick labels of `axis` across `[left, right]`, mapped onto `[top, bottom]`.
fn y_axis(out: &mut String, axis: &Axis, left: f64, right: f64, top: f64, bottom: f64) {
    out.push_str(r#"<g class="y-axis">"#);
    for (value, label) in &axis.ticks {
        let y = y_of(*value, axis, top, bottom);
        w!(
            out,
            r#"<line class="grid" x1="{}" x2="{}" y1="{y}" y2="{y}"/><text class="tick" x="{}" y="{y}" text-anchor="end" dominant-baseline="middle">{}</text>"#,
            num(left),
            num(right),
            num(left - 6.0),
            escape(label),
            y = num(y),
        );
    }
    w!(
        out,
        r#"<line class="axis" x1="{l}" x2="{}" y1="{b}" y2="{b}"/></g>"#,
        num(right),
        l = num(left),
        b = num(bottom)
    );
}

fn y_of(value: f64, axis: &Axis, top: f64, bottom: f64) -> f64 {
    if axis.max <= 0.0 {
        return bottom;
    }
    bottom - (value / axis.max).clamp(0.0, 1.0) * (bottom - top)
}

/// Indices of the x labels to print: every k-th so they do not overlap, counted back from the
/// last one (the most recent period is always labelled).
fn shown_labels(labels: &[String], band: f64) -> impl Fn(usize) -> bool {
    let widest = labels.iter().map(|l| text_w(l)).fold(0.0, f64::max) + 8.0;
    let every = if band > 0.0 {
        ((widest / band).ceil() as usize).max(1)
    } else {
        1
    };
    let last = labels.len().saturating_sub(1);
    move |i| (last - i.min(last)) % every == 0
}

fn x_labels(out: &mut String, labels: &[String], left: f64, band: f64, y: f64) {
    let shown = shown_labels(labels, band);
    out.push_str(r#"<g class="x-axis">"#);
    for (i, label) in labels.iter().enumerate() {
        if shown(i) {
            // Keep the label inside the viewBox even when its band is at the very edge.
            let half = text_w(label) / 2.0;
            let x = (left + band * (i as f64 + 0.5)).clamp(half, (WIDTH - half).max(half));
            w!(
                out,
                r#"<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                num(x),
                num(y),
                escape(label)
            );
        }
    }
    out.push_str("</g>");
}

fn axis_titles(out: &mut String, x_label: &str, y_label: &str, top: f64, bottom: f64) {
    if !x_label.is_empty() {
        w!(
            out,
            r#"<text class="axis-label" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            num(LEFT + (WIDTH - LEFT - RIGHT) / 2.0),
            num(bottom + 34.0),
            escape(x_label)
        );
    }
    if !y_label.is_empty() {
        w!(
            out,
            r#"<text class="axis-label" transform="rotate(-90)" x="{}" y="14" text-anchor="middle">{}</text>"#,
            num(-(top + bottom) / 2.0),
            escape(y_label)
        );
    }
}

/// A small chart that only says `text` (e.g. "No data yet"), for sections without data.
pub fn no_data(chart: &Chart, text: &str) -> String {
    let mut out = String::new();
    open(&mut out, chart, "empty", 64.0);
    w!(
        out,
        r#"<rect class="empty-frame" x="1" y="1" width="{}" height="62" rx="4"/><text class="empty" x="{}" y="32" text-anchor="middle" dominant-baseline="middle">{}</text>"#,
        num(WIDTH - 2.0),
        num(WIDTH / 2.0),
        escape(text)
    );
    close(&mut out);
    out
}

const PLOT_H: f64 = 180.0;
/// Space under a plot for the x tick labels and the x axis title.
const BELOW: f64 = 44.0;

/// Stacked vertical bars with a legend; each segment has a tooltip like `2026-02: SEV2 ×3`.
pub fn stacked_bars(spec: &StackedBars) -> String {
    let id = spec.chart.id;
    let entries: Vec<Entry> = spec
        .series
        .iter()
        .map(|s| Entry {
            name: &s.name,
            class: &s.class,
            mark: Mark::Box(s.hatch),
        })
        .collect();
    let top = 10.0 + legend_height(&entries) + 12.0;
    let bottom = top + PLOT_H;
    let mut out = String::new();
    open(&mut out, &spec.chart, "stacked", bottom + BELOW);
    defs(&mut out, id, &spec.series.iter().map(|s| s.hatch).collect());
    legend(&mut out, id, &entries, 10.0);
    let max = spec
        .values
        .iter()
        .map(|column| column.iter().sum::<u64>())
        .max()
        .unwrap_or(0);
    let axis = count_axis(max);
    let right = WIDTH - RIGHT;
    y_axis(&mut out, &axis, LEFT, right, top, bottom);
    let band = (right - LEFT) / spec.x_labels.len().max(1) as f64;
    let bar_w = (band * 0.7).clamp(1.0, 48.0);
    out.push_str(r#"<g class="bars">"#);
    for (i, (label, column)) in spec.x_labels.iter().zip(spec.values).enumerate() {
        let x = LEFT + band * i as f64 + (band - bar_w) / 2.0;
        let mut y = bottom;
        let mut first = true;
        for (series, &value) in spec.series.iter().zip(column) {
            if value == 0 {
                continue;
            }
            let h = value as f64 / axis.max * PLOT_H;
            y -= h;
            // A one-unit gap under every segment but the lowest keeps neighbours apart.
            let drawn = if first || h <= 2.0 { h } else { h - 1.0 };
            first = false;
            w!(
                out,
                r#"<g class="seg"><title>{}: {} ×{value}</title>"#,
                escape(label),
                escape(&series.name)
            );
            swatch(
                &mut out,
                id,
                &series.class,
                series.hatch,
                [x, y, bar_w, drawn],
            );
            out.push_str("</g>");
        }
    }
    out.push_str("</g>");
    x_labels(&mut out, spec.x_labels, LEFT, band, bottom + 16.0);
    axis_titles(&mut out, spec.x_label, spec.y_label, top, bottom);
    close(&mut out);
    out
}

/// Single-series vertical bars on a given axis, each with its value printed above it when
/// there is room, and a tooltip.
pub fn bars(spec: &Bars) -> String {
    let top = 16.0;
    let bottom = top + PLOT_H;
    let mut out = String::new();
    open(&mut out, &spec.chart, "bars", bottom + BELOW);
    let right = WIDTH - RIGHT;
    y_axis(&mut out, spec.axis, LEFT, right, top, bottom);
    let band = (right - LEFT) / spec.bars.len().max(1) as f64;
    let bar_w = (band * 0.7).clamp(1.0, 48.0);
    let room = spec
        .bars
        .iter()
        .map(|b| text_w(&b.text))
        .fold(0.0, f64::max)
        + 2.0
        <= band;
    out.push_str(r#"<g class="bars">"#);
    for (i, bar) in spec.bars.iter().enumerate() {
        let Some(value) = bar.value else { continue };
        let x = LEFT + band * i as f64 + (band - bar_w) / 2.0;
        let y = y_of(value, spec.axis, top, bottom);
        w!(
            out,
            r#"<g class="seg"><title>{}</title><rect class="{}" x="{}" y="{}" width="{}" height="{}"/>"#,
            escape(&bar.tooltip),
            escape(spec.class),
            num(x),
            num(y),
            num(bar_w),
            num(bottom - y)
        );
        if room && !bar.text.is_empty() {
            w!(
                out,
                r#"<text class="value" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                num(x + bar_w / 2.0),
                num(y - 4.0),
                escape(&bar.text)
            );
        }
        out.push_str("</g>");
    }
    out.push_str("</g>");
    let labels: Vec<String> = spec.bars.iter().map(|b| b.label.clone()).collect();
    x_labels(&mut out, &labels, LEFT, band, bottom + 16.0);
    axis_titles(&mut out, spec.x_label, spec.y_label, top, bottom);
    close(&mut out);
    out
}

/// Horizontal bars, one per row, with the label (a link when `href` is set) on the left and
/// the value after the bar.
pub fn hbars(chart: &Chart, rows: &[HBar], class: &str, x_label: &str) -> String {
    const ROW_H: f64 = 24.0;
    const LABEL_END: f64 = 176.0;
    const BAR_START: f64 = 184.0;
    let bar_end = WIDTH - 48.0;
    let top = 8.0;
    let bottom = top + ROW_H * rows.len() as f64;
    let mut out = String::new();
    open(&mut out, chart, "hbars", bottom + 32.0);
    let max = rows.iter().map(|r| r.value).max().unwrap_or(0).max(1) as f64;
    for (i, row) in rows.iter().enumerate() {
        let y = top + ROW_H * i as f64;
        let label = escape(&truncate(&row.label, 26));
        w!(
            out,
            r#"<g class="row"><title>{}</title>"#,
            escape(&row.tooltip)
        );
        let text = format!(
            r#"<text class="label" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{label}</text>"#,
            num(LABEL_END),
            num(y + ROW_H / 2.0)
        );
        match &row.href {
            Some(href) => w!(out, r#"<a href="{}">{text}</a>"#, escape(href)),
            None => out.push_str(&text),
        }
        let width = row.value as f64 / max * (bar_end - BAR_START);
        w!(
            out,
            r#"<rect class="{}" x="{}" y="{}" width="{}" height="{}"/><text class="value" x="{}" y="{}" dominant-baseline="middle">{}</text></g>"#,
            escape(class),
            num(BAR_START),
            num(y + 4.0),
            num(width),
            num(ROW_H - 8.0),
            num(BAR_START + width + 6.0),
            num(y + ROW_H / 2.0),
            row.value
        );
    }
    w!(
        out,
        r#"<line class="axis" x1="{x}" x2="{x}" y1="{}" y2="{}"/>"#,
        num(top),
        num(bottom),
        x = num(BAR_START)
    );
    if !x_label.is_empty() {
        w!(
            out,
            r#"<text class="axis-label" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            num((BAR_START + bar_end) / 2.0),
            num(bottom + 20.0),
            escape(x_label)
        );
    }
    close(&mut out);
    out
}

/// A grid of small line charts, `columns` wide, one per panel, each with its own value axis.
/// The legend (from the first panel's lines) is drawn once on top. Runs of consecutive values
/// are joined by lines; a lone value is just its marker.
pub fn small_multiples(chart: &Chart, panels: &[Panel], columns: usize) -> String {
    const GAP: f64 = 16.0;
    const PANEL_TITLE: f64 = 18.0;
    const PANEL_PLOT: f64 = 110.0;
    const PANEL_BELOW: f64 = 26.0;
    const INNER_LEFT: f64 = 52.0;
    let columns = columns.clamp(1, panels.len().max(1));
    let rows = panels.len().div_ceil(columns);
    let entries: Vec<Entry> = panels
        .first()
        .map(|p| {
            p.lines
                .iter()
                .map(|l| Entry {
                    name: &l.name,
                    class: &l.class,
                    mark: Mark::Line(l.marker),
                })
                .collect()
        })
        .unwrap_or_default();
    let top = 10.0 + legend_height(&entries) + 8.0;
    let panel_h = PANEL_TITLE + PANEL_PLOT + PANEL_BELOW;
    let height = top + rows as f64 * (panel_h + GAP);
    let mut out = String::new();
    open(&mut out, chart, "lines", height);
    legend(&mut out, chart.id, &entries, 10.0);
    let panel_w = (WIDTH - 8.0 - GAP * (columns - 1) as f64) / columns as f64;
    for (p, panel) in panels.iter().enumerate() {
        let x0 = 4.0 + (p % columns) as f64 * (panel_w + GAP);
        let y0 = top + (p / columns) as f64 * (panel_h + GAP);
        let left = x0 + INNER_LEFT;
        let right = x0 + panel_w - 6.0;
        let plot_top = y0 + PANEL_TITLE + 6.0;
        let plot_bottom = plot_top + PANEL_PLOT;
        w!(
            out,
            r#"<g class="panel"><text class="panel-title" x="{}" y="{}">{}</text>"#,
            num(left),
            num(y0 + 12.0),
            escape(&panel.title)
        );
        y_axis(&mut out, &panel.axis, left, right, plot_top, plot_bottom);
        let band = (right - left) / panel.x_labels.len().max(1) as f64;
        let x_at = |i: usize| left + band * (i as f64 + 0.5);
        for line in &panel.lines {
            let mut d = String::new();
            let mut joined = false;
            for (i, value) in line.values.iter().enumerate() {
                match value {
                    Some(v) => {
                        let y = y_of(*v, &panel.axis, plot_top, plot_bottom);
                        let cmd = if joined { 'L' } else { 'M' };
                        w!(d, "{cmd}{} {}", num(x_at(i)), num(y));
                        joined = true;
                    }
                    None => joined = false,
                }
            }
            if !d.is_empty() {
                w!(
                    out,
                    r#"<path class="line {}" fill="none" d="{d}"/>"#,
                    escape(&line.class)
                );
            }
        }
        // Markers after all lines, the first series last so it stays on top.
        for line in panel.lines.iter().rev() {
            for (i, value) in line.values.iter().enumerate() {
                if let Some(v) = value {
                    let tooltip = line.tooltips.get(i).map_or("", String::as_str);
                    let y = y_of(*v, &panel.axis, plot_top, plot_bottom);
                    marker(&mut out, line.marker, &line.class, x_at(i), y, tooltip);
                }
            }
        }
        x_labels(&mut out, &panel.x_labels, left, band, plot_bottom + 15.0);
        out.push_str("</g>");
    }
    close(&mut out);
    out
}

/// Default styles for the chart classes, for light and dark mode. Colours are from the
/// Okabe–Ito palette, which stays distinguishable for the common kinds of colour blindness.
pub fn css() -> &'static str {
    CSS
}

const CSS: &str = r#"/* debrief trend charts. Okabe–Ito colours; hatch patterns, dashes, marker shapes and
   text legends carry the same information for readers who cannot tell the colours apart. */
svg.chart { display: block; width: 100%; height: auto; max-width: 100%; overflow: visible; font-size: 11px; }
svg.chart text { fill: currentColor; }
svg.chart .tick, svg.chart .value { fill-opacity: 0.8; }
svg.chart .axis-label, svg.chart .panel-title { font-weight: 600; }
svg.chart .grid { stroke: currentColor; stroke-opacity: 0.15; stroke-width: 1; }
svg.chart .axis { stroke: currentColor; stroke-opacity: 0.6; stroke-width: 1; }
svg.chart .empty-frame { fill: none; stroke: currentColor; stroke-opacity: 0.3; stroke-dasharray: 4 4; }
svg.chart .empty { font-size: 14px; fill-opacity: 0.7; }
svg.chart a text { fill: #0072b2; text-decoration: underline; }
svg.chart a:hover text, svg.chart a:focus text { fill: #d55e00; }
svg.chart .hatch-mark { stroke: rgba(0, 0, 0, 0.45); stroke-width: 1; fill: rgba(0, 0, 0, 0.45); }
svg.chart .hatch { pointer-events: none; }
svg.chart .seg:hover rect:not(.hatch), svg.chart .row:hover rect { opacity: 0.8; }
/* Severities, most severe first (sev-1), and factor categories (cat-1 ...). */
svg.chart .sev-1, svg.chart .cat-1 { fill: #d55e00; }
svg.chart .sev-2, svg.chart .cat-2 { fill: #e69f00; }
svg.chart .sev-3, svg.chart .cat-3 { fill: #56b4e9; }
svg.chart .sev-4, svg.chart .cat-4 { fill: #0072b2; }
svg.chart .sev-5, svg.chart .cat-5 { fill: #009e73; }
svg.chart .sev-6, svg.chart .cat-6 { fill: #cc79a7; }
svg.chart .sev-7, svg.chart .cat-7 { fill: #f0e442; }
svg.chart .sev-8, svg.chart .cat-8 { fill: #999999; }
/* Single-series bars. */
svg.chart .bar { fill: #0072b2; }
svg.chart .bar.bar-declared { fill: #009e73; }
svg.chart .bar.bar-closure { fill: #0072b2; }
svg.chart .bar.bar-recurring { fill: #cc79a7; }
svg.chart .bar.bar-service { fill: #0072b2; }
svg.chart .bar.bar-tag { fill: #009e73; }
/* Lines: median solid with circles, p90 dashed with squares. */
svg.chart .line { fill: none; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
svg.chart .line.series-median { stroke: #0072b2; }
svg.chart .line.series-p90 { stroke: #d55e00; stroke-dasharray: 6 4; }
svg.chart .marker.series-median { fill: #0072b2; }
svg.chart .marker.series-p90 { fill: #d55e00; }
@media (prefers-color-scheme: dark) {
  svg.chart .grid { stroke-opacity: 0.25; }
  svg.chart a text { fill: #56b4e9; }
  svg.chart a:hover text, svg.chart a:focus text { fill: #f0e442; }
  svg.chart .hatch-mark { stroke: rgba(0, 0, 0, 0.55); fill: rgba(0, 0, 0, 0.55); }
  svg.chart .sev-8, svg.chart .cat-8 { fill: #bbbbbb; }
  svg.chart .bar.bar-closure, svg.chart .bar.bar-service { fill: #56b4e9; }
  svg.chart .line.series-median { stroke: #56b4e9; }
  svg.chart .marker.series-median { fill: #56b4e9; }
  svg.chart .line.series-p90 { stroke: #e69f00; }
  svg.chart .marker.series-p90 { fill: #e69f00; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    const CHART: Chart = Chart {
        id: "t",
        title: "A <b>chart</b>",
        desc: "Says & shows",
    };

    #[test]
    fn escape_neutralises_markup_and_quotes() {
        assert_eq!(escape(r#"<script>"&'"#), "&lt;script&gt;&quot;&amp;&#39;");
        assert_eq!(escape("plain ä"), "plain ä");
        assert_eq!(escape("a\u{0}b\nc"), "a\u{FFFD}b\nc");
    }

    #[test]
    fn numbers_are_fixed_and_never_negative_zero() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.25), "1.2");
        assert_eq!(num(1.26), "1.3");
        assert_eq!(num(-0.01), "0");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(640.0), "640");
    }

    #[test]
    fn truncate_counts_characters_not_bytes() {
        assert_eq!(truncate("äöüäöü", 4), "äöü…");
        assert_eq!(truncate("short", 10), "short");
    }

    #[test]
    fn count_axis_steps_are_nice() {
        let ticks = |max| {
            count_axis(max)
                .ticks
                .into_iter()
                .map(|t| t.1)
                .collect::<Vec<_>>()
        };
        assert_eq!(ticks(0), ["0", "1"]);
        assert_eq!(ticks(1), ["0", "1"]);
        assert_eq!(ticks(3), ["0", "1", "2", "3"]);
        assert_eq!(ticks(7), ["0", "2", "4", "6", "8"]);
        assert_eq!(ticks(23), ["0", "5", "10", "15", "20", "25"]);
        assert_eq!(count_axis(50_000).max, 50_000.0);
    }

    #[test]
    fn charts_are_accessible_and_scalable() {
        let svg = no_data(&CHART, "No data yet");
        assert!(svg.starts_with("<svg "));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains(r#"aria-labelledby="t-title t-desc""#));
        assert!(svg.contains(r#"viewBox="0 0 640 64""#));
        assert!(svg.contains("<title id=\"t-title\">A &lt;b&gt;chart&lt;/b&gt;</title>"));
        assert!(svg.contains("No data yet"));
        assert!(!svg.contains(" width=\"640\""));
    }

    #[test]
    fn stacked_segments_have_tooltips_classes_and_hatches() {
        let series = [
            Series {
                name: "SEV1".into(),
                class: "sev sev-1".into(),
                hatch: 0,
            },
            Series {
                name: "<SEV2>".into(),
                class: "sev sev-2".into(),
                hatch: 1,
            },
        ];
        let labels = ["2026-01".to_string(), "2026-02".to_string()];
        let values = [vec![1, 0], vec![2, 3]];
        let svg = stacked_bars(&StackedBars {
            chart: CHART,
            x_labels: &labels,
            series: &series,
            values: &values,
            x_label: "Month",
            y_label: "Incidents",
        });
        assert!(svg.contains("<title>2026-02: &lt;SEV2&gt; ×3</title>"));
        assert!(svg.contains("<title>2026-01: SEV1 ×1</title>"));
        assert!(!svg.contains("2026-01: &lt;SEV2&gt;"));
        assert!(svg.contains(r#"class="sev sev-2""#));
        assert!(svg.contains(r#"fill="url(#t-h1)""#));
        assert!(svg.contains(r#"<pattern id="t-h1""#));
        assert!(!svg.contains("style="));
    }

    #[test]
    fn x_labels_thin_out_but_keep_the_last() {
        let labels: Vec<String> = (1..=36).map(|m| format!("20{m:02}-01")).collect();
        let shown = shown_labels(&labels, (WIDTH - LEFT - RIGHT) / 36.0);
        assert!(shown(35));
        let count = (0..36).filter(|&i| shown(i)).count();
        assert!((6..36).contains(&count), "{count}");
        let few = shown_labels(&labels[..3], 100.0);
        assert!((0..3).all(few));
    }

    #[test]
    fn lines_break_at_gaps_and_single_points_are_markers() {
        let panel = Panel {
            title: "Time to detect".into(),
            x_labels: vec!["2026 Q1".into(), "2026 Q2".into(), "2026 Q3".into()],
            lines: vec![Line {
                name: "median".into(),
                class: "series-median".into(),
                marker: Marker::Circle,
                values: vec![Some(1.0), None, Some(2.0)],
                tooltips: vec!["a".into(), String::new(), "c".into()],
            }],
            axis: count_axis(2),
        };
        let svg = small_multiples(&CHART, &[panel], 2);
        let path = svg
            .split("<path class=\"line series-median\" fill=\"none\" d=\"")
            .nth(2)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default();
        assert_eq!(path.matches('M').count(), 2, "{path}");
        assert!(!path.contains('L'));
        assert_eq!(
            svg.matches("<circle class=\"marker series-median\"")
                .count(),
            3
        );
    }

    #[test]
    fn hbar_labels_link_and_escape() {
        let svg = hbars(
            &CHART,
            &[HBar {
                label: r#"<script>"&"#.into(),
                href: Some("../services/script/index.html?a=1&b=2".into()),
                value: 3,
                tooltip: "x".into(),
            }],
            "bar bar-service",
            "Incidents",
        );
        assert!(svg.contains(r#"<a href="../services/script/index.html?a=1&amp;b=2">"#));
        assert!(svg.contains("&lt;script&gt;&quot;&amp;"));
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn css_has_dark_mode_and_all_palette_classes() {
        let css = css();
        assert!(css.contains("prefers-color-scheme: dark"));
        for k in 1..=HATCHES {
            assert!(css.contains(&format!(".sev-{k}")));
            assert!(css.contains(&format!(".cat-{k}")));
        }
        assert!(css.contains(".series-median") && css.contains(".series-p90"));
    }
}
