//! The pacer's rate over (paused) time: start, growth under demand, halving and pausing on 429, the ceiling, the
//! `RateLimit-*` headers, and a fixed rate. Requests are real `pace` calls; paused time advances as they sleep.

use super::*;

const WINDOW: Duration = Duration::from_secs(2);

fn pacer(start: f64, ceiling: f64) -> (Pacer, Arc<ApiUsage>) {
    let usage = Arc::new(ApiUsage::default());
    let rates = PacerRates { start, ceiling };
    let windows = Windows {
        adapt: WINDOW,
        headers: Duration::from_secs(60),
    };
    (Pacer::new("drives", rates, windows, usage.clone()), usage)
}

/// Sends requests one after the other for `secs` of (paused) time; returns how many went out.
async fn saturate(pacer: &Pacer, secs: u64) -> u64 {
    let end = Instant::now() + Duration::from_secs(secs);
    let mut sent = 0;
    while Instant::now() < end {
        pacer.pace(1.0).await;
        sent += 1;
    }
    sent
}

#[tokio::test(start_paused = true)]
async fn starts_at_the_declared_rate_and_holds_it_while_idle() {
    let (p, usage) = pacer(20.0, 40.0);
    assert_eq!(p.rate(), 20.0);
    // A trickle (below the rate) never queues, so the rate does not creep up while nothing needs it.
    for _ in 0..20 {
        p.pace(1.0).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(p.rate(), 20.0);
    let totals = usage.budgets()[0].1;
    assert_eq!((totals.requests, totals.start_rate), (20, 20.0));
}

#[tokio::test(start_paused = true)]
async fn grows_while_unthrottled_and_never_past_its_ceiling() {
    let (p, usage) = pacer(20.0, 40.0);
    let first = saturate(&p, 2).await;
    // 2 s at 20/s plus the one-second burst (20).
    assert!((59..=61).contains(&first), "{first}");
    saturate(&p, 4).await;
    assert!(p.rate() > 20.0, "{}", p.rate());
    saturate(&p, 60).await;
    assert_eq!(p.rate(), 40.0);
    let totals = usage.budgets()[0].1;
    assert_eq!(totals.allowed_rate, 40.0);
    assert_eq!(totals.ceiling_rate, 40.0);
    assert!(totals.paced_wait > Duration::from_secs(30), "{totals:?}");
    assert!(totals.achieved_rate() <= 40.0 + 1e-9, "{totals:?}");
}

#[tokio::test(start_paused = true)]
async fn a_429_halves_the_rate_and_pauses_the_class_for_retry_after() {
    let (p, usage) = pacer(20.0, 40.0);
    saturate(&p, 1).await;
    let throttled_at = Instant::now();
    let signal = Signal::Throttled {
        status: 429,
        retry_after: Some(Duration::from_secs(5)),
    };
    p.signal(signal);
    // The answers to the other requests in flight of the same episode do not halve it again.
    p.signal(signal);
    p.signal(Signal::Throttled {
        status: 503,
        retry_after: Some(Duration::from_secs(5)),
    });
    assert_eq!(p.rate(), 10.0);
    p.pace(1.0).await;
    assert!(Instant::now() >= throttled_at + Duration::from_secs(5));
    // After the pause the bucket starts empty: the rate, not a burst.
    let sent = saturate(&p, 1).await;
    assert!((9..=11).contains(&sent), "{sent}");
    let totals = usage.budgets()[0].1;
    assert_eq!((totals.throttled_429, totals.unavailable_503), (2, 1));
    assert_eq!(totals.allowed_rate, 10.0);
    // A later episode halves again.
    tokio::time::sleep(Duration::from_secs(10)).await;
    p.signal(signal);
    assert_eq!(p.rate(), 5.0);
}

#[tokio::test(start_paused = true)]
async fn requests_queued_before_a_pause_wait_behind_it() {
    let (p, _) = pacer(10.0, 10.0);
    let p = Arc::new(p);
    // Empty the burst, then queue 5 requests (they would go out within half a second).
    saturate(&p, 1).await;
    let started = Instant::now();
    let queued: Vec<_> = (0..5)
        .map(|_| {
            let p = p.clone();
            tokio::spawn(async move {
                p.pace(1.0).await;
                Instant::now()
            })
        })
        .collect();
    tokio::task::yield_now().await;
    p.signal(Signal::Throttled {
        status: 429,
        retry_after: Some(Duration::from_secs(3)),
    });
    for task in queued {
        let sent_at = task.await.unwrap();
        assert!(
            sent_at >= started + Duration::from_secs(3),
            "a queued request stormed the pause"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn rate_limit_headers_stop_growth_and_cap_the_rate_at_the_announced_budget() {
    let (p, _) = pacer(20.0, 104.0);
    saturate(&p, 10).await;
    let grown = p.rate();
    assert!(grown > 25.0, "{grown}");
    // SharePoint: 1 800 RU per minute = 30/s, 300 left, window resets in 20 s.
    let headroom = Signal::Headroom {
        limit: 1800.0,
        remaining: 300.0,
        reset: Duration::from_secs(20),
    };
    p.signal(headroom);
    assert_eq!(p.rate(), 30.0_f64.min(grown));
    // Nothing left: the class pauses until the window resets.
    p.signal(Signal::Headroom {
        limit: 1800.0,
        remaining: 0.0,
        reset: Duration::from_secs(20),
    });
    let before = Instant::now();
    p.pace(1.0).await;
    assert!(Instant::now() >= before + Duration::from_secs(20));
}

#[tokio::test(start_paused = true)]
async fn a_fixed_rate_recovers_to_its_value_but_never_above() {
    let (p, _) = pacer(8.0, 8.0);
    p.signal(Signal::Throttled {
        status: 429,
        retry_after: Some(Duration::from_secs(1)),
    });
    assert_eq!(p.rate(), 4.0);
    saturate(&p, 30).await;
    assert_eq!(p.rate(), 8.0);
    saturate(&p, 30).await;
    assert_eq!(p.rate(), 8.0);
}

#[tokio::test(start_paused = true)]
async fn an_unpaced_class_still_honours_a_pause() {
    let (p, _) = pacer(f64::INFINITY, f64::INFINITY);
    let sent = saturate(&p, 0).await;
    assert_eq!(sent, 0);
    let before = Instant::now();
    for _ in 0..1000 {
        p.pace(1.0).await;
    }
    assert_eq!(Instant::now(), before, "no pacing without a rate");
    p.signal(Signal::Throttled {
        status: 429,
        retry_after: Some(Duration::from_secs(2)),
    });
    p.pace(1.0).await;
    assert!(Instant::now() >= before + Duration::from_secs(2));
}
