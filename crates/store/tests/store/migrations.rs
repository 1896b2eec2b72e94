//! Embedded migrations: applied once, a no-op afterwards, data kept.

use scimgate_domain::ports::TenantStore;

use crate::backends::{Schema, run};
use crate::fixtures::new_tenant;

#[tokio::test]
async fn migrations_run_twice_apply_nothing_the_second_time_and_keep_the_data() {
    run(Schema::Empty, |store| async move {
        let first = store.migrate().await.expect("first migration");
        assert!(!first.is_empty(), "a fresh database applies the migrations");

        let tenant = new_tenant("acme");
        store.insert_tenant(&tenant).await.expect("insert tenant");

        let second = store.migrate().await.expect("second migration");
        assert_eq!(second, Vec::<String>::new());
        let third = store.migrate().await.expect("third migration");
        assert_eq!(third, Vec::<String>::new());

        assert_eq!(store.tenant_by_id(&tenant.id).await.unwrap(), Some(tenant));
    })
    .await;
}
