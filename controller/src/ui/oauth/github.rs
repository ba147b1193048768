//! Login through GitHub (or GitHub Enterprise): OAuth2 with PKCE, then
//! the user, their verified e-mail and organisations from GitHub's API.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::http::ProviderHttp;
use super::identity::Identity;
use super::oidc::chain;
use super::{OAuthError, Started};
use crate::config::GithubConfig;

pub struct Github {
    config: GithubConfig,
    http: ProviderHttp,
}

#[derive(Debug, Deserialize)]
struct User {
    id: i64,
    login: String,
}

#[derive(Debug, Deserialize)]
struct Email {
    email: String,
    primary: bool,
    verified: bool,
}

#[derive(Debug, Deserialize)]
struct Org {
    login: String,
}

impl Github {
    pub fn new(config: GithubConfig, http: ProviderHttp) -> Self {
        Self { config, http }
    }

    pub fn label(&self) -> String {
        "Log in with GitHub".into()
    }

    fn client(
        &self,
        redirect: &str,
    ) -> Result<
        BasicClient<
            oauth2::EndpointSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointSet,
        >,
        OAuthError,
    > {
        let web = self.config.web_url.trim_end_matches('/');
        let config = |what: &str, e: oauth2::url::ParseError| {
            OAuthError::Config(format!("GitHub {what} URL: {e}"))
        };
        Ok(
            BasicClient::new(ClientId::new(self.config.client_id.clone()))
                .set_client_secret(ClientSecret::new(self.config.client_secret.clone()))
                .set_auth_uri(
                    AuthUrl::new(format!("{web}/login/oauth/authorize"))
                        .map_err(|e| config("authorize", e))?,
                )
                .set_token_uri(
                    TokenUrl::new(format!("{web}/login/oauth/access_token"))
                        .map_err(|e| config("token", e))?,
                )
                .set_redirect_uri(
                    RedirectUrl::new(redirect.to_string()).map_err(|e| config("redirect", e))?,
                ),
        )
    }

    pub fn start(&self, redirect: &str) -> Result<Started, OAuthError> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .client(redirect)?
            .authorize_url(CsrfToken::new_random)
            .add_scope(Scope::new("read:user".into()))
            .add_scope(Scope::new("user:email".into()))
            .add_scope(Scope::new("read:org".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Started {
            url: url.to_string(),
            state: state.into_secret(),
            pkce_verifier: verifier.into_secret(),
            nonce: String::new(),
        })
    }

    async fn get<T: DeserializeOwned>(&self, token: &str, path: &str) -> Result<T, OAuthError> {
        let url = format!("{}{path}", self.config.api_url.trim_end_matches('/'));
        let response = self
            .http
            .client()
            .get(&url)
            .bearer_auth(token)
            .header("Accept", "application/vnd.github+json")
            .send()
            .await
            .map_err(|e| OAuthError::Provider(format!("GitHub {path}: {}", chain(&e))))?;
        let status = response.status();
        if !status.is_success() {
            return Err(OAuthError::Provider(format!(
                "GitHub {path}: HTTP {status}"
            )));
        }
        response
            .json()
            .await
            .map_err(|e| OAuthError::Provider(format!("GitHub {path}: {}", chain(&e))))
    }

    pub async fn finish(
        &self,
        redirect: &str,
        code: &str,
        pkce_verifier: &str,
    ) -> Result<Identity, OAuthError> {
        let token = self
            .client(redirect)?
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request_async(&self.http)
            .await
            .map_err(|e| OAuthError::Provider(format!("token exchange: {}", chain(&e))))?;
        let token = token.access_token().secret();
        let user: User = self.get(token, "/user").await?;
        let emails: Vec<Email> = self.get(token, "/user/emails").await?;
        let orgs: Vec<Org> = self.get(token, "/user/orgs").await?;
        let groups: Vec<String> = orgs.into_iter().map(|o| o.login).collect();
        let member = match &self.config.org {
            Some(org) => groups.iter().any(|g| g.eq_ignore_ascii_case(org)),
            None => false,
        };
        if self.config.org.is_some() && !member {
            return Err(OAuthError::Refused(format!(
                "GitHub user {} is not a member of the organisation this ZMON admits (or has not granted it access).",
                user.login
            )));
        }
        let email = emails
            .into_iter()
            .find(|e| e.primary && e.verified)
            .map(|e| e.email);
        Ok(Identity {
            subject: user.id.to_string(),
            username: Some(user.login),
            username_trusted: member,
            email,
            groups,
        })
    }
}
