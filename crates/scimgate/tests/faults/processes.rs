//! The real processes of a deployment under test: a private `redis-server` per test (so that
//! stopping it disturbs no other test), and `scimgate` processes (`serve scim`, `serve sync`,
//! the support commands) configured by environment like a production Deployment. Every child
//! is killed when its guard drops, so a failing test leaves nothing running.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a process may take to start answering.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A port that was free a moment ago (the listener is closed before the port is used).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("its address").port()
}

/// A fresh temporary folder for one test's files (logs, Redis' folder).
pub fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "scimgate-faults-{what}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).expect("create a temp folder");
    dir
}

/// The last `lines` lines of a log file, for failure messages.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn signal(pid: u32, sig: &str) {
    // The workspace forbids `unsafe`, so no libc: kill(1) sends the signal.
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("run kill(1)");
    assert!(status.success(), "kill {sig} {pid} failed");
}

/// A redis-server of this test's own on a port of its own, persisting nothing: killing it
/// loses every job, stream and consumer group, the worst case a restart can bring.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
    starts: u32,
}

impl RedisServer {
    pub async fn start() -> Self {
        let mut me = Self {
            port: free_port(),
            dir: temp_dir("redis"),
            child: None,
            starts: 0,
        };
        me.spawn().await;
        me
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn log(&self) -> PathBuf {
        self.dir.join(format!("redis-{}.log", self.starts))
    }

    async fn spawn(&mut self) {
        self.starts += 1;
        let log = self.log();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .arg("--logfile")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "the fault tests need redis-server on the PATH (Debian: apt-get install \
                     redis-server; `make services` installs it): cannot start it: {e}"
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if self.ping().await {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "redis-server on port {} exited at start ({status}):\n{}",
                    self.port,
                    tail(&log, 20)
                );
            }
            assert!(
                Instant::now() < deadline,
                "redis-server on port {} did not answer within {START_TIMEOUT:?}",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn ping(&self) -> bool {
        let Ok(client) = redis::Client::open(self.url()) else {
            return false;
        };
        let attempt = async {
            let mut conn = client.get_multiplexed_async_connection().await.ok()?;
            redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .ok()
        };
        matches!(
            tokio::time::timeout(Duration::from_secs(1), attempt).await,
            Ok(Some(_))
        )
    }

    /// A connection for the test's own look at the queue.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url())
            .expect("a Redis URL")
            .get_multiplexed_async_connection()
            .await
            .expect("connect to the test's Redis")
    }

    /// Freezes the server (SIGSTOP): connections stay open and nothing answers, as in a
    /// network partition or a stalled host. Commands hit their timeouts.
    pub fn freeze(&self) {
        let pid = self.child.as_ref().expect("redis is running").id();
        signal(pid, "-STOP");
    }

    /// Kills the server (SIGKILL, also when frozen): every connection drops, every key is lost.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _gone = child.kill();
            let _reaped = child.wait();
        }
    }

    /// A new, empty server on the same port (the clients' URL stays valid).
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _best_effort = std::fs::remove_dir_all(&self.dir);
    }
}

/// How every scimgate process of one deployment is configured: the environment a Helm chart
/// would set, plus a working folder without any `scimgate.toml`.
#[derive(Debug, Clone)]
pub struct Env {
    pub dir: PathBuf,
    pub vars: Vec<(String, String)>,
}

impl Env {
    pub fn new(database_url: &str, redis_url: &str) -> Self {
        let vars = [
            ("SCIMGATE__DATABASE__URL", database_url),
            ("SCIMGATE__DATABASE__MAX_CONNECTIONS", "8"),
            ("SCIMGATE__REDIS__URL", redis_url),
            (
                "SCIMGATE__SECURITY__TOKEN_HASH_KEY",
                "fault-tests-token-hash-key-0123456789abcdef",
            ),
            (
                "SCIMGATE__SECURITY__KEY_ENCRYPTION_KEY",
                "fault-tests-key-encryption-key-0123456789abcdef",
            ),
            (
                "SCIMGATE__ADMIN__OPERATOR_TOKEN",
                "fault-tests-operator-token-0123456789abcdef",
            ),
            // Short cycles so that a lost job or a dead worker's jobs come back in seconds.
            ("SCIMGATE__SYNC__SWEEP_SECONDS", "1"),
            ("SCIMGATE__SYNC__CLAIM_IDLE_SECONDS", "2"),
            ("SCIMGATE__LOG__FORMAT", "json"),
            ("SCIMGATE__LOG__LEVEL", "warn,scimgate_sync=info"),
        ];
        Self {
            dir: temp_dir("deployment"),
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    /// Sets (or replaces) one variable.
    #[allow(dead_code)] // Not every test binary tunes the environment.
    pub fn set(&mut self, key: &str, value: &str) {
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.to_owned(), value.to_owned()));
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimgate"));
        cmd.current_dir(&self.dir).env_remove("RUST_LOG");
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs a support command (`tenant create ... --json`) and returns the JSON object it
    /// prints on its last line.
    pub fn cli(&self, args: &[&str]) -> Value {
        let out = self
            .command()
            .args(args)
            .output()
            .expect("run the scimgate binary");
        assert!(
            out.status.success(),
            "scimgate {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let last = stdout.lines().last().unwrap_or_default();
        serde_json::from_str(last)
            .unwrap_or_else(|e| panic!("scimgate {args:?} printed no JSON ({e}): {stdout}"))
    }
}

/// One running `scimgate serve ...` process, killed when dropped.
#[derive(Debug)]
pub struct Scimgate {
    pub name: String,
    port: u16,
    log: PathBuf,
    child: Option<Child>,
}

impl Scimgate {
    /// `scimgate serve <part>` on a port of its own; returns once `/healthz` answers.
    pub async fn serve(env: &Env, name: &str, part: &str) -> Self {
        let port = free_port();
        let log = env.dir.join(format!("{name}.log"));
        let file = File::create(&log).expect("create a log file");
        let child = env
            .command()
            .args(["serve", part])
            .env("SCIMGATE__HTTP__ADDRESS", format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("share the log file"))
            .stderr(file)
            .spawn()
            .expect("start the scimgate binary");
        let mut me = Self {
            name: name.to_owned(),
            port,
            log,
            child: Some(child),
        };
        me.wait_healthy().await;
        me
    }

    async fn wait_healthy(&mut self) {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("an HTTP client");
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let ok = http
                .get(format!("{}/healthz", self.base_url()))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "{} exited at start ({status}):\n{}",
                    self.name,
                    tail(&self.log, 30)
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} did not answer /healthz within {START_TIMEOUT:?}:\n{}",
                self.name,
                tail(&self.log, 30)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL, as the OOM killer or a node failure would: no shutdown, no ack, open
    /// transactions cut off.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _gone = child.kill();
            let _reaped = child.wait();
        }
    }

    /// Whether the process is still running (a crash shows here).
    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// The process's log lines (JSON, one event a line).
    pub fn log_events(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    pub fn log_tail(&self) -> String {
        tail(&self.log, 30)
    }
}

impl Drop for Scimgate {
    fn drop(&mut self) {
        self.kill();
    }
}
