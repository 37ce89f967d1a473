use std::sync::Arc;

use async_trait::async_trait;

use super::*;
use crate::alerts::model::AlertState;
use crate::ledger::MemoryKv;

/// A sink that counts what it was handed.
#[derive(Default)]
struct Counting(Mutex<Vec<Notice>>);

#[async_trait]
impl AlertSink for Counting {
    async fn notify(&self, _merchant: &MerchantId, notice: Notice) -> Result<(), StoreError> {
        self.0.lock().unwrap().push(notice);
        Ok(())
    }
}

impl Counting {
    fn events(&self) -> Vec<(NoticeEvent, String)> {
        self.0.lock().unwrap().iter().map(|n| (n.event, n.alert.id.clone())).collect()
    }
}

fn alerts() -> (Alerts, Arc<Counting>) {
    let sink = Arc::new(Counting::default());
    (Alerts::new(AlertStore::new(Arc::new(MemoryKv::default())), sink.clone()), sink)
}

fn acme() -> MerchantId {
    MerchantId::parse("acme").unwrap()
}

const SKU: &str = "unknown_sku:WIDGET-9";

#[tokio::test]
async fn an_alert_opens_once_updates_quietly_and_resolves_when_its_last_order_left() {
    let (alerts, sink) = alerts();
    for n in 0..3 {
        let order = format!("acme-tg:{n}");
        alerts.raise(&acme(), AlertKind::OrderError, SKU, "no barcode", Some(&order)).await.unwrap();
    }
    let open = alerts.list(&acme(), StateFilter::Only(AlertState::Open), 50).await.unwrap();
    assert_eq!((open.len(), open[0].count, open[0].orders.len()), (1, 3, 3));
    assert_eq!(sink.events(), [(NoticeEvent::Opened, open[0].id.clone())]);

    alerts.order_left_error(&acme(), "acme-tg:0").await.unwrap();
    alerts.order_left_error(&acme(), "acme-tg:1").await.unwrap();
    assert_eq!(sink.events().len(), 1, "orders still wait");
    alerts.order_left_error(&acme(), "acme-tg:2").await.unwrap();
    alerts.order_left_error(&acme(), "acme-tg:2").await.unwrap();
    assert_eq!(sink.events(), [(NoticeEvent::Opened, open[0].id.clone()), (NoticeEvent::Resolved, open[0].id.clone())]);
    let resolved = alerts.list(&acme(), StateFilter::Only(AlertState::Resolved), 50).await.unwrap();
    assert_eq!((resolved[0].id.as_str(), resolved[0].resolved_at.is_some()), (open[0].id.as_str(), true));
}

#[tokio::test]
async fn a_condition_that_returns_after_resolution_is_a_new_alert() {
    let (alerts, sink) = alerts();
    let account = "easypost:acme:production";
    alerts.credentials_rejected(&acme(), account).await.unwrap();
    alerts.credentials_accepted(&acme(), account).await.unwrap();
    alerts.credentials_rejected(&acme(), account).await.unwrap();
    let ids: Vec<String> = sink.events().into_iter().map(|(_, id)| id).collect();
    assert_eq!(
        sink.events().iter().map(|(e, _)| *e).collect::<Vec<_>>(),
        [NoticeEvent::Opened, NoticeEvent::Resolved, NoticeEvent::Opened]
    );
    assert_eq!(ids[0], ids[1]);
    assert_ne!(ids[0], ids[2], "a new occurrence has a new id");
    assert_eq!(alerts.list(&acme(), StateFilter::Any, 50).await.unwrap().len(), 2);
}

#[tokio::test]
async fn an_account_known_clear_costs_no_store_read_on_success() {
    let (alerts, sink) = alerts();
    let account = "tradegecko:acme-tg";
    alerts.credentials_accepted(&acme(), account).await.unwrap();
    // Opened behind this process's back (another replica): not seen until RECHECK has passed.
    let other = Alerts::new(alerts.store.clone(), sink.clone());
    other.credentials_rejected(&acme(), account).await.unwrap();
    alerts.credentials_accepted(&acme(), account).await.unwrap();
    assert_eq!(sink.events().len(), 1);
    // The replica that opened it resolves it on its own next success.
    other.credentials_accepted(&acme(), account).await.unwrap();
    assert_eq!(sink.events().len(), 2);
}

#[tokio::test]
async fn concurrent_raises_open_one_alert_and_tell_once() {
    let (alerts, sink) = alerts();
    let mut tasks = Vec::new();
    for n in 0..20 {
        let alerts = alerts.clone();
        tasks.push(tokio::spawn(async move {
            let order = format!("acme-tg:{n}");
            alerts.raise(&acme(), AlertKind::OrderError, SKU, "no barcode", Some(&order)).await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let all = alerts.list(&acme(), StateFilter::Any, 50).await.unwrap();
    assert_eq!((all.len(), all[0].count), (1, 20));
    assert_eq!(sink.events().len(), 1);
}

#[tokio::test]
async fn ack_sets_acked_at_once_and_unknown_ids_are_none() {
    let (alerts, _) = alerts();
    alerts.raise(&acme(), AlertKind::JobsDead, "send_order", "a job gave up", None).await.unwrap();
    let id = alerts.list(&acme(), StateFilter::Any, 1).await.unwrap()[0].id.clone();
    let first = alerts.ack(&acme(), &id).await.unwrap().unwrap();
    let again = alerts.ack(&acme(), &id).await.unwrap().unwrap();
    assert!(first.acked_at.is_some());
    assert_eq!(first.acked_at, again.acked_at);
    assert!(alerts.ack(&acme(), "al_missing").await.unwrap().is_none());
    let other = MerchantId::parse("globex").unwrap();
    assert!(alerts.ack(&other, &id).await.unwrap().is_none(), "another merchant's alert is not found");
}

#[tokio::test]
async fn dead_jobs_are_one_alert_per_kind_resolved_when_none_is_dead_any_more() {
    let (alerts, sink) = alerts();
    alerts.job_buried(&acme(), "send_order", "send_order:acme-tg:1").await.unwrap();
    alerts.job_buried(&acme(), "send_order", "send_order:acme-tg:2").await.unwrap();
    alerts.dead_jobs_now(&acme(), |job| job == "send_order:acme-tg:2").await.unwrap();
    let open = alerts.list(&acme(), StateFilter::Only(AlertState::Open), 5).await.unwrap();
    assert_eq!((open.len(), open[0].count, sink.events().len()), (1, 2, 1), "one job is still dead");
    alerts.dead_jobs_now(&acme(), |_| false).await.unwrap();
    assert_eq!(sink.events().iter().map(|(e, _)| *e).collect::<Vec<_>>(), [NoticeEvent::Opened, NoticeEvent::Resolved]);
}

#[tokio::test]
async fn a_pause_of_thirty_minutes_or_more_opens_upstream_paused_until_the_account_answers() {
    use crate::upstream::CallWatch;
    let (alerts, sink) = alerts();
    let account = "tradegecko:acme-tg";
    CallWatch::paused(&alerts, &acme(), account, Duration::from_secs(29 * 60)).await;
    assert!(sink.events().is_empty(), "a short pause is no alert");
    CallWatch::paused(&alerts, &acme(), account, Duration::from_secs(45 * 60)).await;
    CallWatch::paused(&alerts, &acme(), account, Duration::from_secs(44 * 60)).await;
    let open = alerts.list(&acme(), StateFilter::Only(AlertState::Open), 5).await.unwrap();
    assert_eq!(
        (open.len(), open[0].kind, open[0].count),
        (1, AlertKind::UpstreamPaused, 1),
        "known open: not rewritten"
    );
    CallWatch::accepted(&alerts, &acme(), account).await;
    assert_eq!(sink.events().iter().map(|(e, _)| *e).collect::<Vec<_>>(), [NoticeEvent::Opened, NoticeEvent::Resolved]);
}
