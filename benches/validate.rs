//! Criterion benchmark: loading and validating generated configurations (pure, in memory).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use partnerctl::config::{Source, load_sources};
use partnerctl::testkit::{Scale, generate};

fn validate(c: &mut Criterion) {
    let mut group = c.benchmark_group("validate");
    group.sample_size(10);
    for customers in [1_000usize, 10_000] {
        let scale = Scale {
            customers,
            networks: customers / 10,
            ..Scale::L
        };
        let sources: Vec<Source> = generate(&scale)
            .into_iter()
            .map(|(path, text)| Source { path, text })
            .collect();
        group.bench_with_input(BenchmarkId::from_parameter(customers), &sources, |b, s| {
            b.iter(|| load_sources(s).expect("valid"))
        });
    }
    group.finish();
}

criterion_group!(benches, validate);
criterion_main!(benches);
