//! People and groups (staff): listing and creating users, changing them, resetting their
//! password or MFA, granting servers (and shared accounts to run as) directly or through a group.

use super::{query, Client};
use crate::error::ClientError;
use gatehouse_shared::api::{
    AddGroupMember, AddGroupServers, CreateGroup, CreateUser, Group, MfaReset, Page, PasswordReset,
    RunAsGrant, UpdateUser,
};
use gatehouse_shared::{User, UserId};

impl Client {
    /// `GET /api/users?limit=500`: one page of users, after `cursor` (the last username of the
    /// previous page) when given.
    pub async fn users(&self, cursor: Option<&str>) -> Result<Page<User>, ClientError> {
        let q = query(&[
            ("limit", Some("500".to_owned())),
            ("cursor", cursor.map(str::to_owned)),
        ]);
        self.get("/api/users", q).await
    }

    /// `POST /api/users`.
    pub async fn create_user(&self, body: &CreateUser) -> Result<User, ClientError> {
        self.post("/api/users", body).await
    }

    /// `PATCH /api/users/{id}`: role, disabled, own server account.
    pub async fn update_user(&self, id: UserId, body: &UpdateUser) -> Result<User, ClientError> {
        self.patch(&format!("/api/users/{id}"), body).await
    }

    /// `POST /api/users/{id}/password-reset`: a one-time password for the user (step-up).
    pub async fn reset_password(&self, id: UserId) -> Result<PasswordReset, ClientError> {
        self.post(&format!("/api/users/{id}/password-reset"), &())
            .await
    }

    /// `POST /api/users/{id}/mfa-reset`: removes the user's TOTP and recovery codes (step-up).
    pub async fn reset_mfa(&self, id: UserId) -> Result<MfaReset, ClientError> {
        self.post(&format!("/api/users/{id}/mfa-reset"), &()).await
    }

    /// `POST /api/users/{id}/servers`: grants servers directly by name or pattern (`web-*`).
    pub async fn grant_user_servers(&self, id: UserId, pattern: &str) -> Result<(), ClientError> {
        let body = AddGroupServers {
            pattern: pattern.to_owned(),
        };
        self.post_empty(&format!("/api/users/{id}/servers"), &body)
            .await
    }

    /// `GET /api/groups`.
    pub async fn groups(&self) -> Result<Page<Group>, ClientError> {
        self.get("/api/groups", Vec::new()).await
    }

    /// `POST /api/groups`.
    pub async fn create_group(&self, name: &str) -> Result<Group, ClientError> {
        let body = CreateGroup {
            name: name.to_owned(),
        };
        self.post("/api/groups", &body).await
    }

    /// `POST /api/groups/{group}/members`: adds a person by username.
    pub async fn add_group_member(
        &self,
        group: &str,
        username: &str,
    ) -> Result<Group, ClientError> {
        let body = AddGroupMember {
            username: username.to_owned(),
        };
        self.post(&format!("/api/groups/{group}/members"), &body)
            .await
    }

    /// `POST /api/groups/{group}/servers`: grants the group servers by name or pattern.
    pub async fn add_group_servers(
        &self,
        group: &str,
        pattern: &str,
    ) -> Result<Group, ClientError> {
        let body = AddGroupServers {
            pattern: pattern.to_owned(),
        };
        self.post(&format!("/api/groups/{group}/servers"), &body)
            .await
    }

    /// `POST /api/groups/{group}/run-as`: the group's members may run as the grant's shared
    /// account on the servers matching its pattern.
    pub async fn grant_group_run_as(
        &self,
        group: &str,
        grant: &RunAsGrant,
    ) -> Result<Group, ClientError> {
        self.post(&format!("/api/groups/{group}/run-as"), grant)
            .await
    }
}
