//! The estimate as people read it: money, counts, and the aligned table `gen cost` prints.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::Estimate;

/// `$1,234.56`
pub fn money(usd: f64) -> String {
    let cents = (usd * 100.0).round() as i64;
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.abs();
    format!("{sign}${}.{:02}", count((cents / 100) as f64), cents % 100)
}

/// `1,234,567` for whole numbers, `12.5` otherwise.
pub fn count(n: f64) -> String {
    if n.fract() != 0.0 {
        let text = format!("{n:.3}");
        return text.trim_end_matches('0').trim_end_matches('.').to_owned();
    }
    let digits = format!("{}", n as u64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Estimate {
    /// The estimate as an aligned text table.
    pub fn render(&self) -> String {
        let mut rows: Vec<[String; 5]> = vec![[
            "service".into(),
            "resource".into(),
            "item".into(),
            "quantity".into(),
            "per month".into(),
        ]];
        for l in &self.lines {
            let quantity = match l.unit {
                "" => String::new(),
                // Countable units read as plurals except for exactly one.
                "request" | "event" | "email" | "alarm" | "metric" | "secret" | "call"
                    if l.quantity != 1.0 =>
                {
                    format!("{} {}s", count(l.quantity), l.unit)
                }
                unit => format!("{} {unit}", count(l.quantity)),
            };
            rows.push([
                l.service.into(),
                l.resource.clone(),
                l.item.clone(),
                quantity,
                money(l.usd),
            ]);
        }
        let widths: Vec<usize> = (0..5)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Monthly estimate for {} in {} ({}, prices read {}; free tier {})",
            self.project,
            self.region,
            self.currency,
            self.prices_read_on,
            if self.free_tier {
                "applied"
            } else {
                "not applied"
            }
        );
        for row in &rows {
            let _ = writeln!(
                out,
                "  {:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {:>w4$}",
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3],
                w4 = widths[4]
            );
        }
        let mut by_service: BTreeMap<&str, f64> = BTreeMap::new();
        for l in &self.lines {
            *by_service.entry(l.service).or_default() += l.usd;
        }
        let _ = writeln!(out);
        let width = by_service.keys().map(|s| s.len()).max().unwrap_or(5).max(5);
        for (service, usd) in &by_service {
            let _ = writeln!(out, "  {service:<width$} {:>12}", money(*usd));
        }
        let _ = writeln!(out, "  {:<width$} {:>12}", "total", money(self.total_usd));
        for warning in &self.warnings {
            let _ = writeln!(out, "warning: {warning}");
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out
    }
}
