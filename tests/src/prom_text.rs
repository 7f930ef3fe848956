//! A strict reader of the Prometheus text exposition format (version 0.0.4), for the suites
//! that check what `GET /metrics` serves.
//!
//! Stricter than Prometheus itself where the project's rules are stricter: every family has a
//! `# HELP` and a `# TYPE` line before its first sample, a family is declared once and its
//! samples stand together, no series repeats, a counter's name ends in `_total`, and a
//! histogram has `_bucket` series with an `le` label whose counts never fall as `le` grows,
//! ending in `le="+Inf"` equal to its `_count`, and a `_sum`. Anything else is an error naming
//! the line.

use std::collections::{BTreeMap, BTreeSet};

/// One sample: its full name (with a histogram's suffix), labels and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series name (`x_bucket`, `x_sum`, `x_count` for a histogram `x`).
    pub name: String,
    /// The labels, `le` included.
    pub labels: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
}

/// One metric family: its HELP text, TYPE and samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The family's name.
    pub name: String,
    /// The `# HELP` text (unescaped).
    pub help: String,
    /// counter, gauge, histogram, summary or untyped.
    pub kind: String,
    /// Its samples, in order.
    pub samples: Vec<Sample>,
}

/// A whole scrape, by family name.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    /// The families.
    pub families: BTreeMap<String, Family>,
}

impl Scrape {
    /// The sum of the samples named `name` whose labels include every pair of `labels`
    /// (0 when none matches).
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.matching(name, labels).map(|s| s.value).sum()
    }

    /// Whether any sample named `name` has every pair of `labels`.
    pub fn has(&self, name: &str, labels: &[(&str, &str)]) -> bool {
        self.matching(name, labels).next().is_some()
    }

    fn matching<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.families
            .values()
            .flat_map(|f| f.samples.iter())
            .filter(move |s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
    }
}

const KINDS: &[&str] = &["counter", "gauge", "histogram", "summary", "untyped"];

/// Reads `text` strictly (see the module's rules).
pub fn parse(text: &str) -> Result<Scrape, String> {
    let mut scrape = Scrape::default();
    let mut help: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<Family> = None;
    let mut seen_series = BTreeSet::new();
    let mut closed = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", i + 1);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, doc) = rest.split_once(' ').unwrap_or((rest, ""));
            check_name(name).map_err(at)?;
            if help
                .insert(name.to_string(), unescape(doc, false).map_err(at)?)
                .is_some()
            {
                return Err(at(format!("a second HELP for {name}")));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest
                .split_once(' ')
                .ok_or_else(|| at("TYPE without a type".into()))?;
            check_name(name).map_err(at)?;
            if !KINDS.contains(&kind) {
                return Err(at(format!("unknown type {kind}")));
            }
            if closed.contains(name) || scrape.families.contains_key(name) {
                return Err(at(format!("{name} declared twice")));
            }
            let doc = help
                .get(name)
                .cloned()
                .ok_or_else(|| at(format!("no HELP before the TYPE of {name}")))?;
            if kind == "counter" && !name.ends_with("_total") {
                return Err(at(format!("the counter {name} does not end in _total")));
            }
            if let Some(f) = current.take() {
                close(f, &mut scrape, &mut closed)?;
            }
            current = Some(Family {
                name: name.to_string(),
                help: doc,
                kind: kind.to_string(),
                samples: Vec::new(),
            });
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let sample = sample(line).map_err(at)?;
        let family = current
            .as_mut()
            .ok_or_else(|| at("a sample before any TYPE".into()))?;
        if !belongs(&sample.name, family) {
            return Err(at(format!(
                "{} outside its family (the current one is {} {})",
                sample.name, family.kind, family.name
            )));
        }
        let series = format!("{}{:?}", sample.name, sample.labels);
        if !seen_series.insert(series) {
            return Err(at("a series repeated".into()));
        }
        family.samples.push(sample);
    }
    if let Some(f) = current.take() {
        close(f, &mut scrape, &mut closed)?;
    }
    if let Some(name) = help.keys().find(|n| !scrape.families.contains_key(*n)) {
        return Err(format!("a HELP for {name} with no TYPE"));
    }
    Ok(scrape)
}

/// Whether a sample named `name` belongs to `family`.
fn belongs(name: &str, family: &Family) -> bool {
    match family.kind.as_str() {
        "histogram" => ["_bucket", "_sum", "_count"]
            .iter()
            .any(|s| name.strip_suffix(s) == Some(&family.name)),
        "summary" => {
            name == family.name
                || ["_sum", "_count"]
                    .iter()
                    .any(|s| name.strip_suffix(s) == Some(&family.name))
        }
        _ => name == family.name,
    }
}

/// Checks a finished family (a histogram's buckets) and files it.
fn close(f: Family, scrape: &mut Scrape, closed: &mut BTreeSet<String>) -> Result<(), String> {
    if f.samples.is_empty() {
        return Err(format!("{} has no samples", f.name));
    }
    if f.kind == "histogram" {
        check_histogram(&f)?;
    }
    if f.kind == "counter" && f.samples.iter().any(|s| s.value < 0.0 || s.value.is_nan()) {
        return Err(format!("the counter {} has a negative value", f.name));
    }
    closed.insert(f.name.clone());
    scrape.families.insert(f.name.clone(), f);
    Ok(())
}

/// One histogram series: its buckets (`le`, count), `_sum` and `_count`.
type Series = (Vec<(f64, f64)>, Option<f64>, Option<f64>);

/// Each series of a histogram: buckets by `le` never falling, `+Inf` present and equal to
/// `_count`, a `_sum`.
fn check_histogram(f: &Family) -> Result<(), String> {
    let mut by_series: BTreeMap<String, Series> = BTreeMap::new();
    for s in &f.samples {
        let mut labels = s.labels.clone();
        let le = labels.remove("le");
        let key = format!("{labels:?}");
        let entry = by_series.entry(key).or_default();
        if s.name.ends_with("_bucket") {
            let le = le.ok_or_else(|| format!("{}: a bucket without le", f.name))?;
            let bound = parse_value(&le).map_err(|e| format!("{}: le {e}", f.name))?;
            entry.0.push((bound, s.value));
        } else if le.is_some() {
            return Err(format!("{}: le on {}", f.name, s.name));
        } else if s.name.ends_with("_sum") {
            entry.1 = Some(s.value);
        } else {
            entry.2 = Some(s.value);
        }
    }
    for (series, (mut buckets, sum, count)) in by_series {
        let count = count.ok_or_else(|| format!("{}{series}: no _count", f.name))?;
        sum.ok_or_else(|| format!("{}{series}: no _sum", f.name))?;
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        let inf = buckets
            .last()
            .filter(|(le, _)| *le == f64::INFINITY)
            .ok_or_else(|| format!("{}{series}: no le=\"+Inf\" bucket", f.name))?;
        if inf.1 != count {
            return Err(format!(
                "{}{series}: the +Inf bucket ({}) is not the count ({count})",
                f.name, inf.1
            ));
        }
        if buckets.windows(2).any(|w| w[1].1 < w[0].1) {
            return Err(format!("{}{series}: bucket counts fall", f.name));
        }
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
        Ok(())
    } else {
        Err(format!("bad metric name {name:?}"))
    }
}

fn check_label_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!("bad label name {name:?}"))
    }
}

/// `name{labels} value [timestamp]`.
fn sample(line: &str) -> Result<Sample, String> {
    let end = line.find(['{', ' ']).ok_or("a sample without a value")?;
    let name = &line[..end];
    check_name(name)?;
    let mut rest = &line[end..];
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        let mut s = after;
        loop {
            if let Some(r) = s.strip_prefix('}') {
                s = r;
                break;
            }
            let eq = s.find('=').ok_or("a label without =")?;
            let key = &s[..eq];
            check_label_name(key)?;
            let body = s[eq + 1..]
                .strip_prefix('"')
                .ok_or("a label value without quotes")?;
            let close = closing_quote(body).ok_or("an unterminated label value")?;
            let value = unescape(&body[..close], true)?;
            if labels.insert(key.to_string(), value).is_some() {
                return Err(format!("the label {key} twice"));
            }
            s = &body[close + 1..];
            if let Some(r) = s.strip_prefix(',') {
                s = r;
            } else if !s.starts_with('}') {
                return Err("labels not separated by commas".into());
            }
        }
        rest = s;
    }
    let rest = rest.strip_prefix(' ').ok_or("no space before the value")?;
    let mut parts = rest.split(' ');
    let value = parse_value(parts.next().unwrap_or(""))?;
    if let Some(ts) = parts.next() {
        ts.parse::<i64>()
            .map_err(|_| format!("bad timestamp {ts:?}"))?;
    }
    if parts.next().is_some() {
        return Err("more after the timestamp".into());
    }
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// The index of the first unescaped `"`.
fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i),
            _ => {}
        }
    }
    None
}

/// Undoes `\\` and `\n` (and `\"` in label values); any other escape is an error.
fn unescape(s: &str, label: bool) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if label => out.push('"'),
            other => return Err(format!("a bad escape \\{other:?}")),
        }
    }
    Ok(out)
}

/// A Go-style float: digits, exponent, `NaN`, `+Inf`, `-Inf`.
fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ if s.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c)) && !s.is_empty() => {
            s.parse().map_err(|_| format!("bad value {s:?}"))
        }
        _ => Err(format!("bad value {s:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "# HELP a_total Things done.\n# TYPE a_total counter\n\
        a_total{kind=\"x\"} 3\na_total{kind=\"y\\\"z\"} 1\n\n\
        # HELP h_seconds Time taken.\n# TYPE h_seconds histogram\n\
        h_seconds_bucket{r=\"/p\",le=\"0.1\"} 1\nh_seconds_bucket{r=\"/p\",le=\"1\"} 2\n\
        h_seconds_bucket{r=\"/p\",le=\"+Inf\"} 2\nh_seconds_sum{r=\"/p\"} 0.6\n\
        h_seconds_count{r=\"/p\"} 2\n\n# HELP g Now.\n# TYPE g gauge\ng 0.5\n";

    #[test]
    fn a_good_scrape_reads() {
        let s = parse(GOOD).unwrap();
        assert_eq!(s.sum("a_total", &[]), 4.0);
        assert_eq!(s.sum("a_total", &[("kind", "y\"z")]), 1.0);
        assert_eq!(s.sum("h_seconds_count", &[("r", "/p")]), 2.0);
        assert_eq!(s.families["g"].help, "Now.");
    }

    #[test]
    fn each_broken_rule_is_refused() {
        let broken = [
            // no HELP
            GOOD.replace("# HELP g Now.\n", ""),
            // no TYPE
            GOOD.replace("# TYPE g gauge\n", ""),
            // a counter not ending in _total
            GOOD.replace("a_total", "a_count"),
            // buckets falling
            GOOD.replace("le=\"1\"} 2", "le=\"1\"} 0"),
            // +Inf not the count
            GOOD.replace("h_seconds_count{r=\"/p\"} 2", "h_seconds_count{r=\"/p\"} 3"),
            // no +Inf
            GOOD.replace("h_seconds_bucket{r=\"/p\",le=\"+Inf\"} 2\n", ""),
            // a series twice
            GOOD.replace("g 0.5\n", "g 0.5\ng 0.6\n"),
            // a family split in two
            format!("{GOOD}a_total{{kind=\"z\"}} 1\n"),
            // a bad value, a bad label, a bad escape
            GOOD.replace("g 0.5", "g half"),
            GOOD.replace("kind=\"x\"", "kind=x"),
            GOOD.replace("kind=\"x\"", "kind=\"\\x\""),
            // a negative counter
            GOOD.replace("a_total{kind=\"x\"} 3", "a_total{kind=\"x\"} -3"),
        ];
        for text in broken {
            assert!(parse(&text).is_err(), "accepted:\n{text}");
        }
    }
}
