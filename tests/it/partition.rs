//! Declared partitions on a busy partitioned table: a new partition added by
//! `apply --online` while writers insert into the parent, and an index on a
//! partitioned table with rows built online, partition by partition.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::harness::{apply, assert_replan_empty, schema_of, Session, TestDb};

const PAYMENT: &str = r#"
[tables.payment]
partition_by = "RANGE (payment_date)"
primary_key = ["payment_date", "payment_id"]

[tables.payment.columns]
payment_id = { type = "bigint", not_null = true }
amount = { type = "numeric(7,2)", not_null = true }
payment_date = { type = "timestamptz", not_null = true }

[tables.payment.partitions.payment_2022_01]
bound = "FROM ('2022-01-01') TO ('2022-02-01')"
"#;

const FEBRUARY: &str = r#"
[tables.payment.partitions.payment_2022_02]
bound = "FROM ('2022-02-01') TO ('2022-03-01')"
"#;

const MARCH: &str = r#"
[tables.payment.partitions.payment_2022_03]
bound = "FROM ('2022-03-01') TO ('2022-04-01')"
"#;

/// A writer on a connection of its own that inserts January rows into the
/// parent, one per autocommit statement, until told to stop; each insert may
/// wait 1 s for a lock. Its failures and its longest insert.
fn writer(
    url: &str,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<(usize, Vec<String>, Duration)> {
    let url = url.to_string();
    std::thread::spawn(move || {
        let s = Session::open(&url);
        s.exec("SET lock_timeout = '1s'");
        let (mut n, mut failures, mut longest) = (0usize, Vec::new(), Duration::ZERO);
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let t = Instant::now();
            let sql = format!(
                "INSERT INTO payment VALUES ({}, 1, '2022-01-10'::timestamptz + interval '1 second' * {n})",
                1_000_000 + n
            );
            if let Err(e) = s.try_exec(&sql) {
                failures.push(e);
            }
            longest = longest.max(t.elapsed());
            std::thread::sleep(Duration::from_millis(5));
        }
        (n, failures, longest)
    })
}

/// `apply --online` adds February while one writer holds a transaction that
/// wrote to the parent and another keeps inserting: ATTACH PARTITION takes
/// SHARE UPDATE EXCLUSIVE on the parent, which neither waits for them nor
/// blocks them. The plain apply of March, which takes ACCESS EXCLUSIVE on
/// the parent with CREATE TABLE ... PARTITION OF, waits for the open
/// transaction and gives up at its lock timeout, changing nothing.
#[test]
fn a_monthly_partition_is_added_online_while_writers_insert_into_the_parent() {
    let db = TestDb::new("part_online_writers");
    let v1 = schema_of(PAYMENT);
    let r = apply(v1.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    db.sql("INSERT INTO payment SELECT g, 1, '2022-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 2000) g");

    let holder = Session::open(&db.url);
    holder.exec("BEGIN; INSERT INTO payment VALUES (0, 1, '2022-01-05')");
    let stop = Arc::new(AtomicBool::new(false));
    let w = writer(&db.url, stop.clone());
    std::thread::sleep(Duration::from_millis(200));

    let v2 = schema_of(&format!("{PAYMENT}{FEBRUARY}"));
    let r = apply(v2.path(), &db, &["--online", "--lock-attempts", "1"]);
    assert_eq!(r.code, 0, "the online apply waited for the writers: {r}");
    assert!(
        r.stdout.contains("create-partition:payment_2022_02@attach"),
        "{r}"
    );
    // The open transaction writes into the new partition through the parent.
    holder.exec("INSERT INTO payment VALUES (0, 1, '2022-02-05'); COMMIT");
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let (n, failures, longest) = w.join().unwrap();
    assert!(failures.is_empty(), "the writer failed: {failures:?}");
    assert!(n > 10, "the writer hardly ran: {n} inserts");
    assert!(
        longest < Duration::from_secs(1),
        "an insert waited {longest:?}"
    );
    assert_eq!(
        db.query("SELECT tableoid::regclass FROM payment WHERE payment_date = '2022-02-05'"),
        ["payment_2022_02"]
    );
    assert_replan_empty(v2.path(), &db);

    // The plain form waits for a writer's open transaction.
    holder.exec("BEGIN; INSERT INTO payment VALUES (-1, 1, '2022-01-06')");
    let v3 = schema_of(&format!("{PAYMENT}{FEBRUARY}{MARCH}"));
    let r = apply(v3.path(), &db, &["--lock-timeout", "300ms"]);
    assert_ne!(
        r.code, 0,
        "the plain apply did not wait for the writer: {r}"
    );
    holder.exec("COMMIT");
    assert_eq!(
        db.query("SELECT count(*) FROM pg_class WHERE relname = 'payment_2022_03'"),
        ["0"]
    );
}

/// A new index on a partitioned table with rows, one partition of which is
/// partitioned in turn: online, `ON ONLY` the parent, `CONCURRENTLY` on each
/// leaf, attached up the tree; at the end the index is valid on the parent
/// and on every partition, and planning again is empty.
#[test]
fn an_index_on_a_partitioned_table_with_rows_is_built_online() {
    let db = TestDb::new("part_online_index");
    let rest = r#"
[tables.payment.partitions.payment_rest]
default = true
partition_by = "RANGE (payment_id)"

[tables.payment.partitions.payment_rest.partitions.payment_rest_low]
bound = "FROM (MINVALUE) TO (1000000)"
"#;
    let v1 = schema_of(&format!("{PAYMENT}{FEBRUARY}{rest}"));
    let r = apply(v1.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    db.sql(
        "INSERT INTO payment SELECT g, g % 100, '2022-01-01'::timestamptz + g * interval '10 minutes' \
         FROM generate_series(1, 20000) g; ANALYZE payment",
    );
    let v2 = schema_of(&format!(
        "{PAYMENT}{FEBRUARY}{rest}\n[tables.payment.indexes]\npayment_amount_idx = {{ columns = [\"amount\"] }}\n"
    ));
    let (_, plan) = crate::harness::plan_json(v2.path(), &db);
    let steps: Vec<&str> = plan["statements"][0]["online"]
        .as_array()
        .unwrap_or_else(|| panic!("no online form: {plan:#}"))
        .iter()
        .map(|s| s["sql"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "CREATE INDEX payment_amount_idx ON ONLY public.payment (amount)",
            "CREATE INDEX CONCURRENTLY payment_2022_01_payment_amount_idx ON public.payment_2022_01 (amount)",
            "ALTER INDEX public.payment_amount_idx ATTACH PARTITION public.payment_2022_01_payment_amount_idx",
            "CREATE INDEX CONCURRENTLY payment_2022_02_payment_amount_idx ON public.payment_2022_02 (amount)",
            "ALTER INDEX public.payment_amount_idx ATTACH PARTITION public.payment_2022_02_payment_amount_idx",
            "CREATE INDEX payment_rest_payment_amount_idx ON ONLY public.payment_rest (amount)",
            "CREATE INDEX CONCURRENTLY payment_rest_low_payment_amount_idx ON public.payment_rest_low (amount)",
            "ALTER INDEX public.payment_rest_payment_amount_idx ATTACH PARTITION public.payment_rest_low_payment_amount_idx",
            "ALTER INDEX public.payment_amount_idx ATTACH PARTITION public.payment_rest_payment_amount_idx",
        ],
        "{plan:#}"
    );
    let r = apply(v2.path(), &db, &["--online"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(
        r.stdout.contains("CONCURRENTLY") || r.stdout.contains("phase 2"),
        "{r}"
    );
    assert_eq!(
        db.query(
            "SELECT count(*) || ' ' || bool_and(i.indisvalid) FROM pg_partition_tree('payment_amount_idx') t \
             JOIN pg_index i ON i.indexrelid = t.relid"
        ),
        ["5 true"],
        "the index on the parent and its four partitions"
    );
    assert_replan_empty(v2.path(), &db);
}

/// Three sides: a partition the files last applied declared and the files
/// now lack is refused (R001) while the database has it; marked `deprecated`
/// first, its removal from the files is accepted, and the partition is kept
/// (listed as unmanaged), never detached or dropped by apply.
#[test]
fn a_partition_removed_from_the_files_is_r001_unless_deprecated_first() {
    let db = TestDb::new("part_three_sides");
    let v1 = schema_of(&format!("{PAYMENT}{FEBRUARY}"));
    let r = apply(v1.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");

    let without = schema_of(PAYMENT);
    let (code, plan) = crate::harness::plan_json(without.path(), &db);
    assert_eq!(code, 3, "{plan:#}");
    let refused: Vec<(&str, &str)> = plan["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["object"].as_str().unwrap()))
        .collect();
    assert_eq!(refused, [("R001", "partition payment_2022_02")], "{plan:#}");

    let marked = schema_of(&format!(
        "{PAYMENT}{FEBRUARY}deprecated = \"archived elsewhere\"\n"
    ));
    let r = apply(marked.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    let (code, plan) = crate::harness::plan_json(without.path(), &db);
    assert_eq!(code, 0, "{plan:#}");
    assert!(plan["refused"].as_array().unwrap().is_empty(), "{plan:#}");
    assert_eq!(plan["unmanaged"][0]["kind"], "partition", "{plan:#}");
    assert_eq!(plan["unmanaged"][0]["name"], "payment_2022_02", "{plan:#}");
    let r = apply(without.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(
        db.query("SELECT count(*) FROM pg_inherits WHERE inhrelid = 'payment_2022_02'::regclass"),
        ["1"],
        "the partition is still attached"
    );
}
