//! What a person sees: a banner, a live progress line on stderr (only when stderr is a
//! terminal), the `--hlog` interval log streamed as the run goes, and the final summary table
//! with the SLO checks.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use comfy_table::{presets, CellAlignment, Table};
use indicatif::{ProgressBar, ProgressStyle};
use loadgen::{ActionInfo, Interval, IntervalSink, Outcome};
use reports::hlog::HlogWriter;
use reports::units::{fmt_count, fmt_pct, fmt_rps, fmt_us};
use reports::RunResult;

use super::settings::{Model, Settings};

/// First line of output: what is about to run.
pub fn banner(
    scenario: &str,
    s: &Settings,
    plan: &loadgen::RunPlan,
    actions: &[ActionInfo],
    probe: &loadgen::ProbeReport,
) -> String {
    let target = &plan.target;
    let streams = plan.transport.protocol.streams();
    let load = match s.model {
        Model::Open { rate } if streams > 1 => format!(
            "open model, {} over {} connections x {streams} streams",
            fmt_rps(rate),
            s.connections
        ),
        Model::Open { rate } => format!(
            "open model, {} over {} connections",
            fmt_rps(rate),
            s.connections
        ),
        Model::Closed { users, think } if !think.is_zero() => {
            format!(
                "closed model, {users} users, think time {}",
                humantime::format_duration(think)
            )
        }
        Model::Closed { users, .. } => format!("closed model, {users} users"),
    };
    let load = if s.shard.is_whole() {
        load
    } else {
        let (total, what) = match s.model {
            Model::Open { .. } => (s.connections, "connections"),
            Model::Closed { users, .. } => (users, "users"),
        };
        let (i, n) = (s.shard.index(), s.shard.count());
        format!(
            "{load} in all; this is shard {}: {} of the {what}{}",
            s.shard,
            s.shard.share(total as usize),
            match s.model {
                Model::Open { .. } => format!(
                    ", requests {i}, {}, {}, ... of the schedule",
                    i + n,
                    i + 2 * n
                ),
                Model::Closed { .. } => String::new(),
            }
        )
    };
    let mix: Vec<String> = actions
        .iter()
        .map(|a| format!("{} {:.1}%", a.name, a.weight * 100.0))
        .collect();
    let mut text = format!(
        "napkin load: {scenario} -> {}, {load}, {} (warm-up {})\nmix: {}",
        target.url,
        humantime::format_duration(s.total),
        humantime::format_duration(s.warmup),
        mix.join(", ")
    );
    if let Some(line) = transport_line(plan, probe) {
        text.push('\n');
        text.push_str(&line);
    }
    text
}

/// The banner's line on TLS, HTTP/2 and keep-alive; none for plain HTTP/1.1 kept alive.
fn transport_line(plan: &loadgen::RunPlan, probe: &loadgen::ProbeReport) -> Option<String> {
    let t = &plan.transport;
    let plain = t.tls.is_none() && t.keepalive && t.protocol == loadgen::Protocol::Http1;
    if plain {
        return None;
    }
    let mut parts = vec![match t.protocol {
        loadgen::Protocol::Http1 => "HTTP/1.1".to_string(),
        loadgen::Protocol::Http2 { streams } if t.tls.is_some() => {
            format!("HTTP/2 (ALPN h2), {streams} streams per connection")
        }
        loadgen::Protocol::Http2 { streams } => {
            format!("HTTP/2 (prior knowledge), {streams} streams per connection")
        }
    }];
    if let Some(info) = &probe.tls {
        parts.push(format!("{} {}", info.version, info.cipher));
    }
    if !t.keepalive {
        parts.push("no keep-alive: a new connection per request".to_string());
    }
    if t.tls.as_ref().is_some_and(|c| c.insecure()) {
        parts.push("certificates NOT verified (--insecure)".to_string());
    }
    Some(format!("transport: {}", parts.join("; ")))
}

/// The interval sink of the CLI: progress line and interval log.
pub struct Live {
    bar: Option<ProgressBar>,
    hlog: Option<HlogWriter>,
    hlog_path: Option<std::path::PathBuf>,
    requests: u64,
    errors: u64,
}

impl Live {
    /// Shows the progress line (on a terminal); the interval log at `hlog` is created with
    /// the first interval, which carries the measured window's start time.
    pub fn start(hlog: Option<&Path>) -> anyhow::Result<Live> {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message("warming up / starting ...");
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Ok(Live {
            bar,
            hlog: None,
            hlog_path: hlog.map(Path::to_path_buf),
            requests: 0,
            errors: 0,
        })
    }

    /// Clears the progress line and moves the interval log into place.
    pub fn finish(mut self) -> anyhow::Result<()> {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if let Some(w) = self.hlog.take() {
            w.finish()?;
        }
        Ok(())
    }

    fn writer(&mut self, iv: &Interval<'_>) -> Result<Option<&mut HlogWriter>, String> {
        let Some(path) = &self.hlog_path else {
            return Ok(None);
        };
        if self.hlog.is_none() {
            let w = HlogWriter::create(path, iv.started_at).map_err(|e| e.to_string())?;
            self.hlog = Some(w);
        }
        Ok(self.hlog.as_mut())
    }

    fn write_hlog(&mut self, iv: &Interval<'_>) -> Result<(), String> {
        if let Some(w) = self.writer(iv)? {
            // An untagged line with every action: the total, which HdrHistogram's tools read
            // when no -tag is given (they see nothing without it).
            w.write_interval("", iv.start_offset_s, iv.length_s, iv.all)
                .map_err(|e| e.to_string())?;
            for (info, hist) in iv.actions.iter().zip(iv.latency) {
                w.write_interval(&info.name, iv.start_offset_s, iv.length_s, hist)
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }
}

impl IntervalSink for Live {
    fn interval(&mut self, iv: &Interval<'_>) -> Result<(), String> {
        self.requests += iv.requests;
        self.errors += iv.errors;
        if let Some(bar) = &self.bar {
            let p99 = if iv.all.is_empty() {
                0
            } else {
                iv.all.value_at_quantile(0.99)
            };
            bar.set_message(format!(
                "{} requests  {}  p99 {}  errors {}",
                fmt_count(self.requests),
                fmt_rps(iv.requests as f64 / iv.length_s.max(1e-3)),
                fmt_us(p99 as f64),
                fmt_count(self.errors),
            ));
        }
        let written = self.write_hlog(iv);
        if written.is_err() {
            // A log with a hole is worse than none: drop the temp file, write no more.
            self.hlog = None;
            self.hlog_path = None;
        }
        written
    }
}

/// The summary table per action and `all`, then the SLO checks.
pub fn summary(out: &mut dyn Write, run: &RunResult, outcome: &Outcome) -> anyhow::Result<()> {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED).set_header(vec![
        "action", "requests", "req/s", "errors", "p50", "p90", "p99", "p99.9", "max",
    ]);
    let rows = run.actions.iter().map(|(n, s)| (n.as_str(), s));
    for (name, s) in rows.chain(std::iter::once(("all", &run.all))) {
        let l = &s.latency_us;
        let rate = s.requests as f64 / run.duration_s.max(1e-9);
        t.add_row(vec![
            name.to_string(),
            fmt_count(s.requests),
            fmt_rps(rate),
            errors_cell(s.errors, s.requests),
            fmt_us(l.p50 as f64),
            fmt_us(l.p90 as f64),
            fmt_us(l.p99 as f64),
            fmt_us(l.p999 as f64),
            fmt_us(l.max as f64),
        ]);
    }
    for i in 1..9 {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    writeln!(out, "{t}")?;
    writeln!(out, "{}", footnote(run, outcome))?;
    if !run.slo.checks.is_empty() {
        let verdict = if run.slo.pass { "PASS" } else { "FAIL" };
        writeln!(out, "SLO: {verdict}")?;
        for c in &run.slo.checks {
            writeln!(out, "  {}", reports::slo::describe(c))?;
        }
    }
    Ok(())
}

fn errors_cell(errors: u64, requests: u64) -> String {
    if errors == 0 {
        "0".to_string()
    } else {
        format!(
            "{} ({})",
            fmt_count(errors),
            fmt_pct(errors as f64 / requests.max(1) as f64)
        )
    }
}

/// Latency basis, achieved rate, send precision and error kinds.
fn footnote(run: &RunResult, o: &Outcome) -> String {
    let mut lines = vec![format!(
        "{} requests in {:.1} s; achieved {} (responses within the window){}; latency from the intended send time{}",
        fmt_count(run.requests),
        run.duration_s,
        fmt_rps(run.achieved_rps),
        reports::saturation::offered_rps(run)
            .map(|r| format!(", offered {}", fmt_rps(r)))
            .unwrap_or_default(),
        if run.model == "closed" {
            " (= service time, closed model)"
        } else {
            " (coordinated-omission corrected)"
        },
    )];
    if run.model == "open" && !o.send_lag.is_empty() {
        let q = |h: &loadgen::Histogram<u64>, q: f64| {
            if h.is_empty() {
                "-".to_string()
            } else {
                fmt_us(h.value_at_quantile(q) as f64)
            }
        };
        lines.push(format!(
            "send lag p99 {}, max {}; late sends (> 1 ms) {}; service p99 {}",
            q(&o.send_lag, 0.99),
            q(&o.send_lag, 1.0),
            fmt_count(o.late),
            fmt_us(run.all.service_us.p99 as f64),
        ));
        lines.push(format!(
            "timer lag p99 {}, max {} (sends whose connection was idle before the intended time: {})",
            q(&o.timer_lag, 0.99),
            q(&o.timer_lag, 1.0),
            fmt_count(o.timer_lag.len()),
        ));
    }
    let e = &run.errors;
    if e.total > 0 {
        let kinds: Vec<String> = reports::summary::error_breakdown(e)
            .iter()
            .map(|(kind, n)| format!("{kind}: {}", fmt_count(*n)))
            .collect();
        lines.push(format!("errors: {}", kinds.join(", ")));
    }
    if let Ok(s) = reports::summary::Summary::of(run, Some("all")) {
        if let Some(line) = reports::summary::connections_line(&s) {
            lines.push(format!("connections: {line}"));
        }
    }
    if o.unfinished > 0 {
        lines.push(format!(
            "unfinished: {} requests were sent but had no response when the run ended; counted as errors",
            fmt_count(o.unfinished),
        ));
    }
    match reports::saturation::assess(run) {
        Ok(Some(a)) => lines.push(a.explanation),
        Ok(None) => {}
        Err(e) => lines.push(format!("saturation could not be assessed: {e}")),
    }
    if run.interrupted {
        lines.push("interrupted: results cover the run until the stop".to_string());
    }
    lines.join("\n")
}

/// Why a run with no success could not be carried out (exit 3).
pub fn nothing_succeeded(run: &RunResult) -> String {
    let e = &run.errors;
    if run.requests == 0 {
        return format!("no request completed against {}", run.target);
    }
    if let Some((reason, n)) = e.tls_reasons.iter().max_by_key(|(_, n)| **n) {
        let why = loadgen::TlsFailure::ALL
            .iter()
            .find(|r| r.slug() == reason)
            .map_or("TLS failed", |r| r.explain());
        return format!(
            "no request succeeded against {} ({} requests, {} tls errors, most {n} of them: {why})",
            run.target, run.requests, e.tls
        );
    }
    format!(
        "no request succeeded against {} ({} requests: {} connect, {} timeout, {} io, {} unfinished, {} bad status errors); check that the target is up and the scenario's paths and `expect` lists",
        run.target,
        run.requests,
        e.connect,
        e.timeout,
        e.io,
        e.unfinished,
        e.status.values().sum::<u64>(),
    )
}
