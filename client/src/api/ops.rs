//! Servers (and their registration tokens), commands on them, the gate pre-flight and the
//! audit log.

use super::{filter_query, query, Accepted, Client};
use crate::error::ClientError;
use gatehouse_shared::api::{GateCheckAllowed, GateCheckRequest, Page, RunAsChoices};
use gatehouse_shared::audit::{AuditEvent, AuditVerification};
use gatehouse_shared::exec::{ExecJob, ExecRequest};
use gatehouse_shared::server::{CreateRegistrationToken, CreateServer, RegistrationToken, Server};
use gatehouse_shared::ServerId;
use serde::Serialize;
use uuid::Uuid;

/// `GET /api/audit` filters.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditFilter {
    /// Text anywhere in the event.
    pub q: Option<String>,
    /// An event id, or the start of one.
    pub id: Option<String>,
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

    /// `GET /api/run-as/{server}`: the accounts the caller may run as there.
    pub async fn run_as_choices(&self, server: &str) -> Result<RunAsChoices, ClientError> {
        self.get(&format!("/api/run-as/{server}"), Vec::new()).await
    }

    /// `POST /api/servers` (staff): an entry an agent later registers into.
    pub async fn create_server(&self, body: &CreateServer) -> Result<Server, ClientError> {
        self.post("/api/servers", body).await
    }

    /// `POST /api/servers/registration-tokens` (staff): the secret is in the answer, once.
    pub async fn create_registration_token(
        &self,
        body: &CreateRegistrationToken,
    ) -> Result<RegistrationToken, ClientError> {
        self.post("/api/servers/registration-tokens", body).await
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
        self.get("/api/audit", filter_query(f)).await
    }

    /// `GET /api/audit?format=jsonl`: the chain as JSON Lines, as the server wrote it.
    pub async fn audit_export(&self, f: &AuditFilter) -> Result<Vec<u8>, ClientError> {
        let mut req = self.request(super::Method::Get, "/api/audit");
        req.query = filter_query(f);
        req.query.push(("format".into(), "jsonl".into()));
        Ok(self.send(req).await?.body)
    }

    /// `GET /api/audit/verify` (staff).
    pub async fn audit_verify(&self) -> Result<AuditVerification, ClientError> {
        self.get("/api/audit/verify", Vec::new()).await
    }
}
