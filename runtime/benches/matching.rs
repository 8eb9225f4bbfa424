//! Multi-rule matching throughput: 10, 100, 1,000 and 10,000 realistic
//! rules against 100,000 realistic EventBridge events.
//!
//! Rules pin `source` (100 sources, skewed: a few are popular) and
//! `detail-type` (20 types), plus 1–3 conditions on `detail` drawn from
//! exact strings, prefix, suffix, numeric ranges, anything-but,
//! equals-ignore-case, exists true/false, booleans and fields inside an
//! array of objects. Events are drawn from the same vocabulary, so a share
//! of them match some rules. Everything is generated from a fixed seed.
//!
//! Modes (this is a `harness = false` bench; arguments after `--`):
//!
//! * `cargo bench --workspace --bench matching` — criterion, one benchmark
//!   per rule count for events as `serde_json::Value` (`value/N`) and as
//!   text (`text/N`, includes parsing). Throughput in events.
//! * `... -- --timing [RUNS]` — a plain release timing harness: per rule
//!   count, RUNS (default 7) passes over all 100,000 events; prints the
//!   median events/s and the cost relative to the first count
//!   (`FLOWC_BENCH_RULES=100,1000` selects the counts).
//! * `... -- --generate DIR` — writes `DIR/rules-N.json` (`{name:
//!   pattern}`) and `DIR/events.jsonl` for `scripts/bench-matching`.
//!
//! Under `cargo test` (criterion's test mode) only 10 and 100 rules and
//! 1,000 events are used, and the rule set is cross-checked against
//! matching each pattern on its own.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use flow_runtime::pattern::{Pattern, RuleSet};
use serde_json::{json, Value};

const RULE_COUNTS: &[usize] = &[10, 100, 1_000, 10_000];
const EVENTS: usize = 100_000;

/// Whether criterion measures (`cargo bench`) rather than smoke-tests.
fn measuring(args: &[String]) -> bool {
    args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test")
}

/// Deterministic xorshift64* generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Skewed towards small indices (P(i) ~ 1/sqrt(i)).
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((u * u) * n as f64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const ORGS: &[&str] = &["acme", "globex", "initech", "umbrella", "hooli"];
const SERVICES: &[&str] = &[
    "orders",
    "payments",
    "shipping",
    "billing",
    "users",
    "inventory",
    "catalog",
    "reviews",
    "support",
    "auth",
    "search",
    "pricing",
    "returns",
    "loyalty",
    "fraud",
    "notify",
    "ledger",
    "tax",
    "quotes",
    "carts",
];
const DETAIL_TYPES: &[&str] = &[
    "Created",
    "Updated",
    "Deleted",
    "Placed",
    "Paid",
    "Shipped",
    "Delivered",
    "Cancelled",
    "Refunded",
    "Failed",
    "Retried",
    "Approved",
    "Rejected",
    "Expired",
    "Opened",
    "Closed",
    "Escalated",
    "Assigned",
    "Archived",
    "Restored",
];
const STATUSES: &[&str] = &[
    "PENDING",
    "PAID",
    "SHIPPED",
    "DELIVERED",
    "CANCELLED",
    "FAILED",
    "REFUNDED",
    "ON_HOLD",
];
const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
];
const CURRENCIES: &[&str] = &["USD", "EUR", "GBP", "JPY", "usd", "Eur"];
const TIERS: &[&str] = &["gold", "silver", "bronze", "platinum"];
const DOMAINS: &[&str] = &["example.com", "example.org", "corp.example", "mail.test"];
const SKU_PREFIXES: &[&str] = &["BK-", "EL-", "HM-", "TY-", "GR-"];

fn source(i: usize) -> String {
    format!(
        "com.{}.{}",
        ORGS[i % ORGS.len()],
        SERVICES[(i / ORGS.len()) % SERVICES.len()]
    )
}

/// One realistic rule: source and detail-type pinned, 1–3 detail conditions.
fn rule(rng: &mut Rng) -> Value {
    let src = source(rng.skewed(100));
    let dt = format!("{} {}", "Order", rng.pick(DETAIL_TYPES));
    let mut detail = serde_json::Map::new();
    let conditions = 1 + rng.below(3);
    while detail.len() < conditions {
        let (key, cond) = match rng.below(12) {
            0 => ("status", json!([rng.pick(STATUSES)])),
            1 => ("status", json!([rng.pick(STATUSES), rng.pick(STATUSES)])),
            2 => (
                "status",
                json!([{"anything-but": [rng.pick(STATUSES), rng.pick(STATUSES)]}]),
            ),
            3 => {
                let r = rng.pick(REGIONS);
                ("region", json!([{"prefix": &r[..3]}]))
            }
            4 => {
                let lo = rng.below(900) as f64;
                let hi = lo + 10.0 + rng.below(200) as f64;
                ("amount", json!([{"numeric": [">=", lo, "<", hi]}]))
            }
            5 => ("currency", json!([{"equals-ignore-case": "usd"}])),
            6 => (
                "customer",
                json!({"tier": [rng.pick(TIERS)], "id": [{"exists": true}]}),
            ),
            7 => ("coupon", json!([{"exists": rng.below(2) == 0}])),
            8 => (
                "email",
                json!([{"suffix": format!("@{}", rng.pick(DOMAINS))}]),
            ),
            9 => (
                "items",
                json!({"sku": [{"prefix": rng.pick(SKU_PREFIXES)}], "qty": [{"numeric": [">", 1]}]}),
            ),
            10 => ("priority", json!([{"numeric": ["<=", 1 + rng.below(4)]}])),
            _ => ("flagged", json!([rng.below(2) == 0])),
        };
        detail.insert(key.to_string(), cond);
    }
    json!({"source": [src], "detail-type": [dt], "detail": detail})
}

/// One realistic EventBridge event.
fn event(rng: &mut Rng, n: usize) -> Value {
    let region = rng.pick(REGIONS);
    let items: Vec<Value> = (0..rng.below(4))
        .map(|_| {
            json!({
                "sku": format!("{}{:04}", rng.pick(SKU_PREFIXES), rng.below(10_000)),
                "qty": 1 + rng.below(3),
                "price": rng.below(20_000) as f64 / 100.0,
            })
        })
        .collect();
    let mut detail = json!({
        "orderId": format!("o-{:08x}", rng.next() as u32),
        "status": rng.pick(STATUSES),
        "amount": rng.below(100_000) as f64 / 100.0,
        "currency": rng.pick(CURRENCIES),
        "region": region,
        "customer": {"id": format!("c-{}", rng.below(50_000)), "tier": rng.pick(TIERS)},
        "email": format!("user{}@{}", rng.below(1000), rng.pick(DOMAINS)),
        "items": items,
        "priority": 1 + rng.below(5),
        "flagged": rng.below(5) == 0,
    });
    if rng.below(3) == 0 {
        detail["coupon"] = json!(format!("SAVE{}", rng.below(50)));
    }
    json!({
        "version": "0",
        "id": format!("{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}", rng.next() as u32, n % 65536,
            rng.below(4096), rng.below(4096), rng.next() & 0xffff_ffff_ffff),
        "detail-type": format!("Order {}", rng.pick(DETAIL_TYPES)),
        "source": source(rng.skewed(100)),
        "account": "123456789012",
        "time": format!("2026-11-26T{:02}:{:02}:{:02}Z", rng.below(24), rng.below(60), rng.below(60)),
        "region": region,
        "resources": [format!("arn:aws:states:{region}:123456789012:execution:m:{n}")],
        "detail": detail,
    })
}

/// `count` named rules, generated from a fixed seed (a prefix of the
/// 10,000-rule set, so smaller sets are subsets of larger ones).
fn rules(count: usize) -> Vec<(String, String)> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..count)
        .map(|i| (format!("rule-{i:05}"), rule(&mut rng).to_string()))
        .collect()
}

fn events(count: usize) -> Vec<String> {
    let mut rng = Rng(0xd1b5_4a32_d192_ed03);
    (0..count).map(|n| event(&mut rng, n).to_string()).collect()
}

fn rule_set(rules: &[(String, String)]) -> RuleSet {
    RuleSet::new(
        rules
            .iter()
            .map(|(n, p)| {
                (
                    n.clone(),
                    Pattern::parse(p).expect("generated rule is valid"),
                )
            })
            .collect(),
    )
}

/// Total number of (event, rule) matches, from text.
fn run_text(set: &RuleSet, events: &[String]) -> usize {
    events
        .iter()
        .map(|e| {
            set.matching_json(e)
                .expect("generated event is valid")
                .len()
        })
        .sum()
}

fn run_values(set: &RuleSet, events: &[Value]) -> usize {
    events.iter().map(|e| set.matching(e).len()).sum()
}

fn generate(dir: &str) {
    std::fs::create_dir_all(dir).expect("create output directory");
    for &n in RULE_COUNTS {
        let mut obj = String::from("{\n");
        for (i, (name, pattern)) in rules(n).iter().enumerate() {
            let sep = if i + 1 == n { "" } else { "," };
            let _ = writeln!(obj, "  \"{name}\": {pattern}{sep}");
        }
        obj.push_str("}\n");
        std::fs::write(format!("{dir}/rules-{n}.json"), obj).expect("write rules");
    }
    let mut text = String::new();
    for e in events(EVENTS) {
        text.push_str(&e);
        text.push('\n');
    }
    std::fs::write(format!("{dir}/events.jsonl"), text).expect("write events");
    eprintln!("wrote {dir}/rules-{{10,100,1000,10000}}.json and {dir}/events.jsonl");
}

/// The rule counts to time: `FLOWC_BENCH_RULES=10,100` or all.
fn rule_counts() -> Vec<usize> {
    std::env::var("FLOWC_BENCH_RULES")
        .ok()
        .map(|list| {
            list.split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect()
        })
        .unwrap_or_else(|| RULE_COUNTS.to_vec())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Nanoseconds this thread has spent on a CPU (Linux), if known.
fn cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Median seconds of `runs` passes of `f`: wall-clock, and on-CPU time of
/// this thread (which other processes on a busy machine do not inflate).
fn time(runs: usize, mut f: impl FnMut() -> usize) -> (f64, f64) {
    let mut wall = Vec::with_capacity(runs);
    let mut cpu = Vec::with_capacity(runs);
    for _ in 0..runs {
        let c = cpu_ns();
        let t = Instant::now();
        std::hint::black_box(f());
        let w = t.elapsed().as_secs_f64();
        wall.push(w);
        cpu.push(match (c, cpu_ns()) {
            (Some(a), Some(b)) => (b - a) as f64 / 1e9,
            _ => w,
        });
    }
    (median(wall), median(cpu))
}

fn timing(runs: usize) {
    let texts = events(EVENTS);
    let values: Vec<Value> = texts
        .iter()
        .map(|t| serde_json::from_str(t).expect("valid"))
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    println!(
        "{} events, {} bytes on average; median of {runs} passes, one thread",
        texts.len(),
        bytes / texts.len()
    );
    println!(
        "{:>6} {:>8} {:>8} | {:>10} {:>10} {:>6} | {:>10} {:>10} {:>6}",
        "rules",
        "build",
        "matches",
        "value wall",
        "value cpu",
        "x10",
        "text wall",
        "text cpu",
        "x10"
    );
    let mut base: Option<(f64, f64)> = None;
    let n_events = texts.len() as f64;
    for n in rule_counts() {
        let rules = rules(n);
        let t = Instant::now();
        let set = rule_set(&rules);
        let build = t.elapsed();
        let matches = run_values(&set, &values);
        assert_eq!(matches, run_text(&set, &texts), "text and value agree");
        let (vw, vc) = time(runs, || run_values(&set, &values));
        let (tw, tc) = time(runs, || run_text(&set, &texts));
        let (bv, bt) = *base.get_or_insert((vc, tc));
        println!(
            "{n:>6} {:>6.1}ms {matches:>8} | {:>10.0} {:>10.0} {:>5.2}x | {:>10.0} {:>10.0} {:>5.2}x",
            build.as_secs_f64() * 1e3,
            n_events / vw,
            n_events / vc,
            vc / bv,
            n_events / tw,
            n_events / tc,
            tc / bt,
        );
    }
    println!(
        "events/s; `value`: events as serde_json::Value, `text`: from JSON text (parse included); \
         x10: CPU time relative to the first row"
    );
}

/// The rule set selects exactly what each pattern selects on its own.
fn cross_check(rules: &[(String, String)], set: &RuleSet, events: &[String]) {
    let patterns: Vec<Pattern> = rules
        .iter()
        .map(|(_, p)| Pattern::parse(p).expect("valid"))
        .collect();
    let mut total = 0;
    for e in events {
        let got = set.matching_json(e).expect("valid");
        let want: Vec<&str> = rules
            .iter()
            .zip(&patterns)
            .filter(|(_, p)| p.matches_json(e).expect("valid"))
            .map(|((n, _), _)| n.as_str())
            .collect();
        assert_eq!(got, want, "event {e}");
        total += got.len();
    }
    assert!(total > 0, "the generated events match some rules");
}

fn bench(c: &mut Criterion, measure: bool) {
    let (counts, n_events) = if measure {
        (RULE_COUNTS, EVENTS)
    } else {
        (&RULE_COUNTS[..2], 1_000)
    };
    let texts = events(n_events);
    let values: Vec<Value> = texts
        .iter()
        .map(|t| serde_json::from_str(t).expect("valid"))
        .collect();
    let mut group = c.benchmark_group("matching");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(texts.len() as u64));
    for &n in counts {
        let rules = rules(n);
        let set = rule_set(&rules);
        if !measure {
            cross_check(&rules, &set, &texts);
        }
        group.bench_with_input(BenchmarkId::new("value", n), &set, |b, set| {
            b.iter(|| run_values(set, &values))
        });
        group.bench_with_input(BenchmarkId::new("text", n), &set, |b, set| {
            b.iter(|| run_text(set, &texts))
        });
    }
    group.finish();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--generate") {
        let dir = args.get(i + 1).filter(|d| !d.starts_with("--"));
        generate(dir.map_or(".scratch/matching", String::as_str));
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--timing") {
        let runs = args.get(i + 1).and_then(|r| r.parse().ok()).unwrap_or(7);
        timing(runs);
        return;
    }
    let measure = measuring(&args);
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, measure);
    c.final_summary();
}
