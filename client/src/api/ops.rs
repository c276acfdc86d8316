//! Servers, commands on them, the gate pre-flight and the audit log.

use super::{query, Accepted, Client};
use crate::error::ClientError;
use gatehouse_shared::api::{GateCheckAllowed, GateCheckRequest, Page};
use gatehouse_shared::audit::{AuditEvent, AuditVerification};
use gatehouse_shared::exec::{ExecJob, ExecRequest};
use gatehouse_shared::server::Server;
use gatehouse_shared::ServerId;
use uuid::Uuid;

/// `GET /api/audit` filters.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub user: Option<String>,
    pub action: Option<String>,
    pub server: Option<String>,
    pub work_session: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `oldest` (chain order, the server's default) or `newest`.
    pub order: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

impl AuditFilter {
    fn pairs(&self) -> Vec<(String, String)> {
        query(&[
            ("user", self.user.clone()),
            ("action", self.action.clone()),
            ("server", self.server.clone()),
            ("work_session", self.work_session.clone()),
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("order", self.order.clone()),
            ("cursor", self.cursor.clone()),
            ("limit", self.limit.map(|l| l.to_string())),
        ])
    }
}

impl Client {
    /// `GET /api/servers` (`q`: name text).
    pub async fn servers(&self, q: Option<String>) -> Result<Page<Server>, ClientError> {
        self.get(
            "/api/servers",
            query(&[("q", q), ("limit", Some("500".into()))]),
        )
        .await
    }

    /// `GET /api/servers/{id}`.
    pub async fn server(&self, id: ServerId) -> Result<Server, ClientError> {
        self.get(&format!("/api/servers/{id}"), Vec::new()).await
    }

    /// `POST /api/exec?wait=true`: runs and waits for every run to end; a root command outside
    /// the session's declared ones may wait for a human instead (202).
    pub async fn exec_wait(&self, body: &ExecRequest) -> Result<Accepted<ExecJob>, ClientError> {
        let q = vec![("wait".to_owned(), "true".to_owned())];
        self.post_accepted("/api/exec", q, body).await
    }

    /// `POST /api/exec`: starts the job and answers at once; its output is on `stream_path`
    /// (`WS /ws/exec/{id}`). A root command outside the session's declared ones may wait for a
    /// human instead (202).
    pub async fn exec_start(&self, body: &ExecRequest) -> Result<Accepted<ExecJob>, ClientError> {
        self.post_accepted("/api/exec", Vec::new(), body).await
    }

    /// `GET /api/exec/{id}`.
    pub async fn exec_job(&self, id: Uuid) -> Result<ExecJob, ClientError> {
        self.get(&format!("/api/exec/{id}"), Vec::new()).await
    }

    /// `POST /api/gate/check`: the gate's decision, as a pre-flight.
    pub async fn gate_check(
        &self,
        body: &GateCheckRequest,
    ) -> Result<GateCheckAllowed, ClientError> {
        self.post("/api/gate/check", body).await
    }

    /// `GET /api/audit` (staff).
    pub async fn audit(&self, f: &AuditFilter) -> Result<Page<AuditEvent>, ClientError> {
        self.get("/api/audit", f.pairs()).await
    }

    /// `GET /api/audit?format=jsonl`: the chain as JSON Lines, as the server wrote it.
    pub async fn audit_export(&self, f: &AuditFilter) -> Result<Vec<u8>, ClientError> {
        let mut req = self.request(super::Method::Get, "/api/audit");
        req.query = f.pairs();
        req.query.push(("format".into(), "jsonl".into()));
        Ok(self.send(req).await?.body)
    }

    /// `GET /api/audit/verify` (staff).
    pub async fn audit_verify(&self) -> Result<AuditVerification, ClientError> {
        self.get("/api/audit/verify", Vec::new()).await
    }
}
