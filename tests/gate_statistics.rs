//! The regression gate's statistics on real latencies:
//! - false alarms: runs drawn from one distribution (latencies recorded from the in-process
//!   reference server, resampled into many runs) are flagged at about the nominal rate, with
//!   enough pairs to tell 1% from 20%;
//! - power: a target slowed by an injected 50% delay is flagged (real runs, real sockets).
//!
//! No assertion depends on wall-clock speed: the delay server's sleep is the slowdown under
//! test, and the assertions are on verdicts.

mod gate_support;

use std::path::Path;
use std::time::Duration;

use gate_support::{napkin, s, scenario, Http};
use loadgen::Histogram;
use reports::compare::{compare, Comparison, Tolerance};
use reports::fixture::{build_run, status_errors};
use reports::histogram::{decode, encode, new_histogram};
use reports::{RunResult, ScopeResult};

/// Deterministic random numbers (splitmix64): the test draws the same runs every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Draws values from a recorded histogram (each recorded latency equally likely).
struct Sampler {
    /// (cumulative count, value).
    cdf: Vec<(u64, u64)>,
}

impl Sampler {
    fn of(h: &Histogram<u64>) -> Sampler {
        let mut total = 0;
        let cdf = h
            .iter_recorded()
            .map(|v| {
                total += v.count_at_value();
                (total, v.value_iterated_to())
            })
            .collect();
        Sampler { cdf }
    }

    fn draw(&self, rng: &mut Rng) -> u64 {
        let total = self.cdf.last().map_or(0, |c| c.0);
        let u = rng.below(total);
        let i = self.cdf.partition_point(|(c, _)| *c <= u);
        self.cdf[i].1
    }
}

/// What one recorded action contributes to each synthetic second.
struct ActionModel {
    name: String,
    sampler: Sampler,
    per_second: u64,
    /// Errors per request (as a probability in parts per million).
    error_ppm: u64,
}

fn models(recorded: &RunResult) -> Vec<ActionModel> {
    recorded
        .actions
        .iter()
        .filter(|(_, a)| a.requests > 0)
        .map(|(name, a)| ActionModel {
            name: name.clone(),
            sampler: Sampler::of(&decode(&a.histogram).unwrap()),
            per_second: (a.requests as f64 / recorded.duration_s).round().max(1.0) as u64,
            error_ppm: a.errors * 1_000_000 / a.requests,
        })
        .collect()
}

/// A synthetic run of `seconds` seconds, every latency drawn from the recording. Values are
/// recorded straight into the second's and the run's histograms (adding histograms is slow
/// in a debug build).
fn synthetic_run(models: &[ActionModel], seconds: u64, rng: &mut Rng) -> RunResult {
    let mut run = build_run("twitter", seconds, &[]);
    let mut all = new_histogram();
    let mut all_errors = 0;
    let mut totals: Vec<(Histogram<u64>, u64)> =
        models.iter().map(|_| (new_histogram(), 0)).collect();
    for point in &mut run.timeline {
        let mut second = new_histogram();
        let mut errors = 0;
        point.action_histograms.clear();
        for (m, total) in models.iter().zip(&mut totals) {
            let mut latency = new_histogram();
            for _ in 0..m.per_second {
                let v = m.sampler.draw(rng);
                for h in [&mut latency, &mut second, &mut total.0, &mut all] {
                    h.record(v).unwrap();
                }
                let failed = u64::from(rng.below(1_000_000) < m.error_ppm);
                (errors, total.1) = (errors + failed, total.1 + failed);
            }
            point
                .action_histograms
                .insert(m.name.clone(), encode(&latency).unwrap());
        }
        (point.requests, point.errors) = (second.len(), errors);
        all_errors += errors;
        point.histogram = encode(&second).unwrap();
    }
    let scope = |h: &Histogram<u64>, errors: u64| {
        ScopeResult::from_histograms(h, h, h.len(), status_errors("500", errors)).unwrap()
    };
    run.all = scope(&all, all_errors);
    for (m, (h, errors)) in models.iter().zip(&totals) {
        run.actions.insert(m.name.clone(), scope(h, *errors));
    }
    run.requests = all.len();
    run
}

/// The failing metrics of a comparison, with their p-values and changes.
fn failing(c: &Comparison) -> Vec<String> {
    c.scopes
        .iter()
        .flat_map(|s| s.metrics.iter().map(move |m| (s, m)))
        .filter(|(_, m)| m.verdict.fails())
        .map(|(s, m)| {
            let p = m.significance.as_ref().map(|x| x.p_value);
            format!("{} {} {} -> {} (p {p:?})", s.scope, m.metric, m.base, m.new)
        })
        .collect()
}

/// Metrics whose change is significant on its own (`adjusted`: after the adjustment for
/// every metric tested), whatever its size.
fn significant(c: &Comparison, alpha: f64, adjusted: bool) -> Vec<String> {
    c.scopes
        .iter()
        .flat_map(|s| s.metrics.iter().map(move |m| (s, m)))
        .filter(|(_, m)| {
            m.significance
                .as_ref()
                .is_some_and(|x| (if adjusted { x.p_adjusted } else { x.p_value }) < alpha)
        })
        .map(|(s, m)| format!("{} {}", s.scope, m.metric))
        .collect()
}

#[test]
fn identical_runs_are_flagged_at_the_nominal_rate() {
    // Latencies of the twitter scenario from the in-process reference server.
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("recorded.json");
    let twitter = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/twitter.yaml");
    let (code, out) = napkin(&[
        "load",
        s(&twitter),
        "--duration",
        "4s",
        "--warmup",
        "1s",
        "--out",
        s(&recording),
    ]);
    assert_eq!(code, 0, "{out}");
    let recorded = reports::io::read_run(&recording).unwrap();
    let models = models(&recorded);
    assert!(models.len() >= 3, "{}", models.len());

    // 100 independent pairs of 8-second runs drawn from that one distribution.
    const PAIRS: usize = 100;
    let tol = Tolerance::default();
    let mut rng = Rng(7);
    let (mut gate_failures, mut all_p50, mut any_metric, mut raw_any) = (0, 0, 0, 0);
    for _ in 0..PAIRS {
        let a = synthetic_run(&models, 8, &mut rng);
        let b = synthetic_run(&models, 8, &mut rng);
        let c = compare(&a, &b, tol).unwrap();
        if !c.pass {
            gate_failures += 1;
            eprintln!("false alarm: {:?}", failing(&c));
        }
        let alone = significant(&c, tol.alpha, false);
        all_p50 += usize::from(alone.iter().any(|m| m == "all p50"));
        raw_any += usize::from(!alone.is_empty());
        any_metric += usize::from(!significant(&c, tol.alpha, true).is_empty());
    }
    eprintln!(
        "{PAIRS} pairs: default gate failed {gate_failures}; significant at alpha {}: all p50 \
         alone {all_p50}, some metric alone {raw_any}, some metric after the adjustment \
         {any_metric}",
        tol.alpha
    );
    // One metric's test at alpha = 1%: expect about 1 of 100. Binomial(100, 1%) exceeds 5
    // with probability 0.0005; at a 20% false-alarm rate 5 or fewer has probability 2e-5.
    assert!(
        all_p50 <= 5,
        "all p50 significant in {all_p50} of {PAIRS} pairs"
    );
    // Every metric at once: the adjustment keeps the chance that any of them is called
    // significant at alpha (without it, about 10% of these pairs had one).
    assert!(
        any_metric <= 5,
        "some metric significant in {any_metric} of {PAIRS} pairs"
    );
    // The gate needs significance AND size: no more false alarms than that.
    assert!(
        gate_failures <= any_metric,
        "the default gate failed {gate_failures} of {PAIRS} identical pairs"
    );
}

/// A one-action open-model run against `url`, written to `out`.
fn load(scenario: &Path, url: &str, out: &Path) {
    let (code, text) = napkin(&[
        "load",
        s(scenario),
        "--target",
        url,
        "--threads",
        "1",
        "--out",
        s(out),
    ]);
    assert_eq!(code, 0, "{text}");
}

fn verdict(c: &serde_json::Value, metric: &str) -> String {
    c["scopes"][0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == metric)
        .unwrap()["verdict"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_fifty_percent_slowdown_is_flagged() {
    let base = Http::delayed(Duration::from_millis(4));
    let slow = Http::delayed(Duration::from_millis(6));
    let dir = tempfile::tempdir().unwrap();
    let load_block = "  rate: 200\n  duration: 9s\n  warmup: 1s\n  connections: 8\n  timeout: 2s\n";
    let scen = scenario(dir.path(), "gate.yaml", "/x", load_block);
    let (base_run, slow_run) = (dir.path().join("base.json"), dir.path().join("slow.json"));
    // Both runs at once: 8 measured seconds each.
    std::thread::scope(|t| {
        t.spawn(|| load(&scen, &base.url(), &base_run));
        t.spawn(|| load(&scen, &slow.url(), &slow_run));
    });
    let (code, out) = napkin(&["compare", s(&base_run), s(&slow_run), "-f", "json"]);
    assert_eq!(code, 1, "{out}");
    let c: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(verdict(&c, "p50"), "regressed", "{out}");
    let p50 = &c["scopes"][0]["metrics"][0];
    assert!(p50["significance"]["p_value"].as_f64().unwrap() < 0.01);
    assert!(p50["change"].as_f64().unwrap() > 0.25, "{p50}");
    // The other way round it is an improvement, which passes.
    let (code, out) = napkin(&["compare", s(&slow_run), s(&base_run), "-f", "json"]);
    assert_eq!(code, 0, "{out}");
    let c: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(verdict(&c, "p50"), "improved", "{out}");
}
