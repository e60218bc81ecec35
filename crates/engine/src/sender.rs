//! The notification sender: one task, started with the engine, that carries the
//! store's outbox to the channels. It wakes on every store write (the change feed:
//! a transition that notifies wrote its outbox row in that write), on a nudge
//! ([`Engine::wake_sender`]) and at the next time something is due (a batching window
//! ending, quiet hours ending, a retry); it never polls.
//!
//! Each round: queue new outbox rows for the channels that want them (`fan_out`);
//! per channel, put what is queued into one delivery unless the channel is in quiet
//! hours (held, then sent as one digest when they end) or it is in a burst (the
//! first message goes at once; what follows within [`BATCH_WINDOW`] is held until the
//! burst pauses for that long, at most `MAX_HOLD`: a burst becomes the first message
//! plus one digest; see `core::notify::due`). An ask (needs_input) is never batched:
//! each is a message of its own, sent at once (after quiet hours, if any), with its
//! Approve/Deny buttons. Then attempt every due delivery, each
//! in a task of its own, one at a time per channel. A delivery is marked sent only
//! after the channel accepted it; a failure is tried again after [`backoff`], up to
//! [`MAX_ATTEMPTS`]. Its id (`bosun-d<id>`) goes with every attempt. Hourly (and at
//! start-up) it forgets what ended more than [`KEEP`] ago.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use bosun_core::notify::{BATCH_WINDOW, Channel, ChannelKind, MAX_ATTEMPTS, Message, NotifyKind, backoff, digest, due, message};
use bosun_notify::{Action, Item, Outgoing, SendError};
use bosun_store::StoreError;
use bosun_store::notify::{Delivery, LinkVerb};
use chrono::{DateTime, Duration, Timelike, Utc};

use crate::Engine;
use crate::state::until_closing;

/// How long sent deliveries, their notifications and expired action links are kept.
const KEEP: Duration = Duration::days(7);
/// How often the sender forgets what is older than [`KEEP`] (and at start-up).
const PRUNE_EVERY: StdDuration = StdDuration::from_secs(3600);

/// Runs until the engine closes.
pub(crate) async fn run(engine: Arc<Engine>) {
    let mut changes = engine.store.changes();
    let mut closing = engine.closing();
    // When each channel's last delivery was made (in memory: after a restart the first
    // message of a channel goes at once).
    let mut last: HashMap<i64, DateTime<Utc>> = HashMap::new();
    // Channels with an attempt under way (one at a time per channel keeps its order;
    // a slow or dead channel does not hold up the others).
    let busy: Busy = Arc::default();
    // The attempts under way: aborted at shutdown (an attempt cut off stays `sending`,
    // which the next daemon puts back to pending: it goes again, with its id), so none keeps the engine alive.
    let mut attempts = tokio::task::JoinSet::new();
    // What the last daemon was sending when it stopped goes again, with its id.
    if let Err(e) = engine.store.notify().release_claims().await {
        tracing::warn!("the notification sender could not release the last daemon's attempts: {e}");
    }
    let mut pruned: Option<std::time::Instant> = None;
    loop {
        while attempts.try_join_next().is_some() {}
        if pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            pruned = Some(std::time::Instant::now());
            match engine.store.notify().prune(Utc::now() - KEEP).await {
                Ok(0) => {}
                Ok(gone) => tracing::info!(gone, "forgot old notifications, deliveries and action links"),
                Err(e) => tracing::warn!("the notification sender could not prune the store: {e}"),
            }
        }
        let next = match round(&engine, &mut last, &busy, &mut attempts).await {
            Ok(next) => next,
            Err(e) => {
                tracing::warn!("the notification sender could not read the store: {e}");
                Some(Utc::now() + Duration::seconds(5))
            }
        };
        let wait = next.map(|t| (t - Utc::now()).to_std().unwrap_or(StdDuration::ZERO)).unwrap_or(StdDuration::from_secs(3600));
        tokio::select! {
            r = changes.recv() => {
                if matches!(r, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
                    return;
                }
                // One round covers every change so far.
                while changes.try_recv().is_ok() {}
            }
            _ = engine.sender_wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = until_closing(&mut closing) => {
                attempts.abort_all();
                while attempts.join_next().await.is_some() {}
                return;
            }
        }
    }
}

/// A channel's queued notifications, with when the oldest and the newest arrived.
struct Batch {
    /// The asks (never batched).
    asks: Vec<i64>,
    /// The rest (batched; `oldest` and `newest` are theirs).
    ids: Vec<i64>,
    oldest: DateTime<Utc>,
    newest: DateTime<Utc>,
}

/// Per Web Push subscriber, whether it took a delivery (in memory: after a restart a
/// retry may push again to a browser that had it; the service worker shows it under
/// the delivery's tag, so it replaces rather than doubles).
pub(crate) type Pushed = Arc<std::sync::Mutex<HashSet<String>>>;

/// The channels with an attempt in flight (a std mutex: never held across an await).
type Busy = Arc<std::sync::Mutex<HashSet<i64>>>;

/// One round; returns when the next one is due (None: only when woken).
async fn round(
    engine: &Arc<Engine>,
    last: &mut HashMap<i64, DateTime<Utc>>,
    busy: &Busy,
    attempts: &mut tokio::task::JoinSet<()>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let store = engine.store.notify();
    store.fan_out().await?;
    let now = Utc::now();
    let mut next: Option<DateTime<Utc>> = None;
    let soonest = |t: DateTime<Utc>, next: &mut Option<DateTime<Utc>>| *next = Some(next.map_or(t, |n| n.min(t)));
    let queued = store.queued().await?;
    if !queued.is_empty() {
        let channels: HashMap<i64, Channel> = store.channels().await?.into_iter().map(|c| (c.id, c)).collect();
        let mut by_channel: BTreeMap<i64, Batch> = BTreeMap::new();
        for q in queued {
            let e = by_channel.entry(q.channel_id).or_insert(Batch {
                asks: Vec::new(),
                ids: Vec::new(),
                oldest: q.created_at,
                newest: q.created_at,
            });
            if q.kind == NotifyKind::NeedsInput {
                e.asks.push(q.notification_id);
                continue;
            }
            if e.ids.is_empty() {
                (e.oldest, e.newest) = (q.created_at, q.created_at);
            }
            e.ids.push(q.notification_id);
            e.oldest = e.oldest.min(q.created_at);
            e.newest = e.newest.max(q.created_at);
        }
        let local = chrono::Local::now();
        let minute = (local.hour() * 60 + local.minute()) as u16;
        for (channel_id, Batch { asks, ids, oldest, newest }) in by_channel {
            let Some(channel) = channels.get(&channel_id) else { continue };
            if let Some(quiet) = channel.quiet {
                let left = quiet.minutes_left(minute);
                if left > 0 {
                    let end = now + Duration::minutes(left as i64) - Duration::seconds(local.second() as i64);
                    soonest(end, &mut next);
                    continue;
                }
            }
            // Each ask is a message of its own, at once, with its Approve/Deny buttons.
            for ask in asks {
                store.create_delivery(channel_id, &[ask], now).await?;
            }
            if ids.is_empty() {
                continue;
            }
            let at = due(last.get(&channel_id).copied(), oldest, newest, BATCH_WINDOW);
            if at > now {
                soonest(at, &mut next);
                continue;
            }
            if store.create_delivery(channel_id, &ids, now).await?.is_some() {
                last.insert(channel_id, now);
            }
        }
    }
    for delivery in store.due_deliveries(now).await? {
        if !busy.lock().unwrap().insert(delivery.channel.id) {
            continue; // after the attempt under way, which wakes the sender when done
        }
        let (engine, busy) = (engine.clone(), busy.clone());
        attempts.spawn(async move {
            let channel = delivery.channel.id;
            if let Err(e) = attempt(&engine, delivery).await {
                tracing::warn!("cannot record a notification attempt: {e}");
            }
            busy.lock().unwrap().remove(&channel);
            engine.sender_wake.notify_one();
        });
    }
    // A retry that is due now is in flight; its end wakes the sender.
    if let Some(t) = store.next_attempt().await?.filter(|t| *t > now) {
        soonest(t, &mut next);
    }
    Ok(next)
}

/// Attempts one delivery and records how it went.
async fn attempt(engine: &Engine, mut d: Delivery) -> Result<(), StoreError> {
    let store = engine.store.notify();
    // The round read it before taking its channel's slot: an attempt that ended in
    // between may have sent it already. The claim (compare-and-set pending → sending)
    // makes this attempt the only one.
    if !store.claim_delivery(d.id, Utc::now()).await? {
        return Ok(());
    }
    crate::crash::point("delivery-claimed");
    // An ask answered while its notification was held (quiet hours, a batch, retries)
    // no longer needs anyone.
    let mut answered = Vec::new();
    for n in &d.items {
        if let (NotifyKind::NeedsInput, Some(ask)) = (n.kind, &n.subject.ask) {
            let pending = engine.store.approvals(Some(n.subject.task_id), true).await?;
            if !pending.iter().any(|a| a.id == ask.approval_id) {
                answered.push(n.id);
            }
        }
    }
    d.items.retain(|n| !answered.contains(&n.id));
    if d.items.is_empty() {
        return store.delivery_skipped(d.id, "every ask it was about was answered before it went").await;
    }
    let pushed = engine.pushed.lock().unwrap().entry(d.id).or_default().clone();
    let result = match (outgoing(engine, &d).await, open(engine, &d.channel, pushed).await) {
        (Ok(out), Ok(channel)) => channel.send(&out).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let now = Utc::now();
    match result {
        Ok(sent) => {
            engine.pushed.lock().unwrap().remove(&d.id);
            for (endpoint, why) in sent.unusable {
                tracing::warn!(endpoint, "skipped a push subscription that cannot be used: {why}");
            }
            for endpoint in sent.gone {
                tracing::info!("the push service says a subscription is gone; forgetting it");
                store.delete_push_subscription(&endpoint, None).await?;
            }
            crate::crash::point("delivery-accepted");
            store.delivery_sent(d.id, now).await?;
            tracing::info!(delivery = d.id, channel = d.channel.id, items = d.items.len(), "notification delivered");
        }
        Err(e) => {
            let attempts = d.attempts + 1;
            let retry = (attempts < MAX_ATTEMPTS).then(|| now + backoff(attempts));
            if retry.is_none() {
                engine.pushed.lock().unwrap().remove(&d.id);
            }
            tracing::warn!(delivery = d.id, channel = d.channel.id, attempts, "notification not delivered: {e}");
            store.delivery_failed(d.id, &e.to_string(), retry, now).await?;
        }
    }
    Ok(())
}

/// The message of a delivery: one notification's (with Approve/Deny links for an ask
/// that is still pending, the same on every attempt) or a digest's. A store error
/// fails the attempt (it is retried) rather than send an ask without its buttons.
async fn outgoing(engine: &Engine, d: &Delivery) -> Result<Outgoing, SendError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        tracing::warn!(delivery = d.id, "cannot make a notification's action links: {e}");
        SendError::Config("bosun could not make the message's Approve/Deny links".into())
    };
    let items: Vec<_> = d.items.iter().map(|n| (n.kind, n.subject.clone())).collect();
    let msg = digest(&items);
    let mut actions = Vec::new();
    if let [(NotifyKind::NeedsInput, subject)] = items.as_slice()
        && let Some(ask) = &subject.ask
    {
        let pending = engine.store.approvals(Some(subject.task_id), true).await.map_err(|e| unreadable(&e))?;
        if pending.iter().any(|a| a.id == ask.approval_id) {
            for (verb, url) in engine.action_links(d.id, ask.approval_id, &d.channel.name).await.map_err(|e| unreadable(&e))? {
                let (id, label) = if verb == LinkVerb::Approve { ("approve", "Approve") } else { ("deny", "Deny") };
                actions.push(Action { id, label: label.into(), url, post: true });
            }
        }
    }
    let kind = if items.len() > 1 { "digest" } else { "notification" };
    Ok(build(
        engine,
        format!("bosun-d{}", d.id),
        kind,
        msg,
        actions,
        items.into_iter().map(|(kind, subject)| Item { kind, subject }).collect(),
    ))
}

/// An [`Outgoing`] with the click URL and an Open button added.
pub(crate) fn build(
    engine: &Engine,
    delivery: String,
    kind: &'static str,
    message: Message,
    mut actions: Vec<Action>,
    items: Vec<Item>,
) -> Outgoing {
    let click_url = format!("{}{}", engine.config.public_url.trim_end_matches('/'), message.click);
    actions.push(Action { id: "open", label: "Open".into(), url: click_url.clone(), post: false });
    Outgoing { delivery, kind, message, click_url, actions, items }
}

/// The channel implementation for a configured channel.
/// `pushed`: the Web Push endpoints that already accepted this delivery (skipped).
pub(crate) async fn open(engine: &Engine, c: &Channel, pushed: Pushed) -> Result<Box<dyn bosun_notify::Channel>, SendError> {
    let text = |k: &str| c.config.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let client = engine.http.clone();
    Ok(match c.kind {
        ChannelKind::Ntfy => Box::new(bosun_notify::ntfy::Ntfy {
            client,
            url: text("url").ok_or_else(|| SendError::Config("the channel has no URL".into()))?,
            token_env: text("token_env"),
        }),
        ChannelKind::Webhook => Box::new(bosun_notify::webhook::Webhook {
            client,
            url: text("url").ok_or_else(|| SendError::Config("the channel has no URL".into()))?,
            secret_env: text("secret_env").ok_or_else(|| SendError::Config("the channel names no secret".into()))?,
        }),
        ChannelKind::Webpush => {
            let subs =
                engine.store.notify().push_subscriptions().await.map_err(|_| SendError::Config("cannot read the subscriptions".into()))?;
            Box::new(bosun_notify::webpush::WebPush {
                client,
                vapid: engine.vapid.clone(),
                // VAPID's contact is a mailto: or https: URL.
                contact: if engine.config.public_url.starts_with("https://") {
                    engine.config.public_url.clone()
                } else {
                    "mailto:bosun@localhost".into()
                },
                subscribers: subs
                    .into_iter()
                    .map(|s| bosun_notify::webpush::Subscriber { endpoint: s.endpoint, p256dh: s.p256dh, auth: s.auth })
                    .collect(),
                done: pushed,
            })
        }
    })
}

/// A message every channel can be tested with.
pub(crate) fn test_message() -> Message {
    let mut m = message(
        NotifyKind::Review,
        &bosun_core::notify::Subject { task_id: 0, title: "a test from bosun".into(), repo: None, agent: None, reason: None, ask: None },
    );
    m.title = "bosun test notification".into();
    m.body = "If you can read this, bosun can reach you here.".into();
    m.click = "/notifications".into();
    m.tasks.clear();
    m.tags = vec!["bell".into(), "test".into()];
    m
}
